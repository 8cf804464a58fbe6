#include "gguf_builder.h"

namespace plm::test {

namespace {
constexpr int kDim = 32, kFf = 64, kVocab = 64, kHeads = 2, kLayers = 1, kCtx = 16;

// Deterministic small weights so files are reproducible.
std::vector<uint8_t> f32_data(size_t n, uint32_t seed) {
  std::vector<uint8_t> b(n * 4);
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    float v = (float((s >> 8) & 0xffff) / 65535.0f - 0.5f) * 0.2f;
    std::memcpy(&b[i * 4], &v, 4);
  }
  return b;
}
}  // namespace

GgufBuilder tiny_llama_gguf() {
  GgufBuilder g;
  g.kv_str("general.architecture", "llama");
  g.kv_str("general.name", "tiny");
  g.kv_u32("llama.context_length", kCtx);
  g.kv_u32("llama.embedding_length", kDim);
  g.kv_u32("llama.block_count", kLayers);
  g.kv_u32("llama.feed_forward_length", kFf);
  g.kv_u32("llama.attention.head_count", kHeads);
  g.kv_u32("llama.attention.head_count_kv", kHeads);
  g.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  uint32_t seed = 1;
  auto t = [&](const std::string& name, std::vector<uint64_t> ne) {
    size_t n = 1;
    for (auto d : ne) n *= size_t(d);
    g.tensor({name, ne, 0, f32_data(n, seed++)});
  };
  t("token_embd.weight", {kDim, kVocab});
  t("blk.0.attn_norm.weight", {kDim});
  t("blk.0.attn_q.weight", {kDim, kDim});
  t("blk.0.attn_k.weight", {kDim, kDim});
  t("blk.0.attn_v.weight", {kDim, kDim});
  t("blk.0.attn_output.weight", {kDim, kDim});
  t("blk.0.ffn_norm.weight", {kDim});
  t("blk.0.ffn_gate.weight", {kDim, kFf});
  t("blk.0.ffn_down.weight", {kFf, kDim});
  t("blk.0.ffn_up.weight", {kDim, kFf});
  t("output_norm.weight", {kDim});
  return g;
}

std::vector<uint8_t> tiny_llama2c(bool shared_classifier) {
  std::vector<uint8_t> f;
  auto put = [&](const std::vector<uint8_t>& b) { f.insert(f.end(), b.begin(), b.end()); };
  for (int32_t v : {kDim, kFf, kLayers, kHeads, kHeads, shared_classifier ? kVocab : -kVocab, kCtx}) put(GgufBuilder::pod(v));
  const size_t head = kDim / kHeads;
  const size_t n = size_t(kVocab) * kDim + kLayers * (2 * kDim + 4 * kDim * kDim + 3 * kDim * kFf) + kDim + kCtx * head +
                   (shared_classifier ? 0 : size_t(kVocab) * kDim);
  put(f32_data(n, 7));
  return f;
}

std::vector<uint8_t> tiny_llama2c_tokenizer(int vocab) {
  std::vector<uint8_t> f;
  auto put = [&](const std::vector<uint8_t>& b) { f.insert(f.end(), b.begin(), b.end()); };
  put(GgufBuilder::pod<int32_t>(8));
  for (int k = 0; k < vocab; ++k) {
    std::string piece = k == 0 ? "<unk>" : k == 1 ? "<s>" : k == 2 ? "</s>" : "t" + std::to_string(k);
    put(GgufBuilder::pod<float>(-float(k)));
    put(GgufBuilder::pod<int32_t>(int32_t(piece.size())));
    f.insert(f.end(), piece.begin(), piece.end());
  }
  return f;
}

}  // namespace plm::test
