#!/usr/bin/env python3
"""Prints analysis.json's processes, sorted, one line each, for FileCheck:

  process exe=<basename> status=<status> signal=<name|none> threads=N allocations=N bytes=N

or, with --pid-of STATUS, the pid of the first process with that status.
"""
import json
import os
import sys

data = json.load(open(sys.argv[1]))
if len(sys.argv) > 3 and sys.argv[2] == "--pid-of":
    # The pid of the first process (by start time) with that status.
    print(next(p["pid"] for p in data["processes"] if p["status"] == sys.argv[3]))
    sys.exit(0)
lines = []
for p in data["processes"]:
    lines.append(f"process exe={os.path.basename(p['executable'])} status={p['status']} "
                 f"signal={p['signal_name'] or 'none'} threads={p['thread_count']} "
                 f"allocations={p['total_allocations']} bytes={p['total_bytes']}")
for line in sorted(lines):
    print(line)
print(f"total processes={data['summary']['process_count']} allocations={data['summary']['total_allocations']}")
