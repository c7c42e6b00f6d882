#!/usr/bin/env python3
"""Runs a command while a program runs: starts PROGRAM, waits until it
creates READY (at most 60 s), runs COMMAND and prints its output, then
stops PROGRAM with SIGTERM. Exits with COMMAND's status (1 if PROGRAM never
got ready).

  while_running.py READY PROGRAM [ARGS...] -- COMMAND [ARGS...]
"""
import os
import signal
import subprocess
import sys
import time

ready = sys.argv[1]
split = sys.argv.index("--")
program, command = sys.argv[2:split], sys.argv[split + 1:]
child = subprocess.Popen(program)
deadline = time.monotonic() + 60
while not os.path.exists(ready):
    if child.poll() is not None or time.monotonic() > deadline:
        print(f"while_running.py: {program[0]} never created {ready}", file=sys.stderr)
        child.kill()
        sys.exit(1)
    time.sleep(0.02)
result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
sys.stdout.write(result.stdout.decode(errors="replace"))
child.send_signal(signal.SIGTERM)
child.wait(timeout=60)
sys.exit(result.returncode)
