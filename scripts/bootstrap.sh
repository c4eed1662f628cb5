#!/usr/bin/env bash
# Sets up a Debian bookworm machine for qarch (installs only what is missing), builds, and
# runs one job. Idempotent; run as root or with sudo available.
#
#   bash scripts/bootstrap.sh run       # build (Release) and run the main job on its default
#   bash scripts/bootstrap.sh test      # build (Release) and run the whole CTest suite
#   bash scripts/bootstrap.sh sanitize  # build with ASan+UBSan into build-asan, run the tests
#   bash scripts/bootstrap.sh fuzz      # build the libFuzzer targets (clang), run each briefly
#   bash scripts/bootstrap.sh slurm     # build (Release), run scripts/slurm/check.sh: the sweep
#                                       # job array under a throwaway single-node Slurm (root)
#   bash scripts/bootstrap.sh deps      # only install the Debian packages
#
# Environment: QARCH_JOBS (parallel build/test jobs, default nproc), QARCH_FUZZ_SECONDS
# (per fuzz target, default 20).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-run}"
jobs="${QARCH_JOBS:-$(nproc)}"

packages=(cmake g++ make pkg-config libgtest-dev libgmock-dev libbenchmark-dev
          nlohmann-json3-dev libboost-program-options-dev libyaml-cpp-dev libsystemc-dev)
if [ "$mode" = fuzz ]; then packages+=(clang libclang-rt-14-dev); fi
if [ "$mode" = slurm ]; then packages+=(slurm-wlm munge); fi
packages+=(verilator yosys)  # rtl/: Verilator models and tests, Yosys area flow
packages+=(chromium zlib1g-dev)  # reports/: headless check of the HTML page, PNG decoding
packages+=(python3-dev pybind11-dev python3-numpy)  # python/: the qarch module and its tests
if [ "$mode" = test ]; then packages+=(python3-torch); fi  # python/: the PyTorch helpers' tests

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "bootstrap: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {  # build DIR [cmake args...]; QARCH_TARGETS (optional) limits what is built
  local dir="$1"; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  local targets=()
  [ -z "${QARCH_TARGETS:-}" ] || targets=(--target ${QARCH_TARGETS})
  cmake --build "$dir" -j "$jobs" "${targets[@]}"
}

install_missing
case "$mode" in
  deps) ;;
  run)
    build build
    ./build/bin/qarch demo
    ;;
  test)
    build build
    ctest --test-dir build --output-on-failure -j "$jobs"
    ;;
  sanitize)
    # No Python module: an ASan-built extension would need the runtime preloaded into python3.
    build build-asan -DQARCH_SANITIZE=ON -DQARCH_BENCH=OFF -DQARCH_PYTHON=OFF
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir build-asan --output-on-failure -j "$jobs"
    ;;
  fuzz)
    # Only the fuzz targets and the libraries they link: the rest of the tree (Verilated models,
    # test suites, the CLI) was already built and tested twice, and building it again with clang
    # and coverage instrumentation took a third of CI's time.
    QARCH_TARGETS="fuzz_npy fuzz_safetensors fuzz_arch_yaml fuzz_scalesim" \
      CXX=clang++ build build-fuzz -DQARCH_FUZZ=ON -DQARCH_BENCH=OFF -DQARCH_PYTHON=OFF
    QARCH_FUZZ_SECONDS="${QARCH_FUZZ_SECONDS:-20}" \
      ctest --test-dir build-fuzz -L fuzz --output-on-failure
    ;;
  slurm)
    build build
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)  # the throwaway cluster's daemons run as root
    "${sudo[@]}" bash scripts/slurm/check.sh
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh run|test|sanitize|fuzz|slurm|deps" >&2
    exit 2
    ;;
esac
