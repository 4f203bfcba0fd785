#!/usr/bin/env python3
"""Writes a synthetic test history in the CSV format `tauon tests replay`
reads (Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle).

The histories are for honesty, not realism: Tauon's ranking was never tuned
on them. A seed decides everything. The world it simulates:
- tests are born over time; a young test is more likely to be broken;
- regressions appear at random cycles, break a few related tests (neighbours
  in a suite) and stay until fixed, a geometric number of cycles later;
- some tests are flaky: they fail at random with a small probability;
- each cycle runs a random subset of the tests (small and large cycles);
- durations are per test (log-normal), slightly longer for integration-like
  suites, which also break more often.

usage: synth_history.py SEED OUT.csv [--cycles N] [--tests N]
"""
import argparse
import math
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("seed", type=int)
    parser.add_argument("out")
    parser.add_argument("--cycles", type=int, default=400)
    parser.add_argument("--tests", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    suites = max(3, args.tests // 20)
    tests = []  # dict(name, suite, born, duration, flaky)
    def new_test(cycle):
        suite = rng.randrange(suites)
        tests.append({
            "name": f"suite{suite}.test{len(tests)}",
            "suite": suite,
            "born": cycle,
            "duration": math.exp(rng.gauss(1.0 + 0.1 * (suite % 4), 1.0)),
            "flaky": rng.random() < 0.05,
            "fragile": rng.random() ** 2,  # How easily a regression in its suite breaks it.
        })
    for _ in range(args.tests // 2):
        new_test(0)
    faults = []  # dict(suite, tests: set, until)
    row_id = 0
    with open(args.out, "w") as out:
        out.write("Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle\n")
        for cycle in range(1, args.cycles + 1):
            if len(tests) < args.tests and rng.random() < 0.5:
                new_test(cycle)
            if rng.random() < 0.15:
                suite = rng.randrange(suites)
                members = [i for i, t in enumerate(tests) if t["suite"] == suite]
                young = [i for i in members if cycle - tests[i]["born"] < 30]
                broken = {i for i in members if rng.random() < tests[i]["fragile"] * 0.5}
                broken |= {i for i in young if rng.random() < 0.4}
                if broken:
                    faults.append({"tests": broken,
                                   "until": cycle + int(rng.expovariate(1 / 4)) + 1})
            faults = [f for f in faults if f["until"] > cycle]
            broken = set().union(*(f["tests"] for f in faults)) if faults else set()
            share = rng.choice([0.02, 0.1, 0.3, 1.0])
            chosen = [i for i in range(len(tests)) if rng.random() < share] or [rng.randrange(len(tests))]
            for i in chosen:
                t = tests[i]
                failed = i in broken or (t["flaky"] and rng.random() < 0.15) or rng.random() < 0.002
                duration = t["duration"] * math.exp(rng.gauss(0, 0.2))
                row_id += 1
                out.write(f"{row_id};{t['name']};{duration:.3f};0;2020-01-01 00:00:00;[];"
                          f"{1 if failed else 0};{cycle}\n")


if __name__ == "__main__":
    main()
