"""The resource collector's CPU cost per sample (bench/collector-cost.cpp)."""
import json
import subprocess

from .common import progress


def collector_cost(bench, quick):
    seconds = "0.5" if quick else "2"
    result = subprocess.run([bench.bin("collector-cost"), seconds], capture_output=True,
                            text=True, check=True)
    progress("collector: done")
    return dict(json.loads(result.stdout), seconds=float(seconds))


def write(page, col):
    """The section of the page, after its heading."""
    add = page.add
    add(f"`bench/collector-cost.cpp` idles for {col['seconds']:g} s while "
        f"`PlatformResourceCollector` samples every millisecond: {col['samples']} samples "
        f"used {col['cpu_seconds'] * 1000:.1f} ms of CPU, **{col['cpu_us_per_sample']:.1f} µs "
        f"per sample** (/proc/self/stat, statm and io, and getrusage). At the default 50 ms "
        f"interval that is {col['cpu_us_per_sample'] / 50000 * 100:.3f}% of one core.")
    add("")
