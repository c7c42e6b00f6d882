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


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    s = data["summary"]
    print(f"summary processes={s['process_count']} threads={s['thread_count']} "
          f"allocations={s['total_allocations']} bytes={s['total_bytes']} "
          f"live_allocations={s['live_allocations_at_exit']} live_bytes={s['live_bytes_at_exit']} "
          f"peak={s['peak_live_bytes']} exact={int(bool(s['exact']))} mode={s['sampling']['mode']}")
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
        print(f"thread id={t['thread_id']} name={t['name']} allocations={t['allocations']} "
              f"bytes={t['bytes']} running={int(bool(t['running_at_exit']))}")


if __name__ == "__main__":
    main()
