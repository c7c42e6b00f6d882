#!/usr/bin/env python3
"""Loads report.html in headless Chromium and checks that it rendered.

  check_html.py CHROMIUM REPORT.html [--expect TEXT]...
  check_html.py --static REPORT.html [--expect TEXT]...

Fails (exit 1, one line per problem) on any console message or uncaught
exception, on a page that did not finish (data-report-status != "ok"), on a
missing or empty section, when the page is too large for the DOM budget, and
when a --expect text is not in the rendered page.
Prints "html ok sections=N table-rows=N" on success.

Without Chromium (--static, what lit's %check_html runs when none is
installed) the page cannot be rendered; it checks what it can from the file:
every section's container, the embedded data (valid JSON with the report's
parts), no external resource, and prints "html ok sections=N static (not
rendered: Chromium is not installed)". The --expect texts, which the page's script
renders, are not checked then.
"""
import html
import json
import os
import re
import subprocess
import sys
import tempfile

SECTIONS = ["overview", "processes", "timeline", "resources", "bottlenecks",
            "sites", "types", "flame-types", "flame-allocated", "flame-peak", "thread-tree", "threads",
            "leaks", "temporaries", "cross-thread-frees"]
# A page that renders every row of 10,000 sites would exceed this.
MAX_DOM_ELEMENTS = 20000


def static_check(report):
    with open(report, encoding="utf-8") as f:
        page = f.read()
    problems = []
    for section in SECTIONS:
        if not re.search(r'<section id="%s"' % re.escape(section), page):
            problems.append(f"section {section} missing")
    data = re.search(r'<script id="memscope-data" type="application/json">(.*?)</script>', page, re.S)
    if not data:
        problems.append("no embedded data")
    else:
        try:
            parsed = json.loads(data.group(1).replace("<\\/", "</"))
            for part in ("summary", "sites", "types", "threads", "flame"):
                if part not in parsed:
                    problems.append(f"the embedded data has no {part}")
        except ValueError as error:
            problems.append(f"the embedded data is not JSON: {error}")
    for network in re.findall(r'(?:src|href)="(https?:[^"]*)"', page):
        problems.append("external resource: " + network)
    if problems:
        for problem in problems:
            print("FAIL " + problem)
        return 1
    print(f"html ok sections={len(SECTIONS)} static (not rendered: Chromium is not installed)")
    return 0


def main():
    if sys.argv[1] == "--static":
        return static_check(os.path.abspath(sys.argv[2]))
    chromium, report = sys.argv[1], os.path.abspath(sys.argv[2])
    expected = [sys.argv[i + 1] for i in range(3, len(sys.argv) - 1) if sys.argv[i] == "--expect"]
    problems = []
    with tempfile.TemporaryDirectory() as profile:
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                   "--no-first-run", "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                   # Deny every network request: the report must be self-contained.
                   "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                   "--virtual-time-budget=10000", "--dump-dom", "file://" + report]
        try:
            result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        except subprocess.TimeoutExpired:
            print("chromium timed out")
            return 1
    dom = result.stdout.decode(errors="replace")
    log = result.stderr.decode(errors="replace")
    for line in log.splitlines():
        if "CONSOLE" in line:
            problems.append("console: " + line.split("]", 1)[-1].strip())
        if "net::ERR" in line or "Failed to load resource" in line:
            problems.append("network: " + line.strip())
    if result.returncode != 0:
        problems.append(f"chromium exited with {result.returncode}")
    status = re.search(r'<body[^>]*data-report-status="(\w+)"', dom)
    if not status:
        problems.append("the page's script did not finish (no data-report-status)")
    elif status.group(1) != "ok":
        problems.append("the page reported errors: " + status.group(1))
    errors = re.search(r'<pre id="report-errors"[^>]*>(.*?)</pre>', dom, re.S)
    if errors and errors.group(1).strip():
        problems.append("page errors: " + errors.group(1).strip())
    for section in SECTIONS:
        match = re.search(r'<section id="%s"[^>]*data-ready="1"[^>]*>(.*?)</section>' % re.escape(section), dom, re.S)
        if not match:
            problems.append(f"section {section} missing or not rendered")
            continue
        body = re.sub(r"<h2>.*?</h2>", "", match.group(1), flags=re.S)
        if not re.search(r"<(table|canvas|svg|p|div|ul)\b", body):
            problems.append(f"section {section} is empty")
    elements = len(re.findall(r"<[a-zA-Z]", dom))
    if elements > MAX_DOM_ELEMENTS:
        problems.append(f"{elements} DOM elements (budget {MAX_DOM_ELEMENTS})")
    for network in re.findall(r'(?:src|href)="(https?:[^"]*)"', dom):
        problems.append("external resource: " + network)
    text = html.unescape(re.sub(r"<[^>]*>", "", dom))
    for wanted in expected:
        if wanted not in text:
            problems.append(f"the page does not show {wanted!r}")
    if problems:
        for problem in problems:
            print("FAIL " + problem)
        return 1
    rows = len(re.findall(r"<tr>", dom))
    print(f"html ok sections={len(SECTIONS)} dom-elements={elements} table-rows={rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
