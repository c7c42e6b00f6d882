#!/usr/bin/env python3
"""Parses stacks.folded the way flamegraph.pl does and cross-checks it.

  check_folded.py stacks.folded analysis.json

Every line must be `frame;frame;... <integer>` with non-empty frames; the
values must add up to summary.total_bytes of analysis.json (exactly in exact
mode, within 1 byte per line otherwise). Prints "folded lines=N bytes=B" and
then each stack as "stack <bytes> <frames>" for FileCheck.
"""
import json
import re
import sys

LINE = re.compile(r"^(.+) (\d+)$")


def main():
    folded, analysis = sys.argv[1], sys.argv[2]
    total = json.load(open(analysis))["summary"]["total_bytes"]
    lines = open(folded, encoding="utf-8").read().splitlines()
    stacks, bytes_sum = [], 0
    for number, line in enumerate(lines, 1):
        match = LINE.match(line)
        if not match:
            sys.exit(f"FAIL line {number}: not 'frames value': {line!r}")
        frames = match.group(1).split(";")
        if any(not frame for frame in frames):
            sys.exit(f"FAIL line {number}: empty frame")
        value = int(match.group(2))
        if value <= 0:
            sys.exit(f"FAIL line {number}: value {value}")
        bytes_sum += value
        stacks.append((value, match.group(1)))
    if abs(bytes_sum - total) > len(lines):
        sys.exit(f"FAIL folded bytes {bytes_sum} != analysis.json total_bytes {total}")
    print(f"folded lines={len(lines)} bytes={bytes_sum} total_bytes={total}")
    for value, stack in sorted(stacks, key=lambda s: s[1]):
        print(f"stack {value} {stack}")


if __name__ == "__main__":
    main()
