"""Seeds a Tauon database with finished runs for the dashboard's render
measurement: python3 seed_runs.py DB COUNT. Each run has three jobs (lint,
test needing nothing, build needing both), one step each, and 20 test
results in `test`; every tenth run failed one test. Writes through SQLite
directly (the schema of src/store/store.cc), in one transaction."""
import json
import sqlite3
import sys
from datetime import datetime, timedelta, timezone


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    db = sqlite3.connect(path, timeout=30)
    start = datetime.now(timezone.utc) - timedelta(minutes=count)
    with db:
        for i in range(count):
            created = start + timedelta(minutes=i)
            failed = i % 10 == 9
            duration = 4000 + (i * 37) % 3000
            finished = created + timedelta(milliseconds=duration)
            run = db.execute(
                "INSERT INTO runs (repo, commit_sha, branch, event, pipeline, message, author, status,"
                " created_at, started_at, finished_at, trigger) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                ("seeded", f"{i:040x}", "main" if i % 3 else f"feature/{i % 7}", "push", "seeded",
                 f"Commit number {i}", "Ada Lovelace <ada@example.com>",
                 "failed" if failed else "success", stamp(created), stamp(created), stamp(finished),
                 "push")).lastrowid
            for position, (name, needs) in enumerate([("lint", []), ("test", []), ("build", ["lint", "test"])]):
                status = "failed" if failed and name == "test" else (
                    "skipped" if failed and name == "build" else "success")
                job = db.execute(
                    "INSERT INTO jobs (run_id, name, position, attempt, status, needs, started_at,"
                    " finished_at, duration_ms) VALUES (?,?,?,?,?,?,?,?,?)",
                    (run, name, position, 1, status, json.dumps(needs), stamp(created), stamp(finished),
                     duration // 3)).lastrowid
                if status == "skipped":
                    continue
                db.execute(
                    "INSERT INTO steps (job_id, position, name, status, exit_code, started_at,"
                    " finished_at, duration_ms) VALUES (?,?,?,?,?,?,?,?)",
                    (job, 0, f"run {name}", status, 0 if status == "success" else 1, stamp(created),
                     stamp(finished), duration // 3))
                if name == "test":
                    for t in range(20):
                        bad = failed and t == 3
                        db.execute(
                            "INSERT INTO test_results (job_id, suite, classname, name, status, flaky,"
                            " duration_ms, message, details) VALUES (?,?,?,?,?,?,?,?,?)",
                            (job, "unit", "tests.test_model", f"test_case_{t}",
                             "failed" if bad else "passed", 0, 5,
                             "AssertionError: accuracy 0.5 < 0.9" if bad else "", ""))


main()
