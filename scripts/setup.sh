#!/usr/bin/env bash
# Installs everything mage needs on Debian 12 and builds it into build/ (Release).
# Safe to run again: packages already present are not reinstalled, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config git
  libsimgrid-dev libcli11-dev nlohmann-json3-dev libfmt-dev libtomlplusplus-dev
  libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  libplplot-dev              # PLplot: the convergence plots of `mage tune` (svg device)
  clang libclang-rt-14-dev   # libFuzzer and the sanitizer runtimes for the fuzz target
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages already installed"
fi

echo "setup: configuring build/ (Release, Ninja)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
echo "setup: building"
cmake --build build
echo "setup: done; the command is build/mage"
