#!/usr/bin/env bash
# Soak test (not part of ctest): runs Inputs/soak.cpp instrumented for
# SECONDS (default 60) and samples its RSS and open files every 5 s from
# outside. Passes when neither grows over the second half of the run and the
# logs merge cleanly.
#   test/reliability/soak.sh [BUILD_DIR] [SECONDS]
# e.g. test/reliability/soak.sh build 600
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
seconds=${2:-60}
work=$(mktemp -d /tmp/memscope-soak.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/bin/memscope-clang++" -O2 "$here/Inputs/soak.cpp" -o "$work/soak"
MEMSCOPE_OUT="$work/logs" "$work/soak" "$seconds" &
pid=$!
samples=()
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l || true)
  if [ -n "$rss" ]; then samples+=("$rss $fds"); echo "rss ${rss} KiB, fds ${fds}"; fi
done
wait "$pid"
if ! "$build/bin/memscope-merge" "$work/logs" -o "$work/report" > "$work/merge.txt" 2> "$work/merge.err"; then
  echo "soak: memscope-merge failed:"; cat "$work/merge.err"; exit 1
fi
head -2 "$work/merge.txt"
python3 - "${samples[@]}" <<'PY'
import sys
samples = [tuple(map(int, s.split())) for s in sys.argv[1:]]
if len(samples) < 4:
    sys.exit("soak: run too short to judge (need at least 20 s)")
half = samples[len(samples) // 2:]
rss_growth = half[-1][0] - half[0][0]
fds = {s[1] for s in half}
print(f"soak: second half RSS growth {rss_growth} KiB, fds {sorted(fds)}")
# A descriptor is open only while a log window is being remapped, so a
# sample may catch one more than usual; a leak keeps growing.
if rss_growth > 8192 or max(fds) - min(fds) > 1:
    sys.exit("soak: FAILED, memory or open files grow")
print("soak: flat")
PY
