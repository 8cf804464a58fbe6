#include "bundle.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "crc32.h"
#include "matmul/weight_bytes.h"
#include "pretokenizer.h"
#include "error.h"

namespace plm {

bool expected_span_sizes(bundle::WeightFormat f, int64_t k, int64_t n, int32_t R, TensorSpanSizes* out) {
  using F = bundle::WeightFormat;
  if (k <= 0 || n <= 0 || R <= 0 || k > (int64_t(1) << 24) || n > (int64_t(1) << 24) || R > 256) return false;
  const uint64_t tiles = uint64_t((n + R - 1) / R), rows = tiles * uint64_t(R);
  *out = {0, 0};
  switch (f) {
    case F::F32: out->quants = rows * uint64_t(k) * 4; return true;
    case F::F16: out->quants = rows * uint64_t(k) * 2; return true;
    case F::Q8_0:
    case F::Q4_0:
      if (k % 32) return false;
      // Each 32-block's quants, then its f16 scales (weight_bytes.h): one span.
      out->quants = tiles * uint64_t(k / 32) * uint64_t(f16_block_bytes(f == F::Q4_0, R));
      return true;
    case F::Q4_K:
    case F::Q5_K:
      if (k % 256) return false;
      out->quants = rows * uint64_t(k) / (f == F::Q4_K ? 2 : 1);
      out->scales = rows * uint64_t(k / 256) * kKQuantScaleBytesPerRow;  // f16 d, dmin, 8 + 8 six-bit fields
      return true;
    case F::Q6_K:  // per row and 256 values: nibbles + bit pairs, f16 d + 16 int8 sub-scales
      if (k % 256) return false;
      out->quants = rows * uint64_t(k / 256) * kQ6KQuantBytesPerRow;
      out->scales = rows * uint64_t(k / 256) * kQ6KScaleBytesPerRow;
      return true;
  }
  return false;
}

bool looks_like_bundle(const std::string& path) {
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".plm") == 0) return true;
  char magic[8] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  const size_t n = std::fread(magic, 1, 8, f);
  std::fclose(f);
  return n == 8 && std::memcmp(magic, kBundleMagic, 8) == 0;
}

namespace {

bool span_inside(uint64_t offset, uint64_t size, uint64_t limit) { return offset <= limit && size <= limit - offset; }

}  // namespace

std::unique_ptr<Bundle> Bundle::open(const std::string& path, const CpuFeatures* cpu, WeightsCheck weights_check) {
  return open(std::make_shared<MappedFile>(path), cpu, weights_check);
}

std::unique_ptr<Bundle> Bundle::open(std::shared_ptr<MappedFile> file, const CpuFeatures* cpu, WeightsCheck weights_check) {
  std::unique_ptr<Bundle> b(new Bundle());
  b->file_ = std::move(file);
  const std::string& path = b->file_->path();
  const uint8_t* base = b->file_->data();
  const uint64_t size = b->file_->size();
  auto bad = [&](auto&&... what) { fail(path, ": not a valid pocketlm bundle: ", what...); };

  // 1. The fixed header.
  if (size < sizeof(BundleHeader)) bad(size, " bytes is shorter than the header");
  BundleHeader h;
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kBundleMagic, 8) != 0) bad("bad magic (is this a .plm bundle?)");
  if (h.version != kBundleFormatVersion)
    fail(path, ": bundle format version ", h.version, ", but this runtime reads version ", kBundleFormatVersion,
         ": recompile the model with a matching pocketlm");
  if (h.header_size != sizeof(BundleHeader)) bad("header size ", h.header_size);
  if (h.file_size != size) bad("the header says ", h.file_size, " bytes but the file has ", size, " (truncated or appended to)");
  // 2. The metadata flatbuffer: in bounds, unchanged, well formed.
  if (!span_inside(h.meta_offset, h.meta_size, size) || h.meta_offset < sizeof(BundleHeader) || h.meta_size < 8 ||
      h.meta_offset % 8 != 0)
    bad("metadata at ", h.meta_offset, " (", h.meta_size, " bytes) is outside the file or misaligned");
  const uint8_t* meta = base + h.meta_offset;
  if (crc32c(meta, size_t(h.meta_size)) != h.meta_crc32) bad("metadata checksum mismatch (the file is corrupted)");
  flatbuffers::Verifier verifier(meta, size_t(h.meta_size), /*max_depth=*/16, /*max_tables=*/4000000);
  if (!bundle::VerifyBundleBuffer(verifier)) bad("metadata fails flatbuffer verification");
  b->meta_ = bundle::GetBundle(meta);
  const bundle::Bundle& m = *b->meta_;
  if (!m.requirements() || !m.hparams() || !m.vocab() || !m.tensors() || !m.sections()) bad("metadata lacks a required table");

  // 3. Sections: page-aligned, after the metadata, inside the file, disjoint, and
  // unchanged (checksums).
  const bundle::Section* weights = nullptr;
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const bundle::Section* s : *m.sections()) {
    const std::string name = s->name() ? s->name()->str() : "";
    if (s->offset() % kBundlePage != 0 || s->offset() < h.meta_offset + h.meta_size || !span_inside(s->offset(), s->size(), size))
      bad("section '", name, "' at ", s->offset(), " (", s->size(), " bytes) is misplaced");
    if (name == "weights") weights = s;
    spans.push_back({s->offset(), s->size()});
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i - 1].first + spans[i - 1].second > spans[i].first) bad("sections overlap");
  // Checksums: every section but the weights now (the kernels are code: checked before
  // they are loaded); the weights before their first use, or now if asked.
  for (const bundle::Section* s : *m.sections()) {
    if (s == weights) continue;
    if (crc32c(base + s->offset(), size_t(s->size())) != s->crc32())
      bad("section '", s->name() ? s->name()->c_str() : "", "' checksum mismatch (the file is corrupted)");
  }
  if (!weights) bad("no weights section");
  b->weights_ = weights;
  if (weights_check == WeightsCheck::AtOpen) b->verify_weights(int(std::max(1u, std::thread::hardware_concurrency())));

  // 5. Tables agree with each other and every tensor lies inside the weights section.
  const bundle::HParams& hp = *m.hparams();
  const bundle::Vocab& v = *m.vocab();
  if (!v.pieces() || int64_t(v.pieces()->size()) != hp.n_vocab())
    bad("vocabulary has ", v.pieces() ? v.pieces()->size() : 0, " pieces but n_vocab is ", hp.n_vocab());
  auto sized = [&](const auto* vec) { return !vec || vec->size() == 0 || vec->size() == v.pieces()->size(); };  // empty = absent
  if (!sized(v.scores()) || !sized(v.types())) bad("vocabulary scores/types do not match its pieces");
  if (v.model() == bundle::TokenizerModel::ByteBpe) {
    if (!v.pre() || !PreTokenizer::known(v.pre()->string_view()))
      bad("vocabulary names an unknown pre-tokenizer '", v.pre() ? v.pre()->str() : "", "'");
  } else if (v.model() != bundle::TokenizerModel::Spm) {
    bad("vocabulary has unknown tokenizer model ", int(v.model()));
  }
  const uint8_t* wbase = base + weights->offset();
  for (const bundle::Tensor* t : *m.tensors()) {
    const std::string name = t->name() ? t->name()->str() : "";
    TensorSpanSizes want;
    if (!t->quants() || !t->scales() || !expected_span_sizes(t->format(), t->k(), t->n(), t->tile_rows(), &want))
      bad("tensor '", name, "' has an impossible shape or format");
    const bundle::Span* spans[2] = {t->quants(), t->scales()};
    const uint64_t sizes[2] = {want.quants, want.scales};
    for (int i = 0; i < 2; ++i) {
      if (spans[i]->size() != sizes[i] || !span_inside(spans[i]->offset(), spans[i]->size(), weights->size()) ||
          spans[i]->offset() % 64 != 0)
        bad("tensor '", name, "' data span ", i, " (", spans[i]->offset(), "+", spans[i]->size(), ") is out of place");
    }
    TensorView tv{t, wbase + t->quants()->offset(), want.scales ? wbase + t->scales()->offset() : nullptr};
    b->tensors_.emplace_back(name, tv);
  }
  // 6. This CPU can run the kernels.
  if (cpu)
    if (const std::string why = b->cannot_run_on(*cpu); !why.empty()) fail(path, ": ", why);
  return b;
}

void Bundle::verify_weights(int threads) const {
  if (weights_state_.load(std::memory_order_acquire) == 1) return;
  std::lock_guard<std::mutex> lock(weights_mutex_);
  if (weights_state_.load(std::memory_order_relaxed) == 0) {
    const uint8_t* p = file_->data() + weights_->offset();
    const bool good = crc32c_parallel(p, size_t(weights_->size()), std::max(1, std::min(threads, 8))) == weights_->crc32();
    weights_state_.store(good ? 1 : 2, std::memory_order_release);
  }
  if (weights_state_.load(std::memory_order_relaxed) == 2)
    fail(path(), ": not a valid pocketlm bundle: section 'weights' checksum mismatch (the file is corrupted)");
}

std::string Bundle::cannot_run_on(const CpuFeatures& cpu) const {
  const bundle::Requirements& req = *meta_->requirements();
  const std::string arch = req.arch() ? req.arch()->str() : "";
  const std::string soc = req.soc() ? req.soc()->str() : "?";
  if (arch != cpu.arch) return "compiled for " + arch + " (SoC " + soc + "), but this CPU is " + cpu.arch;
  std::string missing;
  if (req.features())
    for (const auto* f : *req.features())
      if (!cpu.has(f->str())) missing += (missing.empty() ? "" : ", ") + f->str();
  if (!missing.empty()) return "compiled for " + soc + ", whose kernels need CPU features this CPU lacks: " + missing;
  return "";
}

const Bundle::TensorView* Bundle::find_tensor(const std::string& name) const {
  for (const auto& [n, v] : tensors_)
    if (n == name) return &v;
  return nullptr;
}

Vocab Bundle::vocab() const {
  const bundle::Vocab& bv = *meta_->vocab();
  Vocab v;
  v.kind = bv.model() == bundle::TokenizerModel::ByteBpe ? TokenizerKind::ByteBpe : TokenizerKind::Spm;
  if (bv.merges())
    for (const auto* m : *bv.merges()) v.merges.push_back(m->str());
  if (bv.pre()) v.pre = bv.pre()->str();
  if (bv.chat_template()) v.chat_template = bv.chat_template()->str();
  for (const auto* p : *bv.pieces()) v.pieces.push_back(p->str());
  if (bv.scores()) v.scores.assign(bv.scores()->begin(), bv.scores()->end());
  if (bv.types())
    for (int8_t t : *bv.types()) v.types.push_back(TokenType(t));
  v.bos = bv.bos();
  v.eos = bv.eos();
  v.unk = bv.unk();
  v.add_bos = bv.add_bos();
  v.add_space_prefix = bv.add_space_prefix();
  return v;
}

}  // namespace plm
