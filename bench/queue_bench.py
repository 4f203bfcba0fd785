#!/usr/bin/env python3
"""200 runs queued at once on `tauon serve` drain with the job limit held.

Pushes --runs branches in one `git push` (each with its own commit), so one
fetch queues them all, then waits for every run to finish. Each run is one
job whose step records when it started and ended; the benchmark checks that
no more than --max-jobs steps ever overlapped and that runs started in the
order they were queued (runs started together, up to the limit, may race
each other), and prints the drain rate.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import GIT, ROOT, Server  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tauon", default=os.path.join(ROOT, "build", "tauon"))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--max-jobs", type=int, default=2)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()

    server = None
    try:
        server = Server(args.tauon, args.workdir, "placeholder\n", max_jobs=args.max_jobs)
        marks = os.path.join(server.work, "marks")
        os.makedirs(marks)
        with open(os.path.join(server.clone, ".tauon.yml"), "w") as f:
            f.write("jobs:\n  one:\n    steps:\n"
                    f"      - run: date +%s.%N > {marks}/$TAUON_RUN_ID.start; "
                    f"date +%s.%N > {marks}/$TAUON_RUN_ID.end\n")
        server.commit("pipeline", push=True)
        subprocess.run([args.tauon, "--server", server.url, "--data-dir", server.data, "repo",
                        "add", "bench", server.origin, "--poll", "1s"], check=True,
                       capture_output=True)
        # One commit per branch, all pushed at once.
        branches = []
        for i in range(args.runs):
            name = f"b{i:04}"
            subprocess.run(GIT + ["checkout", "-q", "-b", name, "main"], cwd=server.clone,
                           check=True)
            server.commit(name)
            branches.append(name)
        pushed = time.time()
        subprocess.run(["git", "push", "-q", server.origin, *branches], cwd=server.clone,
                       check=True, capture_output=True)
        deadline = time.time() + 600
        while True:
            runs = server.runs()
            done = [r for r in runs if r["status"] not in ("queued", "running")]
            if len(runs) >= args.runs and len(done) == len(runs):
                break
            if time.time() > deadline:
                sys.exit(f"only {len(done)} of {args.runs} runs finished; see {server.log.name}")
            time.sleep(0.1)
        failed = [r for r in runs if r["status"] != "success"]
        if failed:
            sys.exit(f"{len(failed)} runs did not succeed, e.g. run {failed[0]['id']}")
        intervals = []
        for run in runs:
            with open(f"{marks}/{run['id']}.start") as f:
                start = float(f.read())
            with open(f"{marks}/{run['id']}.end") as f:
                end = float(f.read())
            intervals.append((start, end, run["id"]))
        events = sorted([(s, 1) for s, _, _ in intervals] + [(e, -1) for _, e, _ in intervals])
        peak = running = 0
        for _, delta in events:
            running += delta
            peak = max(peak, running)
        # Runs that start together (up to the limit) may race each other by
        # microseconds; none may overtake a run queued more than that ahead.
        order = [run_id for _, _, run_id in sorted(intervals)]
        overtaken = max(sum(1 for later in order[:i] if later > run_id)
                        for i, run_id in enumerate(order))
        in_order = overtaken < args.max_jobs
        last_end = max(e for _, e, _ in intervals)
        elapsed = last_end - pushed
        print(f"queue drain: {len(runs)} runs queued by one push, --max-jobs {args.max_jobs}")
        print(f"  pushed -> last run finished  {elapsed:6.2f} s   ({len(runs) / elapsed:.1f} runs/s)")
        print(f"  steps overlapping at most    {peak} (limit {args.max_jobs}: "
              f"{'held' if peak <= args.max_jobs else 'EXCEEDED'})")
        print(f"  runs started in queue order  {'yes' if in_order else 'NO'} (a run overtaken by at "
              f"most {overtaken} later run{'s' if overtaken != 1 else ''}, running at once with it)")
    finally:
        if server:
            server.close()


if __name__ == "__main__":
    main()
