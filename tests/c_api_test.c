/* Uses the runtime as an app would: plain C, only pocketlm/pocketlm.h.
 *   plm_c_api_test BUNDLE EXPECTED_GREEDY_PREFIX
 * Exits 0 if every check holds, else prints the failed check and exits 1. */
#include <pocketlm/pocketlm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "check failed at line %d: %s (%s)\n", __LINE__, #cond, plm_last_error()); \
      ++failures;                                                                     \
    }                                                                                 \
  } while (0)

struct text_buffer {
  char data[4096];
  size_t len;
  int stop_after;
  int calls;
};

static int collect(const char* text, size_t len, void* user) {
  struct text_buffer* b = (struct text_buffer*)user;
  if (b->len + len < sizeof b->data) {
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = 0;
  }
  return ++b->calls == b->stop_after;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  plm_model* model = NULL;
  plm_session* session = NULL;

  CHECK(plm_model_open("/nonexistent/model.plm", &model) == PLM_ERROR_BAD_BUNDLE);
  CHECK(strstr(plm_last_error(), "/nonexistent/model.plm") != NULL);
  CHECK(model == NULL);
  CHECK(plm_model_open(NULL, &model) == PLM_ERROR_INVALID_ARGUMENT);

  CHECK(plm_model_open(argv[1], &model) == PLM_OK);
  if (!model) return 1;
  const int32_t n_vocab = plm_model_n_vocab(model);
  CHECK(n_vocab == 512);

  int32_t ids[64];
  size_t n = 0;
  CHECK(plm_tokenize(model, "Once upon a time", 16, 1, ids, 64, &n) == PLM_OK);
  CHECK(n > 2 && ids[0] == 1);
  char piece[32];
  size_t len = 0;
  CHECK(plm_token_piece(model, ids[1], piece, sizeof piece, &len) == PLM_OK && len > 0);
  CHECK(plm_token_piece(model, 99999, piece, sizeof piece, &len) == PLM_ERROR_INVALID_ARGUMENT);

  CHECK(plm_session_create(model, 0, 1, &session) == PLM_OK);
  float* logits = (float*)malloc(sizeof(float) * (size_t)n_vocab);
  CHECK(plm_decode(session, ids, n, logits) == PLM_OK);
  CHECK(plm_session_position(session) == (int32_t)n);
  int32_t bad = 4096;
  CHECK(plm_decode(session, &bad, 1, logits) == PLM_ERROR_INVALID_ARGUMENT);
  CHECK(plm_session_position(session) == (int32_t)n);

  /* Greedy generation reproduces the expected text; a callback can cancel. */
  plm_session_reset(session);
  plm_sampling greedy = plm_sampling_default();
  greedy.temperature = 0;
  struct text_buffer out = {{0}, 0, -1, 0};
  int32_t generated = 0;
  CHECK(plm_generate(session, "Once upon a time", &greedy, 24, NULL, collect, &out, &generated) == PLM_OK);
  CHECK(generated == 24);
  CHECK(strncmp(out.data, argv[2], strlen(argv[2])) == 0);
  if (strncmp(out.data, argv[2], strlen(argv[2])) != 0) fprintf(stderr, "generated: '%s'\n", out.data);

  plm_session_reset(session);
  struct text_buffer cut = {{0}, 0, 3, 0};
  CHECK(plm_generate(session, "Once upon a time", &greedy, 24, NULL, collect, &cut, &generated) == PLM_ERROR_CANCELLED);
  CHECK(cut.calls == 3);

  /* The context fills up: a 8-token session. */
  plm_session* small = NULL;
  CHECK(plm_session_create(model, 8, 1, &small) == PLM_OK);
  int32_t many[9] = {1, 5, 6, 7, 8, 9, 10, 11, 12};
  CHECK(plm_decode(small, many, 9, NULL) == PLM_ERROR_CONTEXT_FULL);
  plm_sampling bad_sampling = plm_sampling_default();
  bad_sampling.top_p = 0;
  CHECK(plm_generate(small, "x", &bad_sampling, 4, NULL, NULL, NULL, NULL) == PLM_ERROR_INVALID_ARGUMENT);

  plm_session_free(small);
  plm_session_free(session);
  plm_model_close(model);
  free(logits);
  if (failures) fprintf(stderr, "%d checks failed\n", failures);
  return failures ? 1 : 0;
}
