#!/usr/bin/env bash
# Every test, from nothing: install the Debian packages, build Memscope and
# run ctest (lit pass/end-to-end/merge suites, GoogleTest units, install).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup-debian.sh" --tests
bash "$root/scripts/build.sh" --tests
cd "${MEMSCOPE_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j2
