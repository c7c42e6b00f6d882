#!/usr/bin/env python3
"""Compares the heap in use at exit of sampled runs with an exact run's live
blocks at exit, for heap-at-exit.c:

  heap_at_exit.py EXACT.json SAMPLED.json...

The truth is what exact mode's events leave live: live_bytes_at_exit (leaks)
plus process_lifetime_bytes. Prints "exact truth=<bytes> counted=<0|1>
within=<0|1>" (exact mode's own count against its events), then for each
sampled run "counted=<0|1> within=<0|1> holds=<0|1> capped=<0|1>
samples=<0|1>": counted is 1 when the run has heap_in_use_at_exit, within
when it is within 1% of the truth, holds when its interval contains the
truth, capped when the leaks' interval ends at or below what the heap's
chunks can hold (or at the leaks' own estimate, when that is above it), and
samples is 0 when the run sampled nothing.
"""
import json
import sys


def summary(path):
    with open(path) as f:
        return json.load(f)["summary"]


def heap(s, truth):
    value = s["heap_in_use_at_exit"]
    if value is None:
        return "counted=0 within=0 holds=0"
    low, high = s["heap_in_use_at_exit_interval"]
    within = abs(value - truth) <= 0.01 * truth
    return f"counted=1 within={int(within)} holds={int(low <= truth <= high)}"


exact = summary(sys.argv[1])
truth = exact["live_bytes_at_exit"] + exact["process_lifetime_bytes"]
print(f"exact truth={truth} {heap(exact, truth).rsplit(' ', 1)[0]}")
for path in sys.argv[2:]:
    s = summary(path)
    # The leaks' estimate may exceed the count (a few samples); its interval
    # then ends at the estimate, else at most at what the heap's chunks can
    # hold: its requested bytes plus at most 32 bytes a block (no block here
    # is mapped), of which its interval already allows 8.
    capped = (s["heap_in_use_at_exit"] is not None and
              s["live_bytes_at_exit_interval"][1]
              <= max(s["live_bytes_at_exit"],
                     s["heap_in_use_at_exit_interval"][1] +
                     24 * s["heap_blocks_at_exit"]))
    print(f"{heap(s, truth)} capped={int(capped)} "
          f"samples={min(s['samples'], 1)}")
