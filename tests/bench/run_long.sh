#!/usr/bin/env bash
# tests/bench/run_long.sh — the rows of docs/performance.md "Long inputs": random-weight models in
# the led-base, long-t5-tglobal-base and t5-small shapes, one input of N source tokens through the
# encoder and 64 generated tokens (attend-bench-long, one process per row so peak RSS is the
# row's), beam 1 and 4, int8 and fp32, 2 threads; plus issue 12's T5 line (t5-small shape, int8,
# one line of 8,000 words of Multi30k text, encoder + 4 decoder steps, beam 4) through `attend
# bench`. Prints one JSON object per row.
#
#   tests/bench/run_long.sh [BUILD_DIR=build] [ROWS=all|led|longt5|t5|t5line]
#
# Multi30k text from $ATTEND_SHARED (default ../shared) for the T5 line.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
ROWS=${2:-all}
BENCH="$BUILD/tests/attend-bench-long"
ATTEND="$BUILD/attend"
[ -x "$BENCH" ] && [ -x "$ATTEND" ] || { echo "run_long.sh: build attend and attend-bench-long first" >&2; exit 1; }
export OMP_NUM_THREADS=2
LED=/tmp/bench-long-led-base.attend
LT5=/tmp/bench-long-t5-tglobal-base.attend
T5=/tmp/bench-long-t5-small.attend
[ -f "$LED" ] || "$ATTEND" make-random-model --shape led-base -o "$LED" >&2
[ -f "$LT5" ] || "$ATTEND" make-random-model --shape long-t5-tglobal-base -o "$LT5" >&2
[ -f "$T5" ] || "$ATTEND" make-random-model --shape t5-small -o "$T5" >&2

row() {  # row MODEL TOKENS BEAM COMPUTE NEW
  local json load
  json=$("$BENCH" "$@")
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '{"load_average_end":"%s",%s\n' "$load" "${json#\{}"
}

if [ "$ROWS" = all ] || [ "$ROWS" = led ] || [ "$ROWS" = longt5 ]; then
  for model in "$LED" "$LT5"; do
    case "$ROWS" in led) [ "$model" = "$LED" ] || continue ;; longt5) [ "$model" = "$LT5" ] || continue ;; esac
    for ct in int8 fp32; do
      for n in 1024 4096 16384; do
        for beam in 1 4; do row "$model" "$n" "$beam" "$ct" 64; done
      done
    done
  done
fi
if [ "$ROWS" = all ] || [ "$ROWS" = t5 ]; then
  for n in 512 2000 8000 16000; do row "$T5" "$n" 4 int8 4; done
fi
if [ "$ROWS" = all ] || [ "$ROWS" = t5line ]; then
  LINE=/tmp/bench-t5-8000-words.txt
  tr -s ' \n' '  ' < "${ATTEND_SHARED:-../shared}/data/multi30k/test_2016_flickr.en" | tr ' ' '\n' | grep -v '^$' |
    awk '{w[NR]=$0} END {for (i = 0; i < 8000; ++i) printf "%s%s", w[i % NR + 1], (i < 7999 ? " " : "\n")}' > "$LINE"
  json=$("$ATTEND" bench -m "$T5" -i "$LINE" --compute-type int8 --threads 2 --beam-size 4 --min-new-tokens 4 \
         --max-new-tokens 4 --repeat 1 --warmup 0 --json)
  printf '{"row":"t5_8000_words_int8","load_average_end":"%s",%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "${json#\{}"
fi
