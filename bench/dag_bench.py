#!/usr/bin/env python3
"""Runs an N-job layered DAG of `true` steps with `tauon run` and with ninja.

Every job of a layer needs every job of the previous layer, the same edges
in both tools. Prints both wall times (best of --repeat), and tauon's time as
a ratio of ninja's. Target (DESIGN.md): ratio <= 1.5.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_pipeline(path, layers, width):
    lines = ["name: dag-bench", "jobs:"]
    for layer in range(layers):
        for i in range(width):
            lines.append(f"  j{layer}_{i}:")
            if layer:
                needs = ", ".join(f"j{layer - 1}_{k}" for k in range(width))
                lines.append(f"    needs: [{needs}]")
            lines.append("    steps: [ { run: 'true' } ]")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_ninja(path, layers, width):
    lines = ["rule run", "  command = true", ""]
    for layer in range(layers):
        for i in range(width):
            inputs = " ".join(f"j{layer - 1}_{k}" for k in range(width)) if layer else ""
            lines.append(f"build j{layer}_{i}: run {inputs}".rstrip())
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def timed(cmd, cwd, env=None):
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr.decode()}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tauon", default=os.path.join(ROOT, "build", "tauon"))
    parser.add_argument("--layers", type=int, default=100)
    parser.add_argument("--width", type=int, default=10)
    parser.add_argument("-j", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build"),
                        help="where the temporary repository and data live (default: build/, "
                             "where a developer's .tauon would be)")
    args = parser.parse_args()
    if not shutil.which("ninja"):
        sys.exit("ninja is not installed (apt-get install ninja-build)")

    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dag-bench.", dir=args.workdir)
    try:
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        write_pipeline(os.path.join(repo, ".tauon.yml"), args.layers, args.width)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@tauon.invalid"]
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
        subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
        subprocess.run(git + ["commit", "-qm", "dag"], cwd=repo, check=True)
        ninja_dir = os.path.join(work, "ninja")
        os.makedirs(ninja_dir)
        write_ninja(os.path.join(ninja_dir, "build.ninja"), args.layers, args.width)

        jobs = args.layers * args.width
        tauon_times, ninja_times = [], []
        for _ in range(args.repeat):
            for f in os.listdir(ninja_dir):
                if f != "build.ninja":
                    os.remove(os.path.join(ninja_dir, f))
            ninja_times.append(timed(["ninja", "-j", str(args.j)], ninja_dir))
            data = os.path.join(work, "data")
            shutil.rmtree(data, ignore_errors=True)
            tauon_times.append(timed([args.tauon, "run", "--data-dir", data, "-j", str(args.j), repo], work))
        t, n = min(tauon_times), min(ninja_times)
        print(f"dag: {jobs} jobs ({args.layers} layers of {args.width}), -j {args.j}, best of {args.repeat}")
        print(f"  ninja  {n * 1000:8.0f} ms")
        print(f"  tauon  {t * 1000:8.0f} ms")
        print(f"  ratio  {t / n:8.2f}x ninja (target <= 1.5)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
