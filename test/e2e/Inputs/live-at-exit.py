#!/usr/bin/env python3
"""Prints what analysis.json says is live at exit, leaks apart from
process-lifetime blocks, for process-lifetime.cpp:

  summary leaks=<allocations>/<bytes> process_lifetime=<allocations>/<bytes>
  leak at=<file:line> function=<f> allocations=<n> bytes=<n>
  lifetime at=<file:line> function=<f> via=<via> allocations=<n>
"""
import json
import os
import sys

with open(sys.argv[1]) as f:
    data = json.load(f)
s = data["summary"]
print(f"summary leaks={s['live_allocations_at_exit']}/{s['live_bytes_at_exit']} "
      f"process_lifetime={s['process_lifetime_allocations']}/{s['process_lifetime_bytes']}")
for site in sorted(data["sites"], key=lambda x: (x["user_frame"]["line"], x["function"])):
    where = f"{os.path.basename(site['user_frame']['file'])}:{site['user_frame']['line']}"
    if site["live_allocations_at_exit"]:
        print(f"leak at={where} function={site['function']} "
              f"allocations={site['live_allocations_at_exit']} bytes={site['live_bytes_at_exit']}")
    if site["process_lifetime"]:
        print(f"lifetime at={where} function={site['function']} via={site.get('via', '')} "
              f"allocations={site['process_lifetime_allocations']}")
