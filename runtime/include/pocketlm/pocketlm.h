/* pocketlm: the C API apps link against. A model is a compiled bundle (.plm from
 * `pocketlm compile`), mapped read-only; sessions hold one conversation each (KV cache,
 * position). One model serves many sessions. Every call returns PLM_OK or an error
 * code; plm_last_error() gives the message (per thread), naming the file or argument
 * at fault. */
#ifndef POCKETLM_H
#define POCKETLM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The API stays visible when the runtime is built with hidden symbols (libpocketlm.so). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

typedef enum plm_status {
  PLM_OK = 0,
  PLM_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a bad id, an absurd option */
  PLM_ERROR_BAD_BUNDLE = 2,       /* missing, truncated, corrupted or not a bundle */
  PLM_ERROR_UNSUPPORTED_CPU = 3,  /* the bundle was compiled for another SoC */
  PLM_ERROR_CONTEXT_FULL = 4,     /* the session's context cannot take the tokens */
  PLM_ERROR_CANCELLED = 5,        /* the streaming callback asked to stop */
  PLM_ERROR_INTERNAL = 6
} plm_status;

typedef struct plm_model plm_model;
typedef struct plm_session plm_session;

/* The message of the calling thread's last error ("" if none). */
const char* plm_last_error(void);

/* Kernels linked into the app, for platforms that forbid loading code (iOS):
 * `pocketlm compile --emit-static -o NAME.plm` writes a code-free NAME.plm plus
 * NAME.kernels.a and NAME.kernels.h. Link the archive, then register its kernels
 * once, before opening the bundle:  plm_register_kernels(plm_kernels_NAME());
 * The bundle names the library id it needs; opening it without the matching
 * registry fails with PLM_ERROR_BAD_BUNDLE naming the id. */
typedef int (*plm_kernel_fn)(void** args);
typedef struct plm_kernel_registry {
  const char* library_id;              /* "NAME-HASH", as the bundle records it */
  int32_t n_kernels;
  const plm_kernel_fn* kernels;        /* in the bundle's plan order */
  void (*set_parallel_handler)(void);  /* the archive's halide_set_custom_do_par_for */
} plm_kernel_registry;
plm_status plm_register_kernels(const plm_kernel_registry* registry);

/* Maps the bundle and checks everything but the weights' checksum, which the first
 * plm_decode/plm_generate of any session checks once (a corrupted bundle then fails
 * there, every time, with PLM_ERROR_BAD_BUNDLE). */
plm_status plm_model_open(const char* path, plm_model** out);
/* The same for a bundle stored at `offset` of an open file, `size` bytes long (0: to
 * the end), e.g. uncompressed inside an Android APK (AAsset_openFileDescriptor64).
 * `offset` must be a multiple of 64 (the bundle's own alignment; `zipalign 64`). The
 * file is mapped, not copied; `fd` may be closed after the call. */
plm_status plm_model_open_fd(int fd, uint64_t offset, uint64_t size, plm_model** out);
void plm_model_close(plm_model* model); /* after every session of it is freed */
int32_t plm_model_n_vocab(const plm_model* model);
int32_t plm_model_n_ctx_train(const plm_model* model);

/* Tokenize UTF-8 text. Writes at most `capacity` ids and sets *n_ids to the number the
 * text needs (call again with a larger buffer if it is bigger than capacity). */
plm_status plm_tokenize(const plm_model* model, const char* text, size_t text_len, int add_bos, int32_t* ids, size_t capacity,
                        size_t* n_ids);
/* The bytes of one token (not NUL-terminated); *len set, at most `capacity` written. */
plm_status plm_token_piece(const plm_model* model, int32_t id, char* buf, size_t capacity, size_t* len);

/* n_ctx 0: the model's context (at most 4096); threads 0: all CPUs. */
plm_status plm_session_create(plm_model* model, int32_t n_ctx, int32_t threads, plm_session** out);
void plm_session_free(plm_session* session);
int32_t plm_session_position(const plm_session* session);
void plm_session_reset(plm_session* session);

/* Evaluates ids at the next positions; writes the logits of the last one (n_vocab
 * floats) to `logits` if not NULL. */
plm_status plm_decode(plm_session* session, const int32_t* ids, size_t n_ids, float* logits);

typedef struct plm_sampling {
  float temperature;  /* 0: greedy */
  int32_t top_k;      /* 0: off */
  float top_p;        /* 1: off */
  float min_p;        /* 0: off */
  float repeat_penalty; /* 1: off */
  uint64_t seed;
} plm_sampling;
/* llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalty. */
plm_sampling plm_sampling_default(void);

/* Receives generated text in UTF-8-safe pieces; return nonzero to stop. */
typedef int (*plm_text_callback)(const char* text, size_t len, void* user);

/* Prompt -> up to max_tokens of text, streamed through `on_text`; stops at the model's
 * end token, at `stop` (may be NULL) or when the context is full (PLM_OK with
 * *n_generated telling how many came). */
plm_status plm_generate(plm_session* session, const char* prompt, const plm_sampling* sampling, int32_t max_tokens, const char* stop,
                        plm_text_callback on_text, void* user, int32_t* n_generated);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif /* POCKETLM_H */
