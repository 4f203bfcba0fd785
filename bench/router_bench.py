#!/usr/bin/env python3
"""Router throughput and tail latency: `tauon router` vs nginx as a reverse proxy.

Both proxies stand in front of the same upstreams (nginx, one worker, serving
a 1 KiB file on two loopback ports) and split 90/10 across them with
keep-alive to the upstreams: nginx with `upstream` weights 9:1 and
`keepalive`, tauon with two weighted releases and metrics on (a metrics
listener, and /stats read after each run to check the split). One worker
(process or I/O thread) each. wrk (-t2 -c64 by default) runs against each in
turn, --rounds times, alternating which goes first; prints req/s and p99 for
both and the ratio of the medians.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not start listening on {port}")


def nginx(work, name, http_block, workers=1):
    conf = os.path.join(work, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"worker_processes {workers};\ndaemon off;\npid {work}/{name}.pid;\n"
                f"error_log {work}/{name}.error.log;\n"
                "events { worker_connections 4096; }\n"
                f"http {{\n  access_log off;\n{http_block}\n}}\n")
    return subprocess.Popen(["nginx", "-e", f"{work}/{name}.error.log", "-p", work, "-c", conf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wrk(url, args):
    out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}",
                          f"-d{args.duration}s", "--latency", url],
                         check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale,
            "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tauon", default=os.path.join(ROOT, "build", "tauon"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--router-threads", type=int, default=1,
                        help="tauon router I/O threads (nginx gets as many workers)")
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (scripts/install-deps.sh installs it)")

    work = tempfile.mkdtemp(prefix="router-bench.")
    os.chmod(work, 0o755)  # nginx workers may run as another user.
    procs = []
    try:
        with open(os.path.join(work, "index.html"), "wb") as f:
            f.write(b"x" * 1023 + b"\n")
        up1, up2, nginx_port, tauon_port, metrics_port = (free_port() for _ in range(5))
        procs.append(nginx(work, "upstream",
                           f"  server {{ listen 127.0.0.1:{up1}; listen 127.0.0.1:{up2}; "
                           f"root {work}; keepalive_requests 1000000; }}"))
        proxy_block = (
            f"  upstream models {{ server 127.0.0.1:{up1} weight=9; "
            f"server 127.0.0.1:{up2} weight=1; keepalive 64; keepalive_requests 1000000; }}\n"
            f"  server {{ listen 127.0.0.1:{nginx_port}; keepalive_requests 1000000;\n"
            "    location / { proxy_pass http://models; proxy_http_version 1.1; "
            "proxy_set_header Connection \"\"; } }")
        procs.append(nginx(work, "proxy", proxy_block, workers=args.router_threads))
        router_log = open(os.path.join(work, "router.log"), "w")
        procs.append(subprocess.Popen(
            [args.tauon, "router", "--listen", f"127.0.0.1:{tauon_port}",
             "--metrics-listen", f"127.0.0.1:{metrics_port}", "--environment", "bench",
             "--threads", str(args.router_threads),
             "--release", f"stable=9:127.0.0.1:{up1}", "--release", f"canary=1:127.0.0.1:{up2}"],
            stdout=router_log, stderr=subprocess.STDOUT))
        for port, what in ((up1, "upstream nginx"), (nginx_port, "nginx proxy"),
                           (tauon_port, "tauon router")):
            wait_port(port, what)

        results = {"nginx": [], "tauon": []}
        order = ["nginx", "tauon"]
        urls = {"nginx": f"http://127.0.0.1:{nginx_port}/index.html",
                "tauon": f"http://127.0.0.1:{tauon_port}/index.html"}
        for name in order:  # Warm-up: connections, caches.
            subprocess.run(["wrk", "-t1", "-c8", "-d1s", urls[name]], check=True,
                           capture_output=True)
        for r in range(args.rounds):
            for name in (order if r % 2 == 0 else order[::-1]):
                results[name].append(wrk(urls[name], args))

        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/stats") as response:
            stats = json.load(response)
        counts = {rel["release"]: rel["requests"]["total"] for rel in stats["releases"]}
        total = sum(counts.values()) or 1

        print(f"router: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
              f"{args.rounds} rounds, 1 KiB body, 90/10 split, "
              f"{args.router_threads} worker(s) each")
        for name in order:
            runs = results[name]
            rps = [x["rps"] for x in runs]
            p99 = [x["p99_ms"] for x in runs]
            bad = sum(x["non2xx"] for x in runs)
            print(f"  {name:6} req/s median {statistics.median(rps):9.0f}  "
                  f"(runs: {', '.join(f'{x:.0f}' for x in rps)})  "
                  f"p99 median {statistics.median(p99):6.2f} ms"
                  + (f"  NON-2XX {bad}" if bad else ""))
        ratio = statistics.median(x["rps"] for x in results["tauon"]) / statistics.median(
            x["rps"] for x in results["nginx"])
        p99_ratio = statistics.median(x["p99_ms"] for x in results["tauon"]) / statistics.median(
            x["p99_ms"] for x in results["nginx"])
        print(f"  ratio  {ratio:.2f}x nginx throughput (target >= 1.0), "
              f"p99 {p99_ratio:.2f}x nginx's (target <= 1.0)")
        print(f"  tauon split: stable {100 * counts.get('stable', 0) / total:.2f}%, "
              f"canary {100 * counts.get('canary', 0) / total:.2f}% of {total} requests")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
