"""Plots the sampling curve of bench/run_bench.py: overhead and accuracy
against the sampling interval.

    plot_curve.py <curve.json> <out.svg|out.png>

Needs matplotlib; run_bench.py runs it with an interpreter that has it.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Reproducible SVG: no timestamp, stable element ids.
matplotlib.rcParams["svg.hashsalt"] = "memscope"
matplotlib.rcParams["svg.fonttype"] = "none"


def main():
    if len(sys.argv) != 3:
        sys.exit("plot_curve.py: usage: plot_curve.py <curve.json> <out.svg|out.png>")
    with open(sys.argv[1]) as f:
        curve = json.load(f)
    points = curve["points"]
    kib = [p["interval"] / 1024 for p in points]
    fig, (over, acc) = plt.subplots(1, 2, figsize=(11, 4.2))

    over.plot(kib, [p["instructions_ratio"] for p in points], "o-",
              label="instructions (callgrind)")
    over.plot(kib, [p["wall_ratio"] for p in points], "s--",
              label="wall time (median)")
    over.axhline(curve["targets"]["wall"], color="tab:orange", linewidth=0.8, linestyle=":",
                 label=f"target, wall ({curve['targets']['wall']})")
    over.axhline(curve["targets"]["instructions"], color="tab:blue", linewidth=0.8,
                 linestyle=":", label=f"target, instructions ({curve['targets']['instructions']})")
    if "not_recording_instructions_ratio" in curve:
        over.axhline(curve["not_recording_instructions_ratio"], color="gray", linewidth=0.8,
                     linestyle="-.", label="instructions, instrumented but not recording")
    over.set_title(f"Overhead: {curve['workload']}, ratio to plain")
    over.set_ylabel("ratio to the plain build")

    acc.plot(kib, [100 * p["bytes_mean_abs_error"] for p in points], "o-",
             label="mean |error|, bytes per site")
    acc.plot(kib, [100 * p["count_mean_abs_error"] for p in points], "^-",
             label="mean |error|, allocations per site")
    acc.plot(kib, [100 * abs(p["total_bytes_worst_error"]) for p in points], "s--",
             label="worst |error|, total bytes")
    acc.set_ylabel("error (%)")
    acc2 = acc.twinx()
    acc2.plot(kib, [100 * p["bytes_within_5"] for p in points], "d:", color="tab:red",
              label="site estimates within ±5% (right)")
    acc2.set_ylabel("within ±5% (%)")
    acc2.set_ylim(0, 105)
    acc.set_title(f"Accuracy: {curve['accuracy_workload']}, vs exact mode")
    lines = acc.get_legend_handles_labels()
    lines2 = acc2.get_legend_handles_labels()
    acc.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="center left")
    over.legend(fontsize=8)

    for axis in (over, acc):
        axis.set_xscale("log", base=2)
        axis.set_xticks(kib)
        axis.set_xticklabels([f"{k:g}" for k in kib])
        axis.set_xlabel("mean sampling interval (KiB)")
        axis.axvline(curve["current_default"] / 1024, color="gray", linewidth=0.8)
        axis.grid(True, which="major", alpha=0.3)
    over.text(curve["current_default"] / 1024, over.get_ylim()[0], " current default",
              color="gray", fontsize=8, va="bottom")
    fig.tight_layout()
    fig.savefig(sys.argv[2], metadata={"Date": None} if sys.argv[2].endswith(".svg") else None)


if __name__ == "__main__":
    main()
