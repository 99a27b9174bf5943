#!/usr/bin/env bash
# tests/bench/run_performance.sh — runs every `attend bench` row of docs/performance.md one after
# the other (bundled model on Multi30k test2016, opus-mt- and t5-small-shaped random models at a
# fixed output length; beam 4 at batch 32 and batch 1; fp32, int8, bf16; 2 threads) and prints
# one JSON object per row (`attend bench --json` plus "row", "load_average_end").
#
#   tests/bench/run_performance.sh [BUILD_DIR=build] [REPEAT=3] > results.jsonl
#
# Needs ../shared (data) beside the repository; makes the random models in /tmp once.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
REPEAT=${2:-3}
ATTEND="$BUILD/attend"
DATA=../shared/data/multi30k/test_2016_flickr.en
[ -x "$ATTEND" ] || { echo "run_performance.sh: $ATTEND not built" >&2; exit 1; }
[ -f "$DATA" ] || { echo "run_performance.sh: $DATA missing (../shared beside the repository)" >&2; exit 1; }
source tests/bench/bench_common.sh
bench_models
# OpenMP wait policy: left as the caller set it (unset = GNU OpenMP's default, spin then sleep,
# as CTranslate2's figures were taken); docs/performance.md, "Conditions", shows why it matters.
POLICY=${OMP_WAIT_POLICY:-default}

row() {  # row LABEL ARGS...
  local label=$1
  shift
  local json
  json=$(bench_json "$@")
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '{"row":"%s","omp_wait_policy":"%s","load_average_end":"%s",%s\n' "$label" "$POLICY" "$load" "$json"
}

for ct in fp32 int8 bf16; do
  row "real_b32_$ct" -i "$DATA" --beam-size 4 --batch-size 32 --compute-type $ct -o "/tmp/bench-out-real-b32-$ct.de"
  row "real_b1_$ct" -i "$DATA" --max-sentences 100 --beam-size 4 --batch-size 1 --compute-type $ct
  row "opus_b32_$ct" -m "$OPUS" -i "$DATA" --max-sentences 256 --beam-size 4 --batch-size 32 --compute-type $ct $FIXED
  row "opus_b1_$ct" -m "$OPUS" -i "$DATA" --max-sentences 32 --beam-size 4 --batch-size 1 --compute-type $ct $FIXED
  row "t5_b32_$ct" -m "$T5" -i "$DATA" --max-sentences 256 --beam-size 4 --batch-size 32 --compute-type $ct $FIXED
  row "t5_b1_$ct" -m "$T5" -i "$DATA" --max-sentences 32 --beam-size 4 --batch-size 1 --compute-type $ct $FIXED
done
