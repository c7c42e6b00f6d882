"""The stack walk of a sampled allocation (bench/stack-walk.cpp, Google
Benchmark): _Unwind_Backtrace against the cached unwind rules."""
from .common import BenchError, progress, sh_command


STACKWALK_BENCHMARKS = (("full_unwinder", "BM_StackFullUnwinder"),
                        ("cached_rules", "BM_StackCachedRules"),
                        ("memo", "BM_StackMemo"))


def stackwalk(bench, quick):
    """ns per stack of a sampled allocation's walk, _Unwind_Backtrace against
    the runtime's cached unwind rules (bench/stack-walk.cpp): medians of the
    repetitions, with the frames each walk found."""
    repetitions = 2 if quick else 5
    command, medians = bench.benchmark_medians(bench.bin("stack-walk"), bench.env(),
                                               repetitions, quick)
    result = {"command": sh_command({}, command), "repetitions": repetitions}
    for key, name in STACKWALK_BENCHMARKS:
        if name not in medians:
            raise BenchError(f"`{' '.join(command)}` reported no median of {name} (found: "
                             f"{', '.join(sorted(medians)) or 'none'})")
        found = medians[name]
        ns = found["real_time_ns"]
        frames = found.get("frames")
        result[key] = {"benchmark": name, "ns_per_stack": ns, "frames": frames,
                       "ns_per_frame": ns / frames if frames else None}
    result["speedup"] = result["full_unwinder"]["ns_per_stack"] / \
        result["cached_rules"]["ns_per_stack"]
    progress(f"stackwalk: done, cached rules {result['speedup']:.1f}x faster")
    return result


def write(page, walk):
    """The section of the page, after its heading."""
    add = page.add
    add("A stack of a sampled allocation through four frames of code without frame "
        "pointers (bench/stack-walk-frames.cpp) and the frames below it, walked by "
        "`_Unwind_Backtrace` (what the runtime used for such stacks before) and by the "
        "runtime's cached unwind rules (runtime/rt_unwind.cpp), both to the default "
        f"depth (32 frames) or the end of the stack. `bench/stack-walk.cpp`, median of "
        f"{walk['repetitions']} repetitions (real time); *frames* is the depth each walk "
        "returned.")
    add("")
    add("| unwinder | ns per stack | frames | ns per frame | speed-up |")
    add("|---|---:|---:|---:|---:|")
    base = walk["full_unwinder"]["ns_per_stack"]
    for key, label in (("full_unwinder", "`_Unwind_Backtrace`"),
                       ("cached_rules", "cached unwind rules (rt_unwind.cpp)"),
                       ("memo", "exact mode's memo: the same stack again (rt_stack.cpp)")):
        if key not in walk:
            continue
        w = walk[key]
        frames = "–" if w["frames"] is None else f"{w['frames']:g}"
        per_frame = "–" if w["ns_per_frame"] is None else f"{w['ns_per_frame']:.1f}"
        add(f"| {label} ({w['benchmark']}) | {w['ns_per_stack']:.1f} | {frames} | "
            f"{per_frame} | {base / w['ns_per_stack']:.2f}x |")
    add("")
    add(f"The cached rules walk a stack **{walk['speedup']:.1f}x** faster "
        "(ns per stack of `_Unwind_Backtrace` / ns per stack of the cached rules).")
    if "memo" in walk:
        add("")
        add("In exact mode a frame that allocates again with the same stack does not "
            "walk it: rereading the stack words the first walk read (each frame's "
            "return address and saved rbp) proves the walk would give the same stack "
            f"(docs/architecture.md, Stacks): {walk['memo']['ns_per_stack']:.1f} ns "
            "here.")
    add("")
