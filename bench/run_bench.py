#!/usr/bin/env python3
"""Memscope benchmark suite: overhead (with log sizes and merge times),
accuracy, sampling curve, scale, fast paths and the stack walk, written to
docs/performance.md and bench/results.json.

    python3 bench/run_bench.py --build build          # full run, ~10 min on 2 cores
    python3 bench/run_bench.py --build build --quick  # smoke run, ~1 min

The full run writes docs/performance.md, docs/images/perf-sampling-curve.svg
and bench/results.json. --quick and --only write into <build>/bench-results/
unless --out is given, so a smoke run never replaces the committed page.

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
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = ("overhead", "accuracy", "curve", "scale", "disk", "fastpath", "stackwalk",
            "collector")
SECTION_TITLES = {
    "overhead": "Overhead",
    "accuracy": "Accuracy of the default setting",
    "curve": "Sampling curve",
    "scale": "Scale: the design page's advanced example",
    "disk": "Disk: a service's logs, and max_log_size",
    "fastpath": "Free path and not-sampled allocations (Google Benchmark)",
    "stackwalk": "Stack walk of a sampled allocation (Google Benchmark)",
    "collector": "Resource collector",
}
KIB = 1024

# The design page's SamplingConfig{0.01, 1024}: SamplingConfig::to_options()
# (api/Lockfree.cpp) with the struct's default buffer_size of 64 KiB.
DESIGN_OPTIONS = "sample_rate=0.01:min_allocation_size=1024:buffer_size=65536"
# The advanced example's own SamplingConfig{0.01, 1024, 1024 * 1024}.
ADVANCED_OPTIONS = "sample_rate=0.01:min_allocation_size=1024:buffer_size=1048576"

TARGETS = {
    "churn_wall": 1.03,
    "churn_instructions": 1.08,
    # Exact mode's added wall time (exact - plain) at most 1/5 of
    # heaptrack's (heaptrack - plain), on every workload.
    "exact_vs_heaptrack": 5.0,
    "exact_bytes_per_event": 8.0,
    "merge_events_per_second": 5e6,
    "merge_vs_heaptrack_print": 10.0,
    "sites_within_5": 0.95,
    "total_bytes_error": 0.02,
    # Issue #14: 95% intervals contain the exact value 90-98% of the time,
    # means within 3 standard errors, the peak within 10%, exact totals.
    "coverage_low": 0.90,
    "coverage_high": 0.98,
    "bias_standard_errors": 3.0,
    "peak_error": 0.10,
    "merge_500_seconds": 0.2,
    "logs_500_bytes": 1_000_000,
    "memory_per_thread_bytes": 256 * KIB,
}

STARTED = time.monotonic()


def progress(message):
    elapsed = time.monotonic() - STARTED
    print(f"[{int(elapsed) // 60:2d}:{int(elapsed) % 60:02d}] {message}", file=sys.stderr,
          flush=True)


class BenchError(Exception):
    """A measurement that failed. It fails its section (or one workload of the
    overhead), which is marked failed; the others are still measured and
    written."""


def failure_text(error):
    """What went wrong, for results.json and the page."""
    if isinstance(error, BenchError):
        return str(error)
    if isinstance(error, subprocess.CalledProcessError):
        command = " ".join(str(word) for word in error.cmd)
        text = f"`{command}` failed (exit {error.returncode})"
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) \
            else error.stderr
        return text + (f":\n{stderr[-2000:]}" if stderr else "")
    if isinstance(error, subprocess.TimeoutExpired):
        command = " ".join(str(word) for word in error.cmd)
        return f"`{command}` timed out after {error.timeout:g} s"
    return f"{type(error).__name__}: {error}"


def headline(text):
    """The first line of a failure, and the next one if the first ends in a
    colon (`command` failed:), for the progress output."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {lines[1]}"
    return lines[0] if lines else text


def paired_ratio(values, bases):
    """The median over rounds of values[i] / bases[i]: each variant is set
    against the plain run of its own round. This VM drifts between spells
    (the same plain run of cross-thread-free took 0.13 s, then 0.49 s, minutes
    apart), and a ratio of the two medians mixes spells where a round's
    ratio does not."""
    return statistics.median(v / b for v, b in zip(values, bases))


def paired_difference(values, bases):
    """The median over rounds of values[i] - bases[i] (as paired_ratio)."""
    return statistics.median(v - b for v, b in zip(values, bases))


def elf_dynamic(path):
    """(the program interpreter or None, the DT_RPATH entries' offsets in the
    file, whether there is a DT_RUNPATH) of a 64-bit little-endian ELF file;
    None for anything else."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    interp, rpaths, runpath = None, [], False
    for index in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data,
                                                                 phoff + index * phentsize)
        if p_type == 3:  # PT_INTERP
            interp = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
        elif p_type == 2:  # PT_DYNAMIC
            for entry in range(p_offset, p_offset + p_filesz - 15, 16):
                tag, = struct.unpack_from("<q", data, entry)
                if tag == 0:  # DT_NULL
                    break
                if tag == 15:  # DT_RPATH
                    rpaths.append(entry)
                elif tag == 29:  # DT_RUNPATH
                    runpath = True
    return interp, rpaths, runpath


def strip_copy(source, target):
    """Copies source to target without debug info (objcopy --strip-debug; the
    symbols stay). A DT_RPATH becomes a DT_RUNPATH with the same folders: the
    loader searches a DT_RPATH before LD_LIBRARY_PATH (and before ld.so
    --library-path), a DT_RUNPATH after it, so that LD_LIBRARY_PATH, not the
    build's lib folder, decides which copy of the runtime is loaded."""
    subprocess.run(["objcopy", "--strip-debug", source, target], check=True,
                   capture_output=True)
    found = elf_dynamic(target)
    if found and found[1] and not found[2]:
        with open(target, "r+b") as f:
            for entry in found[1]:
                f.seek(entry)
                f.write(struct.pack("<q", 29))  # DT_RUNPATH


class Bench:
    """The build, the scratch directory and how to run programs in them."""

    def __init__(self, build, scratch):
        self.build = build
        self.scratch = scratch
        self.stripped_libs = None
        self.stripped_programs = {}
        self.truths = {}

    def bin(self, name):
        return os.path.join(self.build, "bin", name)

    def env(self, out=None, options=None, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEMSCOPE_")}
        if out is not None:
            env["MEMSCOPE_OUT"] = out
        if options:
            env["MEMSCOPE_OPTIONS"] = options
        env.update(extra or {})
        return env

    def run(self, command, env, timeout=600, peak_rss=False, own_rss=False):
        """Runs command; returns wall seconds and CPU seconds of that child
        alone (wait4), and with peak_rss its peak resident set in bytes
        (through bench/peak-rss.cpp), with own_rss the same from wait4's
        ru_maxrss (for a tool run directly, that starts no programs of its
        own), or raises BenchError naming the failure."""
        err_path = os.path.join(self.scratch, "stderr.txt")
        if peak_rss:
            command = [self.bin("peak-rss")] + command
        with open(err_path, "w") as err:
            start = time.perf_counter()
            child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
            timer = threading.Timer(timeout, child.kill)
            timer.start()
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            timer.cancel()
            child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            with open(err_path) as f:
                tail = f.read()[-2000:]
            raise BenchError(f"`{' '.join(command)}` failed (exit {child.returncode}):\n{tail}")
        result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime}
        if own_rss:
            result["maxrss"] = usage.ru_maxrss * 1024  # KiB on Linux
        if peak_rss:
            with open(err_path) as f:
                found = re.findall(r"^peak-rss-kib (\d+)$", f.read(), re.M)
            result["maxrss"] = int(found[-1]) * 1024
        return result

    def callgrind_libs(self):
        # Valgrind 3.19 cannot read clang 19's DWARF 5 and gives up on the
        # whole run; instruction counts do not depend on debug info, so
        # callgrind runs copies without it: of the runtime libraries here,
        # of the programs in callgrind_program().
        if self.stripped_libs is None:
            stripped = os.path.join(self.scratch, "stripped-lib")
            os.makedirs(stripped, exist_ok=True)
            lib = os.path.join(self.build, "lib")
            for name in os.listdir(lib):
                if ".so" in name:
                    strip_copy(os.path.join(lib, name), os.path.join(stripped, name))
            self.stripped_libs = stripped  # only once every copy is made
        return self.stripped_libs

    def callgrind_env(self, env):
        env = dict(env)
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            [self.callgrind_libs()] + ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH")
                                       else []))
        return env

    def callgrind_program(self, path):
        """The copy of program path that callgrind runs: without debug info,
        made once per program, and checked to load the runtime libraries from
        the stripped copies, not from the build."""
        if path in self.stripped_programs:
            return self.stripped_programs[path]
        folder = os.path.join(self.scratch, "stripped-bin")
        os.makedirs(folder, exist_ok=True)
        copy = os.path.join(folder, os.path.basename(path))
        strip_copy(path, copy)
        found = elf_dynamic(copy)
        if found and found[0]:
            # What the loader would load, without running the program.
            listed = subprocess.run([found[0], "--list", copy],
                                    env=self.callgrind_env(self.env()),
                                    capture_output=True, text=True)
            if listed.returncode != 0:
                raise BenchError(f"`{found[0]} --list {copy}` failed:\n{listed.stderr[-2000:]}")
            ours = set(os.listdir(self.callgrind_libs()))
            for name, loaded in re.findall(r"^\s*(\S+) => (\S+)", listed.stdout, re.M):
                if name in ours and os.path.dirname(loaded) != self.callgrind_libs():
                    raise BenchError(f"{copy} loads {name} from {loaded}, not from the copy "
                                     f"without debug info in {self.callgrind_libs()}")
        self.stripped_programs[path] = copy
        return copy

    def instructions(self, command, env):
        """Total instructions executed (callgrind Ir), all threads, of the
        program's copy without debug info (callgrind_program())."""
        copy = [self.callgrind_program(command[0])] + command[1:]
        out = os.path.join(self.scratch, "callgrind.out")
        result = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
                                + copy, env=self.callgrind_env(env),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                timeout=900)
        if os.path.exists(out):
            os.remove(out)
        found = re.search(r"==\d+== Collected : (\d+)", result.stderr)
        if result.returncode != 0 or not found:
            raise BenchError(f"callgrind of `{' '.join(command)}` (a copy without debug "
                             f"info) failed:\n"
                             f"{result.stderr[-2000:]}")
        return int(found.group(1))

    def merge(self, log_dir, out_dir, formats="json"):
        # Symbols kept in the scratch folder, not in the user's ~/.cache.
        subprocess.run([self.bin("memscope-merge"), log_dir, "-o", out_dir,
                        f"--format={formats}", "-q", "--symbol-cache",
                        os.path.join(self.scratch, "symbol-cache")],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out_dir, "analysis.json")) as f:
            return json.load(f)

    def fresh_dir(self, name):
        path = os.path.join(self.scratch, name)
        shutil.rmtree(path, ignore_errors=True)
        return path


def sh_command(env_vars, command):
    """The command line a reader can paste, relative to the source root."""
    words = [f"{k}={v}" for k, v in env_vars.items()]
    for word in command:
        inside = os.path.isabs(word) and word.startswith(ROOT + os.sep)
        words.append(os.path.relpath(word, ROOT) if inside else word)
    return " ".join(words)


# --------------------------------------------------------------------------
# Machine


def machine_info(bench):
    def first_line(command):
        try:
            out = subprocess.run(command, capture_output=True, text=True).stdout
            return out.strip().splitlines()[0] if out.strip() else "unknown"
        except OSError:
            return "not installed"

    lscpu = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            key, _, value = line.partition(":")
            lscpu[key.strip()] = value.strip()
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {
        "cpu": lscpu.get("Model name", "unknown"),
        "cpus": os.cpu_count(),
        "hypervisor": lscpu.get("Hypervisor vendor", "none"),
        "caches": ", ".join(f"{k} {lscpu[k]}" for k in ("L1d cache", "L2 cache", "L3 cache")
                            if k in lscpu),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "uname": " ".join(platform.uname()),
        "compiler": first_line([bench.bin("memscope-clang++"), "--version"]),
        "valgrind": first_line(["valgrind", "--version"]),
        "heaptrack": first_line(["heaptrack", "--version"]) if shutil.which("heaptrack")
        else "not installed",
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------
# Workloads

# name: (program base name, args for wall runs, args for callgrind, the same
# two for --quick). The full sizes: the two synthetic workloads where one
# plain run takes a fraction of a second (the churn runs long enough, ~0.4 s,
# that its ratio is the steady cost per allocation, not the runtime's fixed
# start-up cost, which "empty program" shows on its own); the design page's
# examples at the design page's sizes, sleeps off. Callgrind runs a smaller
# size (it is ~50x slower).
WORKLOADS = {
    # The runtime's fixed cost: start-up and exit of a program that does
    # nothing (quick-start with no threads).
    "empty program": ("quick-start", ["unused", "0", "0"], ["unused", "0", "0"],
                      ["unused", "0", "0"], ["unused", "0", "0"]),
    "churn": ("churn", ["4", "2000000"], ["2", "40000"],
              ["2", "40000"], ["2", "10000"]),
    "containers": ("containers", ["4", "150000"], ["2", "20000"],
                   ["2", "15000"], ["2", "5000"]),
    "quick-start": ("quick-start", ["unused", "30", "0"], ["unused", "30", "0"],
                    ["unused", "30", "0"], ["unused", "30", "0"]),
    "advanced": ("advanced", ["unused", "100", "1000", "0"], ["unused", "10", "200", "0"],
                 ["unused", "20", "100", "0"], ["unused", "10", "50", "0"]),
    "resource-monitoring": ("resource-monitoring", ["50", "100000", "0"], ["10", "100000", "0"],
                            ["10", "50000", "0"], ["5", "20000", "0"]),
    "web-server": ("web-server", ["20", "1000", "0"], ["20", "200", "0"],
                   ["20", "200", "0"], ["20", "50", "0"]),
    "database-pool": ("database-pool", ["50", "200", "10", "0"], ["20", "20", "10", "0"],
                      ["20", "20", "10", "0"], ["20", "10", "10", "0"]),
    # One thread allocating 64-byte blocks that another frees: every free is
    # of another thread's block.
    "cross-thread-free": ("cross-thread-free", ["1", "2000000"], ["1", "100000"],
                          ["1", "200000"], ["1", "20000"]),
    # resource-monitoring again, with glibc's mmap threshold fixed (below).
    "resource-monitoring, fixed mmap threshold": (
        "resource-monitoring", ["50", "100000", "0"], ["10", "100000", "0"],
        ["10", "50000", "0"], ["5", "20000", "0"]),
}

# Environment a workload runs in, for every variant alike, and why (shown
# with its table): workload name -> (env, why).
WORKLOAD_ENV = {
    "resource-monitoring, fixed mmap threshold": (
        {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=131072"},
        "resource-monitoring's 50 threads each allocate 800 KB vectors; with "
        "glibc's dynamic mmap threshold, whether those are fresh mmaps or reused "
        "arena memory depends on the threads' timing (the threshold rises when some "
        "thread frees an mmapped block first), and so do the page faults (55 k to "
        "97 k in the plain build) and the plain build's own wall time. Fixed, every "
        "variant makes the same faults, and the difference is the tool's own cost."),
}


def workload_env(name):
    """The environment workload name runs in ({} for most)."""
    return WORKLOAD_ENV[name][0] if name in WORKLOAD_ENV else {}


def workloads(quick):
    """name -> (program base name, args for wall runs, args for callgrind)."""
    return {name: (program, quick_args, quick_cg) if quick else (program, args, cg)
            for name, (program, args, cg, quick_args, quick_cg) in WORKLOADS.items()}


def overhead_variants(workload):
    """(label, kind, MEMSCOPE_OPTIONS). kind: plain, rtonly, off, record, heaptrack."""
    variants = [("plain", "plain", None)]
    if workload == "churn":
        # Split the default's cost into its parts (churn only, to save time).
        variants += [("runtime linked, not instrumented", "rtonly", None),
                     ("instrumented, not recording", "off", None)]
    variants += [("memscope default", "record", ""),
                 ("memscope SamplingConfig{0.01, 1024}", "record", DESIGN_OPTIONS),
                 ("memscope exact", "record", "exact=1")]
    if shutil.which("heaptrack"):
        variants.append(("heaptrack", "heaptrack", None))
    return variants


def variant_command(bench, program, kind, options, args, log_dir, extra=None):
    """(command, env vars to show, env); extra: the workload's own env."""
    extra = extra or {}
    if kind == "plain":
        return [bench.bin(f"{program}-plain")] + args, dict(extra), bench.env(extra=extra)
    if kind == "rtonly":
        return ([bench.bin(f"{program}-rtonly")] + args, dict(extra),
                bench.env(extra=extra))
    if kind == "off":
        return ([bench.bin(f"{program}-memscope")] + args, dict(extra),
                bench.env(extra=extra))
    if kind == "heaptrack":
        return (["heaptrack", "-o", log_dir, bench.bin(f"{program}-plain")] + args,
                dict(extra), bench.env(extra=extra))
    shown = dict(extra)
    shown["MEMSCOPE_OUT"] = "logs"
    if options:
        shown["MEMSCOPE_OPTIONS"] = options
    return ([bench.bin(f"{program}-memscope")] + args, shown,
            bench.env(out=log_dir, options=options, extra=extra))


RECORD_HEADER = struct.Struct("<BBHI")  # type, flags, payload_size, crc
LOG_FILE_HEADER = 64


def written_bytes(path):
    """The bytes of a log file that hold data: the 64-byte file header and
    the 8-byte-aligned records up to the first all-zero record header (or the
    end of the file). The runtime extends a file in preallocated zeroed
    windows (docs/log-format.md), so the file's size counts an unwritten
    tail too."""
    size = os.path.getsize(path)
    offset = LOG_FILE_HEADER
    with open(path, "rb") as f:
        while offset + RECORD_HEADER.size <= size:
            f.seek(offset)
            header = f.read(RECORD_HEADER.size)
            if header == bytes(RECORD_HEADER.size):
                break
            _, _, payload_size, _ = RECORD_HEADER.unpack(header)
            offset += (RECORD_HEADER.size + payload_size + 7) & ~7
    return min(offset, size)


def log_sizes(log_dir):
    """(written bytes, bytes on disk) of every *.log file under log_dir."""
    written = on_disk = 0
    for parent, _, names in os.walk(log_dir):
        for name in names:
            if name.endswith(".log"):
                path = os.path.join(parent, name)
                written += written_bytes(path)
                on_disk += os.stat(path).st_blocks * 512
    return written, on_disk


MERGE_ROUNDS = 5


class MergeJob:
    """The merges of one recording variant's first-round logs, run
    MERGE_ROUNDS times each, interleaved with the other variants' (a slow
    spell of this VM then hits memscope-merge and heaptrack_print alike):
    heaptrack_print of heaptrack's trace, or memscope-merge, once with an
    empty symbol cache, as a first merge on a machine is, and once with the
    symbols an earlier merge of the same logs kept (merge_warm_seconds; the
    best case, every address known). The median wall time and the largest
    peak RSS are given; for Memscope also the events the report counts
    (allocations + frees: exact in exact mode, estimates when sampled) and
    its raw samples."""

    def __init__(self, bench, kind, log_dir, found, index):
        """Fills found with the size of what the variant wrote to log_dir,
        and keeps it for the merges. Raises on a failure."""
        self.bench, self.kind, self.found = bench, kind, found
        self.kept = bench.fresh_dir(f"merge-input-{index}")
        self.runs, self.warm = [], []
        if kind == "heaptrack":
            # heaptrack -o logs writes logs.zst (logs.gz without zstd).
            prefix = os.path.basename(log_dir) + "."
            traces = sorted(n for n in os.listdir(os.path.dirname(log_dir))
                            if n.startswith(prefix))
            if not traces:
                raise BenchError(f"heaptrack wrote no trace file {log_dir}.*")
            st = os.stat(os.path.join(os.path.dirname(log_dir), traces[0]))
            found.update({"log_file": traces[0], "log_bytes": st.st_size,
                          "log_bytes_on_disk": st.st_blocks * 512,
                          "merge_tool": "heaptrack_print"})
            os.makedirs(self.kept)
            trace = os.path.join(self.kept, traces[0])
            shutil.move(os.path.join(os.path.dirname(log_dir), traces[0]), trace)
            self.command = [shutil.which("heaptrack_print") or "heaptrack_print", trace]
            return
        found["log_bytes"], found["log_bytes_on_disk"] = log_sizes(log_dir)
        found["merge_tool"] = "memscope-merge"
        shutil.move(log_dir, self.kept)
        self.report = bench.fresh_dir(f"merge-report-{index}")
        self.cache = bench.fresh_dir(f"merge-symbol-cache-{index}")
        self.cold_cache = bench.fresh_dir(f"merge-symbol-cache-cold-{index}")
        # Everything the API's finalize() does: merge, analyse, symbolize,
        # write the JSON report and the text summary.
        self.command = [bench.bin("memscope-merge"), self.kept, "-o", self.report, "-q",
                        "--symbol-cache"]

    def prepare(self):
        """memscope-merge: one run, not timed, that fills the warm cache and
        writes the report the events are read from."""
        if self.kind == "heaptrack":
            return
        self.bench.run(self.command + [self.cache], self.bench.env(), own_rss=True)
        with open(os.path.join(self.report, "analysis.json")) as f:
            summary = json.load(f)["summary"]
        self.found["events"] = summary["total_allocations"] + summary["total_frees"]
        if "samples" in summary:
            self.found["samples"] = summary["samples"]
        self.found["exact"] = summary.get("exact")

    def run_once(self):
        if self.kind == "heaptrack":
            self.runs.append(self.bench.run(self.command, self.bench.env(), own_rss=True))
            return
        shutil.rmtree(self.cold_cache, ignore_errors=True)
        self.runs.append(self.bench.run(self.command + [self.cold_cache], self.bench.env(),
                                        own_rss=True))
        self.warm.append(self.bench.run(self.command + [self.cache], self.bench.env(),
                                        own_rss=True))

    def finish(self):
        self.found["merge_seconds"] = statistics.median(r["wall"] for r in self.runs)
        self.found["merge_peak_rss"] = max(r["maxrss"] for r in self.runs + self.warm)
        if self.warm:
            self.found["merge_warm_seconds"] = statistics.median(r["wall"] for r in self.warm)

    def clean(self):
        for path in (self.kept, getattr(self, "report", None), getattr(self, "cache", None),
                     getattr(self, "cold_cache", None)):
            if path:
                shutil.rmtree(path, ignore_errors=True)


def run_merges(jobs, name):
    """Every job's merges, interleaved; a job that fails is marked
    merge_failed in its figures and the others go on."""
    def attempt(job, step):
        try:
            step()
            return True
        except Exception as error:  # any failure: this variant's merge only
            job.found["merge_failed"] = failure_text(error)
            progress(f"overhead: {name}: merge FAILED: {headline(job.found['merge_failed'])}")
            return False
    try:
        jobs = [job for job in jobs if attempt(job, job.prepare)]
        for _ in range(MERGE_ROUNDS):
            jobs = [job for job in jobs if attempt(job, job.run_once)]
        for job in jobs:
            job.finish()
    finally:
        for job in jobs:
            job.clean()


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


# --------------------------------------------------------------------------
# Accuracy


def site_key(site):
    """A site across runs: its kind, its first frame in user code and its own
    source position (ids of indirect sites depend on the sampled stacks)."""
    user = site.get("user_frame") or site
    return (site["kind"], os.path.basename(user.get("file") or "?"), user.get("line", 0),
            user.get("function", ""), os.path.basename(site.get("file") or "?"),
            site.get("line", 0))


def sites_by_key(analysis):
    """Entries of one key (an indirect site split by stack) are summed; so
    are their intervals' ends, a slightly wider interval than the sum's."""
    merged = {}
    for site in analysis["sites"]:
        entry = merged.setdefault(site_key(site), {
            "bytes": 0, "allocations": 0, "bytes_interval": [0, 0],
            "allocations_interval": [0, 0]})
        entry["bytes"] += site["bytes"]
        entry["allocations"] += site["allocations"]
        for figure in ("bytes", "allocations"):
            interval = site.get(f"{figure}_interval") or [site[figure]] * 2
            entry[f"{figure}_interval"][0] += interval[0]
            entry[f"{figure}_interval"][1] += interval[1]
    return merged


def record(bench, program, args, options, tag):
    log_dir = bench.fresh_dir(f"acc-{tag}")
    bench.run([bench.bin(f"{program}-memscope")] + args, bench.env(out=log_dir, options=options))
    analysis = bench.merge(log_dir, log_dir + "-report")
    shutil.rmtree(log_dir, ignore_errors=True)
    shutil.rmtree(log_dir + "-report", ignore_errors=True)
    return analysis


def truth_of(bench, program, args):
    """The exact run's summary and its sites with at least 1% of all bytes;
    cached, since the accuracy section and the curve share one."""
    key = (program, tuple(args))
    if key in bench.truths:
        return bench.truths[key]
    exact = record(bench, program, args, "exact=1", "exact")
    total = exact["summary"]["total_bytes"]
    sites = sites_by_key(exact)
    significant = {k: v for k, v in sites.items() if v["bytes"] >= 0.01 * total}
    # An exact run also reports the runtime's count of its peak: the count
    # against the events' peak of one execution.
    counted = [p.get("counted_peak_live_bytes") for p in exact["processes"]]
    bench.truths[key] = {"summary": exact["summary"], "sites": significant,
                         "counted_peak": max((c for c in counted if c is not None),
                                             default=None)}
    return bench.truths[key]


def compare(truth, estimates):
    """Errors of sampled runs against the exact run, pooled over runs."""
    total = truth["summary"]["total_bytes"]
    # A multi-threaded program's peak depends on how its threads ran, which
    # differs from run to run (and exact mode runs slower): the sampled runs'
    # peaks are compared with the median of several exact runs' peaks.
    peak = statistics.median(truth["exact_peaks"])
    errors_bytes, errors_count, totals, peaks = [], [], [], []
    per_site = {key: [] for key in truth["sites"]}
    # Issue #14: how often each interval holds the exact value, the values
    # themselves (for the bias test), and whether the counted totals equal
    # exact mode's.
    covered = {"bytes": [], "allocations": []}
    values = {key: {"bytes": [], "allocations": []} for key in truth["sites"]}
    peak_covered, totals_equal = [], []
    empty = {"bytes": 0, "allocations": 0, "bytes_interval": [0, 0],
             "allocations_interval": [0, 0]}
    for estimate in estimates:
        sites = sites_by_key(estimate)
        for key, true_site in truth["sites"].items():
            est = sites.get(key, empty)
            eb = (est["bytes"] - true_site["bytes"]) / true_site["bytes"]
            ec = (est["allocations"] - true_site["allocations"]) / true_site["allocations"]
            errors_bytes.append(eb)
            errors_count.append(ec)
            per_site[key].append(eb)
            for figure in ("bytes", "allocations"):
                low, high = est[f"{figure}_interval"]
                covered[figure].append(low <= true_site[figure] <= high)
                values[key][figure].append(est[figure])
        totals.append((estimate["summary"]["total_bytes"] - total) / total)
        peaks.append((estimate["summary"]["peak_live_bytes"] - peak) / peak)
        interval = estimate["summary"].get("peak_live_bytes_interval") or [None, None]
        peak_covered.append(interval[0] is not None and interval[0] <= peak <= interval[1])
        summary = estimate["summary"]
        totals_equal.append(bool(summary.get("totals_exact")) and
                            summary["total_allocations"] == truth["summary"]["total_allocations"]
                            and summary["total_bytes"] == total)

    def bias(key, figure):
        """The seeds' mean against the exact value, in standard errors of
        that mean (0 when every seed gave the exact value)."""
        xs = values[key][figure]
        exact = truth["sites"][key][figure]
        if len(xs) < 2:
            return 0.0
        error = statistics.stdev(xs) / len(xs) ** 0.5
        mean = statistics.mean(xs)
        return 0.0 if error == 0 and mean == exact else (
            math.inf if error == 0 else (mean - exact) / error)

    def within(errors, bound):
        return sum(1 for e in errors if abs(e) <= bound) / len(errors)

    describe = []
    for key, true_site in truth["sites"].items():
        errs = per_site[key]
        via = f", in {key[4]}:{key[5]}" if (key[4], key[5]) != (key[1], key[2]) else ""
        describe.append({
            "site": f"{key[1]}:{key[2]} ({key[0]}{via})", "function": key[3],
            "share": true_site["bytes"] / total, "bytes": true_site["bytes"],
            "allocations": true_site["allocations"],
            "mean_abs_error": statistics.mean(abs(e) for e in errs),
            "worst_error": max(errs, key=abs),
            "bias_bytes_se": bias(key, "bytes"),
            "bias_allocations_se": bias(key, "allocations"),
        })
    return {
        "runs": len(estimates),
        "sites": len(truth["sites"]),
        "bytes_mean_abs_error": statistics.mean(abs(e) for e in errors_bytes),
        "count_mean_abs_error": statistics.mean(abs(e) for e in errors_count),
        "bytes_within_5": within(errors_bytes, 0.05),
        "count_within_5": within(errors_count, 0.05),
        "total_bytes_mean_abs_error": statistics.mean(abs(e) for e in totals),
        "total_bytes_worst_error": max(totals, key=abs),
        "total_bytes_within_2": within(totals, 0.02),
        "peak_mean_abs_error": statistics.mean(abs(e) for e in peaks),
        "peak_worst_error": max(peaks, key=abs),
        "peak_mean_error": statistics.mean(peaks),
        "peak_interval_coverage": sum(peak_covered) / len(peak_covered),
        "exact_peaks": truth["exact_peaks"],
        "default_peak_range": [min(e["summary"]["peak_live_bytes"] for e in estimates),
                               max(e["summary"]["peak_live_bytes"] for e in estimates)],
        "peak_methods": sorted({e["summary"].get("peak_live_bytes_method", "sampled")
                                for e in estimates}),
        # The exact run's own count against its events: the method's error
        # on one execution, without the scheduling differences between runs.
        "peak_same_run_error": ((truth["counted_peak"] - truth["summary"]["peak_live_bytes"])
                                / truth["summary"]["peak_live_bytes"]
                                if truth.get("counted_peak") is not None else None),
        "coverage_bytes": sum(covered["bytes"]) / len(covered["bytes"]),
        "coverage_allocations": sum(covered["allocations"]) / len(covered["allocations"]),
        "worst_bias_se": max((max(abs(s["bias_bytes_se"]), abs(s["bias_allocations_se"]))
                              for s in describe), default=0.0),
        "totals_equal_runs": sum(totals_equal),
        "per_site": sorted(describe, key=lambda s: -s["share"]),
    }


def accuracy_workloads(quick):
    """Deterministic workloads: the bytes of every site do not depend on how
    the threads are scheduled. The design page's web-server and database-pool
    run at their own sizes, which are small for a byte sample."""
    if quick:
        return {"churn": ("churn", ["2", "200000"]), "containers": ("containers", ["2", "20000"]),
                "web-server": ("web-server", ["20", "200", "0"])}
    return {"churn": ("churn", ["2", "4000000"]), "containers": ("containers", ["4", "600000"]),
            "web-server": ("web-server", ["20", "1000", "0"]),
            "database-pool": ("database-pool", ["50", "200", "10", "0"])}


EXACT_PEAK_RUNS = 5


def accuracy(bench, runs, quick):
    results = {}
    for name, (program, args) in accuracy_workloads(quick).items():
        truth = truth_of(bench, program, args)
        if "exact_peaks" not in truth:
            truth["exact_peaks"] = [truth["summary"]["peak_live_bytes"]] + [
                record(bench, program, args, "exact=1", f"exact-{run}")["summary"]
                ["peak_live_bytes"] for run in range(1, EXACT_PEAK_RUNS)]
            progress(f"accuracy: {name}: {EXACT_PEAK_RUNS} exact runs' peaks")
        estimates = []
        for run in range(runs):
            estimates.append(record(bench, program, args, f"seed={run + 1}", f"default-{run}"))
            progress(f"accuracy: {name}: run {run + 1}/{runs}")
        result = compare(truth, estimates)
        sampling = estimates[0]["summary"]["sampling"]
        result.update({
            "program": program, "args": args,
            "total_bytes": truth["summary"]["total_bytes"],
            "total_allocations": truth["summary"]["total_allocations"],
            "peak_live_bytes": truth["summary"]["peak_live_bytes"],
            "default_interval": sampling["interval_bytes"], "default_mode": sampling["mode"],
            "samples_per_run": statistics.mean(e["summary"]["samples"] for e in estimates),
        })
        results[name] = result
    return results


# --------------------------------------------------------------------------
# Sampling curve


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


# --------------------------------------------------------------------------
# Scale


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
            apparent, on_disk, files = dir_sizes(log_dir)
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
                "log_bytes": apparent, "log_bytes_on_disk": on_disk, "log_files": files,
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
            progress(f"scale: {threads} threads, {mode}: logs {apparent / 1e6:.2f} MB, "
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


# --------------------------------------------------------------------------
# Disk: what a service's logs take, with and without max_log_size

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
        apparent, on_disk, files = dir_sizes(log_dir)
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
            "log_bytes": apparent, "log_bytes_on_disk": on_disk, "log_files": files,
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


# --------------------------------------------------------------------------
# Fast paths and the resource collector


def fastpath(bench, quick):
    """ns per operation, plain and instrumented (recording at the default)."""
    results = {}
    for variant in ("plain", "memscope"):
        log_dir = bench.fresh_dir("fastpath-logs")
        env = bench.env(out=log_dir) if variant == "memscope" else bench.env()
        command = [bench.bin(f"fastpath-{variant}"), "--benchmark_format=json",
                   "--benchmark_repetitions=" + ("2" if quick else "5"),
                   "--benchmark_report_aggregates_only=true"]
        if quick:
            command.append("--benchmark_min_time=0.02")
        out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise BenchError(f"`{' '.join(command)}` failed (exit {out.returncode}):\n"
                             f"{out.stderr[-2000:]}")
        for bench_result in json.loads(out.stdout)["benchmarks"]:
            if bench_result.get("aggregate_name") == "median":
                results.setdefault(bench_result["run_name"], {})[variant] = \
                    bench_result["real_time"]
        shutil.rmtree(log_dir, ignore_errors=True)
        progress(f"fastpath: {variant} done")
    return results


STACKWALK_BENCHMARKS = (("full_unwinder", "BM_StackFullUnwinder"),
                        ("cached_rules", "BM_StackCachedRules"),
                        ("memo", "BM_StackMemo"))


def stackwalk(bench, quick):
    """ns per stack of a sampled allocation's walk, _Unwind_Backtrace against
    the runtime's cached unwind rules (bench/stack-walk.cpp): medians of the
    repetitions, with the frames each walk found."""
    repetitions = 2 if quick else 5
    command = [bench.bin("stack-walk"), "--benchmark_format=json",
               f"--benchmark_repetitions={repetitions}",
               "--benchmark_report_aggregates_only=true"]
    if quick:
        command.append("--benchmark_min_time=0.02")  # as fastpath() passes it
    out = subprocess.run(command, env=bench.env(), capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise BenchError(f"`{' '.join(command)}` failed (exit {out.returncode}):\n"
                         f"{out.stderr[-2000:]}")
    medians = {b["run_name"]: b for b in json.loads(out.stdout)["benchmarks"]
               if b.get("aggregate_name") == "median"}
    to_ns = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    result = {"command": sh_command({}, command), "repetitions": repetitions}
    for key, name in STACKWALK_BENCHMARKS:
        if name not in medians:
            raise BenchError(f"`{' '.join(command)}` reported no median of {name} (found: "
                             f"{', '.join(sorted(medians)) or 'none'})")
        found = medians[name]
        ns = found["real_time"] * to_ns[found.get("time_unit", "ns")]
        frames = found.get("frames")
        result[key] = {"benchmark": name, "ns_per_stack": ns, "frames": frames,
                       "ns_per_frame": ns / frames if frames else None}
    result["speedup"] = result["full_unwinder"]["ns_per_stack"] / \
        result["cached_rules"]["ns_per_stack"]
    progress(f"stackwalk: done, cached rules {result['speedup']:.1f}x faster")
    return result


def collector_cost(bench, quick):
    seconds = "0.5" if quick else "2"
    result = subprocess.run([bench.bin("collector-cost"), seconds], capture_output=True,
                            text=True, check=True)
    progress("collector: done")
    return dict(json.loads(result.stdout), seconds=float(seconds))


# --------------------------------------------------------------------------
# Targets


def verdict(ok):
    """met, not met, or (None) not measured."""
    return "**not measured**" if ok is None else "**met**" if ok else "**not met**"


def failed(data):
    """The reason a section or a workload failed, or None."""
    return data.get("failed") if isinstance(data, dict) else None


def targets(results):
    """The targets of the sections that ran; those of a section or workload
    that failed are listed as not measured (met None)."""
    rows = []
    for section in ("overhead", "accuracy", "scale"):  # the sections with targets
        if failed(results.get(section)):
            rows.append((f"The targets of the {section} section", "–",
                         "not measured: the section failed", None))
    over = results.get("overhead")
    if over and not failed(over):
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
    acc = results.get("accuracy")
    if acc and not failed(acc):
        for name, a in acc.items():
            rows.append((f"Accuracy ({name}): sites ≥1% of bytes within ±5%",
                         f"≥ {TARGETS['sites_within_5']:.0%}", f"{a['bytes_within_5']:.1%}",
                         a["bytes_within_5"] >= TARGETS["sites_within_5"]))
            worst = a["total_bytes_worst_error"]
            rows.append((f"Accuracy ({name}): total bytes, worst of {a['runs']} runs",
                         f"within ±{TARGETS['total_bytes_error']:.0%}", f"{worst:+.2%}",
                         abs(worst) <= TARGETS["total_bytes_error"]))
            if "coverage_bytes" not in a:
                continue
            for figure in ("bytes", "allocations"):
                c = a[f"coverage_{figure}"]
                rows.append((f"Fidelity ({name}): 95% intervals of sites ≥1% of bytes "
                             f"holding the exact {figure}, {a['runs']} seeds",
                             f"{TARGETS['coverage_low']:.0%}–{TARGETS['coverage_high']:.0%}",
                             f"{c:.1%}",
                             TARGETS["coverage_low"] <= c <= TARGETS["coverage_high"]))
            rows.append((f"Fidelity ({name}): no bias, worst site's mean over "
                         f"{a['runs']} seeds (bytes and allocations)",
                         f"within {TARGETS['bias_standard_errors']:.0f} standard errors",
                         f"{a['worst_bias_se']:.2f} standard errors",
                         a["worst_bias_se"] <= TARGETS["bias_standard_errors"]))
            rows.append((f"Fidelity ({name}): peak live bytes at the default setting, "
                         f"worst of {a['runs']} seeds against the median of "
                         f"{len(a.get('exact_peaks', [0]))} exact runs' peaks",
                         f"within ±{TARGETS['peak_error']:.0%}",
                         f"{a['peak_worst_error']:+.1%} (mean {a['peak_mean_error']:+.1%}; "
                         f"{'/'.join(a.get('peak_methods', ['sampled']))}; its range held the "
                         f"exact peak in {a['peak_interval_coverage']:.0%} of runs; the default "
                         f"runs' peaks {size(a['default_peak_range'][0])}–"
                         f"{size(a['default_peak_range'][1])}, the exact runs' "
                         f"{size(min(a['exact_peaks']))}–{size(max(a['exact_peaks']))})",
                         abs(a["peak_worst_error"]) <= TARGETS["peak_error"]))
            if a.get("peak_same_run_error") is not None:
                rows.append((f"Fidelity ({name}): counted peak of the exact run against its "
                              f"own events' peak",
                              f"within ±{TARGETS['peak_error']:.0%}",
                              f"{a['peak_same_run_error']:+.2%}",
                              abs(a["peak_same_run_error"]) <= TARGETS["peak_error"]))
            rows.append((f"Fidelity ({name}): counted totals equal exact mode's",
                         f"all {a['runs']} seeds",
                         f"{a['totals_equal_runs']} of {a['runs']} "
                         f"({a['total_allocations']:,} allocations)",
                         a["totals_equal_runs"] == a["runs"]))
    sc = results.get("scale")
    if sc and not failed(sc):
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
    dk = results.get("disk")
    if dk and not failed(dk):
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
    if "disk" in results and failed(results["disk"]):
        rows.append(("The targets of the disk section", "–", "not measured: the section failed",
                     None))
    return [{"target": t, "bound": b, "measured": m, "met": ok} for t, b, m, ok in rows]


def added(seconds):
    """A difference of wall times, in ms below a second."""
    return f"{seconds * 1000:+.1f} ms" if abs(seconds) < 1 else f"{seconds:+.2f} s"


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


def failures(results):
    """(what, reason) of everything that failed: sections, workloads of the
    overhead, callgrind counts, logs and merges, the plot."""
    found = [(section, failed(results.get(section))) for section in SECTIONS
             if failed(results.get(section))]
    over = results.get("overhead")
    if over and not failed(over):
        for name, data in over.items():
            if failed(data):
                found.append((f"overhead: {name}", failed(data)))
            for label, reason in data.get("instructions_failed", {}).items():
                found.append((f"overhead: {name}: callgrind of {label}", reason))
            for r in data.get("rows", []):
                if r.get("merge_failed"):
                    found.append((f"overhead: {name}: logs and merge of {r['variant']}",
                                  r["merge_failed"]))
    cv = results.get("curve")
    if cv and cv.get("plot_failed"):
        found.append(("curve: plot", cv["plot_failed"]))
    return found


# --------------------------------------------------------------------------
# The page


def percent(x):
    return f"{x * 100:.1f}%"


def size(n):
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    if n >= 1e6:
        return f"{n / 1e6:.2f} MB"
    return f"{n / 1e3:.1f} kB"


def ratio(x):
    return "–" if x is None else f"{x:.3f}"


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


def render(results, command, image):
    lines = []
    add = lines.append
    info = results["machine"]

    def failure(reason):
        add("```")
        add(reason.strip())
        add("```")
        add("")

    def heading(key):
        """A section's title and the command that reruns it alone."""
        add(f"## {SECTION_TITLES[key]}")
        add("")
        add("```sh")
        add(f"{command} --only {key}")
        add("```")
        add("")

    def section(key):
        """The section's results; for one that failed, its heading and why."""
        data = results.get(key)
        if not failed(data):
            return data
        add(f"## {SECTION_TITLES[key]}")
        add("")
        add(f"**FAILED**; nothing of this section was measured. Rerun it with "
            f"`{command} --only {key}`. The reason:")
        add("")
        failure(failed(data))
        return None

    add("# Memscope performance")
    add("")
    add("<!-- Generated by bench/run_bench.py from its own measurements; do not edit by hand. -->")
    add("")
    add(f"Measured {info['date']}. Reproduce everything with:")
    add("")
    add("```sh")
    add(command)
    add("```")
    add("")
    add(f"(`--only <section>` reruns one section; the full run took "
        f"{results['duration_seconds'] / 60:.1f} min.)")
    add("")
    failed_parts = failures(results)
    if failed_parts:
        add("**Incomplete: parts of this run FAILED** (" +
            "; ".join(what for what, _ in failed_parts) + "). Each is marked FAILED below "
            "with the reason; everything else was measured.")
        add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| CPU | {info['cpu']}, {info['cpus']} CPUs, hypervisor {info['hypervisor']} |")
    add(f"| caches | {info['caches']} |")
    add(f"| memory | {info['memory_gib']} GiB |")
    add(f"| system | `{info['uname']}` |")
    add(f"| compiler | {info['compiler']} (`-O2`, plain and instrumented alike) |")
    add(f"| tools | {info['valgrind']}, heaptrack {info['heaptrack']}, Python {info['python']} |")
    load = ", ".join(f"{x:.2f}" for x in info["load_average_at_start"])
    add(f"| load average at start | {load} |")
    add("")

    tg = results.get("targets")
    if tg:
        add("## Targets (issue #7)")
        add("")
        add("| target | bound | measured | |")
        add("|---|---|---|---|")
        for row in tg:
            add(f"| {row['target']} | {row['bound']} | {row['measured']} | {verdict(row['met'])} |")
        add("")

    over = section("overhead")
    if over:
        heading("overhead")
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

    acc = section("accuracy")
    if acc:
        heading("accuracy")
        add("The workloads are deterministic (fixed per-thread seeds), so one exact-mode run "
            "gives the true bytes and allocations of every site. Default-mode runs with "
            "different sampling seeds (`MEMSCOPE_OPTIONS=seed=N`) are compared with it, site "
            "by site (kind, first user frame and the site's own file:line, from "
            "memscope-merge's analysis.json), for "
            "every site holding at least 1% of all bytes. Errors are pooled over sites and "
            "runs.")
        add("")
        names = list(acc)
        add("| measure | " + " | ".join(names) + " |")
        add("|---|" + "---:|" * len(names))

        def row(label, fn):
            add(f"| {label} | " + " | ".join(fn(acc[n]) for n in names) + " |")

        row("command", lambda a: f"`{a['program']}-memscope {' '.join(a['args'])}`")
        row("allocations (exact)", lambda a: f"{a['total_allocations']:,}")
        row("bytes (exact)", lambda a: size(a["total_bytes"]))
        row("sampling", lambda a: f"{a['default_mode']}, {a['default_interval'] // KIB} KiB")
        row("samples per run", lambda a: f"{a['samples_per_run']:,.0f}")
        row("runs", lambda a: str(a["runs"]))
        row("sites with ≥1% of bytes", lambda a: str(a["sites"]))
        row("mean abs. error, bytes per site", lambda a: percent(a["bytes_mean_abs_error"]))
        row("mean abs. error, allocations per site",
            lambda a: percent(a["count_mean_abs_error"]))
        row("site estimates within ±5% (bytes)", lambda a: percent(a["bytes_within_5"]))
        row("site estimates within ±5% (allocations)", lambda a: percent(a["count_within_5"]))
        row("total bytes, mean abs. error", lambda a: percent(a["total_bytes_mean_abs_error"]))
        row("total bytes, worst error", lambda a: percent(a["total_bytes_worst_error"]))
        row("total bytes, expected standard error sqrt(T/B)",
            lambda a: percent((a["default_interval"] / a["total_bytes"]) ** 0.5))
        row("peak live bytes, mean abs. error", lambda a: percent(a["peak_mean_abs_error"]))
        row("peak live bytes, worst error", lambda a: percent(a["peak_worst_error"]))
        row("peak live bytes (exact)", lambda a: size(a["peak_live_bytes"]))
        for label, key in (("95% intervals holding the exact bytes (sites)", "coverage_bytes"),
                           ("95% intervals holding the exact allocations (sites)",
                            "coverage_allocations"),
                           ("peak live bytes, mean error (bias)", "peak_mean_error"),
                           ("peak's range holding the exact peak",
                            "peak_interval_coverage")):
            row(label, lambda a, key=key: percent(a.get(key, float("nan"))))
        row("worst site's bias (mean over seeds − exact, in standard errors)",
            lambda a: f"{a.get('worst_bias_se', float('nan')):.2f}")
        row("runs whose counted totals equal exact mode's",
            lambda a: f"{a.get('totals_equal_runs', 0)} of {a['runs']}")
        add("")
        for name in names:
            add(f"**{name}**, per site:")
            add("")
            add("| site | function | share of bytes | mean abs. error | worst error | "
                "bias, bytes (SE) | bias, allocations (SE) |")
            add("|---|---|---:|---:|---:|---:|---:|")
            for s in acc[name]["per_site"]:
                add(f"| {s['site']} | `{s['function']}` | {percent(s['share'])} | "
                    f"{percent(s['mean_abs_error'])} | {percent(s['worst_error'])} | "
                    f"{s.get('bias_bytes_se', float('nan')):+.2f} | "
                    f"{s.get('bias_allocations_se', float('nan')):+.2f} |")
            add("")
        add("The intervals are memscope-merge's `bytes_interval` and `allocations_interval` "
            "(docs/analysis-schema.md, \"Intervals\"); the bias of a site is the mean of its "
            "estimates over the seeds minus the exact value, in standard errors of that mean "
            "(the seeds' standard deviation / sqrt(seeds)). The totals are the runtime's "
            "counts, not estimates (\"Counted totals\"): a run whose `total_allocations` and "
            "`total_bytes` equal exact mode's counts as equal.")
        add("")
        add("A Poisson byte sample of a site with B bytes at mean interval T has about B/T "
            "samples and a relative standard error of about sqrt(T/B): ±5% at two standard "
            "errors needs B ≥ 1600·T, 400 MiB at 256 KiB.")
        add("")
        add("Peak live bytes is not estimated from the samples but counted by the runtime "
            "(`peak_live_bytes_method` \"counted\"; docs/architecture.md, \"The peak is "
            "counted\"): the maximum of the sampled curve was biased upwards by +55% to "
            "+580% on these workloads. The count is in glibc's chunk bytes, turned into "
            "requested bytes with glibc's overhead per block, that of the sampled blocks "
            "live at the peak, and its range is an allowance for the count's two errors, "
            "neither a 95% interval nor a bound. The peak of a multi-threaded "
            "program depends on how its threads were scheduled, which differs between a "
            "default run and the slower exact run; the row *counted peak of the exact run "
            "against its own events' peak* measures the method on one execution.")
        add("")

    cv = section("curve")
    if cv:
        heading("curve")
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

    sc = section("scale")
    if sc:
        heading("scale")
        add(f"`advanced` with N threads × {sc['iterations']} iterations (a 10,000-element vector "
            "per iteration), sleeps off, built with `-DMEMSCOPE_EXAMPLE_WORKLOAD_ONLY` and "
            "recorded through `MEMSCOPE_OUT`: with the example's own SamplingConfig{0.01, "
            f"1024, 1 MiB}} (`{ADVANCED_OPTIONS}`) and at the default. Medians of "
            f"{sc['repeats']} runs. *Logs*: the bytes of the per-thread log files (on disk, "
            "with the preallocated tails, in brackets). *Merge*: `memscope-merge logs -o "
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

    dk = section("disk")
    if dk:
        heading("disk")
        add(f"`bench/service-load.cpp`: 4 workers × {dk['rounds']:,} requests of eight "
            "allocations (16 B to 4 KiB, eight sites), each replacing a random block of a "
            "steady live set of 4,096 blocks per worker, as fast as the machine allows. "
            "*On disk*: every file of the process folder, with the windows' preallocated "
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

    fast = section("fastpath")
    if fast:
        heading("fastpath")
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

    walk = section("stackwalk")
    if walk:
        heading("stackwalk")
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

    col = section("collector")
    if col:
        heading("collector")
        add(f"`bench/collector-cost.cpp` idles for {col['seconds']:g} s while "
            f"`PlatformResourceCollector` samples every millisecond: {col['samples']} samples "
            f"used {col['cpu_seconds'] * 1000:.1f} ms of CPU, **{col['cpu_us_per_sample']:.1f} µs "
            f"per sample** (/proc/self/stat, statm and io, and getrusage). At the default 50 ms "
            f"interval that is {col['cpu_us_per_sample'] / 50000 * 100:.3f}% of one core.")
        add("")
    return "\n".join(lines)


# --------------------------------------------------------------------------


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
    args = parser.parse_args()

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
    image_rel = "images/perf-sampling-curve.svg"
    image = os.path.join(os.path.dirname(out), image_rel)

    needed = ["memscope-merge", "memscope-clang++"]
    if "overhead" in sections:
        needed += [f"{p}-{v}" for p, _, _ in workloads(args.quick).values()
                   for v in ("plain", "memscope")] + ["churn-rtonly"]
        needed_tools = ["valgrind", "objcopy"]
    else:
        needed_tools = ["objcopy", "valgrind"] if "curve" in sections else []
    if "accuracy" in sections:
        needed += [f"{p}-memscope" for p, _ in accuracy_workloads(args.quick).values()]
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
        cv = curve(bench, args.quick, rounds, curve_runs)
        # The runtime's default interval, as the analysis reports it.
        probe = record(bench, "churn", ["1", "1000"], "", "probe")
        cv["current_default"] = probe["summary"]["sampling"]["interval_bytes"]
        chosen = choose_default(cv["points"])
        cv["supported_default"] = chosen["interval"] if chosen else None
        return cv

    measures = {
        "overhead": lambda bench: overhead(bench, rounds, args.quick),
        "accuracy": lambda bench: accuracy(bench, acc_runs, args.quick),
        "curve": curve_section,
        "scale": lambda bench: scale(bench, args.quick, 2 if args.quick else 3),
        "disk": lambda bench: disk(bench, args.quick),
        "fastpath": lambda bench: fastpath(bench, args.quick),
        "stackwalk": lambda bench: stackwalk(bench, args.quick),
        "collector": lambda bench: collector_cost(bench, args.quick),
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
            plot(results["curve"], image)
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
    page = render(results, command, image_rel)
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
