#!/usr/bin/env python3
"""Canary rollback: how fast a bad canary is taken back, and how many requests it failed.

A `tauon serve` on loopback serves environment `production` with the canary
strategy: one step at 10% of traffic, analysis every 1 s (`failure_limit: 1`,
`error_rate < 0.05`). The model server is tests/e2e/model_server.py, whose
behaviour comes from the model's files: version 1 answers 200, version 2
answers 500 to every request but its health check. Version 1 goes live, then
version 2 is deployed --repeat times under a constant bounded load
(--connections keep-alive connections on loopback, --rate requests per second
in all; default 4 and 2,000), and each time rolled back by its first analysis
interval.

Per round, from the client's side:
  - rollback time: from the `at` of the failing analysis interval (the API's
    `analysis[]`) to the last response the canary served (the router's
    `X-Tauon-Release` response header), in ms; sampled traffic bounds the
    moment traffic left the canary by that, or 0, plus the canary's gap between
    responses (5 ms at the default 2,000 req/s), printed as "all traffic on
    stable";
  - blast radius: the requests that failed between the canary's start and that
    last response, as a count and as a share of the requests in that window;
and from the server's side the time between its `analysis-failed` and
`rolled-back` events. Prints every round, the median and the max.
"""
import argparse
import datetime
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@tauon.invalid",
       "-c", "commit.gpgsign=false"]

# The replicas: the deploy tests' model server (version 1 "ok", version 2 "errors").
MODEL_SERVER = os.path.join(ROOT, "tests", "e2e", "model_server.py")

PIPELINE = '''jobs:
  train:
    steps:
      - run: mkdir -p out/model && echo {behaviour} > out/model/behaviour.txt
    artifacts: [out/model/]
model: {{ name: clf, path: out/model/ }}
deploy:
  serve:
    command: exec {python} serve.py
    readiness: {{ http: /healthz, period: 100ms }}
  environments:
    production:
      replicas: {replicas}
      strategy:
        canary:
          steps: [ {{ weight: {weight} }} ]
          analysis:
            interval: {interval}
            failure_limit: 1
            min_requests: 5
            checks: [ {check} ]
{providers}'''

# --provider: the verdict comes from a command provider instead (probe.sh:
# ok=0 for the bad model), to measure what running one adds to a rollback.
PROVIDERS = '''            providers:
              - command: {{ name: probe, run: sh probe.sh }}
'''
PROBE_SH = '''if grep -qx ok "$TAUON_MODEL_DIR/behaviour.txt"; then echo '{"ok": 1}'; else echo '{"ok": 0}'; fi
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_time(text):
    """The API's times: 2026-11-25T18:00:22.123Z, as seconds since the epoch."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Load:
    """`connections` threads, each with one keep-alive connection, sending GETs
    at `rate` requests per second in all. Records (time answered, release,
    status) of every request."""

    def __init__(self, port, connections, rate):
        self.port = port
        self.period = connections / rate
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(connections)]

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        mine = []
        next_at = time.monotonic()
        while not self.stop.is_set() and len(mine) < 1_000_000:
            try:
                conn.request("GET", "/predict")
                response = conn.getresponse()
                response.read()
                entry = (time.time(), response.getheader("X-Tauon-Release", ""), response.status)
            except Exception as e:  # noqa: BLE001 - any failure is a failed request
                entry = (time.time(), "", type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            mine.append(entry)
            next_at += self.period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()  # Behind: no burst to catch up.
        with self.lock:
            self.log.extend(mine)
        conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)
        self.log.sort()


class Bench:
    def __init__(self, args):
        self.args = args
        os.makedirs(args.workdir, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="canary-bench.", dir=args.workdir)
        self.data = os.path.join(self.work, "data")
        self.repo = os.path.join(self.work, "clf")
        self.server = None
        self.log = None

    def tauon(self, *argv, check=True):
        out = subprocess.run([self.args.tauon, "--data-dir", self.data, *argv],
                             capture_output=True, text=True, timeout=120)
        if check and out.returncode != 0:
            sys.exit(f"tauon {' '.join(argv)} failed ({out.returncode}):\n{out.stdout}{out.stderr}")
        return out

    def register(self, behaviour):
        """Commits a model version that behaves so, and registers it with `tauon run`."""
        with open(os.path.join(self.repo, ".tauon.yml"), "w") as f:
            f.write(PIPELINE.format(behaviour=behaviour, python=sys.executable,
                                    replicas=self.args.replicas, weight=self.args.weight,
                                    interval=self.args.interval,
                                    check="probe.ok == 1" if self.args.provider
                                    else "error_rate < 0.05",
                                    providers=PROVIDERS.format() if self.args.provider else ""))
        subprocess.run(GIT + ["add", "-A"], cwd=self.repo, check=True)
        subprocess.run(GIT + ["commit", "-qm", f"model {behaviour}"], cwd=self.repo, check=True)
        self.tauon("run", self.repo)

    def start(self):
        subprocess.run(["git", "init", "-q", "-b", "main", self.repo], check=True)
        shutil.copy(MODEL_SERVER, os.path.join(self.repo, "serve.py"))
        with open(os.path.join(self.repo, "probe.sh"), "w") as f:
            f.write(PROBE_SH)
        self.register("ok")      # clf@1
        self.register("errors")  # clf@2
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.work, "server.log"), "w")
        self.server = subprocess.Popen(
            [self.args.tauon, "--data-dir", self.data, "serve", "--listen", f"127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or self.server.poll() is not None:
                    sys.exit("tauon serve did not start; see " + self.log.name)
                time.sleep(0.05)
        with open(os.path.join(self.data, "token")) as f:
            self.token = f.read().strip()

    def api(self, method, path, body=None):
        request = urllib.request.Request(self.url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def environment(self):
        return self.api("GET", "/api/v1/environments/production")

    def wait(self, what, predicate, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            environment = self.environment()
            if predicate(environment):
                return environment
            time.sleep(0.05)
        sys.exit(f"timed out waiting for {what}; see {self.log.name}")

    def deploy(self, model):
        return self.api("POST", "/api/v1/environments/production/deploy", {"model": model})["release"]

    def round(self, env_port):
        with Load(env_port, self.args.connections, self.args.rate) as load:
            time.sleep(0.5)  # Steady load before the canary starts.
            release = self.deploy("clf@2")
            done = self.wait(f"release {release} to be rolled back",
                             lambda e: any(r["id"] == release and r["phase"] == "failed"
                                           for r in e["releases"]))
            time.sleep(0.5)  # Steady load after the rollback.
        events = [e for e in done["events"] if e["release"] == release]
        at = {e["what"]: parse_time(e["at"]) for e in reversed(events)}  # The first of each.
        failing = [a for a in done["analysis"]
                   if a.get("release", release) == release and a["verdict"] == "fail"]
        if "canary" not in at or "rolled-back" not in at or not failing:
            sys.exit(f"release {release}: no canary start, rollback or failing interval recorded:\n"
                     + json.dumps(done, indent=1)[:4000])
        interval_end = parse_time(min(failing, key=lambda a: a["interval"])["at"])
        canary_responses = [t for t, label, _ in load.log if label == "canary"]
        if not canary_responses:
            sys.exit(f"release {release}: the canary answered no request")
        last_canary = max(canary_responses)
        window = [(t, label, status) for t, label, status in load.log
                  if at["canary"] <= t <= last_canary]
        failed = sum(1 for _, _, status in window if status != 200)
        after = sum(1 for t, _, status in load.log if t > last_canary and status != 200)
        during = [t for t in canary_responses if t >= at["canary"]]
        gap = (max(during) - min(during)) / max(1, len(during) - 1)
        return {
            "release": release,
            "client_ms": (last_canary - interval_end) * 1000,
            # The canary's mean time between responses: with no canary
            # response after `last_canary`, traffic had left it at most about
            # this much later.
            "gap_ms": gap * 1000,
            "server_ms": (at["rolled-back"] - at["analysis-failed"]) * 1000,
            "end_to_event_ms": (at["rolled-back"] - interval_end) * 1000,
            "failed": failed,
            "failed_after": after,
            "window": len(window),
            "requests": len(load.log),
            "reason": next((r["reason"] for r in done["releases"] if r["id"] == release), ""),
        }

    def run(self):
        self.start()
        first = self.deploy("clf@1")
        environment = self.wait(f"release {first} to be live",
                                lambda e: e["release"] == first and e["phase"] == "live")
        env_port = environment["port"]
        a = self.args
        print(f"canary rollback: weight {a.weight}%, interval {a.interval}, failure_limit 1, "
              f"{'verdict from a command provider, ' if a.provider else ''}"
              f"{a.connections} keep-alive connections at {a.rate} req/s in all, "
              f"{a.replicas} replica(s) per release, {a.repeat} rounds")
        rounds = []
        for i in range(a.repeat):
            r = self.round(env_port)
            rounds.append(r)
            print(f"  round {i + 1}: release {r['release']}: last canary response "
                  f"{r['client_ms']:+6.1f} ms from the interval's end (canary answers every "
                  f"{r['gap_ms']:.1f} ms); events: interval end -> rolled-back "
                  f"{r['end_to_event_ms']:.0f} ms, analysis-failed -> rolled-back "
                  f"{r['server_ms']:.0f} ms; blast radius {r['failed']} of {r['window']} requests "
                  f"({100.0 * r['failed'] / max(1, r['window']):.1f}%), "
                  f"{r['failed_after']} failed after")
        client = [r["client_ms"] for r in rounds]
        bound = [max(0.0, r["client_ms"]) + r["gap_ms"] for r in rounds]
        server = [r["server_ms"] for r in rounds]
        end_to_event = [r["end_to_event_ms"] for r in rounds]
        failed = [r["failed"] for r in rounds]
        share = [100.0 * r["failed"] / max(1, r["window"]) for r in rounds]
        print(f"  interval end -> last canary response   median {statistics.median(client):+6.1f} ms"
              f"   max {max(client):+6.1f} ms")
        print(f"  interval end -> all traffic on stable  median {statistics.median(bound):6.1f} ms"
              f"   max {max(bound):6.1f} ms   (at most: the above, or 0, plus the canary's gap"
              f" between responses; target <= 100 ms: {'met' if max(bound) <= 100 else 'NOT met'})")
        print(f"  server events: analysis-failed -> rolled-back  median "
              f"{statistics.median(server):.0f} ms   max {max(server):.0f} ms;"
              f" interval end -> rolled-back  median {statistics.median(end_to_event):.0f} ms"
              f"   max {max(end_to_event):.0f} ms   (times recorded to the ms)")
        print(f"  blast radius  median {statistics.median(failed):.0f} failed requests "
              f"({statistics.median(share):.1f}% of the requests during the canary)   "
              f"max {max(failed)} ({max(share):.1f}%);"
              f" failed after the rollback: {sum(r['failed_after'] for r in rounds)}")
        print(f"  reason: {rounds[-1]['reason']}")

    def close(self):
        if self.server and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if self.log:
            self.log.close()
        if self.args.keep:
            print(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tauon", default=os.path.join(ROOT, "build", "tauon"))
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build"),
                        help="where the data directory and repository go (a temp dir inside)")
    parser.add_argument("--repeat", type=int, default=5, help="bad canaries rolled back")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive client connections")
    parser.add_argument("--rate", type=float, default=2000, help="requests per second, in all")
    parser.add_argument("--weight", type=int, default=10, help="the canary's weight (%%)")
    parser.add_argument("--interval", default="1s", help="analysis interval")
    parser.add_argument("--replicas", type=int, default=1, help="replicas per release")
    parser.add_argument("--provider", action="store_true",
                        help="judge the canary by a command provider (sh probe.sh) instead of "
                             "error_rate")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    args.tauon = os.path.abspath(args.tauon)
    if not os.access(args.tauon, os.X_OK):
        sys.exit(f"--tauon {args.tauon}: not an executable (build it first)")
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.close()


if __name__ == "__main__":
    main()
