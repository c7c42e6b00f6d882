"""What a recorded run wrote (log bytes, events) and how long memscope-merge
and heaptrack_print take on it, merges of all variants interleaved."""
import json
import os
import shutil
import statistics
import struct

from .common import BenchError, failure_text, headline, progress


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
