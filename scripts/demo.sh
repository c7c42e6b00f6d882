#!/usr/bin/env bash
# The main job, from nothing: install the Debian packages, build Memscope,
# instrument the web-server example, run it recording every allocation's
# site, thread and lifetime, and write the analysis.
#
#   bash scripts/demo.sh            # writes ./memscope-demo/report/analysis.json
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup-debian.sh"
bash "$root/scripts/build.sh"
bin=${MEMSCOPE_BUILD_DIR:-$root/build}/bin
demo=${MEMSCOPE_DEMO_DIR:-$PWD/memscope-demo}
rm -rf "$demo" && mkdir -p "$demo"

echo "== instrument: memscope-clang++ -O2 examples/web-server.cpp"
"$bin/memscope-clang++" -O2 "$root/examples/web-server.cpp" -o "$demo/web-server"
echo "== run: MEMSCOPE_OUT=$demo/logs ./web-server 20 1000 0"
MEMSCOPE_OUT="$demo/logs" "$demo/web-server" 20 1000 0
echo "== merge: memscope-merge $demo/logs -o $demo/report"
"$bin/memscope-merge" "$demo/logs" -o "$demo/report" --top=8
