"""The sampling curve: overhead and accuracy against the sampling interval,
the default it supports, and its plot."""
import json
import os
import shutil
import statistics
import subprocess
import sys

from .accuracy import accuracy_workloads, compare, record, truth_of
from .common import (KIB, ROOT, TARGETS, BenchError, paired_ratio, percent, progress,
                     verdict)
from .workloads import workloads


def curve(bench, quick, rounds, runs):
    intervals = [64 * KIB, 512 * KIB, 2048 * KIB] if quick else \
        [32 * KIB, 64 * KIB, 128 * KIB, 256 * KIB, 512 * KIB, 1024 * KIB, 2048 * KIB]
    program, args, cg_args = workloads(quick)["churn"]
    acc_program, acc_args = accuracy_workloads(quick)["churn"]
    options = {i: f"sample_interval={i}" for i in intervals}
    walls = {i: [] for i in intervals}
    plain_walls = []
    for round_index in range(rounds):
        plain_walls.append(bench.run([bench.bin(f"{program}-plain")] + args, bench.env())["wall"])
        for interval in intervals:
            log_dir = bench.fresh_dir("logs")
            walls[interval].append(bench.run([bench.bin(f"{program}-memscope")] + args,
                                             bench.env(out=log_dir,
                                                       options=options[interval]))["wall"])
            shutil.rmtree(log_dir, ignore_errors=True)
        progress(f"curve: wall round {round_index + 1}/{rounds}")
    plain_ir = bench.instructions([bench.bin(f"{program}-plain")] + cg_args, bench.env())
    # The instrumented build without recording: the inline checks and the
    # interposers, which every interval pays alike.
    off_ir = bench.instructions([bench.bin(f"{program}-memscope")] + cg_args, bench.env())
    truth = truth_of(bench, acc_program, acc_args)
    points = []
    for interval in intervals:
        log_dir = bench.fresh_dir("logs")
        ir = bench.instructions([bench.bin(f"{program}-memscope")] + cg_args,
                                bench.env(out=log_dir, options=options[interval] + ":seed=1"))
        shutil.rmtree(log_dir, ignore_errors=True)
        estimates = [record(bench, acc_program, acc_args, f"{options[interval]}:seed={r + 1}",
                            f"curve-{r}") for r in range(runs)]
        point = compare(truth, estimates)
        point.pop("per_site")
        point.update({
            "interval": interval,
            "wall_ratio": paired_ratio(walls[interval], plain_walls),
            "instructions_ratio": ir / plain_ir, "instructions": ir,
            "sampling_instructions": (ir - off_ir) / plain_ir,
            "samples_per_run": statistics.mean(e["summary"]["samples"] for e in estimates),
        })
        points.append(point)
        progress(f"curve: {interval // KIB} KiB done")
    return {"workload": f"churn {' '.join(args)}",
            "callgrind_workload": f"churn {' '.join(cg_args)}",
            "accuracy_workload": f"churn {' '.join(acc_args)}",
            "rounds": rounds, "runs": runs, "points": points,
            "not_recording_instructions_ratio": off_ir / plain_ir,
            "targets": {"wall": TARGETS["churn_wall"],
                        "instructions": TARGETS["churn_instructions"]}}


# The most the sampling itself may add to the churn, as a share of the plain
# build's instructions, at the default interval.
def choose_default(points):
    """The smallest interval (the most accurate) at which the churn stays
    within TARGETS["churn_instructions"] of the plain build's instructions and
    accuracy meets the targets; None when no interval does. Instructions
    decide; the wall ratio at that interval is reported against
    TARGETS["churn_wall"] beside it (wall ratios within a few percent are
    below this machine's run-to-run noise)."""
    meeting = [p for p in points if p["instructions_ratio"] <= TARGETS["churn_instructions"]
               and p["bytes_within_5"] >= TARGETS["sites_within_5"]
               and abs(p["total_bytes_worst_error"]) <= TARGETS["total_bytes_error"]]
    return min(meeting, key=lambda p: p["interval"]) if meeting else None


def plot(curve_result, path):
    """Runs bench/plot_curve.py under an interpreter that has matplotlib."""
    candidates = [sys.executable, "/usr/bin/python3", shutil.which("python3")]
    for python in [c for c in candidates if c]:
        if subprocess.run([python, "-c", "import matplotlib"], capture_output=True).returncode:
            continue
        data = os.path.join(os.path.dirname(path), ".curve.json")
        with open(data, "w") as f:
            json.dump(curve_result, f)
        try:
            subprocess.run([python, os.path.join(ROOT, "bench", "plot_curve.py"), data, path],
                           check=True)
        finally:
            os.remove(data)
        return
    raise BenchError("no Python with matplotlib for the sampling curve plot "
                     "(install python3-matplotlib, or pass --no-plot)")


def write(page, cv):
    """The section of the page, after its heading."""
    add, failure, image = page.add, page.failure, page.image
    if cv.get("plot_failed"):
        add("The plot **FAILED**:")
        add("")
        failure(cv["plot_failed"])
    else:
        add(f"![overhead and accuracy against the sampling interval]({image})")
        add("")
    add(f"Overhead: `{cv['workload']}`, wall ratio the median of {cv['rounds']} interleaved "
        f"rounds' ratios to the plain run of the round; instructions of `{cv['callgrind_workload']}` under callgrind. Accuracy: "
        f"`{cv['accuracy_workload']}`, {cv['runs']} seeds per interval against one exact "
        "run. `MEMSCOPE_OPTIONS=sample_interval=N`.")
    add("")
    add("| interval | wall ratio | instr. ratio | sampling's share | samples/run | "
        "bytes MAE/site | within ±5% | allocations MAE/site | total bytes worst | "
        "peak MAE |")
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in cv["points"]:
        add(f"| {p['interval'] // KIB} KiB | {p['wall_ratio']:.3f} | "
            f"{p['instructions_ratio']:.3f} | {percent(p['sampling_instructions'])} | "
            f"{p['samples_per_run']:,.0f} | "
            f"{percent(p['bytes_mean_abs_error'])} | {percent(p['bytes_within_5'])} | "
            f"{percent(p['count_mean_abs_error'])} | "
            f"{percent(p['total_bytes_worst_error'])} | {percent(p['peak_mean_abs_error'])} |")
    add("")
    add(f"*Sampling's share* is what recording adds beyond the instrumented build that "
        f"does not record (instruction ratio {cv['not_recording_instructions_ratio']:.3f}: "
        "the inline countdown and live-filter checks and the interposers), as a share of "
        "the plain build's instructions: the part of the overhead the interval controls.")
    add("")
    chosen = cv["supported_default"]
    current = cv["current_default"]
    rule = (f"the churn stays within {TARGETS['churn_instructions']}x the plain build's "
            f"instructions and accuracy meets the targets (≥ {TARGETS['sites_within_5']:.0%} of site estimates within "
            f"±5%, total bytes within ±{TARGETS['total_bytes_error']:.0%})")
    if chosen is None:
        add(f"**Default.** At no interval {rule}; the current default is "
            f"{current // KIB} KiB.")
    else:
        verdict_text = ("the data supports the current default" if chosen == current else
                        f"the data suggests changing the default from {current // KIB} KiB "
                        f"to {chosen // KIB} KiB")
        point = next(p for p in cv["points"] if p["interval"] == chosen)
        add(f"**Default.** The smallest interval (so the most accurate) at which {rule} "
            f"is {chosen // KIB} KiB; {verdict_text}. "
            "Instructions decide: wall ratios within a few percent are below this "
            f"machine's run-to-run noise. Its wall ratio is {point['wall_ratio']:.3f} "
            f"against the target of {TARGETS['churn_wall']}: "
            f"{verdict(point['wall_ratio'] <= TARGETS['churn_wall'])}.")
    add("")
