#!/usr/bin/env bash
# tests/bench/run_issue12.sh — the workloads of issue 12's table in one sitting, one JSON object
# per row (`attend bench --json` plus "row", "uptime"): opus-mt and t5-small shapes (random
# weights, 32 target tokens per sentence) at batch 32 (256 sentences) and batch 1 (32
# sentences), beam 4, 2 threads, and the bundled model on test2016 as a whole process
# (`attend translate`, wall seconds and peak RSS from /usr/bin/time). Before and after the rows,
# the machine (bench_common.sh machine_row): its CPU and matmul floors.
#
#   tests/bench/run_issue12.sh [BUILD_DIR=build] [REPEAT=1] > results.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
REPEAT=${2:-1}
ATTEND="$BUILD/attend"
SHARED=${ATTEND_SHARED:-../shared}
DATA=$SHARED/data/multi30k/test_2016_flickr.en
source tests/bench/bench_common.sh
bench_models

row() {  # row LABEL ARGS...
  local label=$1
  shift
  local json
  json=$(bench_json "$@")
  printf '{"row":"%s","uptime":"%s",%s\n' "$label" "$(uptime | sed 's/.*load/load/')" "$json"
}

machine_row machine_before
row opus_int8_b32 -m "$OPUS" -i "$DATA" --max-sentences 256 --beam-size 4 --batch-size 32 --compute-type int8 $FIXED
row opus_fp32_b32 -m "$OPUS" -i "$DATA" --max-sentences 256 --beam-size 4 --batch-size 32 --compute-type fp32 $FIXED
row t5_int8_b32 -m "$T5" -i "$DATA" --max-sentences 256 --beam-size 4 --batch-size 32 --compute-type int8 $FIXED
row opus_int8_b1 -m "$OPUS" -i "$DATA" --max-sentences 32 --beam-size 4 --batch-size 1 --compute-type int8 $FIXED
row opus_fp32_b1 -m "$OPUS" -i "$DATA" --max-sentences 32 --beam-size 4 --batch-size 1 --compute-type fp32 $FIXED
row t5_int8_b1 -m "$T5" -i "$DATA" --max-sentences 32 --beam-size 4 --batch-size 1 --compute-type int8 $FIXED
for ct in fp32 int8; do
  out=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$out.time" "$ATTEND" translate -i "$DATA" -o "$out" --beam-size 4 --batch-size 32 \
    --threads 2 --compute-type $ct
  read -r secs kb < "$out.time"
  printf '{"row":"bundled_%s_b32_process","uptime":"%s","seconds":%s,"peak_rss_mb":%s}\n' "$ct" \
    "$(uptime | sed 's/.*load/load/')" "$secs" "$((kb / 1024))"
  rm -f "$out" "$out.time"
done
machine_row machine_after
