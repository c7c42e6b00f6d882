#!/usr/bin/env python3
"""Prints the snapshots of analysis.json's first process, one line each:
snapshot <number> <cause> live_allocations= live_bytes= heap_counted=<0|1>,
then live_now <number> (or none) and the process's status."""
import json
import sys

with open(sys.argv[1]) as f:
    process = json.load(f)["processes"][0]
for snapshot in process["snapshots"]:
    print(f"snapshot {snapshot['number']} {snapshot['cause']} "
          f"live_allocations={snapshot['live_allocations']} "
          f"live_bytes={snapshot['live_bytes']} "
          f"heap_counted={int(snapshot['heap_bytes'] is not None)}")
now = process["live_now"]
print(f"live_now {now['number'] if now else 'none'}")
print(f"status {process['status']}")
numbers = [s["number"] for s in process["snapshots"]]
print(f"count {len(numbers)} numbered_1_to_n={int(sorted(numbers) == list(range(1, len(numbers) + 1)))}")
