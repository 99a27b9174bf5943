# tests/bench/bench_common.sh — sourced by the bench scripts (run_issue12.sh, run_performance.sh):
# the random-weight benchmark models and one `attend bench --json` row. The caller sets ATTEND
# (the binary) and REPEAT (timed runs per row).

# OPUS and T5: the opus-mt- and t5-small-shaped random models (made in /tmp once; OPUS_MODEL /
# T5_MODEL name others). FIXED: the fixed output length of their rows (32 target tokens).
bench_models() {
  OPUS=${OPUS_MODEL:-/tmp/bench-opus.attend}
  T5=${T5_MODEL:-/tmp/bench-t5.attend}
  [ -f "$OPUS" ] || "$ATTEND" make-random-model --shape opus-mt -o "$OPUS" >&2
  [ -f "$T5" ] || "$ATTEND" make-random-model --shape t5-small -o "$T5" >&2
  FIXED="--min-new-tokens 32 --max-new-tokens 32"
}

# bench_json ARGS...: `attend bench` on 2 threads, REPEAT timed runs after one warm-up batch; prints
# its JSON object without the opening brace, for the caller to prepend its own fields.
bench_json() {
  local json
  json=$("$ATTEND" bench --threads 2 --repeat "$REPEAT" --warmup 1 --json "$@")
  printf '%s' "${json#\{}"
}

# machine_row LABEL: one JSON object for the machine a sitting ran on: the CPU as the library
# names it (brand, family, model, stepping: one brand string can be several generations) and the
# matmul floor of one 128-row decoder step (attend-bench-matmul) for the int8 and fp32 opus-mt
# shape and the fp32 bundled shape. Ratios against figures taken on another machine hold only
# where these agree; a sitting prints it before and after its rows. Needs BUILD.
machine_row() {
  local floor_bin="$BUILD/tests/attend-bench-matmul" cpu
  cpu=$("$ATTEND" info | sed -n 's/^cpu: //p')
  floor() { "$floor_bin" "$@" | sed -n 's/^matmuls per step: \([0-9.]*\) ms.*/\1/p'; }
  printf '{"row":"%s","cpu":"%s","load":"%s","matmul_floor_ms":{"opus_int8_128":%s,"opus_fp32_128":%s,"bundled_fp32_128":%s}}\n' \
    "$1" "$cpu" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(floor --shape opus-mt --compute-type int8)" \
    "$(floor --shape opus-mt --compute-type fp32 --repeat 10)" "$(floor --shape bundled --compute-type fp32)"
}
