// llama2.c checkpoint reader (Karpathy's run.c "legacy" format): a 7 x int32 header
// {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len} followed by
// float32 weights in a fixed order; a negative vocab_size means the classifier is
// stored separately instead of shared with the embedding. Tensors are exposed under
// their GGUF names so the rest of the compiler sees one kind of model.
#include <cstdlib>
#include <filesystem>

#include "import/byte_cursor.h"
#include "import/model_file.h"
#include "support/checked.h"
#include "error.h"

namespace plm {
namespace {

struct Llama2cHeader {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// Adds a float32 tensor of shape ne (GGML order) at the cursor and advances past it.
void add_f32_tensor(ModelFile& mf, ByteCursor& c, const std::string& name, std::vector<int64_t> ne) {
  TensorInfo t;
  t.name = name;
  t.type = GgmlType::F32;
  t.ne = std::move(ne);
  t.n_elements = 1;
  for (int64_t d : t.ne) t.n_elements *= d;  // bounded by the header checks
  t.n_bytes = size_t(t.n_elements) * 4;
  t.file_offset = c.offset();
  t.data = c.take(t.n_bytes, name.c_str());
  mf.tensors.push_back(std::move(t));
}

void load_llama2c_tokenizer(ModelFile& mf, const std::string& path, uint32_t vocab_size) {
  auto map = std::make_shared<MappedFile>(path);
  ByteCursor c(map->data(), map->size(), path);
  const int32_t max_len = c.read<int32_t>("max_token_length");
  if (max_len <= 0 || max_len > 4096) fail(path, ": max_token_length ", max_len, " is not a plausible llama2.c tokenizer header");
  std::vector<MetaValue> tokens, scores, types;
  tokens.reserve(vocab_size);
  for (uint32_t k = 0; k < vocab_size; ++k) {
    const float score = c.read<float>("token score");
    const int32_t len = c.read<int32_t>("token length");
    if (len < 0 || len > max_len) fail(path, ": token ", k, " has length ", len, " (max_token_length is ", max_len, ")");
    const uint8_t* p = c.take(uint64_t(len), "token bytes");
    const std::string raw(reinterpret_cast<const char*>(p), size_t(len));
    // SentencePiece token types as GGUF numbers them: 1 normal, 2 unknown, 3 control, 6 byte.
    int32_t type = 1;
    if (k == 0) type = 2;
    else if (k == 1 || k == 2) type = 3;
    else if (raw.size() == 6 && raw.rfind("<0x", 0) == 0 && raw[5] == '>') type = 6;
    // tokenizer.bin stores decoded pieces (' ' for SentencePiece's U+2581, BOS/EOS
    // wrapped in newlines); store them as a GGUF SPM vocabulary spells them.
    std::string piece;
    if (k == 1) piece = "<s>";
    else if (k == 2) piece = "</s>";
    else
      for (char ch : raw) piece += ch == ' ' ? std::string("\xE2\x96\x81") : std::string(1, ch);
    tokens.push_back(MetaValue::of_string(std::move(piece)));
    scores.push_back(MetaValue::of_f32(score));
    types.push_back(MetaValue::of_i32(type));
  }
  if (c.remaining() != 0) fail(path, ": ", c.remaining(), " unexpected bytes after the ", vocab_size, " tokens the model needs (tokenizer for a different model?)");
  mf.meta.set("tokenizer.ggml.model", MetaValue::of_string("llama"));
  mf.meta.set("tokenizer.ggml.tokens", MetaValue::of_array(MetaType::STRING, std::move(tokens)));
  mf.meta.set("tokenizer.ggml.scores", MetaValue::of_array(MetaType::F32, std::move(scores)));
  mf.meta.set("tokenizer.ggml.token_type", MetaValue::of_array(MetaType::I32, std::move(types)));
  mf.meta.set("tokenizer.ggml.unknown_token_id", MetaValue::of_u32(0));
  mf.meta.set("tokenizer.ggml.bos_token_id", MetaValue::of_u32(1));
  mf.meta.set("tokenizer.ggml.eos_token_id", MetaValue::of_u32(2));
  mf.meta.set("tokenizer.ggml.add_bos_token", [] { MetaValue v; v.type = MetaType::BOOL; v.u = 1; return v; }());
  mf.mappings.push_back(map);
}

}  // namespace

ModelFile load_llama2c(const std::string& path, const std::string& tokenizer_path) {
  auto map = std::make_shared<MappedFile>(path);
  ByteCursor c(map->data(), map->size(), path);
  ModelFile mf;
  mf.path = path;
  mf.format = "llama2.c";
  mf.meta = Metadata(path);
  mf.mappings.push_back(map);

  if (map->size() >= 4 && std::memcmp(map->data(), "ak42", 4) == 0)
    fail(path, ": llama2.c export versions 1+ (magic 'ak42') are not supported; export with --version 0 or convert to GGUF");
  Llama2cHeader h;
  h.dim = c.read<int32_t>("header dim");
  h.hidden_dim = c.read<int32_t>("header hidden_dim");
  h.n_layers = c.read<int32_t>("header n_layers");
  h.n_heads = c.read<int32_t>("header n_heads");
  h.n_kv_heads = c.read<int32_t>("header n_kv_heads");
  h.vocab_size = c.read<int32_t>("header vocab_size");
  h.seq_len = c.read<int32_t>("header seq_len");
  const bool shared_classifier = h.vocab_size > 0;
  const int64_t vocab = h.vocab_size == INT32_MIN ? 0 : std::abs(int64_t(h.vocab_size));
  auto bad = [&](const char* what, int64_t v) { fail(path, ": not a GGUF file (no 'GGUF' magic) nor a llama2.c checkpoint: header ", what, " = ", v); };
  // Generous bounds that still keep every product below 2^63.
  if (h.dim <= 0 || h.dim > (1 << 16)) bad("dim", h.dim);
  if (h.hidden_dim <= 0 || h.hidden_dim > (1 << 18)) bad("hidden_dim", h.hidden_dim);
  if (h.n_layers <= 0 || h.n_layers > 1024) bad("n_layers", h.n_layers);
  if (h.n_heads <= 0 || h.dim % h.n_heads != 0) bad("n_heads", h.n_heads);
  if (h.n_kv_heads <= 0 || h.n_kv_heads > h.n_heads || h.n_heads % h.n_kv_heads != 0) bad("n_kv_heads", h.n_kv_heads);
  if (vocab <= 0 || vocab > (1 << 24)) bad("vocab_size", h.vocab_size);
  if (h.seq_len <= 0 || h.seq_len > (1 << 24)) bad("seq_len", h.seq_len);
  const int64_t dim = h.dim, hid = h.hidden_dim, L = h.n_layers, head = dim / h.n_heads;
  const int64_t kv_dim = dim * h.n_kv_heads / h.n_heads;
  if (head % 2 != 0) bad("head size (dim / n_heads)", head);

  // Exact expected size: a file of any other length is truncated or not this format.
  uint64_t floats = uint64_t(vocab * dim) + uint64_t(L) * uint64_t(2 * dim + dim * dim + 2 * dim * kv_dim + dim * dim + 3 * dim * hid) +
                    uint64_t(dim) + uint64_t(h.seq_len) * uint64_t(head);  // + rope tables (real, imag)
  if (!shared_classifier) floats += uint64_t(vocab * dim);
  const uint64_t expected = 28 + floats * 4;
  if (map->size() != expected)
    fail(path, ": file is ", map->size(), " bytes but a llama2.c checkpoint with dim ", dim, ", hidden_dim ", hid, ", ", L, " layers, ",
         h.n_heads, " heads, ", h.n_kv_heads, " kv heads, vocab ", vocab, ", seq_len ", h.seq_len,
         (shared_classifier ? ", shared classifier" : ", separate classifier"), " takes ", expected, " bytes",
         map->size() < expected ? " (truncated?)" : "");

  add_f32_tensor(mf, c, "token_embd.weight", {dim, vocab});
  // Per-kind arrays covering all layers, split into one tensor per layer.
  auto per_layer = [&](const char* suffix, std::vector<int64_t> ne) {
    for (int64_t l = 0; l < L; ++l) add_f32_tensor(mf, c, "blk." + std::to_string(l) + "." + suffix, ne);
  };
  per_layer("attn_norm.weight", {dim});
  per_layer("attn_q.weight", {dim, dim});
  per_layer("attn_k.weight", {dim, kv_dim});
  per_layer("attn_v.weight", {dim, kv_dim});
  per_layer("attn_output.weight", {dim, dim});
  per_layer("ffn_norm.weight", {dim});
  per_layer("ffn_gate.weight", {dim, hid});  // w1
  per_layer("ffn_down.weight", {hid, dim});  // w2
  per_layer("ffn_up.weight", {dim, hid});    // w3
  add_f32_tensor(mf, c, "output_norm.weight", {dim});
  c.take(uint64_t(h.seq_len) * uint64_t(head) * 4, "rope tables");  // recomputed from the rope base
  if (!shared_classifier) add_f32_tensor(mf, c, "output.weight", {dim, vocab});

  const std::string name = std::filesystem::path(path).stem().string();
  mf.meta.set("general.architecture", MetaValue::of_string("llama"));
  mf.meta.set("general.name", MetaValue::of_string(name));
  mf.meta.set("llama.context_length", MetaValue::of_u32(uint32_t(h.seq_len)));
  mf.meta.set("llama.embedding_length", MetaValue::of_u32(uint32_t(dim)));
  mf.meta.set("llama.block_count", MetaValue::of_u32(uint32_t(L)));
  mf.meta.set("llama.feed_forward_length", MetaValue::of_u32(uint32_t(hid)));
  mf.meta.set("llama.attention.head_count", MetaValue::of_u32(uint32_t(h.n_heads)));
  mf.meta.set("llama.attention.head_count_kv", MetaValue::of_u32(uint32_t(h.n_kv_heads)));
  mf.meta.set("llama.attention.layer_norm_rms_epsilon", MetaValue::of_f32(1e-5f));
  mf.meta.set("llama.rope.freq_base", MetaValue::of_f32(10000.0f));
  mf.meta.set("llama.rope.dimension_count", MetaValue::of_u32(uint32_t(head)));
  mf.meta.set("llama.vocab_size", MetaValue::of_u32(uint32_t(vocab)));
  if (!tokenizer_path.empty()) load_llama2c_tokenizer(mf, tokenizer_path, uint32_t(vocab));
  return mf;
}

}  // namespace plm
