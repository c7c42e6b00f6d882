#!/usr/bin/env python3
"""Prints analysis.json's sites[], one line each in the file's order:
kind file:line function allocations= bytes= frees= live_at_exit=, with the
file's base name and the user frame's line; then, with --totals, whether
the summary's totals are the sum of the sites' that are not pool chunks."""
import json
import os
import sys

with open(sys.argv[1]) as f:
    analysis = json.load(f)
def without_parameters(function):
    """"ns::f" for "ns::f(int, char*) const"; "(anonymous namespace)::g" stays."""
    if not function.endswith(")") and not function.endswith(") const"):
        return function
    depth = 0
    for at in range(len(function) - 1, -1, -1):
        if function[at] == ")":
            depth += 1
        elif function[at] == "(":
            depth -= 1
            if depth == 0:
                return function[:at]
    return function


for site in analysis["sites"]:
    frame = site["user_frame"]
    print(f"{site['kind']} {os.path.basename(frame['file'])}:{frame['line']} "
          f"{without_parameters(frame['function'])} allocations={site['allocations']} "
          f"bytes={site['bytes']} frees={site['frees']} "
          f"live_at_exit={site['live_bytes_at_exit']}")
if "--totals" in sys.argv:
    counted = [s for s in analysis["sites"] if s["kind"] != "pool_chunk"]
    summary = analysis["summary"]
    print("totals allocations={} sites={} bytes={} sites={}".format(
        summary["total_allocations"], sum(s["allocations"] for s in counted),
        summary["total_bytes"], sum(s["bytes"] for s in counted)))
