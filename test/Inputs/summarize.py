#!/usr/bin/env python3
"""Prints analysis.json as flat, sorted lines that FileCheck can match.

  summary processes=1 threads=5 allocations=12014 bytes=... live_bytes=... exact=1
  site kind=new[] at=mt.cpp:9 function=worker(int) allocations=4000 bytes=256000 live_allocations=0 live_bytes=0 threads=4
  thread name=mt allocations=14 bytes=90513 running=0

File names are shown without their folder. Sites are sorted by location so
that checks do not depend on byte ranking.
"""
import json
import os
import sys


def location(frame):
    if not frame or not frame.get("file"):
        return "unknown"
    return f"{os.path.basename(frame['file'])}:{frame['line']}"


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    s = data["summary"]
    print(f"summary processes={s['process_count']} threads={s['thread_count']} "
          f"allocations={s['total_allocations']} bytes={s['total_bytes']} "
          f"live_allocations={s['live_allocations_at_exit']} live_bytes={s['live_bytes_at_exit']} "
          f"peak={s['peak_live_bytes']} exact={int(bool(s['exact']))} mode={s['sampling']['mode']}")
    thread_sum = sum(t["allocations"] for t in data["threads"])
    print(f"threads_sum allocations={thread_sum} total={s['total_allocations']} "
          f"equal={int(thread_sum == s['total_allocations'])}")
    sites = []
    for site in data["sites"]:
        where = f"{os.path.basename(site['file'])}:{site['line']}"
        line = (f"site kind={site['kind']} at={where} function={site['function']} "
                f"allocations={site['allocations']} bytes={site['bytes']} "
                f"live_allocations={site['live_allocations_at_exit']} "
                f"live_bytes={site['live_bytes_at_exit']} threads={site['threads']}")
        if site.get("via"):
            line += f" via={site['via']}"
        sites.append((where, line))
    for _, line in sorted(sites):
        print(line)
    for t in sorted(data["threads"], key=lambda t: t["thread_id"]):
        print(f"thread id={t['thread_id']} name={t['name']} parent={t.get('parent_thread_id', 0)} "
              f"spawned_at={location(t.get('spawn_location'))} "
              f"allocations={t['allocations']} bytes={t['bytes']} "
              f"running={int(bool(t['running_at_exit']))}")
    for s in data.get("spawn_sites", []):
        where = location(s.get("user_frame")) if s.get("id") else "unknown"
        print(f"spawn_site at={where} threads={s['threads_created']} "
              f"running={s['threads_running_at_exit']} allocations={s['allocations']} "
              f"bytes={s['bytes']} creator={os.path.basename(s.get('creator_module') or '')}")
    cross = data.get("cross_thread_frees", {})
    for pair in cross.get("by_site_pair", []):
        print(f"cross_sites alloc_at={location(pair.get('alloc_location'))} "
              f"free_at={location(pair.get('free_location'))} frees={pair['frees']} bytes={pair['bytes']}")
    for pair in cross.get("by_thread_pair", []):
        print(f"cross_threads from={pair['alloc_thread_name']} to={pair['free_thread_name']} "
              f"frees={pair['frees']} bytes={pair['bytes']}")
    for t in data.get("threads_alive_at_exit", []):
        print(f"alive name={t['name']} live_allocations={t['live_allocations_at_exit']} "
              f"live_bytes={t['live_bytes_at_exit']}")


if __name__ == "__main__":
    main()
