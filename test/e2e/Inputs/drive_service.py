#!/usr/bin/env python3
"""Runs a service and signals it on a schedule, like an operator:

  drive_service.py SIGNAL_TIMES_S PROGRAM [ARGS...]

SIGNAL_TIMES_S is a comma-separated list of seconds after the start at
which to send SIGUSR2; SIGTERM follows the last by 0.3 s. Exits with the
program's status (1 if it ended before it was stopped)."""
import signal
import subprocess
import sys
import time

times = [float(t) for t in sys.argv[1].split(",")]
child = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
start = time.monotonic()
for at in times:
    time.sleep(max(0.0, start + at - time.monotonic()))
    if child.poll() is not None:
        print("drive_service.py: the service ended early", file=sys.stderr)
        sys.exit(1)
    child.send_signal(signal.SIGUSR2)
time.sleep(0.3)
child.send_signal(signal.SIGTERM)
sys.exit(child.wait(timeout=60))
