/* examples/c/minimal.c — the smallest C program using an installed Attend: loads a model and
   translates the sentences given on the command line, printing the text as it is decided
   (streaming) and then each translation with its score.
   Usage: minimal MODEL SENTENCE... */
#include <attend/attend.h>

#include <stdio.h>

static int print_piece(void* user, size_t input, const int32_t* ids, size_t n_ids, const char* text, int finished) {
  (void)user, (void)ids, (void)n_ids;
  fprintf(stderr, "input %zu: +\"%s\"%s\n", input, text, finished ? " (done)" : "");
  return 0; /* non-zero would cancel */
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL SENTENCE...\n", argv[0]);
    return 2;
  }
  attend_model* model = NULL;
  if (attend_model_load(argv[1], 0, &model) != ATTEND_OK) {
    fprintf(stderr, "error: %s\n", attend_last_error());
    return 1;
  }
  attend_options* options = attend_options_new();
  attend_options_set_int(options, "num_beams", 4);
  attend_options_set_stream(options, print_piece, NULL);

  attend_result* result = NULL;
  attend_status status = attend_translate(model, (const char* const*)(argv + 2), (size_t)(argc - 2), options, &result);
  if (status == ATTEND_OK) {
    for (size_t i = 0; i < attend_result_count(result); ++i)
      printf("%.4f\t%s\n", attend_result_score(result, i, 0), attend_result_text(result, i, 0));
  } else {
    fprintf(stderr, "error (%s): %s\n", attend_status_name(status), attend_last_error());
  }
  attend_result_free(result);
  attend_options_free(options);
  attend_model_free(model);
  return status == ATTEND_OK ? 0 : 1;
}
