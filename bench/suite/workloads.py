"""The overhead section's workloads, their variants (plain, default, the
design page's config, exact, heaptrack) and the commands that run them."""
import shutil

from .common import DESIGN_OPTIONS


# name: (program base name, args for wall runs, args for callgrind, the same
# two for --quick). The full sizes: the two synthetic workloads where one
# plain run takes a fraction of a second (the churn runs long enough, ~0.4 s,
# that its ratio is the steady cost per allocation, not the runtime's fixed
# start-up cost, which "empty program" shows on its own); the design page's
# examples at the design page's sizes, sleeps off. Callgrind runs a smaller
# size (it is ~50x slower).
WORKLOADS = {
    # The runtime's fixed cost: start-up and exit of a program that does
    # nothing (quick-start with no threads).
    "empty program": ("quick-start", ["unused", "0", "0"], ["unused", "0", "0"],
                      ["unused", "0", "0"], ["unused", "0", "0"]),
    "churn": ("churn", ["4", "2000000"], ["2", "40000"],
              ["2", "40000"], ["2", "10000"]),
    "containers": ("containers", ["4", "150000"], ["2", "20000"],
                   ["2", "15000"], ["2", "5000"]),
    "quick-start": ("quick-start", ["unused", "30", "0"], ["unused", "30", "0"],
                    ["unused", "30", "0"], ["unused", "30", "0"]),
    "advanced": ("advanced", ["unused", "100", "1000", "0"], ["unused", "10", "200", "0"],
                 ["unused", "20", "100", "0"], ["unused", "10", "50", "0"]),
    "resource-monitoring": ("resource-monitoring", ["50", "100000", "0"], ["10", "100000", "0"],
                            ["10", "50000", "0"], ["5", "20000", "0"]),
    "web-server": ("web-server", ["20", "1000", "0"], ["20", "200", "0"],
                   ["20", "200", "0"], ["20", "50", "0"]),
    "database-pool": ("database-pool", ["50", "200", "10", "0"], ["20", "20", "10", "0"],
                      ["20", "20", "10", "0"], ["20", "10", "10", "0"]),
    # One thread allocating 64-byte blocks that another frees: every free is
    # of another thread's block.
    "cross-thread-free": ("cross-thread-free", ["1", "2000000"], ["1", "100000"],
                          ["1", "200000"], ["1", "20000"]),
    # resource-monitoring again, with glibc's mmap threshold fixed (below).
    "resource-monitoring, fixed mmap threshold": (
        "resource-monitoring", ["50", "100000", "0"], ["10", "100000", "0"],
        ["10", "50000", "0"], ["5", "20000", "0"]),
}

# Environment a workload runs in, for every variant alike, and why (shown
# with its table): workload name -> (env, why).
WORKLOAD_ENV = {
    "resource-monitoring, fixed mmap threshold": (
        {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=131072"},
        "resource-monitoring's 50 threads each allocate 800 KB vectors; with "
        "glibc's dynamic mmap threshold, whether those are fresh mmaps or reused "
        "arena memory depends on the threads' timing (the threshold rises when some "
        "thread frees an mmapped block first), and so do the page faults (55 k to "
        "97 k in the plain build) and the plain build's own wall time. Fixed, every "
        "variant makes the same faults, and the difference is the tool's own cost."),
}


def workload_env(name):
    """The environment workload name runs in ({} for most)."""
    return WORKLOAD_ENV[name][0] if name in WORKLOAD_ENV else {}


def workloads(quick):
    """name -> (program base name, args for wall runs, args for callgrind)."""
    return {name: (program, quick_args, quick_cg) if quick else (program, args, cg)
            for name, (program, args, cg, quick_args, quick_cg) in WORKLOADS.items()}


def overhead_variants(workload):
    """(label, kind, MEMSCOPE_OPTIONS). kind: plain, rtonly, off, record, heaptrack."""
    variants = [("plain", "plain", None)]
    if workload == "churn":
        # Split the default's cost into its parts (churn only, to save time).
        variants += [("runtime linked, not instrumented", "rtonly", None),
                     ("instrumented, not recording", "off", None)]
    variants += [("memscope default", "record", ""),
                 ("memscope SamplingConfig{0.01, 1024}", "record", DESIGN_OPTIONS),
                 ("memscope exact", "record", "exact=1")]
    if shutil.which("heaptrack"):
        variants.append(("heaptrack", "heaptrack", None))
    return variants


def variant_command(bench, program, kind, options, args, log_dir, extra=None):
    """(command, env vars to show, env); extra: the workload's own env."""
    extra = extra or {}
    if kind == "plain":
        return [bench.bin(f"{program}-plain")] + args, dict(extra), bench.env(extra=extra)
    if kind == "rtonly":
        return ([bench.bin(f"{program}-rtonly")] + args, dict(extra),
                bench.env(extra=extra))
    if kind == "off":
        return ([bench.bin(f"{program}-memscope")] + args, dict(extra),
                bench.env(extra=extra))
    if kind == "heaptrack":
        return (["heaptrack", "-o", log_dir, bench.bin(f"{program}-plain")] + args,
                dict(extra), bench.env(extra=extra))
    shown = dict(extra)
    shown["MEMSCOPE_OUT"] = "logs"
    if options:
        shown["MEMSCOPE_OPTIONS"] = options
    return ([bench.bin(f"{program}-memscope")] + args, shown,
            bench.env(out=log_dir, options=options, extra=extra))
