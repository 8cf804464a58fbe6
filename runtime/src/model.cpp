#include "model.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "kernel_registry.h"
#include "kv_cache.h"
#include "thread_pool.h"

namespace plm {

namespace {
// A sanity bound on a kernel's token block (the schedules use 4 and 8): a larger value
// is a malformed bundle, not a kernel.
constexpr uint32_t kMaxTokenBlock = 64;

// glibc loads shared objects from files only: the library is copied into an
// anonymous one (memfd) and opened from there.
void* load_embedded_library(const Bundle& b, const bundle::Section& lib, const std::string& path) {
  const int fd = memfd_create("pocketlm-kernels", MFD_CLOEXEC);
  if (fd < 0) fail(path, ": memfd_create failed: ", std::strerror(errno));
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(b.data()) + lib.offset();
  for (uint64_t done = 0; done < lib.size();) {
    const ssize_t w = ::write(fd, bytes + done, size_t(lib.size() - done));
    if (w <= 0) {
      ::close(fd);
      fail(path, ": cannot stage the kernel library: ", std::strerror(errno));
    }
    done += uint64_t(w);
  }
  const std::string fd_path = "/proc/self/fd/" + std::to_string(fd);
  void* handle = dlopen(fd_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ::close(fd);
  if (!handle) fail(path, ": cannot load the kernel library: ", dlerror());
  return handle;
}

}  // namespace

std::shared_ptr<Model> Model::open(const std::string& path) { return open(std::make_shared<MappedFile>(path)); }

std::shared_ptr<Model> Model::open(std::shared_ptr<MappedFile> file) {
  std::shared_ptr<Model> m(new Model());
  m->bundle_ = Bundle::open(std::move(file));
  const std::string& path = m->bundle_->path();
  const bundle::Bundle& meta = m->bundle_->meta();
  if (!meta.plan() || !meta.kernels() || !meta.plan()->steps() || !meta.plan()->slots())
    fail(path, ": the bundle has no execution plan (written by an older pocketlm?): recompile it");
  int (*const* table)(void**) = nullptr;
  int count = 0;
  if (meta.static_kernels()) {
    // Kernels linked into the app: the registry it handed to plm_register_kernels.
    const std::string id = meta.static_kernels()->str();
    const plm_kernel_registry* r = find_static_kernels(id);
    if (!r)
      fail(path, ": its kernels are linked statically (library ", id, ", `compile --emit-static`) and this program has not "
                 "registered them (registered: ", registered_static_kernel_ids(), "): link its .kernels.a and call "
                 "plm_register_kernels(plm_kernels_", id.substr(0, id.rfind('-')), "()) before opening it");
    table = r->kernels;
    count = r->n_kernels;
    m->set_custom_do_par_for_ = reinterpret_cast<decltype(m->set_custom_do_par_for_)>(r->set_parallel_handler);
  } else {
    const bundle::Section* lib = nullptr;
    for (const auto* s : *meta.sections())
      if (s->name() && s->name()->str() == "kernels") lib = s;
    if (!lib) fail(path, ": the bundle has no kernels section");
    m->library_ = load_embedded_library(*m->bundle_, *lib, path);
    table = reinterpret_cast<int (*const*)(void**)>(dlsym(m->library_, "plm_kernel_table"));
    auto* n = reinterpret_cast<const int*>(dlsym(m->library_, "plm_kernel_count"));
    m->set_custom_do_par_for_ = reinterpret_cast<decltype(m->set_custom_do_par_for_)>(dlsym(m->library_, "halide_set_custom_do_par_for"));
    if (!table || !n || !m->set_custom_do_par_for_) fail(path, ": the kernel library lacks its kernel table");
    count = *n;
  }
  if (count != int(meta.kernels()->size()))
    fail(path, ": the kernel library has ", count, " kernels but the plan names ", meta.kernels()->size());
  for (int i = 0; i < count; ++i) {
    const bundle::Kernel* k = meta.kernels()->Get(uint32_t(i));
    if (!k->spec()) fail(path, ": kernel ", i, " has no argument spec");
    if (k->token_block() < 1 || k->token_block() > kMaxTokenBlock)
      fail(path, ": kernel ", i, " has token block ", k->token_block(), " (1 to ", kMaxTokenBlock, " expected)");
    try {
      m->kernels_.push_back({table[i], parse_kernel_spec(k->spec()->str()), k->key() ? k->key()->str() : "", int64_t(k->token_block())});
    } catch (const Error& e) {
      fail(path, ": kernel ", i, ": ", e.what());
    }
  }
  m->check_plan();
  m->find_logits_tail();
  // Parallel loops go to the pool each call passes as its user context.
  m->set_custom_do_par_for_(ThreadPool::halide_handler());
  return m;
}

// Every reference in the plan must be in range and agree with the kernel's spec
// before anything runs: the plan is untrusted input like the rest of the bundle.
void Model::check_plan() const {
  const bundle::Bundle& meta = bundle_->meta();
  const bundle::Plan& plan = *meta.plan();
  const std::string& path = bundle_->path();
  const auto& slots = *plan.slots();
  const int64_t n_layer = meta.hparams()->n_layer(), kv_width = plan.kv_width();
  if (kv_width != meta.hparams()->n_head_kv() * meta.hparams()->head_dim()) fail(path, ": plan kv_width disagrees with the hparams");
  const bundle::KvCacheType kv_type = plan.kv_cache_type();
  if (kv_type != bundle::KvCacheType::F16 && kv_type != bundle::KvCacheType::Q8_0)
    fail(path, ": unknown KV cache type ", int(kv_type), " (a newer pocketlm wrote it?)");
  if (kv_type == bundle::KvCacheType::Q8_0 && kv_width % 32 != 0) fail(path, ": a Q8_0 KV cache needs kv_width to be a multiple of 32");
  for (const auto* s : slots)
    if (s->bytes_per_token() > plan.arena_bytes_per_token() || s->offset() > plan.arena_bytes_per_token() - s->bytes_per_token())
      fail(path, ": plan slot outside the arena");
  if (plan.logits_slot() >= slots.size() || slots.Get(plan.logits_slot())->bytes_per_token() != uint64_t(meta.hparams()->n_vocab()) * 4)
    fail(path, ": plan logits slot is wrong");
  uint32_t index = 0;
  for (const auto* st : *plan.steps()) {
    auto bad = [&](auto&&... what) { fail(path, ": plan step ", index, " (", st->op() ? st->op()->c_str() : "?", "): ", what...); };
    if (st->kernel() >= kernels_.size()) bad("kernel ", st->kernel(), " does not exist");
    if (st->prefill_kernel() >= int32_t(kernels_.size()) || st->prefill_kernel() < -1) bad("prefill kernel does not exist");
    const auto& spec = kernels_[st->kernel()].args;
    if (st->prefill_kernel() >= 0 && kernels_[size_t(st->prefill_kernel())].args.size() != spec.size()) bad("prefill kernel arguments differ");
    if (!st->args() || st->args()->size() != spec.size()) bad("argument count differs from the kernel's");
    for (uint32_t i = 0; i < spec.size(); ++i) {
      const bundle::Arg* a = st->args()->Get(i);
      const KernelArgSpec& s = spec[i];
      const bool has_t = !s.extents.empty() && s.extents.back() == kExtentTokens;
      const bool has_p = !s.extents.empty() && s.extents.back() == kExtentPositions;
      switch (a->kind()) {
        case bundle::ArgKind::Pos0:
          if (s.role != 's') bad("argument ", i, " is not a scalar");
          break;
        case bundle::ArgKind::Tokens:
          if (s.role != 'i' || s.elem_bytes != 4 || s.extents.size() != 1 || !has_t) bad("argument ", i, " is not the token ids");
          break;
        case bundle::ArgKind::Activation:
        case bundle::ArgKind::Scratch:
          if (s.role == 's' || !has_t || a->ref() >= slots.size() || slots.Get(a->ref())->bytes_per_token() < bytes_per_token(s))
            bad("argument ", i, " does not fit its arena slot");
          break;
        case bundle::ArgKind::Weight: {
          const Bundle::TensorView* t = a->ref() < meta.tensors()->size() ? bundle_->tensor(a->ref()) : nullptr;
          if (s.role != 'i' || has_t || has_p || !t || a->part() > 1) bad("argument ", i, " is not a stored tensor");
          uint64_t bytes = uint64_t(s.elem_bytes);
          for (int64_t e : s.extents) bytes *= uint64_t(e);
          const bundle::Span* span = a->part() == 0 ? t->info->quants() : t->info->scales();
          if (span->size() < bytes) bad("argument ", i, " reads past its tensor");
          break;
        }
        case bundle::ArgKind::KCacheAppend:
        case bundle::ArgKind::VCacheAppend:
        case bundle::ArgKind::KCache:
        case bundle::ArgKind::VCache: {
          const bool append = kv_cache_appends(a->kind());
          const int part = a->part();
          // One row of the part as runtime/src/kv_cache.h lays it out.
          if (part >= kv_cache_parts(kv_type) || int64_t(a->ref()) >= n_layer || s.extents.size() != 2 ||
              s.extents[0] * s.elem_bytes != kv_cache_row_bytes(kv_type, kv_width, part) ||
              (append ? !has_t || s.role != 'o' : !has_p || s.role != 'i'))
            bad("argument ", i, " is not a KV cache view");
          break;
        }
        default: bad("argument ", i, " has an unknown kind");
      }
    }
    ++index;
  }
}

// Backwards over the plan with the set of slots a later kept step still reads: a step
// is in the tail if nothing kept reads what it writes and it neither embeds tokens nor
// appends to the KV cache (those every token needs). Reading the cache is fine: that
// is attention of one query token, which is what decoding does.
void Model::find_logits_tail() {
  const bundle::Plan& plan = *bundle_->meta().plan();
  const auto& steps = *plan.steps();
  auto in_arena = [](bundle::ArgKind k) { return k == bundle::ArgKind::Activation || k == bundle::ArgKind::Scratch; };
  feeds_only_logits_.assign(steps.size(), 0);
  // Starts all unread: past the last step only the logits slot matters, and only the tail writes it.
  std::vector<uint8_t> read_later(plan.slots()->size(), 0);
  for (size_t i = steps.size(); i-- > 0;) {
    const bundle::Step& st = *steps.Get(uint32_t(i));
    const auto& spec = kernels_[st.kernel()].args;
    const auto& args = *st.args();
    bool tail = true;
    for (uint32_t a = 0; a < spec.size(); ++a) {
      const bundle::ArgKind kind = args.Get(a)->kind();
      if (kind == bundle::ArgKind::Tokens || kv_cache_appends(kind)) tail = false;
      if (in_arena(kind) && spec[a].role == 'o' && read_later[args.Get(a)->ref()]) tail = false;
    }
    feeds_only_logits_[i] = tail;
    if (tail) continue;
    // A kept step: its writes end the later reads' interest, then its own reads begin
    // one (writes first, so that an in-place step's slot stays live).
    for (uint32_t a = 0; a < spec.size(); ++a)
      if (in_arena(args.Get(a)->kind()) && spec[a].role == 'o') read_later[args.Get(a)->ref()] = 0;
    for (uint32_t a = 0; a < spec.size(); ++a)
      if (in_arena(args.Get(a)->kind()) && spec[a].role == 'i') read_later[args.Get(a)->ref()] = 1;
  }
}

Model::~Model() {
  if (library_) dlclose(library_);
}


}  // namespace plm
