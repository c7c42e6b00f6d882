#!/usr/bin/env python3
"""SIGKILLs Inputs/kill-target.c at random points and checks that the merge
recovers every allocation recorded before the kill.

  kill_points.py EXE MERGE WORKDIR RUNS SEED|random

Each run: start EXE (exact mode), wait a random 20-400 ms, SIGKILL it, read
the per-thread counters the program keeps in a shared file, merge the logs,
and compare the merged allocation count of the allocation site with the sum
of the counters: equal, or up to one more per thread (an allocation whose
record was complete when the kill came but whose counter was not yet
bumped). Prints one line per run and "all runs recovered" at the end.
"""
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time


def main():
    exe, merge, work, runs, seed = sys.argv[1:6]
    # "random": a new seed every run, printed so that a failure can be re-run.
    seed = int(time.time() * 1000) % 1000000 if seed == "random" else int(seed)
    print(f"seed {seed}")
    rng = random.Random(seed)
    failures = 0
    for run in range(int(runs)):
        out = os.path.join(work, f"run{run}")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        counters = os.path.join(out, "progress")
        env = dict(os.environ, MEMSCOPE_OUT=os.path.join(out, "logs"),
                   MEMSCOPE_OPTIONS="exact=1")
        process = subprocess.Popen([exe, counters], env=env)
        delay = rng.uniform(0.02, 0.4)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        with open(counters, "rb") as f:
            data = f.read()
        done = sum(struct.unpack_from("<Q", data, i * 64)[0] for i in range(4))
        report = os.path.join(out, "report")
        merged = subprocess.run([merge, os.path.join(out, "logs"), "-o", report],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        if merged.returncode != 0:
            print(f"run {run}: memscope-merge failed: {merged.stderr.strip()}")
            failures += 1
            continue
        analysis = json.load(open(os.path.join(report, "analysis.json")))
        recorded = sum(site["allocations"] for site in analysis["sites"]
                       if site["file"].endswith("kill-target.c") and site["line"] == 20)
        state = analysis["processes"][0]["state"]
        ok = done <= recorded <= done + 4 and state == "running"
        print(f"run {run}: killed after {delay * 1000:.0f} ms, counters {done}, "
              f"merged {recorded:.0f}, state {state}: {'ok' if ok else 'LOST DATA'}")
        failures += not ok
        shutil.rmtree(out, ignore_errors=True)
    if failures:
        sys.exit(f"{failures} runs lost data")
    print("all runs recovered")


if __name__ == "__main__":
    main()
