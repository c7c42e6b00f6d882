#!/usr/bin/env python3
"""Prints how a report spells one source file, for source-paths.test.

  check-paths.py <report-dir> <expected spelling> <text summary>

Lists the instrumented site, the stack-attributed site and the spawn site
of app.cpp, the summary's source_root, and every distinct spelling of
app.cpp found in every output: analysis.json, the text summary,
stacks.folded, trace.json, report.html and profile.pb.gz.
"""
import gzip
import json
import os
import re
import sys

report, _expected, text_path = sys.argv[1:4]
with open(os.path.join(report, "analysis.json")) as f:
    data = json.load(f)

def where(frame):
    return f"{frame['file']}:{frame['line']}"

for site in sorted(data["sites"], key=lambda s: s["line"]):
    if not site["file"].endswith("app.cpp") and not site["user_frame"]["file"].endswith("app.cpp"):
        continue
    if site["kind"] == "new[]":
        print("instrumented site:", where(site))
    elif site["kind"] == "indirect" and site["user_frame"]["line"] == 16:
        print("stack-attributed site:", where(site["user_frame"]))
spawns = [s["user_frame"] for s in data["spawn_sites"]
          if s.get("user_frame") and s["user_frame"]["file"].endswith("app.cpp")]
for frame in sorted(spawns, key=lambda f: f["line"]):
    print("spawn location:", where(frame))
print("source_root:", data["summary"]["source_root"])

pattern = re.compile(rb"[^\s\"'(;:,\[\]<>{}=]*app\.cpp")
spellings = set()
for name in ("analysis.json", "stacks.folded", "trace.json", "report.html"):
    with open(os.path.join(report, name), "rb") as f:
        spellings.update(pattern.findall(f.read()))


def varint(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


# profile.proto's string_table is field 6 of Profile, length-delimited.
with gzip.open(os.path.join(report, "profile.pb.gz")) as f:
    profile = f.read()
at = 0
while at < len(profile):
    key, at = varint(profile, at)
    field, wire = key >> 3, key & 7
    if wire == 0:
        _, at = varint(profile, at)
    elif wire == 2:
        size, at = varint(profile, at)
        if field == 6 and profile[at:at + size].endswith(b"app.cpp"):
            spellings.add(profile[at:at + size])
        at += size
    elif wire == 1:
        at += 8
    elif wire == 5:
        at += 4
    else:
        sys.exit(f"profile.pb.gz: unexpected wire type {wire}")
with open(text_path, "rb") as f:
    spellings.update(pattern.findall(f.read()))
print("spellings of app.cpp:", " ".join(sorted(s.decode() for s in spellings)))
