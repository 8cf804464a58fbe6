/* Issue #4 acceptance 3: an app statically linked with the kernels of a bundle written
 * by `pocketlm compile --emit-static` (a code-free bundle plus NAME.kernels.a) runs it
 * through the C API and gets exactly the logits of the same model's bundle with
 * embedded kernels, at every position. Before registration, opening the code-free
 * bundle fails naming the library it needs. Plain C, linked by ctest (static.Link)
 * against static_synth.kernels.a and the pocketlm runtime, as an app would be.
 * usage: plm_static_kernels_test STATIC.plm EMBEDDED.plm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketlm/pocketlm.h"

const plm_kernel_registry* plm_kernels_static_synth(void); /* from static_synth.kernels.h */

static int failures = 0;
#define CHECK(cond, ...)                   \
  do {                                     \
    if (!(cond)) {                         \
      fprintf(stderr, "FAILED: " __VA_ARGS__); \
      fprintf(stderr, " (%s)\n", plm_last_error()); \
      ++failures;                          \
    }                                      \
  } while (0)

/* Logits after each prompt token, decoded one at a time, then the whole prompt again
 * as one batch (its last row): n_prompt + 1 rows of n_vocab. */
static float* run(plm_model* m, const int32_t* prompt, size_t n_prompt) {
  const size_t V = (size_t)plm_model_n_vocab(m);
  float* out = calloc((n_prompt + 1) * V, sizeof(float));
  plm_session* s = NULL;
  CHECK(plm_session_create(m, 64, 2, &s) == PLM_OK, "session");
  if (!s || !out) return out;
  for (size_t i = 0; i < n_prompt; ++i) CHECK(plm_decode(s, &prompt[i], 1, out + i * V) == PLM_OK, "decode token %zu", i);
  plm_session_reset(s);
  CHECK(plm_decode(s, prompt, n_prompt, out + n_prompt * V) == PLM_OK, "decode batch");
  plm_session_free(s);
  return out;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s STATIC.plm EMBEDDED.plm\n", argv[0]);
    return 2;
  }
  plm_model *st = NULL, *em = NULL;
  const plm_kernel_registry* reg = plm_kernels_static_synth();

  /* Unregistered: a clear error naming the library id, no crash. */
  CHECK(plm_model_open(argv[1], &st) == PLM_ERROR_BAD_BUNDLE && st == NULL, "opening before registration must fail");
  CHECK(strstr(plm_last_error(), reg->library_id) != NULL, "the error names library %s", reg->library_id);
  CHECK(strstr(plm_last_error(), "plm_register_kernels(plm_kernels_static_synth())") != NULL, "the error says what to call");
  CHECK(plm_register_kernels(NULL) == PLM_ERROR_INVALID_ARGUMENT, "a null registry is refused");

  CHECK(plm_register_kernels(reg) == PLM_OK, "register");
  CHECK(plm_model_open(argv[1], &st) == PLM_OK, "open the code-free bundle %s", argv[1]);
  CHECK(plm_model_open(argv[2], &em) == PLM_OK, "open the embedded bundle %s", argv[2]);
  if (!st || !em) return 1;
  const int32_t prompt[] = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203};
  const size_t n = sizeof prompt / sizeof prompt[0], V = (size_t)plm_model_n_vocab(st);
  CHECK(plm_model_n_vocab(em) == (int32_t)V, "same vocabulary");
  float* a = run(st, prompt, n);
  float* b = run(em, prompt, n);
  size_t differ = 0;
  for (size_t i = 0; a && b && i < (n + 1) * V; ++i) differ += memcmp(&a[i], &b[i], sizeof(float)) != 0;
  CHECK(a && b && differ == 0, "%zu of %zu logits differ between static and embedded kernels", differ, (n + 1) * V);
  free(a);
  free(b);
  plm_model_close(st);
  plm_model_close(em);
  if (failures) return 1;
  printf("static kernels: %zu positions x %zu logits identical to the embedded kernels (library %s, %d kernels)\n", n + 1, V,
         reg->library_id, reg->n_kernels);
  return 0;
}
