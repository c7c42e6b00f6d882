#!/usr/bin/env python3
"""Checks a --pprof-series folder (test/report/series.c).

series.py DIR --alias OUT
    reads DIR/index.json: prints the processes, the intervals of each, the
    snapshot numbers that end them, whether each process's intervals follow
    one another in time and whether every file listed exists; copies each
    profile to OUT/first-NNNN.pb.gz, OUT/second-NNNN.pb.gz, ... by process
    (the pids are not known in advance).
series.py --each DIR PPROF
    runs `PPROF -raw` on every profile listed: how many read, and their
    sample types and period types.
series.py --pid-filter DIR PPROF
    merges both processes' second profiles and filters them by the numeric
    labels pid (the first process's) and thread_id (3, beta; 2, alpha).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ORDINALS = ["first", "second", "third", "fourth"]


def index(folder):
    with open(os.path.join(folder, "index.json")) as f:
        return json.load(f)


def by_process(entries):
    processes = {}
    for entry in entries:
        processes.setdefault(entry["pid"], []).append(entry)
    return list(processes.values())


def alloc_bytes(pprof, path, *filters):
    out = subprocess.run([pprof, "-top", "-unit=B", "-sample_index=alloc_space",
                          *filters, path], capture_output=True, text=True).stdout
    match = re.search(r"Showing nodes accounting for (\d+)B", out)
    return int(match.group(1)) if match else 0


def main():
    if sys.argv[1] == "--each":
        folder, pprof = sys.argv[2], sys.argv[3]
        entries = index(folder)
        read, types, periods = 0, set(), set()
        for entry in entries:
            result = subprocess.run([pprof, "-raw", os.path.join(folder, entry["file"])],
                                    capture_output=True, text=True)
            if result.returncode == 0 and "Samples:" in result.stdout:
                read += 1
                first = result.stdout.split("Samples:")[1].strip().splitlines()[0]
                types.add(first.strip().replace("[dflt]", ""))
                period = re.search(r"PeriodType: (.*)", result.stdout)
                periods.add(period.group(1).strip() if period else "none")
        print(f"read {read} of {len(entries)} profiles; sample types "
              f"{' | '.join(sorted(types))}; period type "
              f"{' | '.join(sorted(periods))}")
        return
    if sys.argv[1] == "--pid-filter":
        folder, pprof = sys.argv[2], sys.argv[3]
        processes = by_process(index(folder))
        with tempfile.TemporaryDirectory() as scratch:
            merged = os.path.join(scratch, "merged.pb.gz")
            with open(merged, "wb") as out:
                subprocess.run([pprof, "-proto"] +
                               [os.path.join(folder, p[1]["file"]) for p in processes],
                               stdout=out, check=True)
            total = alloc_bytes(pprof, merged)
            pid = processes[0][0]["pid"]
            kept = alloc_bytes(pprof, merged, f"-tagfocus=pid={pid}")
            print(f"pid filter keeps {kept} of {total} bytes")
            beta = alloc_bytes(pprof, merged, "-tagfocus=thread_id=3")
            alpha = alloc_bytes(pprof, merged, "-tagfocus=thread_id=2")
            print(f"thread_id 3 keeps {beta} of {total} bytes; "
                  f"thread_id 2 keeps {alpha}")
        return
    folder, alias = sys.argv[1], sys.argv[3]
    entries = index(folder)
    processes = by_process(entries)
    counts = {len(p) for p in processes}
    snapshots = {",".join("null" if e["snapshot"] is None else str(e["snapshot"])
                          for e in p) for p in processes}
    ordered = all(a["end_unix_ns"] == b["start_unix_ns"] and
                  a["start_unix_ns"] <= a["end_unix_ns"] and
                  [e["interval"] for e in p] == list(range(1, len(p) + 1))
                  for p in processes for a, b in zip(p, p[1:]))
    files = all(os.path.isfile(os.path.join(folder, e["file"])) for e in entries)
    print(f"processes {len(processes)} intervals_each "
          f"{','.join(str(c) for c in sorted(counts))} snapshots "
          f"{' '.join(sorted(snapshots))} ordered={int(ordered)} files={int(files)}")
    os.makedirs(alias, exist_ok=True)
    for ordinal, process in zip(ORDINALS, processes):
        for entry in process:
            shutil.copy(os.path.join(folder, entry["file"]),
                        os.path.join(alias, f"{ordinal}-{entry['interval']:04}.pb.gz"))


main()
