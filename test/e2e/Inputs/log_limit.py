#!/usr/bin/env python3
"""Checks a run under max_log_size (test/e2e/max-log-size.test).

log_limit.py COUNT_FILE CAP LOG_DIR ANALYSIS_JSON
    prints whether every byte of the logs on disk is within CAP, whether
    the totals are the runtime's exact count (the program's allocations,
    printed in COUNT_FILE, plus at most 256 of the C library's and the
    main thread's), and the
    process's log_limit steps.
log_limit.py --seeds COUNT_FILE CAP DIR
    DIR holds one log folder per seed and <seed>.report/analysis.json: prints
    whether every run stayed within CAP and was reduced, the fewest levels a
    run reached, and whether the mean over the runs of (sum of the sites'
    estimated bytes / counted bytes) is within 3% of 1.
"""
import json
import os
import sys


def disk_bytes(folder):
    """Bytes the files take on disk (allocated blocks, as du counts)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            total += os.stat(os.path.join(root, name)).st_blocks * 512
    return total


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    if sys.argv[1] == "--seeds":
        count_file, cap, folder = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        runs = sorted(d for d in os.listdir(folder)
                      if d.isdigit() and os.path.isdir(os.path.join(folder, d)))
        within, reduced, levels, ratios = True, True, [], []
        for run in runs:
            within &= disk_bytes(os.path.join(folder, run)) <= cap
            report = load(os.path.join(folder, run + ".report", "analysis.json"))
            limit = report["processes"][0]["log_limit"]
            reduced &= bool(report["summary"]["detail_reduced"]) and limit is not None
            levels.append(max(s["level"] for s in limit["steps"]) if limit else 0)
            estimated = sum(site["bytes"] for site in report["sites"])
            ratios.append(estimated / report["summary"]["total_bytes"])
        mean = sum(ratios) / len(ratios)
        print(f"runs {len(runs)} all_within_cap={int(within)} "
              f"all_reduced={int(reduced)} min_levels={min(levels)}")
        print(f"mean_bytes_ratio_within_3_percent={int(abs(mean - 1) <= 0.03)} "
              f"(mean {mean:.4f}, runs {' '.join(f'{r:.3f}' for r in ratios)})")
        return
    count_file, cap, folder, analysis = sys.argv[1:5]
    with open(count_file) as f:
        count = int(f.read().split()[0])
    used = disk_bytes(folder)
    print(f"logs within cap={int(used <= int(cap))} ({used} bytes)")
    report = load(analysis)
    summary = report["summary"]
    total = summary["total_allocations"]
    print(f"totals_exact={int(summary['totals_exact'])} "
          f"allocations_equal={int(count <= total <= count + 256)} ({total})")
    process = report["processes"][0]
    print(f"detail_reduced={int(summary['detail_reduced'])} "
          f"mode={process['sampling']['mode']}")
    limit = process["log_limit"]
    if limit:
        steps = limit["steps"]
        for step in steps:
            print(f"step {step['level']} left_exact={int(step['left_exact'])} "
                  f"full={int(step['full'])} "
                  f"interval={step['sample_interval_bytes']}")
        times = [s["time_ns"] for s in steps]
        print(f"steps_ordered={int(times == sorted(times))}")


main()
