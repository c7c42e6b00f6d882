#!/usr/bin/env python3
"""Prints the counted totals of an analysis.json, for exact-totals.c:

  totals allocations=<n> bytes=<n> exact=<0|1>
  thread allocations=<n> bytes=<n> exact=<0|1> running=<0|1>   (sorted)

Thread lines leave out threads that allocated nothing, so that the output
of a sampled run and of an exact run of the same program can be diffed.
"""
import json
import sys

with open(sys.argv[1]) as f:
    data = json.load(f)
s = data["summary"]
print(f"totals allocations={s['total_allocations']} bytes={s['total_bytes']} "
      f"exact={int(s['totals_exact'])}")
lines = []
for t in data["threads"]:
    if t["allocations"] or t["bytes"]:
        lines.append(f"thread allocations={t['allocations']} bytes={t['bytes']} "
                     f"exact={int(t['totals_exact'])} "
                     f"running={int(t['running_at_exit'])}")
for line in sorted(lines):
    print(line)
