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
