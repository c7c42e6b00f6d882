#!/usr/bin/env python3
"""Prints diff.json one line per entry, for diff.test:

  totals <figure> base=<n> new=<n> delta=<n> significant=<0|1>
  site <match> <kind> <function> line=<n> [base_line=<n>] bytes=<delta> significant=<0|1>
  thread <match> <name> threads=<base>-><new> bytes=<delta>
  spawn <match> <function> line=<n> threads=<base>-><new>

Sites in the program's own file only (libc's start-up ones vary), sorted.
"""
import json
import sys

with open(sys.argv[1]) as f:
    diff = json.load(f)
for name, figure in diff["totals"].items():
    print(f"totals {name} base={figure['base']} new={figure['new']} "
          f"delta={figure['delta']} significant={int(figure['significant'])}")
lines = []
for site in diff["sites"]:
    if not site["file"].endswith("diff-app.c"):
        continue
    moved = f" base_line={site['base_line']}" if "base_line" in site else ""
    lines.append(f"site {site['match']} {site['kind']} {site['function']} line={site['line']}"
                 f"{moved} bytes={site['bytes']['delta']} "
                 f"significant={int(site['bytes']['significant'])}")
for thread in diff["threads"]:
    lines.append(f"thread {thread['match']} {thread['name']} "
                 f"threads={thread['threads']['base']}->{thread['threads']['new']} "
                 f"bytes={thread['bytes']['delta']}")
for spawn in diff["spawn_sites"]:
    lines.append(f"spawn {spawn['match']} {spawn['function']} line={spawn['line']} "
                 f"threads={spawn['threads']['base']}->{spawn['threads']['new']}")
for line in sorted(lines):
    print(line)
