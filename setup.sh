#!/usr/bin/env bash
# setup.sh — installs what is missing (Debian packages), builds Attend (Release, -j2; with the
# Python package in build/python) and, unless --no-demo is given, translates a few example
# sentences with the bundled model.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${ATTEND_BUILD_DIR:-build}
DEMO=1
CMAKE_EXTRA=()
for arg in "$@"; do
  case "$arg" in
    --no-demo) DEMO=0 ;;
    --sanitize) BUILD_DIR=${ATTEND_BUILD_DIR:-build-asan}; CMAKE_EXTRA+=(-DATTEND_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    *) echo "setup.sh: unknown option '$arg' (known: --no-demo, --sanitize)" >&2; exit 2 ;;
  esac
done

PACKAGES=(build-essential cmake pkg-config libdnnl-dev libsentencepiece-dev nlohmann-json3-dev libcli11-dev catch2
          libcurl4-openssl-dev libssl-dev   # hub downloads: HTTP (libcurl) and SHA-256 (libcrypto)
          libcpp-httplib-dev                # the mock hub of tests/hub
          libgumbo-dev                      # HTML translation: the HTML5 parser (tasks/html_*)
          chromium libpng-dev               # the heatmap's browser test (tests/server/test_browser.cpp)
          clang libclang-rt-14-dev          # clang: the fuzz smoke test (fuzz/run.sh)
          python3-dev pybind11-dev python3-pybind11 python3-pytest python3-distributed python3-venv
          python3-setuptools python3-wheel python3-pip)  # the Python package (python/) and its tests
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${CMAKE_EXTRA[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j2

if [ "$DEMO" = 1 ]; then
  echo
  echo "== Translating example sentences (English -> German) with the bundled model:"
  printf '%s\n' \
    "A man in an orange hat starring at something." \
    "Two young girls are playing in the snow." \
    "A dog runs across the grass with a ball in its mouth." \
    "People are sitting at tables in a busy restaurant." \
    | tee /dev/stderr | "$BUILD_DIR/attend" translate --beam-size 4
fi
