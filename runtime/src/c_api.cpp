// The C API (runtime/include/pocketlm/pocketlm.h) over Model, Session, Tokenizer and
// the generation loop. Exceptions never cross it: they become status codes plus a
// per-thread message.
#include "pocketlm/pocketlm.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>

#include "error.h"
#include "generation.h"
#include "kernel_registry.h"
#include "session.h"

struct plm_model {
  std::shared_ptr<const plm::Model> model;
  std::unique_ptr<plm::Tokenizer> tokenizer;
};

struct plm_session {
  plm_model* owner;
  std::unique_ptr<plm::Session> session;
};

namespace {

thread_local std::string t_error;

plm_status set_error(plm_status s, const std::string& msg) {
  t_error = msg;
  return s;
}

// Runs f, mapping exceptions to status codes by what their message says.
template <typename F>
plm_status guarded(F&& f) {
  try {
    t_error.clear();
    return f();
  } catch (const plm::Error& e) {
    const std::string m = e.what();
    if (m.find("context overflow") != std::string::npos || m.find("does not fit the context") != std::string::npos)
      return set_error(PLM_ERROR_CONTEXT_FULL, m);
    if (m.find("this CPU") != std::string::npos) return set_error(PLM_ERROR_UNSUPPORTED_CPU, m);
    if (m.find("token id") != std::string::npos || m.find("out of range") != std::string::npos)
      return set_error(PLM_ERROR_INVALID_ARGUMENT, m);
    return set_error(PLM_ERROR_BAD_BUNDLE, m);
  } catch (const std::bad_alloc&) {
    return set_error(PLM_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return set_error(PLM_ERROR_INTERNAL, e.what());
  }
}

#define PLM_REQUIRE(cond, what) \
  if (!(cond)) return set_error(PLM_ERROR_INVALID_ARGUMENT, what)

plm_status open_model(const std::function<std::shared_ptr<plm::Model>()>& open, plm_model** out) {
  *out = nullptr;
  return guarded([&] {
    auto m = std::make_unique<plm_model>();
    auto model = open();
    m->tokenizer = std::make_unique<plm::Tokenizer>(model->bundle().vocab());
    m->model = std::move(model);
    *out = m.release();
    return PLM_OK;
  });
}

}  // namespace

extern "C" {

const char* plm_last_error(void) { return t_error.c_str(); }

plm_status plm_register_kernels(const plm_kernel_registry* registry) {
  PLM_REQUIRE(registry && registry->library_id && registry->kernels && registry->set_parallel_handler && registry->n_kernels >= 0,
              "plm_register_kernels: null or incomplete registry");
  return guarded([&] {
    plm::register_static_kernels(registry);
    return PLM_OK;
  });
}

plm_status plm_model_open(const char* path, plm_model** out) {
  PLM_REQUIRE(path && out, "plm_model_open: null path or output");
  return open_model([&] { return plm::Model::open(path); }, out);
}

plm_status plm_model_open_fd(int fd, uint64_t offset, uint64_t size, plm_model** out) {
  PLM_REQUIRE(fd >= 0 && out, "plm_model_open_fd: negative fd or null output");
  return open_model(
      [&] {
        const std::string name = "fd " + std::to_string(fd) + " at offset " + std::to_string(offset);
        // The bundle's tables and weights are aligned to 64 bytes from its start.
        if (offset % 64 != 0)
          plm::fail(name, ": a bundle must start at a multiple of 64 bytes of its file (align it when packing, e.g. zipalign 64)");
        return plm::Model::open(std::make_shared<plm::MappedFile>(fd, offset, size, name));
      },
      out);
}

void plm_model_close(plm_model* model) { delete model; }

int32_t plm_model_n_vocab(const plm_model* m) { return m ? int32_t(m->model->bundle().meta().hparams()->n_vocab()) : 0; }
int32_t plm_model_n_ctx_train(const plm_model* m) { return m ? int32_t(m->model->bundle().meta().hparams()->n_ctx_train()) : 0; }

plm_status plm_tokenize(const plm_model* m, const char* text, size_t text_len, int add_bos, int32_t* ids, size_t capacity, size_t* n_ids) {
  PLM_REQUIRE(m && (text || text_len == 0) && n_ids && (ids || capacity == 0), "plm_tokenize: null argument");
  return guarded([&] {
    const auto v = m->tokenizer->encode(std::string_view(text ? text : "", text_len), add_bos != 0);
    *n_ids = v.size();
    if (capacity && !v.empty()) std::memcpy(ids, v.data(), std::min(v.size(), capacity) * sizeof(int32_t));
    return PLM_OK;
  });
}

plm_status plm_token_piece(const plm_model* m, int32_t id, char* buf, size_t capacity, size_t* len) {
  PLM_REQUIRE(m && len && (buf || capacity == 0), "plm_token_piece: null argument");
  return guarded([&] {
    const std::string p = m->tokenizer->piece_bytes(id);
    *len = p.size();
    if (capacity && !p.empty()) std::memcpy(buf, p.data(), std::min(p.size(), capacity));
    return PLM_OK;
  });
}

plm_status plm_session_create(plm_model* m, int32_t n_ctx, int32_t threads, plm_session** out) {
  PLM_REQUIRE(m && out && n_ctx >= 0 && threads >= 0, "plm_session_create: null argument or negative size");
  *out = nullptr;
  return guarded([&] {
    auto s = std::make_unique<plm_session>();
    s->owner = m;
    s->session = std::make_unique<plm::Session>(m->model, n_ctx, 64, threads);
    *out = s.release();
    return PLM_OK;
  });
}

void plm_session_free(plm_session* s) { delete s; }
int32_t plm_session_position(const plm_session* s) { return s ? int32_t(s->session->position()) : 0; }
void plm_session_reset(plm_session* s) {
  if (s) s->session->reset();
}

plm_status plm_decode(plm_session* s, const int32_t* ids, size_t n_ids, float* logits) {
  PLM_REQUIRE(s && ids && n_ids > 0, "plm_decode: null session or no ids");
  return guarded([&] {
    const auto l = s->session->decode(std::vector<int32_t>(ids, ids + n_ids), /*last_only=*/true);
    if (logits) std::memcpy(logits, l.data(), l.size() * sizeof(float));
    return PLM_OK;
  });
}

plm_sampling plm_sampling_default(void) {
  const plm::SamplerParams d;
  return plm_sampling{d.temperature, d.top_k, d.top_p, d.min_p, d.repeat_penalty, d.seed};
}

plm_status plm_generate(plm_session* s, const char* prompt, const plm_sampling* sampling, int32_t max_tokens, const char* stop,
                        plm_text_callback on_text, void* user, int32_t* n_generated) {
  PLM_REQUIRE(s && prompt && max_tokens >= 0, "plm_generate: null session or prompt, or negative max_tokens");
  return guarded([&] {
    plm::GenerateOptions opt;
    opt.max_tokens = max_tokens;
    const plm_sampling sp = sampling ? *sampling : plm_sampling_default();
    opt.sampling.temperature = sp.temperature;
    opt.sampling.top_k = sp.top_k;
    opt.sampling.top_p = sp.top_p;
    opt.sampling.min_p = sp.min_p;
    opt.sampling.repeat_penalty = sp.repeat_penalty;
    opt.sampling.seed = sp.seed;
    if (const std::string e = plm::validate(opt.sampling); !e.empty()) return set_error(PLM_ERROR_INVALID_ARGUMENT, "plm_generate: " + e);
    if (stop && *stop) opt.stop_strings.push_back(stop);
    const plm::Tokenizer& tok = *s->owner->tokenizer;
    const auto ids = tok.encode(prompt, tok.vocab().add_bos);
    std::vector<float> logits;
    plm::Session& session = *s->session;
    const auto st = plm::generate(
        tok,
        [&](const std::vector<int32_t>& batch) -> const float* {
          logits = session.decode(batch, true);
          return logits.data();
        },
        session.context_size(), ids, opt,
        [&](const std::string& text) { return on_text ? on_text(text.data(), text.size(), user) == 0 : true; }, session.position());
    if (n_generated) *n_generated = st.n_generated;
    return st.reason == plm::StopReason::Cancelled ? set_error(PLM_ERROR_CANCELLED, "cancelled by the callback") : PLM_OK;
  });
}

}  // extern "C"
