#!/usr/bin/env python3
"""Webhook delivered -> first step of its run running, on `tauon serve`.

For each of --commits commits: push it to a bare repository, deliver a
signed GitHub push webhook, and take the time from just before the delivery
to the moment the run's first step starts (the step records its own start).
The repository's poll interval is long, so only the webhook can start runs.
Prints the median and p90 against the target (DESIGN.md: <= 100 ms), and,
for scale, what `git fetch` of the same repository costs (the one thing
the server must do before it knows what to run).
"""
import argparse
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import ROOT, Server  # noqa: E402

SECRET = "bench-secret"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tauon", default=os.path.join(ROOT, "build", "tauon"))
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()

    marks = None
    server = None
    try:
        server = Server(args.tauon, args.workdir, "placeholder\n")
        marks = os.path.join(server.work, "marks")
        os.makedirs(marks)
        with open(os.path.join(server.clone, ".tauon.yml"), "w") as f:
            f.write("jobs:\n  first:\n    steps:\n"
                    f"      - run: date +%s.%N > {marks}/$TAUON_COMMIT\n")
        server.commit("pipeline", push=True)
        secret_file = os.path.join(server.work, "secret")
        with open(secret_file, "w") as f:
            f.write(SECRET)
        subprocess.run([args.tauon, "--server", server.url, "--data-dir", server.data, "repo",
                        "add", "bench", server.origin, "--poll", "1h",
                        "--webhook-secret-file", secret_file], check=True, capture_output=True)
        latencies = []
        for i in range(args.commits):
            sha = server.commit(f"commit {i}", push=True)
            payload = json.dumps({
                "ref": "refs/heads/main", "after": sha, "deleted": False,
                "repository": {"full_name": "bench/bench", "clone_url": server.origin},
            }).encode()
            signature = "sha256=" + hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
            request = urllib.request.Request(server.url + "/api/v1/hooks/github", data=payload,
                                             method="POST")
            request.add_header("X-GitHub-Event", "push")
            request.add_header("X-Hub-Signature-256", signature)
            request.add_header("Content-Type", "application/json")
            sent = time.time()
            urllib.request.urlopen(request, timeout=10).read()
            mark = os.path.join(marks, sha)
            deadline = time.time() + 30
            while not os.path.exists(mark) or os.path.getsize(mark) == 0:
                if time.time() > deadline:
                    sys.exit(f"run of {sha[:12]} did not start; see {server.log.name}")
                time.sleep(0.002)
            with open(mark) as f:
                latencies.append(float(f.read()) - sent)
            # Let the run finish so that runs do not overlap.
            while any(r["status"] in ("queued", "running") for r in server.runs()):
                time.sleep(0.01)
        fetch = []
        scratch = os.path.join(server.work, "fetch-probe.git")
        subprocess.run(["git", "init", "-q", "--bare", scratch], check=True)
        for _ in range(10):
            start = time.perf_counter()
            subprocess.run(["git", "fetch", "-q", server.origin, "+refs/heads/*:refs/heads/*"],
                           cwd=scratch, check=True)
            fetch.append(time.perf_counter() - start)
        latencies.sort()
        median = statistics.median(latencies)
        p90 = latencies[int(len(latencies) * 0.9) - 1]
        print(f"webhook -> first step running, {len(latencies)} commits")
        print(f"  median {median * 1000:6.1f} ms   p90 {p90 * 1000:6.1f} ms   "
              f"max {latencies[-1] * 1000:6.1f} ms")
        print(f"  git fetch of the repository (CLI, for scale): median "
              f"{statistics.median(fetch) * 1000:.1f} ms")
        print(f"  ratio  {median / 0.100:.2f}x the 100 ms target "
              f"({'met' if median <= 0.100 else 'NOT met'})")
    finally:
        if server:
            server.close()


if __name__ == "__main__":
    main()
