"""The fast paths (bench/fastpath.cpp, Google Benchmark): malloc, free, new
and delete, plain and instrumented."""
import shutil

from .common import progress


def fastpath(bench, quick):
    """ns per operation, plain and instrumented (recording at the default)."""
    results = {}
    for variant in ("plain", "memscope"):
        log_dir = bench.fresh_dir("fastpath-logs")
        env = bench.env(out=log_dir) if variant == "memscope" else bench.env()
        _, medians = bench.benchmark_medians(bench.bin(f"fastpath-{variant}"), env,
                                             2 if quick else 5, quick)
        for name, median in medians.items():
            results.setdefault(name, {})[variant] = median["real_time_ns"]
        shutil.rmtree(log_dir, ignore_errors=True)
        progress(f"fastpath: {variant} done")
    return results


def write(page, fast):
    """The section of the page, after its heading."""
    add = page.add
    add("`bench/fastpath.cpp`, plain and instrumented (recording at the default, so a "
        "32-byte block is sampled about once per 16,384 allocations): median of the "
        "repetitions, nanoseconds per operation. `BM_Malloc`/`BM_New` allocate only and "
        "`BM_Free`/`BM_Delete` free only (the other half happens outside the timed region, "
        "in batches of 4,096): the cost per allocation on the not-sampled path and per "
        "free of a non-sampled pointer.")
    add("")
    add("| benchmark | plain (ns) | memscope (ns) | added (ns) |")
    add("|---|---:|---:|---:|")
    for name, times in fast.items():
        add(f"| {name} | {times['plain']:.2f} | {times['memscope']:.2f} | "
            f"{times['memscope'] - times['plain']:+.2f} |")
    add("")
