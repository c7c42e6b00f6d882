#!/usr/bin/env bash
# Installs what Memscope needs on Debian 12 (bookworm), as root.
# Idempotent: re-running only checks that everything is there.
set -euo pipefail
packages=(
  cmake ninja-build ccache g++ python3 file
  clang-19 llvm-19-dev llvm-19-tools libc++-19-dev libc++abi-19-dev
  libtbb-dev libfmt-dev nlohmann-json3-dev libgtest-dev zlib1g-dev
  heaptrack valgrind
  # Reports (#5): pprof readers and the headless-browser check of report.html.
  protobuf-compiler libprotobuf-dev golang-go golang-github-google-pprof-dev chromium
  # Other LLVMs the plugin is tested against (#6), and autotools for the
  # ./configure check.
  clang-14 llvm-14-dev llvm-14-tools clang-22 llvm-22-dev llvm-22-tools
  autoconf automake make
  # Sanitizers and libFuzzer (#8); the benchmark plots (#7).
  libclang-rt-19-dev python3-matplotlib
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup-debian: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup-debian: all packages present"
