#!/usr/bin/env bash
# fuzz/run.sh SECONDS [TARGET...] — builds the libFuzzer targets (clang, ASan/UBSan, in
# build-fuzz/ or $ATTEND_FUZZ_BUILD_DIR), writes the seed corpora and runs every target (or the
# ones named) for SECONDS each, printing each target's exec count. The working corpus lives in
# build-fuzz/corpus/<target>; crashes are written to build-fuzz/crashes/ and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(model_file safetensors torch_checkpoint tokenizers sentence_splitter server_request html)
BUILD=${ATTEND_FUZZ_BUILD_DIR:-build-fuzz}
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

if ! command -v clang++ >/dev/null; then
  echo "fuzz/run.sh: clang++ not found (Debian packages clang, libclang-rt-14-dev)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DATTEND_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "${LAUNCHER[@]}" >/dev/null
targets=()
for t in "${TARGETS[@]}"; do targets+=(--target "fuzz_$t"); done
cmake --build "$BUILD" -j"${ATTEND_FUZZ_JOBS:-2}" --target fuzz_make_seeds "${targets[@]}" >/dev/null

SEEDS="$BUILD/seeds"
rm -rf "$SEEDS"
"$BUILD/fuzz/fuzz_make_seeds" "$SEEDS"
mkdir -p "$BUILD/crashes"
status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  log="$BUILD/fuzz_$t.log"
  # -rss_limit_mb: the readers must refuse absurd sizes instead of allocating them.
  if "$BUILD/fuzz/fuzz_$t" "$corpus" "$SEEDS/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
       -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$t-" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 40 "$log" >&2
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "fuzz $t: ${SECONDS_PER_TARGET}s, ${execs:-?} execs, corpus $(ls "$corpus" | wc -l) files: $result"
done
exit $status
