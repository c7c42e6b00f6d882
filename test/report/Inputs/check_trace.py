#!/usr/bin/env python3
"""Validates trace.json against the Chrome trace event format and the run.

  check_trace.py trace.json analysis.json

Checks: a {"traceEvents": [...]} object; every event has ph/pid and a
numeric ts where the phase needs one; one process_name per process; one
thread_name and one complete ("X") event per thread, with a thread start
instant, and an end instant for each thread that exited; the live-heap
counter track's maximum equals the process's peak_live_bytes unless that is
counted, and one peak instant carries it; one RSS counter event per resource
sample. Prints one
summary line per process for FileCheck.
"""
import collections
import json
import sys


def fail(message):
    sys.exit("FAIL " + message)


def main():
    trace = json.load(open(sys.argv[1]))
    analysis = json.load(open(sys.argv[2]))
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        fail("no traceEvents array")
    events = trace["traceEvents"]
    by_pid = collections.defaultdict(list)
    for event in events:
        for key in ("ph", "pid", "name"):
            if key not in event:
                fail(f"event without {key}: {event}")
        if event["ph"] in ("X", "i", "C") and not isinstance(event.get("ts"), (int, float)):
            fail(f"event without a numeric ts: {event}")
        if event["ph"] == "X" and (not isinstance(event.get("dur"), (int, float)) or event["dur"] < 0):
            fail(f"complete event without a valid dur: {event}")
        if event["ph"] not in ("M", "X", "i", "C"):
            fail(f"unexpected phase {event['ph']}")
        by_pid[event["pid"]].append(event)
    threads = collections.Counter(t["pid"] for t in analysis["threads"])
    exited = collections.Counter(t["pid"] for t in analysis["threads"] if not t["running_at_exit"])
    for process in analysis["processes"]:
        pid = process["pid"]
        mine = by_pid.get(pid, [])
        names = [e for e in mine if e["ph"] == "M" and e["name"] == "process_name"]
        if len(names) != 1:
            fail(f"pid {pid}: {len(names)} process_name events")
        thread_names = [e for e in mine if e["ph"] == "M" and e["name"] == "thread_name"]
        spans = [e for e in mine if e["ph"] == "X"]
        starts = [e for e in mine if e["ph"] == "i" and e["name"] == "thread start"]
        ends = [e for e in mine if e["ph"] == "i" and e["name"] == "thread end"]
        tids = {e["tid"] for e in thread_names}
        if len(thread_names) != threads[pid] or len(tids) != threads[pid]:
            fail(f"pid {pid}: {len(thread_names)} thread_name events for {threads[pid]} threads")
        if len(spans) != threads[pid] or len(starts) != threads[pid] or len(ends) != exited[pid]:
            fail(f"pid {pid}: {len(spans)} spans, {len(starts)} starts, {len(ends)} ends "
                 f"for {threads[pid]} threads ({exited[pid]} exited)")
        if {e["tid"] for e in spans} != tids:
            fail(f"pid {pid}: thread spans and thread names disagree")
        counter = [e for e in mine if e["ph"] == "C" and e["name"].startswith("live heap")]
        times = [e["ts"] for e in counter]
        if times != sorted(times):
            fail(f"pid {pid}: live heap counter out of order")
        peak = max((e["args"]["bytes"] for e in counter), default=0)
        # The counter track is the sampled curve; a counted peak (the
        # runtime's count of the heap in use) is another, better figure.
        if process["peak_live_bytes_method"] != "counted" and peak != process["peak_live_bytes"]:
            fail(f"pid {pid}: counter peak {peak} != peak_live_bytes {process['peak_live_bytes']}")
        marks = [e for e in mine if e["ph"] == "i" and e["name"] == "peak live heap"]
        if process["peak_live_bytes"] > 0 and [e["args"]["bytes"] for e in marks] != [process["peak_live_bytes"]]:
            fail(f"pid {pid}: peak instants {marks} for peak_live_bytes {process['peak_live_bytes']}")
        rss = [e for e in mine if e["ph"] == "C" and e["name"].startswith("RSS")]
        samples = len((process.get("resources") or {}).get("samples", []))
        if len(rss) != samples:
            fail(f"pid {pid}: {len(rss)} RSS counter events for {samples} resource samples")
        print(f"trace pid={pid} process={names[0]['args']['name']} threads={len(tids)} "
              f"counter_points={len(counter)} peak={peak} rss_points={len(rss)}")


if __name__ == "__main__":
    main()
