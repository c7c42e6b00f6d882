"""The scale section: the design page's advanced example with up to 500
threads: logs, merge, runtime memory per thread; its targets and its part
of the page."""
import os
import re
import shutil
import statistics

from .common import ADVANCED_OPTIONS, KIB, TARGETS, progress, sh_command, size
from .merges import log_sizes


def dir_sizes(path):
    """Bytes, bytes on disk, and the number of thread log files (t<slot>.log:
    one per thread slot, so the peak number of threads recording at once)."""
    apparent = on_disk = slots = 0
    for parent, _, names in os.walk(path):
        for name in names:
            st = os.stat(os.path.join(parent, name))
            apparent += st.st_size
            on_disk += st.st_blocks * 512
            slots += bool(re.fullmatch(r"t\d+\.log", name))
    return apparent, on_disk, slots


def scale(bench, quick, repeats):
    counts = [10, 30] if quick else [30, 100, 500]
    iterations = "100" if quick else "1000"
    modes = [("SamplingConfig{0.01, 1024, 1 MiB} (the example's)", ADVANCED_OPTIONS),
             ("default", "")]
    # The runtime's fixed memory (the live table, the filter, the main
    # thread's slot): the same program with no worker threads.
    fixed = {}
    idle = ["unused", "0", iterations, "0"]
    plain_idle = statistics.median(
        bench.run([bench.bin("advanced-plain")] + idle, bench.env(), peak_rss=True)["maxrss"]
        for _ in range(repeats))
    for mode, options in modes:
        rss = []
        for _ in range(repeats):
            log_dir = bench.fresh_dir("scale-logs")
            rss.append(bench.run([bench.bin("advanced-memscope")] + idle,
                                 bench.env(out=log_dir, options=options), peak_rss=True)["maxrss"])
        fixed[mode] = statistics.median(rss) - plain_idle
    rows = []
    for threads in counts:
        args = ["unused", str(threads), iterations, "0"]
        plain = [bench.run([bench.bin("advanced-plain")] + args, bench.env(), peak_rss=True)
                 for _ in range(repeats)]
        for mode, options in modes:
            recorded = []
            for _ in range(repeats):
                log_dir = bench.fresh_dir("scale-logs")
                recorded.append(bench.run([bench.bin("advanced-memscope")] + args,
                                          bench.env(out=log_dir, options=options),
                                          peak_rss=True))
            # The data the files hold (the windows' zeroed tails are not
            # logs), as the overhead section's *log* column counts it.
            written, on_disk = log_sizes(log_dir)
            files = dir_sizes(log_dir)[2]
            merges = []
            for _ in range(repeats):
                report = bench.fresh_dir("scale-report")
                # Everything the API's finalize() does: merge, analyse,
                # symbolize, write the JSON report and the text summary.
                merges.append(bench.run([bench.bin("memscope-merge"), log_dir, "-o", report,
                                         "-q", "--symbol-cache",
                                         bench.fresh_dir("scale-symbol-cache")],
                                        bench.env(), peak_rss=True))
            report_bytes = dir_sizes(report)[0]
            plain_rss = statistics.median(r["maxrss"] for r in plain)
            rec_rss = statistics.median(r["maxrss"] for r in recorded)
            rows.append({
                "threads": threads, "mode": mode, "options": options,
                "command": sh_command({"MEMSCOPE_OUT": "logs", "MEMSCOPE_OPTIONS": options}
                                      if options else {"MEMSCOPE_OUT": "logs"},
                                      [bench.bin("advanced-memscope")] + args),
                "log_bytes": written, "log_bytes_on_disk": on_disk, "log_files": files,
                "report_bytes": report_bytes,
                "merge_seconds": statistics.median(m["wall"] for m in merges),
                "merge_peak_rss": statistics.median(m["maxrss"] for m in merges),
                "plain_wall": statistics.median(r["wall"] for r in plain),
                "recorded_wall": statistics.median(r["wall"] for r in recorded),
                "plain_peak_rss": plain_rss, "recorded_peak_rss": rec_rss,
                "memory_per_thread": (rec_rss - plain_rss) / threads,
                "fixed_memory": fixed[mode],
                # An upper bound: the fixed memory is charged to the threads.
                "memory_per_live_thread": (rec_rss - plain_rss) / max(files, 1),
            })
            shutil.rmtree(log_dir, ignore_errors=True)
            progress(f"scale: {threads} threads, {mode}: logs {written / 1e6:.2f} MB, "
                     f"merge {rows[-1]['merge_seconds']:.3f} s")
    # The marginal cost of one more thread: the slope of the RSS difference
    # between the smallest and the largest thread count, which cancels the
    # fixed costs (the live table, the runtime's own pages).
    for mode, _ in modes:
        mine = [r for r in rows if r["mode"] == mode]
        low, high = mine[0], mine[-1]
        slope = ((high["recorded_peak_rss"] - high["plain_peak_rss"])
                 - (low["recorded_peak_rss"] - low["plain_peak_rss"])) \
            / (high["threads"] - low["threads"])
        for r in mine:
            r["marginal_memory_per_thread"] = slope
    return {"iterations": int(iterations), "repeats": repeats, "rows": rows}


def target_rows(sc):
    """(target, bound, measured, met) at the largest thread count."""
    rows = []
    top = max(r["threads"] for r in sc["rows"])
    for r in [r for r in sc["rows"] if r["threads"] == top]:
        rows.append((f"{top} threads, {r['mode']}: merge", "≤ 0.2 s",
                     f"{r['merge_seconds']:.3f} s",
                     r["merge_seconds"] <= TARGETS["merge_500_seconds"]))
        rows.append((f"{top} threads, {r['mode']}: logs", "≤ 1 MB",
                     f"{r['log_bytes'] / 1e6:.3f} MB",
                     r["log_bytes"] <= TARGETS["logs_500_bytes"]))
        rows.append((f"{top} threads, {r['mode']}: runtime memory per live thread",
                     "≤ 256 KiB",
                     f"{r['memory_per_live_thread'] / KIB:.0f} KiB ({r['log_files']} "
                     f"live; {r['memory_per_thread'] / KIB:.0f} KiB per thread started)",
                     r["memory_per_live_thread"] <= TARGETS["memory_per_thread_bytes"]))
    return rows


def write(page, sc):
    """The section of the page, after its heading."""
    add = page.add
    add(f"`advanced` with N threads × {sc['iterations']} iterations (a 10,000-element vector "
        "per iteration), sleeps off, built with `-DMEMSCOPE_EXAMPLE_WORKLOAD_ONLY` and "
        "recorded through `MEMSCOPE_OUT`: with the example's own SamplingConfig{0.01, "
        f"1024, 1 MiB}} (`{ADVANCED_OPTIONS}`) and at the default. Medians of "
        f"{sc['repeats']} runs. *Logs*: the bytes of data the log files hold, counted as "
        "the overhead section's *log* is (on disk, with the preallocated tails, in "
        "brackets). *Merge*: `memscope-merge logs -o "
        "report` — reading, analysing, symbolizing, writing analysis.json and the text "
        "summary, all that `finalize()` runs — wall time and peak RSS. *Runtime memory per "
        "thread*: (peak RSS of the recorded run − peak RSS of the plain build) / threads; "
        "*marginal* is the slope of that difference between the smallest and largest "
        "thread counts, which cancels fixed costs such as the live table. Threads that "
        "end give their log slot to the next new thread, so the number of thread log "
        "files is the peak number of threads recording at once (*live*). *Per live "
        "thread* = that difference / live: an upper bound on what each thread recording "
        "at the same time costs, since it also charges the runtime's fixed memory (the "
        "live table, the filter, the main thread's slot; measured below with no worker "
        "threads) to the threads. The target is checked against it. Peak RSS differs by "
        "a few hundred KiB from run to run (glibc's arenas), which is why the marginal "
        "figure can come out near zero or below.")
    add("")
    add("| threads | mode | logs | live (log files) | report | merge | merge peak RSS | "
        "plain run | recorded run | runtime memory/thread | marginal/thread | "
        "per live thread |")
    add("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sc["rows"]:
        add(f"| {r['threads']} | {r['mode']} | {size(r['log_bytes'])} "
            f"[{size(r['log_bytes_on_disk'])}] | {r['log_files']} | "
            f"{size(r['report_bytes'])} | {r['merge_seconds']:.3f} s | "
            f"{r['merge_peak_rss'] / 2**20:.1f} MiB | {r['plain_wall']:.3f} s | "
            f"{r['recorded_wall']:.3f} s | {r['memory_per_thread'] / KIB:.0f} KiB | "
            f"{r['marginal_memory_per_thread'] / KIB:.0f} KiB | "
            f"{r['memory_per_live_thread'] / KIB:.0f} KiB |")
    add("")
    fixed_text = "; ".join(f"{mode}: {size(r['fixed_memory'])}" for mode, r in
                           {r["mode"]: r for r in sc["rows"]}.items())
    add(f"Fixed memory (no worker threads): {fixed_text}.")
    add("")
    add("The design page claimed, for 500 threads, 1.1 s to export and 0.8 s to analyse, "
        "4.8 MB of files and under 1 MB per thread.")
    add("")
