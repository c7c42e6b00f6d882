"""The disk section: what a service's logs take per GB allocated, projected to
issue #18's service, and runs under max_log_size; its targets and its part
of the page."""
import shutil

from .common import KIB, progress, sh_command, size
from .merges import log_sizes
from .scale import dir_sizes


# Issue #18's service: 500 MB/s of allocation for 10 minutes at the default
# setting, in at most 64 MB of logs.
SERVICE_RATE = 500e6
SERVICE_SECONDS = 600
SERVICE_LOG_BOUND = 64e6


def option_bytes(options, key):
    """The value of MEMSCOPE_OPTIONS' key in bytes (K, M, G suffixes, as the
    runtime reads them), or None when not given."""
    for item in options.split(":"):
        name, _, value = item.partition("=")
        if name == key:
            scale = {"k": KIB, "m": KIB ** 2, "g": KIB ** 3}.get(value[-1:].lower(), 1)
            return int(value[:-1] if scale > 1 else value) * scale
    return None


def disk(bench, quick):
    """bench/service-load.cpp (4 workers, a steady live set) at the default
    setting, in exact mode, and under small caps that the run reaches: bytes
    on disk per byte allocated, projected to the service of issue #18, and
    what the cap does (levels, accuracy of the sites' bytes)."""
    rounds = "30000" if quick else "270000"
    variants = [("default", ""), ("exact", "exact=1"),
                ("default, max_log_size=256K", "max_log_size=256K"),
                ("exact, max_log_size=4M", "exact=1:max_log_size=4M")]
    rows = []
    for name, options in variants:
        log_dir = bench.fresh_dir("disk-logs")
        args = [bench.bin("service-load-memscope"), "4", rounds]
        env = bench.env(out=log_dir, options=options or None)
        run = bench.run(args, env)
        # The data the files hold, as the overhead section counts it, and
        # what they take on disk (the projections' measure).
        written, on_disk = log_sizes(log_dir)
        files = dir_sizes(log_dir)[2]
        analysis = bench.merge(log_dir, log_dir + "-report")
        summary = analysis["summary"]
        process = analysis["processes"][0]
        limit = process.get("log_limit")
        allocated = summary["total_bytes"]
        estimated = sum(site["bytes"] for site in analysis["sites"])
        per_byte = on_disk / allocated if allocated else 0
        rows.append({
            "variant": name, "options": options,
            "command": sh_command({"MEMSCOPE_OUT": "logs", "MEMSCOPE_OPTIONS": options}
                                  if options else {"MEMSCOPE_OUT": "logs"},
                                  [bench.bin("service-load-memscope"), "4", rounds]),
            "wall": run["wall"], "allocated_bytes": allocated,
            "allocations": summary["total_allocations"], "samples": summary["samples"],
            "log_bytes": written, "log_bytes_on_disk": on_disk, "log_files": files,
            "disk_per_gb": per_byte * 1e9,
            "service_10min_bytes": per_byte * SERVICE_RATE * SERVICE_SECONDS,
            "service_hour_bytes": per_byte * SERVICE_RATE * 3600,
            "levels": max((s["level"] for s in limit["steps"]), default=0) if limit else 0,
            "full": bool(limit and any(s["full"] for s in limit["steps"])),
            "first_level_seconds": limit["steps"][0]["time_ns"] / 1e9 if limit else None,
            "sites_bytes_ratio": estimated / allocated if allocated else None,
            "max_log_size": option_bytes(options, "max_log_size"),
        })
        shutil.rmtree(log_dir, ignore_errors=True)
        shutil.rmtree(log_dir + "-report", ignore_errors=True)
        progress(f"disk: {name}: {size(allocated)} allocated, logs {size(on_disk)} on disk")
    return {"rounds": int(rounds), "rows": rows}


def target_rows(dk):
    """(target, bound, measured, met) of the service's projected logs and the capped runs."""
    rows = []
    by = {r["variant"]: r for r in dk["rows"]}
    if "default" in by:
        r = by["default"]
        rows.append(("A service at 500 MB/s for 10 minutes, default setting: logs",
                     "≤ 64 MB", f"{r['service_10min_bytes'] / 1e6:.1f} MB (projected "
                     f"from {size(r['allocated_bytes'])} allocated)",
                     r["service_10min_bytes"] <= SERVICE_LOG_BOUND))
    for r in dk["rows"]:
        if r["max_log_size"]:
            rows.append((f"service-load, {r['variant']}: logs on disk", "≤ the cap",
                         f"{size(r['log_bytes_on_disk'])} of {size(r['max_log_size'])}",
                         r["log_bytes_on_disk"] <= r["max_log_size"]))
    return rows


def write(page, dk):
    """The section of the page, after its heading."""
    add = page.add
    add(f"`bench/service-load.cpp`: 4 workers × {dk['rounds']:,} requests of eight "
        "allocations (16 B to 4 KiB, eight sites), each replacing a random block of a "
        "steady live set of 4,096 blocks per worker, as fast as the machine allows. "
        "*Logs*: the data the log files hold, as the overhead section's *log*; *on "
        "disk*, in brackets: the files with the windows' preallocated "
        "tails (what `du` shows). *Per GB*: on disk per GB allocated; the projections "
        "scale it to issue #18's service (500 MB/s of allocation) for 10 minutes and for "
        "an hour, which overstates them a little (the per-thread windows and the "
        "process's records are fixed costs, not per byte). Under a cap the logs stop "
        "growing, whatever the duration: *levels* is how far the sampling was thinned "
        "(each level doubles the interval; docs/analysis-schema.md, \"Bounded logs\"), "
        "*sites/total* the sum of the sites' estimated bytes over the counted total "
        "(1 when unbiased; one run).")
    add("")
    add("| variant | allocated | wall | logs [on disk] | per GB | 500 MB/s, 10 min | "
        "500 MB/s, 1 hour | samples | levels (first at) | sites/total |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in dk["rows"]:
        capped = r["max_log_size"] is not None
        projection = (f"≤ {size(r['max_log_size'])} (cap)" if capped else
                      size(r["service_10min_bytes"]))
        hour = (f"≤ {size(r['max_log_size'])} (cap)" if capped else
                size(r["service_hour_bytes"]))
        levels = (f"{r['levels']}{' (full)' if r['full'] else ''} "
                  f"({r['first_level_seconds']:.2f} s)" if r["levels"] else "–")
        ratio_text = ("–" if r["sites_bytes_ratio"] is None
                      else f"{r['sites_bytes_ratio']:.3f}")
        add(f"| {r['variant']} | {size(r['allocated_bytes'])} | {r['wall']:.2f} s | "
            f"{size(r['log_bytes'])} [{size(r['log_bytes_on_disk'])}] | "
            f"{size(r['disk_per_gb'])} | {projection} | {hour} | {r['samples']:,} | "
            f"{levels} | {ratio_text} |")
    add("")
    add("Commands: " + "; ".join(f"`{r['command']}`" for r in dk["rows"]) + ".")
    add("")
