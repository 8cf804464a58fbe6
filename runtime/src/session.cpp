#include "session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "error.h"
#include "kernel_buffer.h"
#include "kv_cache.h"

namespace plm {

Session::Session(std::shared_ptr<const Model> model, int64_t n_ctx, int64_t n_batch, int threads) : model_(std::move(model)) {
  const bundle::Bundle& m = model_->bundle().meta();
  const bundle::HParams& hp = *m.hparams();
  n_vocab_ = hp.n_vocab();
  kv_width_ = m.plan()->kv_width();
  n_ctx_ = n_ctx > 0 ? n_ctx : std::min<int64_t>(hp.n_ctx_train(), 4096);
  if (n_ctx_ <= 0 || n_ctx_ > (int64_t(1) << 24)) fail("context size ", n_ctx_, " is out of range");
  if (n_batch < 1 || n_batch > 4096) fail("batch size ", n_batch, " is out of range (1..4096)");
  n_batch_ = n_batch;
  const int n_threads = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<ThreadPool>(n_threads);
  arena_.resize(size_t(m.plan()->arena_bytes_per_token() * uint64_t(n_batch_)) + 64);
  arena_base_ = arena_.data() + (64 - reinterpret_cast<uintptr_t>(arena_.data()) % 64) % 64;
  kv_type_ = m.plan()->kv_cache_type();
  const size_t kv_bytes = size_t(n_ctx_ * kv_cache_bytes_per_position(kv_type_, kv_width_));
  k_cache_.assign(size_t(hp.n_layer()), std::vector<uint8_t>(kv_bytes));
  v_cache_.assign(size_t(hp.n_layer()), std::vector<uint8_t>(kv_bytes));
}

std::vector<float> Session::decode(const std::vector<int32_t>& ids, bool last_only) {
  if (ids.empty()) fail("no tokens to decode");
  for (int32_t id : ids)
    if (id < 0 || id >= n_vocab_) fail("token id ", id, " is out of range (vocabulary has ", n_vocab_, " tokens)");
  if (int64_t(ids.size()) > n_ctx_ - pos_)
    fail("context overflow: ", pos_, " tokens cached + ", ids.size(), " new > context size ", n_ctx_);
  model_->bundle().verify_weights(pool_->size());  // once per model, before the weights are first read
  std::vector<float> logits(size_t(last_only ? n_vocab_ : n_vocab_ * int64_t(ids.size())));
  for (size_t begin = 0; begin < ids.size(); begin += size_t(n_batch_)) {
    const int64_t T = std::min<int64_t>(n_batch_, int64_t(ids.size() - begin));
    const bool last_chunk = begin + size_t(T) == ids.size();
    float* out = last_only ? (last_chunk ? logits.data() : nullptr) : logits.data() + begin * size_t(n_vocab_);
    run_chunk(ids.data() + begin, T, out, last_only);
    pos_ += T;
  }
  return logits;
}

void Session::run_chunk(const int32_t* ids, int64_t T, float* logits_out, bool last_only) {
  const bundle::Bundle& meta = model_->bundle().meta();
  const bundle::Plan& plan = *meta.plan();
  const auto& slots = *plan.slots();
  auto slot_base = [&](uint32_t s) { return arena_base_ + slots.Get(s)->offset() * uint64_t(n_batch_); };
  std::vector<void*> argv;
  void* user_context = pool_.get();  // argv[0]: the kernels' user context, read by halide_do_par_for
  std::vector<std::unique_ptr<KernelBuffer>> bufs;
  std::vector<int32_t> scalars;
  // One kernel call on tokens [t0, t0 + tn) of the chunk.
  auto call = [&](const BoundKernel& k, const bundle::Step& st, int64_t t0, int64_t tn) {
    const int64_t pos0 = pos_ + t0, positions = pos0 + tn;
    uint64_t weight_bytes = 0;
    argv.assign(1, &user_context);
    bufs.clear();
    scalars.assign(k.args.size(), 0);
    for (size_t i = 0; i < k.args.size(); ++i) {
      const KernelArgSpec& s = k.args[i];
      const bundle::Arg& a = *st.args()->Get(uint32_t(i));
      if (s.role == 's') {
        scalars[i] = int32_t(pos0);
        argv.push_back(&scalars[i]);
        continue;
      }
      uint8_t* host = nullptr;
      switch (a.kind()) {
        case bundle::ArgKind::Tokens: host = reinterpret_cast<uint8_t*>(const_cast<int32_t*>(ids + t0)); break;
        case bundle::ArgKind::Activation:
        case bundle::ArgKind::Scratch: host = slot_base(a.ref()) + uint64_t(t0) * bytes_per_token(s); break;
        case bundle::ArgKind::Weight: {
          const Bundle::TensorView* t = model_->bundle().tensor(a.ref());
          host = const_cast<uint8_t*>(a.part() == 0 ? t->quants : t->scales);
          break;
        }
        case bundle::ArgKind::KCacheAppend:
        case bundle::ArgKind::VCacheAppend:
        case bundle::ArgKind::KCache:
        case bundle::ArgKind::VCache: {
          host = (kv_cache_holds_keys(a.kind()) ? k_cache_ : v_cache_)[a.ref()].data() +
                 kv_cache_part_offset(kv_type_, kv_width_, n_ctx_, a.part()) +
                 (kv_cache_appends(a.kind()) ? pos0 * kv_cache_row_bytes(kv_type_, kv_width_, a.part()) : 0);
          break;
        }
        default: break;
      }
      bufs.push_back(std::make_unique<KernelBuffer>(host, s.type, resolve_extents(s, tn, positions)));
      argv.push_back(bufs.back()->get());
      if (profiling_ && a.kind() == bundle::ArgKind::Weight && st.op() && st.op()->string_view().substr(0, 6) == "matmul") {
        uint64_t n = s.type.bytes();
        for (int d = 0; d < bufs.back()->buf.dimensions; ++d) n *= uint64_t(bufs.back()->buf.dim[d].extent);
        weight_bytes += n;
      }
    }
    const auto start = std::chrono::steady_clock::now();
    if (int rc = k.fn(argv.data())) fail("kernel '", k.key, "' failed with code ", rc, " in ", st.op() ? st.op()->c_str() : "?");
    if (profiling_) {
      KernelProfile& p = profile_[k.key];
      if (p.op.empty() && st.op()) p.op = st.op()->str();
      ++p.calls;
      p.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      p.weight_bytes += weight_bytes;
    }
  };
  const auto& kernels = model_->kernels();
  for (uint32_t i = 0; i < plan.steps()->size(); ++i) {
    const bundle::Step* st = plan.steps()->Get(i);
    const BoundKernel& decode = kernels[st->kernel()];
    if (last_only && model_->feeds_only_logits(i)) {
      // Only the last token's logits are wanted (and none from a chunk before the last).
      if (logits_out) call(decode, *st, T - 1, 1);
    } else if (st->prefill_kernel() >= 0 && T >= kernels[size_t(st->prefill_kernel())].token_block) {
      const BoundKernel& prefill = kernels[size_t(st->prefill_kernel())];
      const int64_t whole = T / prefill.token_block * prefill.token_block;
      call(prefill, *st, 0, whole);
      if (whole < T) call(decode, *st, whole, T - whole);
    } else {
      call(decode, *st, 0, T);
    }
  }
  if (logits_out) {
    const float* src = reinterpret_cast<const float*>(slot_base(plan.logits_slot()));
    if (last_only) std::memcpy(logits_out, src + (T - 1) * n_vocab_, size_t(n_vocab_) * 4);
    else std::memcpy(logits_out, src, size_t(T * n_vocab_) * 4);
  }
}

}  // namespace plm
