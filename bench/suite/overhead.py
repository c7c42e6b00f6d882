"""The overhead section: every workload's variants in interleaved rounds
(wall, CPU, instructions), their logs and merges; its targets and its part
of the page."""
import math
import os
import shutil
import statistics

from .common import (DESIGN_OPTIONS, TARGETS, BenchError, added, failed, failure_text,
                     headline, paired_difference, paired_ratio, progress, ratio,
                     sh_command, size)
from .merges import MERGE_ROUNDS, MergeJob, run_merges
from .workloads import (WORKLOAD_ENV, overhead_variants, variant_command, workload_env,
                        workloads)


def overhead(bench, rounds, quick):
    """Every workload; one that fails is recorded as {"failed": reason} and
    the others are still measured. Raises only if every workload failed."""
    results = {}
    for name, (program, args, cg_args) in workloads(quick).items():
        try:
            results[name] = overhead_workload(bench, name, program, args, cg_args, rounds)
        except Exception as error:  # any failure: this workload only
            results[name] = {"failed": failure_text(error)}
            progress(f"overhead: {name}: FAILED: {headline(results[name]['failed'])}")
    if all("failed" in r for r in results.values()):
        name, first = next(iter(results.items()))
        raise BenchError(f"every workload failed; {name}: {first['failed']}")
    return results


# A workload whose plain run is short gets more rounds, up to
# MAX_ROUNDS_FACTOR times --rounds, so that each variant's plain runs add up
# to about SHORT_WORKLOAD_SECONDS: a few milliseconds of start-up or page
# faults otherwise decide its ratios (resource-monitoring's exact mode
# against heaptrack flipped between runs of the suite with 7 rounds).
SHORT_WORKLOAD_SECONDS = 2.0
MAX_ROUNDS_FACTOR = 5


def rounds_for(rounds, plain_wall):
    """The rounds a workload whose first plain run took plain_wall s gets."""
    wanted = math.ceil(SHORT_WORKLOAD_SECONDS / max(plain_wall, 1e-3))
    return max(rounds, min(wanted, rounds * MAX_ROUNDS_FACTOR))


def overhead_workload(bench, name, program, args, cg_args, rounds):
    variants = overhead_variants(name)
    runs = {label: [] for label, _, _ in variants}
    commands = {}
    logs = {}  # label -> the logs and merges of the first round (MergeJob)
    jobs = []
    round_index = 0
    while round_index < rounds:
        # Interleaved: one run of every variant per round, so that a slow
        # spell of the machine hits every variant alike.
        for label, kind, options in variants:
            log_dir = bench.fresh_dir("logs")
            command, shown, env = variant_command(bench, program, kind, options, args,
                                                  log_dir, workload_env(name))
            commands[label] = sh_command(shown, command).replace(log_dir, "logs")
            runs[label].append(bench.run(command, env))
            if round_index == 0 and kind in ("record", "heaptrack"):
                # What a failure here loses is these figures, not the
                # workload: the reason is kept as merge_failed.
                found = logs[label] = {}
                try:
                    jobs.append(MergeJob(bench, kind, log_dir, found, len(jobs)))
                except Exception as error:  # any failure: these figures only
                    found["merge_failed"] = failure_text(error)
                    progress(f"overhead: {name}: logs of {label} FAILED: "
                             f"{headline(found['merge_failed'])}")
            shutil.rmtree(log_dir, ignore_errors=True)
            for leftover in os.listdir(bench.scratch):
                if leftover.startswith("logs."):  # heaptrack's logs.zst
                    os.remove(os.path.join(bench.scratch, leftover))
        if round_index == 0:
            run_merges(jobs, name)
            rounds = rounds_for(rounds, runs["plain"][0]["wall"])
        progress(f"overhead: {name}: round {round_index + 1}/{rounds}")
        round_index += 1
    # A variant callgrind fails on keeps its wall and CPU times, with its
    # instructions marked failed.
    instructions, instructions_failed = {}, {}
    for label, kind, options in variants:
        if kind == "heaptrack":
            continue  # its work happens in a second process, heaptrack_interpret
        log_dir = bench.fresh_dir("logs")
        # A fixed seed makes the sampled variants' counts repeatable.
        seeded = (options + ":seed=1").lstrip(":") if options is not None else None
        command, _, env = variant_command(bench, program, kind, seeded, cg_args, log_dir,
                                          workload_env(name))
        try:
            instructions[label] = bench.instructions(command, env)
        except Exception as error:  # any failure: this count only
            instructions_failed[label] = failure_text(error)
            progress(f"overhead: {name}: callgrind of {label} FAILED: "
                     f"{headline(instructions_failed[label])}")
        # The logs of callgrind runs are not merged (the copies have no
        # debug info to symbolize them with): only the count is kept.
        shutil.rmtree(log_dir, ignore_errors=True)
    progress(f"overhead: {name}: callgrind done")
    base_walls = [r["wall"] for r in runs["plain"]]
    base_cpus = [r["cpu"] for r in runs["plain"]]
    base_ir = instructions.get("plain")
    rows = []
    for label, kind, _ in variants:
        walls = [r["wall"] for r in runs[label]]
        cpus = [r["cpu"] for r in runs[label]]
        ratios = [w / b for w, b in zip(walls, base_walls)]
        ir = instructions.get(label)
        rows.append({
            "variant": label, "kind": kind, "command": commands[label],
            "wall": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
            "wall_ratio": paired_ratio(walls, base_walls),
            "wall_ratio_min": min(ratios), "wall_ratio_max": max(ratios),
            "cpu": statistics.median(cpus), "cpu_ratio": paired_ratio(cpus, base_cpus),
            "instructions": ir,
            "instructions_ratio": ir / base_ir if ir is not None and base_ir else None,
            "runs": runs[label],
        })
        rows[-1].update(logs.get(label, {}))
    result = {"program": program, "args": args, "callgrind_args": cg_args,
              "rounds": rounds, "rows": rows}
    if instructions_failed:
        result["instructions_failed"] = instructions_failed
    return result


def target_rows(over):
    """(target, bound, measured, met) of the churn's default setting, the design page's examples
    and, per workload, exact mode and the merge."""
    rows = []
    if failed(over.get("churn")):
        rows.append(("Churn at the default setting: wall time, instructions", "–",
                     "not measured: the churn workload failed", None))
    elif "churn" in over:
        churn = {r["variant"]: r for r in over["churn"]["rows"]}
        default = churn["memscope default"]
        rows.append(("Churn at the default setting, wall time",
                     f"≤ {TARGETS['churn_wall']}", f"{default['wall_ratio']:.3f}",
                     default["wall_ratio"] <= TARGETS["churn_wall"]))
        if default["instructions_ratio"] is None:
            rows.append(("Churn at the default setting, instructions",
                         f"≤ {TARGETS['churn_instructions']}",
                         "not measured: callgrind failed", None))
        else:
            rows.append(("Churn at the default setting, instructions",
                         f"≤ {TARGETS['churn_instructions']}",
                         f"{default['instructions_ratio']:.3f}",
                         default["instructions_ratio"] <= TARGETS["churn_instructions"]))
    for name in ("quick-start", "advanced", "resource-monitoring", "web-server",
                 "database-pool"):
        if name not in over:
            continue
        if failed(over[name]):
            rows.append((f"Design page's {name}, default, wall time within noise",
                         "median within the plain runs' range",
                         f"not measured: the {name} workload failed", None))
            continue
        rows_by = {r["variant"]: r for r in over[name]["rows"]}
        plain, mine = rows_by["plain"], rows_by["memscope default"]
        within = plain["wall_min"] <= mine["wall"] <= plain["wall_max"]
        rows.append((f"Design page's {name}, default, wall time within noise",
                     "median within the plain runs' range",
                     f"{mine['wall_ratio']:.3f} (plain {plain['wall_min']:.3f}–"
                     f"{plain['wall_max']:.3f} s, default {mine['wall']:.3f} s)", within))
    rows += log_targets(over)
    return rows


def log_targets(over):
    """(target, bound, measured, met) of exact mode against heaptrack, the
    exact logs' bytes per event and memscope-merge's speed, per workload of
    the overhead section."""
    rows = []
    factor = TARGETS["exact_vs_heaptrack"]
    for name, data in over.items():
        target = (f"{name}: exact mode's added wall time (exact − plain) vs heaptrack's "
                  "(heaptrack − plain)")
        bound = f"≤ 1/{factor:g} of heaptrack's"
        if failed(data):
            rows.append((target, bound, f"not measured: the {name} workload failed", None))
            continue
        by = {r["variant"]: r for r in data["rows"]}
        plain, exact, heap = by["plain"], by["memscope exact"], by.get("heaptrack")
        if heap is None:
            rows.append((target, bound, "not measured: heaptrack not installed", None))
            continue
        plain_walls = [r["wall"] for r in plain["runs"]]
        mine = paired_difference([r["wall"] for r in exact["runs"]], plain_walls)
        theirs = paired_difference([r["wall"] for r in heap["runs"]], plain_walls)
        times = f" (heaptrack's is {theirs / mine:.1f}x)" if mine > 0 else ""
        rows.append((target, bound, f"exact {added(mine)}, heaptrack {added(theirs)}{times}",
                     mine <= theirs / factor))
    limit = TARGETS["exact_bytes_per_event"]
    for name in ("churn", "containers"):
        if name not in over:
            continue
        target = f"{name}: exact-mode log bytes per event (allocation or free)"
        if failed(over[name]):
            rows.append((target, f"≤ {limit:g}", f"not measured: the {name} workload failed",
                         None))
            continue
        exact = {r["variant"]: r for r in over[name]["rows"]}["memscope exact"]
        if exact.get("log_bytes") is None or not exact.get("events"):
            rows.append((target, f"≤ {limit:g}", "not measured: "
                         + ("the merge failed" if exact.get("merge_failed") else "no events"),
                         None))
            continue
        per_event = exact["log_bytes"] / exact["events"]
        rows.append((target, f"≤ {limit:g}", f"{per_event:.2f} ({size(exact['log_bytes'])} "
                     f"for {exact['events']:,} events)", per_event <= limit))
    rate_bound = f"≥ {TARGETS['merge_events_per_second'] / 1e6:g} M events/s"
    speed_bound = f"≥ {TARGETS['merge_vs_heaptrack_print']:g}x"
    for name, data in over.items():
        if name == "empty program":
            continue  # start-up's events only: the merge's fixed cost
        rate_target = f"{name}: memscope-merge on the exact logs, events per second"
        speed_target = (f"{name}: memscope-merge vs heaptrack_print (heaptrack_print time / "
                        "merge time)")
        if failed(data):
            rows.append((rate_target, rate_bound, f"not measured: the {name} workload failed",
                         None))
            rows.append((speed_target, speed_bound,
                         f"not measured: the {name} workload failed", None))
            continue
        by = {r["variant"]: r for r in data["rows"]}
        exact, heap = by["memscope exact"], by.get("heaptrack")
        if "merge_seconds" not in exact or not exact.get("events"):
            reason = "not measured: " + ("the merge failed" if exact.get("merge_failed")
                                         else "no events")
            rows.append((rate_target, rate_bound, reason, None))
            rows.append((speed_target, speed_bound, reason, None))
            continue
        rate = exact["events"] / exact["merge_seconds"]
        rows.append((rate_target, rate_bound, f"{rate / 1e6:.2f} M events/s "
                     f"({exact['events']:,} events in {exact['merge_seconds']:.3f} s)",
                     rate >= TARGETS["merge_events_per_second"]))
        if heap is None:
            rows.append((speed_target, speed_bound, "not measured: heaptrack not installed",
                         None))
        elif "merge_seconds" not in heap:
            rows.append((speed_target, speed_bound, "not measured: heaptrack_print failed",
                         None))
        else:
            speedup = heap["merge_seconds"] / exact["merge_seconds"]
            warm = ""
            if "merge_warm_seconds" in exact:
                warm = (f"; with the symbols an earlier merge kept "
                        f"{heap['merge_seconds'] / exact['merge_warm_seconds']:.1f}x, "
                        f"{exact['merge_warm_seconds']:.3f} s")
            rows.append((speed_target, speed_bound,
                         f"{speedup:.1f}x (heaptrack_print {heap['merge_seconds']:.3f} s, "
                         f"memscope-merge {exact['merge_seconds']:.3f} s{warm})",
                         speedup >= TARGETS["merge_vs_heaptrack_print"]))
    return rows


def write(page, over):
    """The section of the page, after its heading."""
    add, failure = page.add, page.failure
    add("Every workload is built twice from the same source by the same clang at `-O2`: "
        "`<name>-plain` without Memscope and `<name>-memscope` with it "
        "(bench/CMakeLists.txt). The recorded variants run the instrumented build under "
        "`MEMSCOPE_OUT`: *default* with no options, *SamplingConfig{0.01, 1024}* with the "
        f"options the API derives from the design page's config (`{DESIGN_OPTIONS}`), "
        "*exact* with `exact=1`. heaptrack runs the plain build.")
    add("")
    rounds = min(d["rounds"] for d in over.values() if not failed(d))
    add(f"**Wall time**: median of {rounds} or more interleaved rounds (a workload "
        f"whose plain run is short gets up to {MAX_ROUNDS_FACTOR}x as many, enough for "
        f"its plain runs to add up to about {SHORT_WORKLOAD_SECONDS:g} s; each workload's "
        "table gives its count) "
        "(one run of every variant per round, so that a slow spell of the machine hits "
        "every variant alike); min–max in brackets. **Ratios** to the plain build are "
        "paired: the median over rounds of the variant's time over the plain run's of the "
        "same round (min–max of those in brackets), since this VM drifts between faster "
        "and slower spells for minutes at a time (cross-thread-free's plain run took "
        "0.13 s in one spell and 0.49 s in the next), and a ratio of two medians can "
        "set one spell's runs against another's. *Added wall time* (the targets against "
        "heaptrack) is likewise the median over rounds of a run's time less the plain "
        "run's of its round. **CPU**: user + system time of the "
        "process, median. **Instructions**: total instructions of all threads "
        "(`valgrind --tool=callgrind`, the `Ir` total), one run per variant since the "
        "count is deterministic (sampled variants use `seed=1`), at the smaller size "
        "given as *callgrind args* because callgrind runs the program ~50x slower. "
        "heaptrack's instructions are not counted: most of its work happens in a second "
        "process (heaptrack_interpret). `perf stat` is not supported on this VM.")
    add("")
    add("The design page's examples are built with `-DMEMSCOPE_EXAMPLE_WORKLOAD_ONLY` "
        "(their threads without the API calls, so that the plain build needs no Memscope) "
        "and run with every sleep turned off on their command lines. At the design page's "
        "sizes most of them then run for a few milliseconds, where the runtime's fixed "
        "start-up and exit cost shows: *empty program* (quick-start with no threads) "
        "measures that cost alone.")
    add("")
    add("**Logs and merge**, measured on each variant's first round (a table per workload "
        f"below); each merge runs {MERGE_ROUNDS} times on those logs, interleaved with the "
        "other variants' merges (a slow spell of the machine then hits memscope-merge and "
        "heaptrack_print alike), its median and its largest peak RSS are given. *Log*: what the run wrote. For Memscope the sum over its `*.log` files "
        "of the written part (the 64-byte file header and the records up to the first "
        "all-zero record header); the runtime extends its files in preallocated zeroed "
        "windows, so their size on disk, in brackets, is larger. For heaptrack its "
        "compressed trace file (`heaptrack -o logs` writes `logs.zst`). *Events*: "
        "`total_allocations + total_frees` of memscope-merge's analysis.json; only exact "
        "mode's are real event counts, the sampled variants' are estimates (their raw "
        "samples in brackets). *Bytes/event*: exact mode's log over its events; "
        "heaptrack's trace over the events of the **exact mode's run of the same "
        "workload** (the same program and arguments; heaptrack counts none itself). "
        "*Merge*: `memscope-merge logs -o report -q` (read, analyse, symbolize, write "
        "analysis.json and the text summary: what `finalize()` runs), wall time and peak "
        "RSS (wait4's `ru_maxrss`), each run with an empty symbol cache "
        "(`--symbol-cache`), as a first merge on a machine is; *merge, symbols kept*: "
        "each run right after one of those, with the symbols an earlier merge kept, as "
        "later merges of a program and libraries already seen are (here of the same "
        "logs, so every address is known: the best case; heaptrack symbolizes while the "
        "program runs, so heaptrack_print has no such step). For heaptrack, "
        "`heaptrack_print logs.zst` with its output discarded. *Merge events/s*: exact "
        "mode's events over its (first) merge time; for heaptrack the exact mode's "
        "events again, over heaptrack_print's time.")
    add("")
    empty = over.get("empty program")
    if empty and not failed(empty):
        by = {r["variant"]: r for r in empty["rows"]}
        exact, heap = by["memscope exact"], by.get("heaptrack")
        if "merge_seconds" in exact:
            theirs = (f", heaptrack_print of its trace {heap['merge_seconds']:.3f} s"
                      if heap and "merge_seconds" in heap else "")
            kept = (f" ({exact['merge_warm_seconds']:.3f} s with the symbols an earlier "
                    "merge kept)" if "merge_warm_seconds" in exact else "")
            add("Part of a merge's time does not depend on the number of events (start-up, "
                "reading the debug info to symbolize, writing the report): memscope-merge "
                f"of the empty program's exact log takes {exact['merge_seconds']:.3f} s"
                f"{kept}{theirs}. On workloads whose logs hold few events, events per second "
                "mostly measure that cost; the merge targets skip the empty program.")
            add("")
    add("| workload | default wall | default instr. | SamplingConfig{0.01, 1024} wall | "
        "instr. | exact wall | instr. | heaptrack wall |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, data in over.items():
        if failed(data):
            add(f"| {name} | FAILED |" + " – |" * 6)
            continue
        by = {r["variant"]: r for r in data["rows"]}
        d, c, e = (by["memscope default"], by["memscope SamplingConfig{0.01, 1024}"],
                   by["memscope exact"])
        h = by.get("heaptrack")
        add(f"| {name} | {ratio(d['wall_ratio'])} | {ratio(d['instructions_ratio'])} | "
            f"{ratio(c['wall_ratio'])} | {ratio(c['instructions_ratio'])} | "
            f"{ratio(e['wall_ratio'])} | {ratio(e['instructions_ratio'])} | "
            f"{ratio(h['wall_ratio']) if h else 'not installed'} |")
    add("")
    add("Ratios to the plain build of the same workload. Per workload:")
    add("")
    for name, data in over.items():
        add(f"### {name}")
        add("")
        if failed(data):
            add("**FAILED**; nothing of this workload was measured. The reason:")
            add("")
            failure(failed(data))
            continue
        add(f"Args `{' '.join(data['args'])}`; callgrind args "
            f"`{' '.join(data['callgrind_args'])}`; {data['rounds']} rounds.")
        if name in WORKLOAD_ENV:
            env, why = WORKLOAD_ENV[name]
            shown = " ".join(f"`{k}={v}`" for k, v in env.items())
            add(f"Every variant runs with {shown}. {why}")
        add("")
        add("| variant | wall (s) [min–max] | wall ratio [min–max] | CPU (s) | CPU ratio | "
            "instructions | instr. ratio |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for r in data["rows"]:
            instr = f"{r['instructions']:,}" if r["instructions"] is not None else "–"
            spread = (f" [{r['wall_ratio_min']:.3f}–{r['wall_ratio_max']:.3f}]"
                      if "wall_ratio_min" in r and r["kind"] != "plain" else "")
            add(f"| {r['variant']} | {r['wall']:.3f} [{r['wall_min']:.3f}–"
                f"{r['wall_max']:.3f}] | {r['wall_ratio']:.3f}{spread} | {r['cpu']:.3f} | "
                f"{r['cpu_ratio']:.3f} | {instr} | {ratio(r['instructions_ratio'])} |")
        add("")
        groups = regimes(data["rows"])
        if groups:
            add("Some variants' runs fell in two groups, split at the largest step between "
                "their sorted wall times (the slower group at least 1.8x the faster): "
                + "; ".join(f"*{v}* {nf} at a median {mf:.3f} s and {ns} at {ms:.3f} s"
                            for v, (nf, mf, ns, ms) in groups.items())
                + ". The medians above are each variant's over all its runs, so they "
                "compare within the group most runs fell in.")
            add("")
        for label, reason in data.get("instructions_failed", {}).items():
            add(f"Instructions of *{label}*: callgrind **FAILED**:")
            add("")
            failure(reason)
        render_logs(data, add, failure)
        add("<details><summary>commands</summary>")
        add("")
        add("```sh")
        for r in data["rows"]:
            add(r["command"])
        add("```")
        add("")
        add("</details>")
        add("")


def regimes(rows, step=1.8):
    """variant -> (fast runs, their median, slow runs, their median), for the
    variants whose wall times split in two groups of at least two runs at a
    step of \p step or more between consecutive sorted times."""
    groups = {}
    for r in rows:
        walls = sorted(run["wall"] for run in r.get("runs", []))
        if len(walls) < 4:
            continue
        at = max(range(1, len(walls)), key=lambda i: walls[i] / walls[i - 1])
        if walls[at] / walls[at - 1] < step or at < 2 or len(walls) - at < 2:
            continue
        groups[r["variant"]] = (at, statistics.median(walls[:at]),
                                len(walls) - at, statistics.median(walls[at:]))
    return groups


def render_logs(data, add, failure):
    """One overhead workload's logs and merge table (the first round)."""
    rows = data["rows"]
    if not any("log_bytes" in r or "merge_failed" in r for r in rows):
        return
    exact = next((r for r in rows if r["variant"] == "memscope exact"), {})
    exact_events = exact.get("events")
    add("Logs and merge (first round):")
    add("")
    add("| variant | wall (s) | ratio to plain | log [on disk] | events | bytes/event | "
        "merge (s) | merge, symbols kept (s) | merge peak RSS | merge events/s |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cells = [r["variant"], f"{r['wall']:.3f}", f"{r['wall_ratio']:.3f}"]
        is_exact, is_heap = r is exact, r["kind"] == "heaptrack"
        if "log_bytes" in r:
            cells.append(f"{size(r['log_bytes'])} [{size(r['log_bytes_on_disk'])}]")
        else:
            cells.append("FAILED" if r.get("merge_failed") else "–")
        if is_heap and exact_events:
            cells.append(f"(exact's: {exact_events:,})")
        elif "events" not in r:
            cells.append("–")
        elif is_exact:
            cells.append(f"{r['events']:,}")
        else:
            samples = f" ({r['samples']:,} samples)" if "samples" in r else ""
            cells.append(f"≈{r['events']:,}{samples}")
        # heaptrack's per event figures use exact mode's count.
        events = r.get("events") if is_exact else exact_events if is_heap else None
        cells.append(f"{r['log_bytes'] / events:.2f}" if events and "log_bytes" in r else "–")
        if "merge_seconds" in r:
            tool = " (heaptrack_print)" if is_heap else ""
            warm = r.get("merge_warm_seconds")
            cells += [f"{r['merge_seconds']:.3f}{tool}",
                      f"{warm:.3f}" if warm is not None else "–",
                      f"{r['merge_peak_rss'] / 2**20:.1f} MiB",
                      f"{events / r['merge_seconds'] / 1e6:.2f} M" if events else "–"]
        else:
            cells += ["FAILED" if r.get("merge_failed") else "–", "–", "–", "–"]
        add("| " + " | ".join(cells) + " |")
    add("")
    for r in rows:
        if r.get("merge_failed"):
            add(f"Logs and merge of *{r['variant']}* **FAILED**:")
            add("")
            failure(r["merge_failed"])
