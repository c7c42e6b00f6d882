#!/usr/bin/env bash
# The main job, from nothing: install the Debian packages, build Memscope,
# instrument the web-server example, run it recording every allocation's
# site, thread and lifetime, and write the report.
#
#   bash scripts/demo.sh            # writes ./memscope-demo/report/report.html
#
# The demo records every allocation (exact=1) so that its counts can be
# checked by hand; leave MEMSCOPE_OPTIONS out for the default sampling.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup-debian.sh"
bash "$root/scripts/build.sh"
bin=${MEMSCOPE_BUILD_DIR:-$root/build}/bin
demo=${MEMSCOPE_DEMO_DIR:-$PWD/memscope-demo}
rm -rf "$demo" && mkdir -p "$demo"

echo "== instrument: memscope-clang++ -O2 examples/web-server.cpp"
# From the checkout, so that the report names the file examples/web-server.cpp
# (source paths are relative to the compilation directory).
(cd "$root" && "$bin/memscope-clang++" -O2 examples/web-server.cpp -o "$demo/web-server")
echo "== run: MEMSCOPE_OUT=$demo/logs MEMSCOPE_OPTIONS=exact=1 ./web-server 20 1000 0"
MEMSCOPE_OUT="$demo/logs" MEMSCOPE_OPTIONS=exact=1 "$demo/web-server" 20 1000 0
echo "== merge: memscope-merge $demo/logs -o $demo/report"
"$bin/memscope-merge" "$demo/logs" -o "$demo/report" --top=8
echo "== report: $demo/report/report.html (also analysis.json, profile.pb.gz, stacks.folded, trace.json)"
