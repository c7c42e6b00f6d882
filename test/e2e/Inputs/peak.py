#!/usr/bin/env python3
"""Compares the peak of live bytes of sampled runs with an exact run's, for
counted-peak.c:

  peak.py EXACT.json SAMPLED.json...

Prints "exact method=<m> peak=<bytes>", then for each sampled run
"counted method=<m> within=<0|1> holds=<0|1> samples=<n>": within is 1 when
its peak is within 2% of the exact peak, holds when its
peak_live_bytes_interval contains the exact peak, samples is 0 when the run
sampled nothing and 1 otherwise.
"""
import json
import sys


def summary(path):
    with open(path) as f:
        return json.load(f)["summary"]


exact = summary(sys.argv[1])
truth = exact["peak_live_bytes"]
print(f"exact method={exact['peak_live_bytes_method']} peak={truth}")
for path in sys.argv[2:]:
    s = summary(path)
    low, high = s["peak_live_bytes_interval"]
    within = abs(s["peak_live_bytes"] - truth) <= 0.02 * truth
    print(f"counted method={s['peak_live_bytes_method']} within={int(within)} "
          f"holds={int(low <= truth <= high)} samples={min(s['samples'], 1)}")
