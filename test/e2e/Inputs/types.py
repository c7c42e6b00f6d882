#!/usr/bin/env python3
"""Prints analysis.json's types[], one line each, in the file's order:
type=<name or (unknown) at file:line function> allocations= bytes=
live_at_exit= peak= method= sites=."""
import json
import sys

with open(sys.argv[1]) as f:
    analysis = json.load(f)
site_types = {site["id"]: site["type"] for site in analysis["sites"]}
for entry in analysis["types"]:
    name = entry["type"]
    if name is None:
        frame = entry["user_frame"]
        name = f"(unknown) at {frame['file']}:{frame['line']} {frame['function']}"
    # Every site listed under a type says it allocates that type.
    for site in entry["sites"]:
        if site_types[site] != entry["type"]:
            sys.exit(f"site {site} is under {name} but its type is {site_types[site]}")
    print(f"type={name} allocations={entry['allocations']} bytes={entry['bytes']} "
          f"live_at_exit={entry['live_bytes_at_exit']} peak={entry['peak_live_bytes']} "
          f"method={entry['peak_method']} sites={len(entry['sites'])}")
