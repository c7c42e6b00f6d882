#!/usr/bin/env python3
"""Memscope benchmark suite: overhead (with log sizes and merge times),
accuracy, sampling curve, scale, fast paths and the stack walk, written to
docs/performance.md and bench/results.json.

    python3 bench/run_bench.py --build build          # full run, ~10 min on 2 cores
    python3 bench/run_bench.py --build build --quick  # smoke run, ~1 min
    python3 bench/run_bench.py --from-results bench/results.json \
        --out docs/performance.md                     # the page again, no runs

Each section is a module of bench/suite/ (overhead.py, accuracy.py, ...)
holding its measurement, its targets and its part of the page; harness.py
runs the programs, page.py writes the page, targets.py computes the targets.

The full run writes docs/performance.md, docs/images/perf-sampling-curve.svg
and bench/results.json. --quick and --only write into <build>/bench-results/
unless --out is given, so a smoke run never replaces the committed page.
--from-results measures nothing: it writes the page (with the targets
computed anew) from a results.json that a run wrote, the way that run wrote
it; test/report/performance-page.test checks that docs/performance.md is
bench/results.json's page.

Every number in the page is computed from this script's measurements; the
targets are the ones of issue #7 and whether each is met is computed too.

A section (or a workload of the overhead, or one callgrind count, or the log
measurement and merge of one variant) that fails is marked FAILED with the
reason in the page and in the JSON ({"failed": reason}, or "merge_failed" in
the variant's row); everything else is still measured and written, and the
exit status is then 1. Callgrind runs copies of the programs and of the
runtime without debug info (valgrind 3.19 cannot read clang 19's DWARF 5).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from suite import (accuracy, collector, curve, disk, fastpath,  # noqa: E402
                   overhead, scale, stackwalk)
from suite.common import (ROOT, SECTIONS, STARTED, TARGETS, BenchError,  # noqa: E402
                          failed, failure_text, headline, progress)
from suite.harness import Bench, machine_info  # noqa: E402
from suite.page import render  # noqa: E402
from suite.targets import failures, targets  # noqa: E402
from suite.workloads import workloads  # noqa: E402

IMAGE = "images/perf-sampling-curve.svg"  # relative to the page


def from_results(args):
    """--from-results: the page of a run's results.json, measuring nothing."""
    try:
        with open(args.from_results) as f:
            results = json.load(f)
        results["targets"] = targets(results)
        page = render(results, results["command"], IMAGE)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        # A file that is not a run's results.json (or a section's results
        # missing what its part of the page shows): said, not a traceback.
        detail = f"no {error}" if isinstance(error, KeyError) else str(error)
        sys.exit(f"run_bench: cannot read {args.from_results} as the results of a run: "
                 f"{detail}")
    out = os.path.abspath(args.out) if args.out else os.path.join(
        os.path.dirname(os.path.abspath(args.from_results)), "performance.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(page + "\n")
    progress(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"),
                        help="the build directory (default: build)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this section (repeatable)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds for wall times "
                        "(default 7, quick 3)")
    parser.add_argument("--accuracy-runs", type=int, help="seeds per accuracy workload "
                        "(default 10, quick 3)")
    parser.add_argument("--curve-runs", type=int, help="seeds per interval of the sampling "
                        "curve (default 5, quick 2)")
    parser.add_argument("--out", help="the page (default docs/performance.md; with --quick or "
                        "--only, <build>/bench-results/performance.md)")
    parser.add_argument("--json", help="the raw results (default bench/results.json, next to "
                        "--out otherwise)")
    parser.add_argument("--no-plot", action="store_true", help="skip the matplotlib plot")
    parser.add_argument("--from-results", metavar="RESULTS_JSON",
                        help="measure nothing: write the page of this results.json (to --out, "
                        "default performance.md next to it)")
    args = parser.parse_args()
    if args.from_results:
        return from_results(args)

    build = os.path.abspath(args.build)
    sections = args.only or list(SECTIONS)
    rounds = args.rounds or (3 if args.quick else 7)
    acc_runs = args.accuracy_runs or (3 if args.quick else 30)
    curve_runs = args.curve_runs or (2 if args.quick else 5)
    if rounds < 1 or acc_runs < 1 or curve_runs < 1:
        sys.exit("run_bench: --rounds, --accuracy-runs and --curve-runs must be at least 1")
    if not args.quick and (rounds < 5 or acc_runs < 30):
        print("run_bench: warning: issues #7 and #14 ask for at least 5 rounds and 30 "
              "accuracy seeds",
              file=sys.stderr)
    official = not args.quick and not args.only
    if args.out:
        out = os.path.abspath(args.out)
    elif official:
        out = os.path.join(ROOT, "docs", "performance.md")
    else:
        out = os.path.join(build, "bench-results", "performance.md")
    if args.json:
        json_path = os.path.abspath(args.json)
    elif official and not args.out:
        json_path = os.path.join(ROOT, "bench", "results.json")
    else:
        json_path = os.path.join(os.path.dirname(out), "results.json")
    image = os.path.join(os.path.dirname(out), IMAGE)

    needed = ["memscope-merge", "memscope-clang++"]
    if "overhead" in sections:
        needed += [f"{p}-{v}" for p, _, _ in workloads(args.quick).values()
                   for v in ("plain", "memscope")] + ["churn-rtonly"]
        needed_tools = ["valgrind", "objcopy"]
    else:
        needed_tools = ["objcopy", "valgrind"] if "curve" in sections else []
    if "accuracy" in sections:
        needed += [f"{p}-memscope" for p, _ in accuracy.accuracy_workloads(args.quick).values()]
    if "curve" in sections:
        needed += ["churn-plain", "churn-memscope"]
    if "scale" in sections:
        needed += ["advanced-plain", "advanced-memscope", "peak-rss"]
    if "disk" in sections:
        needed.append("service-load-memscope")
    if "fastpath" in sections:
        needed += ["fastpath-plain", "fastpath-memscope"]
    if "stackwalk" in sections:
        needed.append("stack-walk")
    if "collector" in sections:
        needed.append("collector-cost")
    for program in needed:
        if not os.access(os.path.join(build, "bin", program), os.X_OK):
            sys.exit(f"run_bench: {os.path.join(build, 'bin', program)} is missing; build "
                     f"first: cmake --build {build}")
    for tool in needed_tools:
        if not shutil.which(tool):
            sys.exit(f"run_bench: `{tool}` is not on PATH (Debian: apt-get install "
                     f"{'valgrind' if tool == 'valgrind' else 'binutils'})")

    command = f"python3 bench/run_bench.py --build {os.path.relpath(build, ROOT)}" + \
        (" --quick" if args.quick else "")
    results = {"command": command, "quick": args.quick, "sections": sections,
               "targets_definition": TARGETS}

    def curve_section(bench):
        cv = curve.curve(bench, args.quick, rounds, curve_runs)
        # The runtime's default interval, as the analysis reports it.
        probe = accuracy.record(bench, "churn", ["1", "1000"], "", "probe")
        cv["current_default"] = probe["summary"]["sampling"]["interval_bytes"]
        chosen = curve.choose_default(cv["points"])
        cv["supported_default"] = chosen["interval"] if chosen else None
        return cv

    measures = {
        "overhead": lambda bench: overhead.overhead(bench, rounds, args.quick),
        "accuracy": lambda bench: accuracy.accuracy(bench, acc_runs, args.quick),
        "curve": curve_section,
        "scale": lambda bench: scale.scale(bench, args.quick, 2 if args.quick else 3),
        "disk": lambda bench: disk.disk(bench, args.quick),
        "fastpath": lambda bench: fastpath.fastpath(bench, args.quick),
        "stackwalk": lambda bench: stackwalk.stackwalk(bench, args.quick),
        "collector": lambda bench: collector.collector_cost(bench, args.quick),
    }
    with tempfile.TemporaryDirectory(prefix="memscope-bench-") as scratch:
        bench = Bench(build, scratch)
        results["machine"] = machine_info(bench)
        progress(f"machine: {results['machine']['cpu']}, load "
                 f"{results['machine']['load_average_at_start'][0]:.2f}; sections: "
                 f"{', '.join(sections)}")
        for section in SECTIONS:
            if section not in sections:
                continue
            # A section that fails is recorded as failed; the others still
            # run, and everything measured is written.
            try:
                results[section] = measures[section](bench)
            except Exception as error:  # any failure: this section only
                if not isinstance(error, (BenchError, subprocess.SubprocessError)):
                    traceback.print_exc()
                results[section] = {"failed": failure_text(error)}
                progress(f"{section}: FAILED: {headline(results[section]['failed'])}")
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["duration_seconds"] = time.monotonic() - STARTED

    os.makedirs(os.path.dirname(out), exist_ok=True)
    plotted = "curve" in results and not failed(results["curve"]) and not args.no_plot
    if plotted:
        try:
            os.makedirs(os.path.dirname(image), exist_ok=True)
            curve.plot(results["curve"], image)
        except Exception as error:  # the page and the numbers are still written
            results["curve"]["plot_failed"] = failure_text(error)
            progress(f"curve: plot FAILED: {headline(results['curve']['plot_failed'])}")
            plotted = False
    results["targets"] = targets(results)
    # The numbers first: they are written even if the page cannot be.
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    page = render(results, command, IMAGE)
    with open(out, "w") as f:
        f.write(page + "\n")
    progress(f"wrote {out} and {json_path}" + (f" and {image}" if plotted else ""))
    for row in results["targets"]:
        state = "NOT MEASURED" if row["met"] is None else "MET" if row["met"] else "NOT MET"
        print(f"{state:12s}  {row['target']}: {row['measured']} (target {row['bound']})")
    failed_parts = failures(results)
    if failed_parts:
        for what, reason in failed_parts:
            print(f"run_bench: FAILED: {what}: {headline(reason)}", file=sys.stderr)
        sys.exit(f"run_bench: {len(failed_parts)} part(s) failed; the rest is written to "
                 f"{out} and {json_path}")


if __name__ == "__main__":
    main()
