#!/usr/bin/env python3
"""Memscope benchmark suite: overhead and accuracy, written to docs/performance.md.

    python3 bench/run_bench.py --build build            # full run (~10 min)
    python3 bench/run_bench.py --build build --quick    # smoke run (~1 min)

Overhead: each workload runs as a plain build, as an instrumented build at the
default setting, at the design page's SamplingConfig{0.01, 1024} and in exact
mode, and under heaptrack when it is installed. Runs are interleaved (one of
each variant per round) and the report gives medians and ratios to the plain
build, for wall time and for CPU time (user + system).

Accuracy: the churn workload is deterministic (fixed per-thread random seeds),
so one exact-mode run gives the true bytes and counts of every site. Several
default-mode runs are compared with it, site by site, for every site with at
least 1% of all bytes.

Every number in the generated page comes from this script's measurements.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_timed(command, env=None):
    """Runs command; returns (wall seconds, cpu seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"run_bench: {' '.join(command)} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def merge(build, log_dir, out_dir):
    subprocess.run([os.path.join(build, "bin", "memscope-merge"), log_dir, "-o", out_dir,
                    "--format=json", "--no-symbolize", "-q"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out_dir, "analysis.json")) as f:
        return json.load(f)


def machine_info(build):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    clang = subprocess.run([os.path.join(build, "bin", "memscope-clang++"), "--version"],
                           capture_output=True, text=True).stdout.splitlines()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "compiler": clang[0] if clang else "unknown",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def overhead(build, workloads, rounds, scratch):
    heaptrack = shutil.which("heaptrack")
    # (name, MEMSCOPE_OPTIONS or None for the plain build, tool). The two
    # "not recording" variants split the default's cost into its parts.
    variants = [
        ("plain", None, None),
        ("runtime linked, not instrumented", None, "rtonly"),
        ("instrumented, not recording", None, "off"),
        ("memscope default", "", None),
        ("memscope rate=0.01,min=1024", "sample_rate=0.01:min_allocation_size=1024", None),
        ("memscope exact", "exact=1", None),
    ]
    if heaptrack:
        variants.append(("heaptrack", None, heaptrack))
    results = {}
    for name, (plain, instrumented, args) in workloads.items():
        samples = {v[0]: {"wall": [], "cpu": []} for v in variants}
        for round_index in range(rounds):
            for variant, options, tool in variants:
                env = dict(os.environ)
                env.pop("MEMSCOPE_OUT", None)
                env.pop("MEMSCOPE_OPTIONS", None)
                if tool == "rtonly":
                    command = [plain.replace("-plain", "-rtonly")] + args
                elif tool == "off":
                    command = [instrumented] + args
                elif tool:
                    out = os.path.join(scratch, f"ht-{round_index}")
                    command = [tool, "-o", out, plain] + args
                elif options is None:
                    command = [plain] + args
                else:
                    log_dir = os.path.join(scratch, "logs")
                    shutil.rmtree(log_dir, ignore_errors=True)
                    env["MEMSCOPE_OUT"] = log_dir
                    env["MEMSCOPE_OPTIONS"] = options
                    command = [instrumented] + args
                wall, cpu = run_timed(command, env)
                samples[variant]["wall"].append(wall)
                samples[variant]["cpu"].append(cpu)
                for leftover in os.listdir(scratch):
                    if leftover.startswith("ht-"):
                        os.remove(os.path.join(scratch, leftover))
            print(f"  {name}: round {round_index + 1}/{rounds} done", file=sys.stderr)
        base_wall = statistics.median(samples["plain"]["wall"])
        base_cpu = statistics.median(samples["plain"]["cpu"])
        rows = []
        for variant, _, _ in variants:
            wall = statistics.median(samples[variant]["wall"])
            cpu = statistics.median(samples[variant]["cpu"])
            rows.append({"variant": variant, "wall": wall, "cpu": cpu,
                         "wall_ratio": wall / base_wall, "cpu_ratio": cpu / base_cpu,
                         "runs": samples[variant]})
        results[name] = {"args": args, "rows": rows}
    return results


def site_key(site):
    if site["kind"] == "indirect":
        return ("indirect", site["file"], site["line"], site["function"])
    return ("site", site["id"])


def accuracy(build, runs, args, scratch):
    program = os.path.join(build, "bin", "churn-memscope")
    env = dict(os.environ)

    def record(options, tag):
        log_dir = os.path.join(scratch, f"acc-{tag}")
        shutil.rmtree(log_dir, ignore_errors=True)
        env["MEMSCOPE_OUT"] = log_dir
        env["MEMSCOPE_OPTIONS"] = options
        subprocess.run([program] + args, env=env, check=True, stdout=subprocess.DEVNULL)
        analysis = merge(build, log_dir, log_dir + "-report")
        shutil.rmtree(log_dir, ignore_errors=True)
        shutil.rmtree(log_dir + "-report", ignore_errors=True)
        return analysis

    exact = record("exact=1", "exact")
    total = exact["summary"]["total_bytes"]
    truth = {site_key(s): s for s in exact["sites"] if s["bytes"] >= 0.01 * total}
    errors_bytes, errors_count, totals, peaks = [], [], [], []
    per_site = {key: [] for key in truth}
    for run in range(runs):
        estimate = record("", f"default-{run}")
        sites = {site_key(s): s for s in estimate["sites"]}
        for key, true_site in truth.items():
            est = sites.get(key, {"bytes": 0, "allocations": 0})
            eb = (est["bytes"] - true_site["bytes"]) / true_site["bytes"]
            ec = (est["allocations"] - true_site["allocations"]) / true_site["allocations"]
            errors_bytes.append(eb)
            errors_count.append(ec)
            per_site[key].append(eb)
        totals.append((estimate["summary"]["total_bytes"] - total) / total)
        peaks.append((estimate["summary"]["peak_live_bytes"] - exact["summary"]["peak_live_bytes"])
                     / exact["summary"]["peak_live_bytes"])
        print(f"  accuracy: run {run + 1}/{runs} done", file=sys.stderr)

    def within(errors, bound):
        return sum(1 for e in errors if abs(e) <= bound) / len(errors)

    describe = []
    for key, true_site in truth.items():
        errs = per_site[key]
        describe.append({
            "site": f"{os.path.basename(true_site['file'])}:{true_site['line']} ({true_site['kind']})",
            "share": true_site["bytes"] / total,
            "mean_abs_error": statistics.mean(abs(e) for e in errs),
            "worst_error": max(errs, key=abs),
        })
    return {
        "args": args,
        "runs": runs,
        "total_bytes": total,
        "total_allocations": exact["summary"]["total_allocations"],
        "sites": len(truth),
        "bytes_mean_abs_error": statistics.mean(abs(e) for e in errors_bytes),
        "count_mean_abs_error": statistics.mean(abs(e) for e in errors_count),
        "bytes_within_5": within(errors_bytes, 0.05),
        "bytes_within_10": within(errors_bytes, 0.10),
        "count_within_5": within(errors_count, 0.05),
        "total_bytes_mean_abs_error": statistics.mean(abs(e) for e in totals),
        "total_bytes_worst_error": max(totals, key=abs),
        "peak_mean_abs_error": statistics.mean(abs(e) for e in peaks),
        "per_site": describe,
    }


def fastpath(build, scratch):
    """ns per operation of the fast paths, plain and instrumented (recording)."""
    results = {}
    for variant in ("plain", "memscope"):
        env = dict(os.environ)
        env.pop("MEMSCOPE_OPTIONS", None)
        log_dir = os.path.join(scratch, "fastpath-logs")
        shutil.rmtree(log_dir, ignore_errors=True)
        if variant == "memscope":
            env["MEMSCOPE_OUT"] = log_dir
        else:
            env.pop("MEMSCOPE_OUT", None)
        out = subprocess.run([os.path.join(build, "bin", f"fastpath-{variant}"),
                              "--benchmark_format=json", "--benchmark_repetitions=5",
                              "--benchmark_report_aggregates_only=true"],
                             env=env, capture_output=True, text=True, check=True)
        for bench in json.loads(out.stdout)["benchmarks"]:
            if bench.get("aggregate_name") == "median":
                results.setdefault(bench["run_name"], {})[variant] = bench["real_time"]
    return results


def collector_cost(build):
    result = subprocess.run([os.path.join(build, "bin", "collector-cost"), "2"],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def percent(x):
    return f"{x * 100:.1f}%"


def render(info, command, over, acc, collector, fast):
    lines = []
    add = lines.append
    add("# Memscope performance")
    add("")
    add("<!-- Generated by bench/run_bench.py; do not edit by hand. -->")
    add("")
    add(f"Measured {info['date']} on {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, "
        f"{info['compiler']}.")
    add("")
    add("Reproduce with:")
    add("")
    add("```sh")
    add(command)
    add("```")
    add("")
    add("## Overhead")
    add("")
    add("Median of interleaved runs (one run of every variant per round). Ratios are to the plain "
        "build of the same source with the same clang. CPU is user + system time of the process "
        "tree. The instruction counters are not available on this virtual machine "
        "(`perf stat -e instructions` reports `<not supported>`), so CPU time stands in for them.")
    add("")
    add("Variants: *plain* is the uninstrumented build; *runtime linked, not instrumented* is the "
        "plain build linked with libmemscope_rt (the malloc interposers, not recording); "
        "*instrumented, not recording* is the memscope build without `MEMSCOPE_OUT` (inline "
        "checks and interposers); *memscope default* records with the defaults; the next two "
        "record with the design page's `SamplingConfig{0.01, 1024}` and in exact mode.")
    add("")
    for name, data in over.items():
        runs = len(data["rows"][0]["runs"]["wall"])
        add(f"### {name} (`{' '.join(data['args'])}`, {runs} rounds)")
        add("")
        add("| variant | wall (s) | wall ratio | CPU (s) | CPU ratio |")
        add("|---|---:|---:|---:|---:|")
        for row in data["rows"]:
            add(f"| {row['variant']} | {row['wall']:.3f} | {row['wall_ratio']:.3f} | "
                f"{row['cpu']:.3f} | {row['cpu_ratio']:.3f} |")
        add("")
    add("### Fast paths (Google Benchmark, `bench/fastpath.cpp`)")
    add("")
    add("Median of 5 repetitions, nanoseconds per operation, recording on at the default setting "
        "(a block of 32 or 512 bytes is sampled once per 16,384 or 1,024 allocations on average).")
    add("")
    add("| benchmark | plain (ns) | memscope (ns) | added (ns) |")
    add("|---|---:|---:|---:|")
    for name, times in fast.items():
        add(f"| {name} | {times['plain']:.2f} | {times['memscope']:.2f} | "
            f"{times['memscope'] - times['plain']:.2f} |")
    add("")
    add("`BM_Free` frees blocks allocated outside the timed loop: the cost of a free of a "
        "non-sampled pointer (the inline live-filter check, the interposer's check and its jump "
        "to glibc).")
    add("")
    add("## Accuracy of the default setting")
    add("")
    add(f"`churn {' '.join(acc['args'])}` allocates {acc['total_allocations']:,} blocks, "
        f"{acc['total_bytes'] / 1e9:.2f} GB. Exact mode gives the truth; {acc['runs']} default-mode "
        f"runs (byte sampling, mean interval 512 KiB) are compared with it for the "
        f"{acc['sites']} sites holding at least 1% of all bytes.")
    add("")
    add("| measure | value |")
    add("|---|---:|")
    add(f"| mean absolute error, bytes per site | {percent(acc['bytes_mean_abs_error'])} |")
    add(f"| mean absolute error, allocations per site | {percent(acc['count_mean_abs_error'])} |")
    add(f"| site estimates within ±5% (bytes) | {percent(acc['bytes_within_5'])} |")
    add(f"| site estimates within ±10% (bytes) | {percent(acc['bytes_within_10'])} |")
    add(f"| site estimates within ±5% (allocations) | {percent(acc['count_within_5'])} |")
    add(f"| total bytes, mean absolute error | {percent(acc['total_bytes_mean_abs_error'])} |")
    add(f"| total bytes, worst error | {percent(acc['total_bytes_worst_error'])} |")
    add(f"| peak live bytes, mean absolute error | {percent(acc['peak_mean_abs_error'])} |")
    add("")
    add("| site | share of bytes | mean abs. error | worst error |")
    add("|---|---:|---:|---:|")
    for site in sorted(acc["per_site"], key=lambda s: -s["share"]):
        add(f"| {site['site']} | {percent(site['share'])} | {percent(site['mean_abs_error'])} | "
            f"{percent(site['worst_error'])} |")
    add("")
    add("The error of a Poisson byte sample shrinks with the number of samples a site gets: a "
        "site with B bytes at interval T gets about B/T samples and a relative standard error "
        "of about 1/sqrt(B/T). Longer runs are more accurate at the same overhead.")
    add("")
    add("## Resource collector")
    add("")
    add(f"`bench/collector-cost.cpp` idles for 2 s while `PlatformResourceCollector` samples every "
        f"millisecond: {collector['samples']} samples used {collector['cpu_seconds'] * 1000:.1f} ms "
        f"of CPU, **{collector['cpu_us_per_sample']:.1f} µs per sample** (reading /proc/self/stat, "
        f"statm and io, and getrusage). At the default 50 ms interval that is "
        f"{collector['cpu_us_per_sample'] / 50000 * 100:.2f}% of one core.")
    add("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--accuracy-runs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "performance.md"))
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "results.json"))
    args = parser.parse_args()

    build = os.path.abspath(args.build)
    b = lambda name: os.path.join(build, "bin", name)
    for program in ("churn-plain", "churn-rtonly", "churn-memscope", "web-server",
                    "web-server-plain", "web-server-rtonly", "memscope-merge",
                    "collector-cost", "fastpath-plain", "fastpath-memscope"):
        if not os.path.exists(b(program)):
            sys.exit(f"run_bench: {b(program)} is missing; build first: cmake --build {build}")

    if args.quick:
        rounds, acc_runs = 3, 3
        churn_args, web_args, acc_args = ["4", "300000"], ["20", "200", "0"], ["2", "500000"]
    else:
        rounds, acc_runs = args.rounds, args.accuracy_runs
        churn_args, web_args, acc_args = ["4", "2000000"], ["20", "20000", "0"], ["2", "4000000"]

    workloads = {
        "churn": (b("churn-plain"), b("churn-memscope"), churn_args),
        "web server": (b("web-server-plain"), b("web-server"), web_args),
    }
    command = "python3 bench/run_bench.py --build build" + (" --quick" if args.quick else "")
    with tempfile.TemporaryDirectory(prefix="memscope-bench-") as scratch:
        info = machine_info(build)
        over = overhead(build, workloads, rounds, scratch)
        acc = accuracy(build, acc_runs, acc_args, scratch)
        collector = collector_cost(build)
        fast = fastpath(build, scratch)
    page = render(info, command, over, acc, collector, fast)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(page)
    with open(args.json, "w") as f:
        json.dump({"machine": info, "overhead": over, "accuracy": acc,
                   "collector": collector, "fastpath": fast}, f, indent=1)
    print(page)


if __name__ == "__main__":
    main()
