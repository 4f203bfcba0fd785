#!/usr/bin/env python3
"""Whole-process time of `tauon run` on a one-step pipeline.

Each run resolves HEAD, parses the pipeline, records the run in SQLite,
checks the commit out, runs `true` in a fresh workspace and prints the
summary. Prints the median and p90 over --runs, next to ninja running the
same one command from scratch (a local runner with no isolation or state).
Target (DESIGN.md): tauon median <= 50 ms.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(cmd, cwd, runs, before=None):
    times = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{result.stderr.decode()}")
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tauon", default=os.path.join(ROOT, "build", "tauon"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="startup-bench.", dir=args.workdir)
    try:
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        with open(os.path.join(repo, ".tauon.yml"), "w") as f:
            f.write("jobs:\n  one:\n    steps:\n      - run: 'true'\n")
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@tauon.invalid"]
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
        subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
        subprocess.run(git + ["commit", "-qm", "one step"], cwd=repo, check=True)
        data = os.path.join(work, "data")
        tauon = measure([args.tauon, "run", "--data-dir", data, repo], work, args.runs)

        ninja_dir = os.path.join(work, "ninja")
        os.makedirs(ninja_dir)
        with open(os.path.join(ninja_dir, "build.ninja"), "w") as f:
            f.write("rule run\n  command = true\nbuild one: run\n")
        log = os.path.join(ninja_dir, ".ninja_log")
        ninja = measure(["ninja"], ninja_dir, args.runs,
                        before=lambda: os.path.exists(log) and os.remove(log))

        print(f"one-step pipeline, whole process, {args.runs} runs")
        print(f"  ninja  median {ninja[0] * 1000:6.1f} ms  p90 {ninja[1] * 1000:6.1f} ms")
        print(f"  tauon  median {tauon[0] * 1000:6.1f} ms  p90 {tauon[1] * 1000:6.1f} ms")
        print(f"  ratio  {tauon[0] / ninja[0]:6.2f}x ninja; target: tauon median <= 50 ms "
              f"({'met' if tauon[0] <= 0.050 else 'NOT met'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
