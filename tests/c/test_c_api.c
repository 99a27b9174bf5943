/* tests/c/test_c_api.c — the C API from plain C (C11): load, translate, n-best with scores,
   streaming (greedy and beam), cancellation (before the call, from a stream callback, from another
   thread), dynamic batching, and every error path (bad model path, corrupt model, bad options,
   NULL arguments, out-of-range accessors). Expected translations are transformers' outputs for
   the bundled model (models/marian-en-de-multi30k reference/, test2016 lines 1, 2 and 5).
   Usage: test_c_api MODEL SCRATCH_DIR. Prints "N passed, N failed"; exit code 0 when all pass.
   Run under ASan/LSan (test.sh --sanitize) it also checks that nothing leaks. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attend/attend.h"

static int passed = 0, failed = 0;

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (cond) {                                                               \
      ++passed;                                                               \
    } else {                                                                  \
      ++failed;                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                         \
  } while (0)

static const char* const INPUTS[3] = {
    "A man in an orange hat starring at something.",
    "A Boston Terrier is running on lush green grass in front of a white fence.",
    "People are fixing the roof of a house.",
};
/* transformers generate(): beam 4 (the model's defaults) and greedy (num_beams=1). */
static const char* const BEAM4[3] = {
    "Ein Mann mit einem orangefarbenen Hut starrt auf etwas.",
    "Ein Boston Terrier rennt auf hohem grünen Gras vor einem weißen Zaun.",
    "Leute reparieren das Dach eines Hauses.",
};
static const char* const GREEDY[3] = {
    "Ein Mann mit orangefarbener Mütze starrt auf etwas.",
    "Ein Boston Terrier rennt auf hohem grünen Gras vor einem weißen Zaun.",
    "Leute reparieren das Dach eines Hauses.",
};
/* transformers' beam-4 token ids of input 3 (decoder start token 15328 first, EOS 0 last). */
static const int32_t BEAM4_IDS_3[] = {15328, 8062, 8958, 8033, 8425, 7999, 13, 9017, 3, 0};

static int contains(const char* haystack, const char* needle) { return haystack && strstr(haystack, needle) != NULL; }

/* --- streaming: per input, concatenated text/ids and the number of finished events --- */
typedef struct {
  char text[3][512];
  int32_t ids[3][128];
  size_t n_ids[3];
  int finished[3];
  int events;
  int bad;            /* an event for an unknown input, after finished, or overflowing */
  int cancel_after;   /* > 0: return non-zero at this event */
  attend_cancel* cancel_in_callback; /* requested at the first event */
} Stream;

static int on_stream(void* user, size_t input, const int32_t* ids, size_t n_ids, const char* text, int finished) {
  Stream* s = (Stream*)user;
  ++s->events;
  if (input >= 3 || s->finished[input] || s->n_ids[input] + n_ids > 128 ||
      strlen(s->text[input]) + strlen(text) >= sizeof s->text[input]) {
    s->bad = 1;
    return 0;
  }
  memcpy(s->ids[input] + s->n_ids[input], ids, n_ids * sizeof(int32_t));
  s->n_ids[input] += n_ids;
  strcat(s->text[input], text);
  if (finished) s->finished[input] += 1;
  if (s->cancel_in_callback) attend_cancel_request(s->cancel_in_callback);
  return s->cancel_after > 0 && s->events >= s->cancel_after;
}

static void check_stream_matches(const Stream* s, const attend_result* r, size_t n) {
  CHECK(!s->bad);
  for (size_t i = 0; i < n; ++i) {
    size_t n_ids = 0;
    const int32_t* ids = attend_result_ids(r, i, 0, &n_ids);
    CHECK(s->finished[i] == 1);
    CHECK(strcmp(s->text[i], attend_result_text(r, i, 0)) == 0);
    CHECK(n_ids >= 1 && s->n_ids[i] == n_ids - 1);
    CHECK(n_ids >= 1 && memcmp(s->ids[i], ids + 1, (n_ids - 1) * sizeof(int32_t)) == 0);
  }
}

/* --- cancellation from another thread --- */
typedef struct {
  attend_cancel* cancel;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started;
} CancelThread;

static void* cancel_thread_main(void* arg) {
  CancelThread* c = (CancelThread*)arg;
  pthread_mutex_lock(&c->mu);
  while (!c->started) pthread_cond_wait(&c->cv, &c->mu);
  pthread_mutex_unlock(&c->mu);
  attend_cancel_request(c->cancel);
  return NULL;
}

/* First event: wake the cancelling thread, then wait (in the callback, so the call cannot end
   first) until it has requested cancellation. */
static int on_stream_wait_for_cancel(void* user, size_t input, const int32_t* ids, size_t n_ids, const char* text,
                                     int finished) {
  (void)input, (void)ids, (void)n_ids, (void)text, (void)finished;
  CancelThread* c = (CancelThread*)user;
  pthread_mutex_lock(&c->mu);
  c->started = 1;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
  while (!attend_cancel_requested(c->cancel)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static void test_errors_without_model(const char* scratch) {
  attend_model* m = (attend_model*)1;
  CHECK(attend_model_load("/nonexistent/model.attend", 0, &m) == ATTEND_ERROR_LOAD);
  CHECK(m == NULL);
  CHECK(contains(attend_last_error(), "/nonexistent/model.attend"));
  CHECK(attend_model_load(NULL, 0, &m) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(contains(attend_last_error(), "path"));
  CHECK(attend_model_load("x", 0, NULL) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_model_load("x", -1, &m) == ATTEND_ERROR_INVALID_ARGUMENT);

  /* A file that is not a model. */
  char path[1024];
  snprintf(path, sizeof path, "%s/c_api_corrupt.attend", scratch);
  FILE* f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs("\x10\x00\x00\x00\x00\x00\x00\x00{\"broken\": true", f);
    fclose(f);
    CHECK(attend_model_load(path, 0, &m) == ATTEND_ERROR_LOAD);
    CHECK(m == NULL);
    CHECK(contains(attend_last_error(), "c_api_corrupt.attend"));
    remove(path);
  }

  CHECK(strcmp(attend_status_name(ATTEND_ERROR_CANCELLED), "cancelled") == 0);
  CHECK(attend_version() != NULL && strlen(attend_version()) > 0);
  CHECK(attend_set_num_threads(0) == ATTEND_ERROR_INVALID_ARGUMENT);

  /* Options. */
  attend_options* o = attend_options_new();
  CHECK(o != NULL);
  CHECK(attend_options_set_int(o, "no_such_option", 1) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(contains(attend_last_error(), "no_such_option"));
  CHECK(attend_options_set_int(o, "num_beams", 1LL << 40) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_int(o, "max_batch_size", 0) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_float(o, "num_beams", 1.0) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_float(o, "length_penalty", HUGE_VAL) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_string(o, "early_stopping", "maybe") == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(contains(attend_last_error(), "early_stopping"));
  CHECK(attend_options_set_string(o, "colour", "red") == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_string(o, "tgt_lang", NULL) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_int(NULL, "num_beams", 1) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_int(o, NULL, 1) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_stream(NULL, on_stream, NULL) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_cancel(NULL, NULL) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_options_set_int(o, "num_beams", 2) == ATTEND_OK);
  CHECK(attend_options_set_float(o, "length_penalty", 0.5) == ATTEND_OK);
  CHECK(attend_options_set_string(o, "early_stopping", "never") == ATTEND_OK);
  attend_options_free(o);

  /* NULL objects: frees are no-ops, accessors return nothing. */
  attend_model_free(NULL);
  attend_options_free(NULL);
  attend_result_free(NULL);
  attend_cancel_free(NULL);
  attend_translator_free(NULL);
  attend_cancel_request(NULL);
  CHECK(attend_cancel_requested(NULL) == 0);
  size_t n = 7;
  CHECK(attend_result_count(NULL) == 0);
  CHECK(attend_result_text(NULL, 0, 0) == NULL);
  CHECK(attend_result_ids(NULL, 0, 0, &n) == NULL && n == 0);
}

/* Issue 17: sampling options (seeded: the same twice), a target prefix, bad values named. */
static void test_decoding_extras(const attend_model* m) {
  attend_options* o = attend_options_new();
  CHECK(attend_options_set_int(o, "do_sample", 1) == ATTEND_OK);
  CHECK(attend_options_set_int(o, "seed", -5) == ATTEND_OK); /* 64-bit, wraps */
  CHECK(attend_options_set_int(o, "top_k", 10) == ATTEND_OK);
  CHECK(attend_options_set_float(o, "temperature", 1.2) == ATTEND_OK);
  CHECK(attend_options_set_float(o, "top_p", 0.9) == ATTEND_OK);
  attend_result *a = NULL, *b = NULL;
  CHECK(attend_translate(m, INPUTS, 3, o, &a) == ATTEND_OK);
  CHECK(attend_translate(m, INPUTS, 3, o, &b) == ATTEND_OK);
  for (size_t i = 0; a && b && i < 3; ++i) CHECK(strcmp(attend_result_text(a, i, 0), attend_result_text(b, i, 0)) == 0);
  attend_result_free(a);
  attend_result_free(b);
  CHECK(attend_options_set_float(o, "temperature", 0.0) == ATTEND_OK);
  attend_result* bad = NULL;
  CHECK(attend_translate(m, INPUTS, 3, o, &bad) != ATTEND_OK);
  CHECK(contains(attend_last_error(), "temperature"));
  attend_options_free(o);

  o = attend_options_new();
  const char* prefixes[] = {"Eine Katze", NULL, ""};
  CHECK(attend_options_set_target_prefixes(o, prefixes, 3) == ATTEND_OK);
  attend_result* p = NULL;
  CHECK(attend_translate(m, INPUTS, 3, o, &p) == ATTEND_OK);
  CHECK(p && strncmp(attend_result_text(p, 0, 0), "Eine Katze", 10) == 0);
  CHECK(p && strcmp(attend_result_text(p, 1, 0), BEAM4[1]) == 0);
  attend_result_free(p);
  CHECK(attend_options_set_target_prefixes(o, prefixes, 2) == ATTEND_OK);
  CHECK(attend_translate(m, INPUTS, 3, o, &p) != ATTEND_OK);
  CHECK(contains(attend_last_error(), "2 prefixes for 3 inputs"));
  CHECK(attend_options_set_string(o, "shortlist", "/nonexistent/list") == ATTEND_ERROR_INVALID_ARGUMENT);
  attend_options_free(o);
}

static void test_with_model(const attend_model* m) {
  attend_result* r = NULL;
  test_decoding_extras(m);

  /* Translate with the model's defaults (beam 4). */
  CHECK(attend_translate(m, INPUTS, 3, NULL, &r) == ATTEND_OK);
  CHECK(attend_result_count(r) == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(attend_result_num_hypotheses(r, i) == 1);
    CHECK(attend_result_text(r, i, 0) && strcmp(attend_result_text(r, i, 0), BEAM4[i]) == 0);
  }
  size_t n_ids = 0;
  const int32_t* ids = attend_result_ids(r, 2, 0, &n_ids);
  CHECK(n_ids == sizeof BEAM4_IDS_3 / sizeof BEAM4_IDS_3[0] && memcmp(ids, BEAM4_IDS_3, sizeof BEAM4_IDS_3) == 0);
  CHECK(attend_result_score(r, 0, 0) < 0.0f);
  /* The buffers kept for the next call, freed on request; the same results after. */
  CHECK(attend_model_cached_bytes(m) > 0);
  attend_model_release_caches(m);
  CHECK(attend_model_cached_bytes(m) == 0);
  CHECK(attend_model_cached_bytes(NULL) == 0);
  attend_model_release_caches(NULL);
  {
    attend_result* again = NULL;
    CHECK(attend_translate(m, INPUTS, 3, NULL, &again) == ATTEND_OK);
    for (size_t i = 0; i < 3; ++i) CHECK(attend_result_text(again, i, 0) && strcmp(attend_result_text(again, i, 0), BEAM4[i]) == 0);
    attend_result_free(again);
  }
  /* Out of range. */
  CHECK(attend_result_text(r, 3, 0) == NULL);
  CHECK(attend_result_text(r, 0, 1) == NULL);
  CHECK(attend_result_ids(r, 0, 5, &n_ids) == NULL && n_ids == 0);
  CHECK(attend_result_num_hypotheses(r, 9) == 0);
  attend_result_free(r);

  /* Greedy, and an empty call. */
  attend_options* o = attend_options_new();
  CHECK(attend_options_set_int(o, "num_beams", 1) == ATTEND_OK);
  r = NULL;
  CHECK(attend_translate(m, INPUTS, 3, o, &r) == ATTEND_OK);
  for (size_t i = 0; i < 3; ++i) CHECK(strcmp(attend_result_text(r, i, 0), GREEDY[i]) == 0);
  attend_result_free(r);
  r = NULL;
  CHECK(attend_translate(m, NULL, 0, o, &r) == ATTEND_OK && attend_result_count(r) == 0);
  attend_result_free(r);
  attend_options_free(o);

  /* n-best with scores: 3 of 4 beams, best first, all different, the best = the 1-best run. */
  o = attend_options_new();
  CHECK(attend_options_set_int(o, "num_beams", 4) == ATTEND_OK);
  CHECK(attend_options_set_int(o, "num_return_sequences", 3) == ATTEND_OK);
  r = NULL;
  CHECK(attend_translate(m, INPUTS, 2, o, &r) == ATTEND_OK);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(attend_result_num_hypotheses(r, i) == 3);
    CHECK(strcmp(attend_result_text(r, i, 0), BEAM4[i]) == 0);
    for (size_t h = 1; h < 3; ++h) {
      CHECK(attend_result_score(r, i, h - 1) >= attend_result_score(r, i, h));
      size_t na = 0, nb = 0;
      const int32_t* a = attend_result_ids(r, i, h - 1, &na);
      const int32_t* b = attend_result_ids(r, i, h, &nb);
      CHECK(na != nb || memcmp(a, b, na * sizeof(int32_t)) != 0);
    }
  }
  attend_result_free(r);
  attend_options_free(o);

  /* Streaming, greedy and beam: the events add up to the results. */
  for (int beams = 1; beams <= 4; beams += 3) {
    Stream s;
    memset(&s, 0, sizeof s);
    o = attend_options_new();
    CHECK(attend_options_set_int(o, "num_beams", beams) == ATTEND_OK);
    CHECK(attend_options_set_stream(o, on_stream, &s) == ATTEND_OK);
    r = NULL;
    CHECK(attend_translate(m, INPUTS, 3, o, &r) == ATTEND_OK);
    check_stream_matches(&s, r, 3);
    for (size_t i = 0; i < 3; ++i) CHECK(strcmp(s.text[i], beams == 1 ? GREEDY[i] : BEAM4[i]) == 0);
    CHECK(s.events > 3);  /* more than one event per input: text arrives while decoding */
    attend_result_free(r);
    attend_options_free(o);
  }

  /* Cancellation: requested before the call. */
  attend_cancel* c = attend_cancel_new();
  o = attend_options_new();
  CHECK(attend_options_set_cancel(o, c) == ATTEND_OK);
  attend_cancel_request(c);
  CHECK(attend_cancel_requested(c) == 1);
  r = (attend_result*)1;
  CHECK(attend_translate(m, INPUTS, 3, o, &r) == ATTEND_ERROR_CANCELLED);
  CHECK(r == NULL);
  CHECK(contains(attend_last_error(), "cancel"));
  attend_options_free(o);
  attend_cancel_free(c);

  /* Cancellation: the stream callback returns non-zero (greedy and beam). */
  for (int beams = 1; beams <= 4; beams += 3) {
    Stream s;
    memset(&s, 0, sizeof s);
    s.cancel_after = 1;
    o = attend_options_new();
    attend_options_set_int(o, "num_beams", beams);
    attend_options_set_stream(o, on_stream, &s);
    r = NULL;
    CHECK(attend_translate(m, INPUTS, 3, o, &r) == ATTEND_ERROR_CANCELLED);
    CHECK(r == NULL && s.events == 1);
    attend_options_free(o);
  }

  /* Cancellation: a cancel flag requested from inside the call. */
  {
    Stream s;
    memset(&s, 0, sizeof s);
    c = attend_cancel_new();
    s.cancel_in_callback = c;
    o = attend_options_new();
    attend_options_set_int(o, "num_beams", 1);
    attend_options_set_stream(o, on_stream, &s);
    attend_options_set_cancel(o, c);
    r = NULL;
    CHECK(attend_translate(m, INPUTS, 3, o, &r) == ATTEND_ERROR_CANCELLED);
    CHECK(s.finished[0] + s.finished[1] + s.finished[2] == 0);
    attend_options_free(o);
    attend_cancel_free(c);
  }

  /* Cancellation from another thread while the call runs. */
  {
    CancelThread ct;
    memset(&ct, 0, sizeof ct);
    ct.cancel = attend_cancel_new();
    pthread_mutex_init(&ct.mu, NULL);
    pthread_cond_init(&ct.cv, NULL);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, cancel_thread_main, &ct) == 0);
    o = attend_options_new();
    attend_options_set_stream(o, on_stream_wait_for_cancel, &ct);
    attend_options_set_cancel(o, ct.cancel);
    r = NULL;
    CHECK(attend_translate(m, INPUTS, 3, o, &r) == ATTEND_ERROR_CANCELLED);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&ct.mu);
    pthread_cond_destroy(&ct.cv);
    attend_options_free(o);
    attend_cancel_free(ct.cancel);
  }

  /* Bad options are reported before any work, with the setting named. */
  struct {
    const char* name;
    int64_t value;
  } bad_ints[] = {{"num_beams", 0}, {"num_return_sequences", 9}, {"max_length", -3}, {"decoder_start_token_id", 99999999}};
  for (size_t k = 0; k < sizeof bad_ints / sizeof bad_ints[0]; ++k) {
    o = attend_options_new();
    CHECK(attend_options_set_int(o, bad_ints[k].name, bad_ints[k].value) == ATTEND_OK);
    r = (attend_result*)1;
    CHECK(attend_translate(m, INPUTS, 1, o, &r) == ATTEND_ERROR_INVALID_ARGUMENT);
    CHECK(r == NULL);
    CHECK(contains(attend_last_error(), "bad options"));
    attend_options_free(o);
  }
  o = attend_options_new();
  attend_options_set_string(o, "tgt_lang", "fr");
  CHECK(attend_translate(m, INPUTS, 1, o, &r) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(contains(attend_last_error(), "fr"));
  attend_options_free(o);

  /* NULL arguments. */
  const char* with_null[2] = {"A dog.", NULL};
  CHECK(attend_translate(NULL, INPUTS, 1, NULL, &r) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(contains(attend_last_error(), "model"));
  CHECK(attend_translate(m, NULL, 1, NULL, &r) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_translate(m, with_null, 2, NULL, &r) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(contains(attend_last_error(), "inputs[1]"));
  CHECK(attend_translate(m, INPUTS, 1, NULL, NULL) == ATTEND_ERROR_INVALID_ARGUMENT);

  /* Dynamic batching through the C API: the same results. */
  attend_translator* t = NULL;
  CHECK(attend_translator_new(m, 0, -1, 0, 0, 0, &t) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(t == NULL && contains(attend_last_error(), "max_batch_size"));
  CHECK(attend_translator_new(NULL, 0, 0, 0, 0, 0, &t) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_translator_new(m, 1, 8, 0, 16, 0, &t) == ATTEND_OK);
  r = NULL;
  CHECK(attend_translator_translate(t, INPUTS, 3, NULL, &r) == ATTEND_OK);
  for (size_t i = 0; i < 3; ++i) CHECK(strcmp(attend_result_text(r, i, 0), BEAM4[i]) == 0);
  attend_result_free(r);
  const char* many[17];
  for (size_t i = 0; i < 17; ++i) many[i] = INPUTS[i % 3];
  CHECK(attend_translator_translate(t, many, 17, NULL, &r) == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(contains(attend_last_error(), "max_queued"));
  CHECK(attend_translator_translate(NULL, INPUTS, 1, NULL, &r) == ATTEND_ERROR_INVALID_ARGUMENT);
  attend_translator_free(t);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: test_c_api MODEL SCRATCH_DIR\n");
    return 2;
  }
  test_errors_without_model(argv[2]);
  attend_model* m = NULL;
  attend_status st = attend_model_load(argv[1], 0, &m);
  CHECK(st == ATTEND_OK && m != NULL);
  if (st != ATTEND_OK) fprintf(stderr, "load: %s\n", attend_last_error());
  if (m) test_with_model(m);
  attend_model_free(m);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
