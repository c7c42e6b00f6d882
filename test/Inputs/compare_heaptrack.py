#!/usr/bin/env python3
"""Compares memscope's exact allocation count with heaptrack's.

  compare_heaptrack.py analysis.json heaptrack_print-output.txt

Prints both counts and their relative difference; exits 1 if it exceeds 1%.
"""
import json
import re
import sys

analysis = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
match = re.search(r"calls to allocation functions: (\d+)", text)
if not match:
    sys.exit("compare_heaptrack: no 'calls to allocation functions' in heaptrack_print output")
heaptrack = int(match.group(1))
memscope = analysis["summary"]["total_allocations"]
difference = abs(memscope - heaptrack) / max(heaptrack, 1)
print(f"memscope={memscope} heaptrack={heaptrack} difference={difference * 100:.3f}%")
sys.exit(0 if difference <= 0.01 else 1)
