#!/usr/bin/env bash
# test.sh — runs the whole test suite: installs what is missing, builds (Release, -j2) and runs
# ctest (unit tests, fixture conformance, end-to-end translation of test2016).
# --sanitize builds and tests with ASan/UBSan in build-asan/ instead.
set -euo pipefail
cd "$(dirname "$0")"
BUILD_DIR=build
SETUP_ARGS=(--no-demo)
if [ "${1:-}" = "--sanitize" ]; then
  BUILD_DIR=build-asan
  SETUP_ARGS+=(--sanitize)
fi
bash ./setup.sh "${SETUP_ARGS[@]}"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 1500
