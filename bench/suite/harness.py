"""Running the programs: the build, wall and CPU times, peak RSS, callgrind's
instruction counts on copies without debug info, merges; and the machine."""
import datetime
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import threading
import time

from .common import BenchError


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

    def benchmark_medians(self, program, env, repetitions, quick):
        """Runs a Google Benchmark program (bench/fastpath.cpp,
        bench/stack-walk.cpp) with JSON output; returns its command line and
        {benchmark: the entry of its median over the repetitions}, each with
        "real_time_ns" (real_time in its time_unit, as nanoseconds)."""
        command = [program, "--benchmark_format=json",
                   f"--benchmark_repetitions={repetitions}",
                   "--benchmark_report_aggregates_only=true"]
        if quick:
            command.append("--benchmark_min_time=0.02")
        out = subprocess.run(command, env=env, capture_output=True, text=True,
                             timeout=600)
        if out.returncode != 0:
            raise BenchError(f"`{' '.join(command)}` failed (exit {out.returncode}):\n"
                             f"{out.stderr[-2000:]}")
        to_ns = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
        medians = {}
        for entry in json.loads(out.stdout)["benchmarks"]:
            if entry.get("aggregate_name") == "median":
                entry["real_time_ns"] = entry["real_time"] * to_ns[entry.get("time_unit", "ns")]
                medians[entry["run_name"]] = entry
        return command, medians


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
