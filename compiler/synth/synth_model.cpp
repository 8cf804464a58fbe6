#include "synth/synth_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "chat_template.h"
#include "error.h"
#include "import/model_file.h"
#include "quant/quantize.h"
#include "support/parallel_rows.h"
#include "synth/gguf_writer.h"
#include "tokenizer.h"

namespace plm {

const std::vector<SynthPreset>& synth_presets() {
  // Shapes from the models' published configs (config.json).
  static const std::vector<SynthPreset> presets = {
      {"tinyllama-1.1b", "llama", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f, 1e-5f, false, false, false, "llama", "", ""},
      {"llama-3.2-1b", "llama", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0f, 1e-5f, true, false, true, "gpt2", "llama-bpe", "llama3"},
      {"qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0f, 1e-6f, true, true, false, "gpt2", "qwen2", "chatml"},
      {"smollm2-360m", "llama", 960, 32, 15, 5, 2560, 49152, 8192, 100000.0f, 1e-5f, true, false, false, "gpt2", "smollm", "chatml"},
  };
  return presets;
}

const SynthPreset& find_synth_preset(const std::string& name) {
  std::string names;
  for (const SynthPreset& p : synth_presets()) {
    if (name == p.name) return p;
    names += (names.empty() ? "" : ", ") + std::string(p.name);
  }
  fail("unknown preset '", name, "' (presets: ", names, ")");
}

namespace {

struct Rng {  // splitmix64: small, fast, and the same stream on every platform
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }
  // Approximately normal (sum of four uniforms): enough for random weights.
  float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }
};

// The chat template text of a family, as the family's models ship it.
const char* jinja_for(const std::string& family) {
  if (family == "chatml")
    return "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
           "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  if (family == "llama3")
    return "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
           "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
           "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
           "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
  return "";
}

// A synthetic vocabulary of the preset's size: the special tokens its family uses
// at their usual ids, every byte, and random merges of earlier pieces. It tokenises
// any text (bytes are always there) but has no linguistic meaning.
void synth_vocab(const SynthPreset& p, Rng& rng, Metadata& m) {
  const size_t n = size_t(p.n_vocab);
  std::vector<std::string> tokens(n);
  std::vector<MetaValue> types(n, MetaValue::of_i32(int32_t(TokenType::Normal)));
  std::vector<bool> taken(n, false);
  auto special = [&](size_t id, const std::string& text, TokenType t = TokenType::Control) {
    tokens[id] = text;
    types[id] = MetaValue::of_i32(int32_t(t));
    taken[id] = true;
  };
  const bool spm = std::string(p.tokenizer_model) == "llama";
  int64_t bos = -1, eos = -1;
  std::vector<std::string> merges;
  if (spm) {
    special(0, "<unk>", TokenType::Unknown);
    special(1, "<s>");
    special(2, "</s>");
    bos = 1, eos = 2;
  } else if (std::string(p.pre) == "llama-bpe") {
    for (size_t i = 0; i < 256; ++i) special(128000 + i, "<|reserved_special_token_" + std::to_string(i) + "|>");
    special(128000, "<|begin_of_text|>");
    special(128001, "<|end_of_text|>");
    special(128006, "<|start_header_id|>");
    special(128007, "<|end_header_id|>");
    special(128009, "<|eot_id|>");
    bos = 128000, eos = 128009;
  } else if (std::string(p.pre) == "qwen2") {
    special(151643, "<|endoftext|>");
    special(151644, "<|im_start|>");
    special(151645, "<|im_end|>");
    for (size_t i = 151646; i < n; ++i) special(i, "[PAD" + std::to_string(i) + "]", TokenType::UserDefined);
    bos = 151643, eos = 151645;
  } else {
    special(0, "<|endoftext|>");
    special(1, "<|im_start|>");
    special(2, "<|im_end|>");
    bos = 1, eos = 2;
  }
  std::vector<size_t> free_ids;
  for (size_t i = 0; i < n; ++i)
    if (!taken[i]) free_ids.push_back(i);
  size_t next = 0;
  std::set<std::string> seen(tokens.begin(), tokens.end());
  std::vector<std::string> pieces;  // the normal pieces so far, for building longer ones
  auto add = [&](const std::string& s, TokenType t = TokenType::Normal) {
    tokens[free_ids[next]] = s;
    types[free_ids[next]] = MetaValue::of_i32(int32_t(t));
    ++next;
    seen.insert(s);
  };
  const std::string space = spm ? "\xE2\x96\x81" : byte_level_char(' ');
  // Every byte is a token (any text encodes); longer pieces are built from readable
  // characters only, so that a random model's output is gibberish words, not noise.
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()";
  for (int b = 0; b < 256; ++b) {
    if (spm) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "<0x%02X>", b);
      add(hex, TokenType::Byte);
    } else {
      add(byte_level_char(uint8_t(b)));
    }
  }
  pieces.push_back(space);
  if (spm) add(space);
  for (char c : alphabet) {
    const std::string piece = spm ? std::string(1, c) : byte_level_char(uint8_t(c));
    if (spm) add(piece);
    pieces.push_back(piece);
  }
  // Longer pieces: a random earlier piece (biased to short, early ones) joined with
  // another; byte-level BPE records the join as a merge.
  const size_t base = pieces.size();
  while (next < free_ids.size()) {
    const size_t span = pieces.size();
    const size_t a = std::min(span - 1, size_t(float(span) * rng.uniform() * rng.uniform()));
    const size_t b = size_t(float(std::min(span, base + 2000)) * rng.uniform());
    const std::string joined = (rng.uniform() < 0.3f && pieces[a].rfind(space, 0) != 0 ? space : "") + pieces[a];
    const std::string s = joined + pieces[std::min(b, span - 1)];
    if (s.size() > 24 || seen.count(s)) continue;
    if (!spm) {
      if (joined != pieces[a]) continue;  // byte-level merges join two existing pieces only
      merges.push_back(pieces[a] + " " + pieces[std::min(b, span - 1)]);
    }
    add(s);
    pieces.push_back(s);
  }
  m.set("tokenizer.ggml.model", MetaValue::of_string(p.tokenizer_model));
  if (!spm) m.set("tokenizer.ggml.pre", MetaValue::of_string(p.pre));
  m.set("tokenizer.ggml.tokens", MetaValue::of_strings(tokens));
  if (spm) {
    std::vector<MetaValue> scores;
    for (size_t i = 0; i < n; ++i) scores.push_back(MetaValue::of_f32(-float(i)));
    m.set("tokenizer.ggml.scores", MetaValue::of_array(MetaType::F32, std::move(scores)));
  }
  m.set("tokenizer.ggml.token_type", MetaValue::of_array(MetaType::I32, std::move(types)));
  if (!spm) m.set("tokenizer.ggml.merges", MetaValue::of_strings(merges));
  m.set("tokenizer.ggml.bos_token_id", MetaValue::of_u32(uint32_t(bos)));
  m.set("tokenizer.ggml.eos_token_id", MetaValue::of_u32(uint32_t(eos)));
  if (spm) m.set("tokenizer.ggml.unknown_token_id", MetaValue::of_u32(0));
  m.set("tokenizer.ggml.add_bos_token", MetaValue::of_bool(spm || std::string(p.pre) == "llama-bpe"));
}

struct Planned {
  std::string name;
  std::vector<int64_t> ne;
  GgmlType type;
  enum Init { Normal, Ones, Small, RopeFactors } init;
};

std::vector<Planned> plan_tensors(const SynthPreset& p, QuantMix q, int64_t n_layer) {
  const int64_t hd = p.n_embd / p.n_head, kv = hd * p.n_head_kv;
  auto matrix_type = [&](const std::string& role, int64_t layer, int64_t row) {
    return mix_matrix_type(q, role, layer, n_layer, row);
  };
  std::vector<Planned> out;
  // With a tied output the embedding table is the output matrix: quantised as one.
  out.push_back({"token_embd.weight", {p.n_embd, p.n_vocab}, matrix_type(p.tied_output ? "output" : "token_embd", 0, p.n_embd), Planned::Normal});
  if (p.llama3_rope) out.push_back({"rope_freqs.weight", {hd / 2}, GgmlType::F32, Planned::RopeFactors});
  for (int64_t i = 0; i < n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    out.push_back({b + "attn_norm.weight", {p.n_embd}, GgmlType::F32, Planned::Ones});
    out.push_back({b + "attn_q.weight", {p.n_embd, p.n_embd}, matrix_type("attn_q", i, p.n_embd), Planned::Normal});
    out.push_back({b + "attn_k.weight", {p.n_embd, kv}, matrix_type("attn_k", i, p.n_embd), Planned::Normal});
    out.push_back({b + "attn_v.weight", {p.n_embd, kv}, matrix_type("attn_v", i, p.n_embd), Planned::Normal});
    if (p.qkv_bias) {
      out.push_back({b + "attn_q.bias", {p.n_embd}, GgmlType::F32, Planned::Small});
      out.push_back({b + "attn_k.bias", {kv}, GgmlType::F32, Planned::Small});
      out.push_back({b + "attn_v.bias", {kv}, GgmlType::F32, Planned::Small});
    }
    out.push_back({b + "attn_output.weight", {p.n_embd, p.n_embd}, matrix_type("attn_output", i, p.n_embd), Planned::Normal});
    out.push_back({b + "ffn_norm.weight", {p.n_embd}, GgmlType::F32, Planned::Ones});
    out.push_back({b + "ffn_gate.weight", {p.n_embd, p.n_ff}, matrix_type("ffn_gate", i, p.n_embd), Planned::Normal});
    out.push_back({b + "ffn_down.weight", {p.n_ff, p.n_embd}, matrix_type("ffn_down", i, p.n_ff), Planned::Normal});
    out.push_back({b + "ffn_up.weight", {p.n_embd, p.n_ff}, matrix_type("ffn_up", i, p.n_embd), Planned::Normal});
  }
  out.push_back({"output_norm.weight", {p.n_embd}, GgmlType::F32, Planned::Ones});
  if (!p.tied_output) out.push_back({"output.weight", {p.n_embd, p.n_vocab}, matrix_type("output", 0, p.n_embd), Planned::Normal});
  return out;
}

// Llama 3.1+ RoPE scaling (factor 32, low/high frequency factors 1 and 4, original
// context 8192), written as per-frequency divisors the way llama.cpp's converter does.
std::vector<float> llama3_rope_factors(int64_t head_dim, float base) {
  const double factor = 32, low = 1, high = 4, old_ctx = 8192, pi = 3.14159265358979323846;
  std::vector<float> f;
  for (int64_t i = 0; i < head_dim; i += 2) {
    const double freq = 1.0 / std::pow(double(base), double(i) / double(head_dim)), wavelen = 2 * pi / freq;
    if (wavelen < old_ctx / high) f.push_back(1.0f);
    else if (wavelen > old_ctx / low) f.push_back(float(factor));
    else {
      const double smooth = (old_ctx / wavelen - low) / (high - low);
      f.push_back(float(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return f;
}

// Random rows, quantised row by row on every core; each row has its own stream, so
// the file is the same whatever the thread count.
std::vector<uint8_t> make_tensor(const Planned& t, uint64_t seed, const SynthPreset& p) {
  const int64_t row = t.ne[0];
  int64_t rows = 1;
  for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
  const size_t rb = row_bytes(t.type, row);
  std::vector<uint8_t> data(rb * size_t(rows));
  if (t.init == Planned::RopeFactors) {
    const auto f = llama3_rope_factors(p.n_embd / p.n_head, p.rope_base);
    quantize_row(GgmlType::F32, f.data(), data.data(), row);
    return data;
  }
  const float sigma = t.init == Planned::Normal ? 0.02f : 0.01f;
  auto work = [&](int64_t r0, int64_t r1) {
    std::vector<float> x(size_t(row), 0.0f);
    for (int64_t r = r0; r < r1; ++r) {
      Rng rng{seed ^ (uint64_t(r) * 0xD1B54A32D192ED03ull)};
      for (float& v : x) v = t.init == Planned::Ones ? 1.0f + 0.05f * rng.normal() : sigma * rng.normal();
      quantize_row(t.type, x.data(), data.data() + size_t(r) * rb, row);
    }
  };
  parallel_rows(rows, work);
  return data;
}

}  // namespace

SynthResult write_synth_model(const SynthPreset& p, QuantMix q, const std::string& path, const SynthOptions& opt) {
  const int64_t n_layer = opt.n_layer ? opt.n_layer : p.n_layer;
  if (n_layer < 1 || n_layer > 4096) fail("synth: ", n_layer, " layers is not a model");
  auto say = [&](const std::string& s) {
    if (opt.progress) opt.progress(s);
  };
  Rng rng{opt.seed};
  SynthPreset shape = p;
  Metadata m("synth");
  const std::string a = p.arch;
  m.set("general.architecture", MetaValue::of_string(a));
  m.set("general.name", MetaValue::of_string(std::string("pocketlm synth ") + p.name + " (random weights)"));
  m.set("general.file_type", MetaValue::of_u32(uint32_t(llama_file_type(q))));
  m.set("general.quantization_version", MetaValue::of_u32(2));
  if (!opt.vocab_from.empty()) {
    const ModelFile v = open_model_file(opt.vocab_from);
    for (const std::string& k : v.meta.keys())
      if (k.rfind("tokenizer.", 0) == 0) m.set(k, *v.meta.find(k));
    if (!m.has("tokenizer.ggml.tokens")) fail(opt.vocab_from, ": has no tokenizer.ggml.tokens to take a vocabulary from");
    shape.n_vocab = int64_t(m.get_string_array("tokenizer.ggml.tokens").size());
    say("vocabulary: " + std::to_string(shape.n_vocab) + " tokens from " + opt.vocab_from);
  } else {
    say("vocabulary: " + std::to_string(p.n_vocab) + " synthetic tokens (" + p.tokenizer_model + (*p.pre ? std::string(", ") + p.pre : "") + ")");
    synth_vocab(p, rng, m);
    if (*p.chat_format) m.set("tokenizer.chat_template", MetaValue::of_string(jinja_for(p.chat_format)));
  }
  m.set(a + ".context_length", MetaValue::of_u32(uint32_t(p.n_ctx)));
  m.set(a + ".embedding_length", MetaValue::of_u32(uint32_t(p.n_embd)));
  m.set(a + ".block_count", MetaValue::of_u32(uint32_t(n_layer)));
  m.set(a + ".feed_forward_length", MetaValue::of_u32(uint32_t(p.n_ff)));
  m.set(a + ".attention.head_count", MetaValue::of_u32(uint32_t(p.n_head)));
  m.set(a + ".attention.head_count_kv", MetaValue::of_u32(uint32_t(p.n_head_kv)));
  m.set(a + ".attention.layer_norm_rms_epsilon", MetaValue::of_f32(p.rms_eps));
  m.set(a + ".rope.freq_base", MetaValue::of_f32(p.rope_base));
  m.set(a + ".rope.dimension_count", MetaValue::of_u32(uint32_t(p.n_embd / p.n_head)));
  m.set(a + ".vocab_size", MetaValue::of_u32(uint32_t(shape.n_vocab)));

  const std::vector<Planned> plan = plan_tensors(shape, q, n_layer);
  SynthResult res;
  std::map<std::string, int64_t> counts;
  std::vector<GgufTensorData> tensors;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned& t = plan[i];
    if (i % 16 == 0 || i + 1 == plan.size()) say("tensor " + std::to_string(i + 1) + "/" + std::to_string(plan.size()) + ": " + t.name);
    int64_t n = 1;
    for (int64_t d : t.ne) n *= d;
    res.n_params += n;
    ++counts[traits(t.type).name];
    tensors.push_back({t.name, t.ne, t.type, make_tensor(t, opt.seed * 0x9E3779B97F4A7C15ull + i, shape)});
  }
  say("writing " + path);
  write_gguf(path, m, tensors, opt.overwrite);
  for (const auto& [k, v] : counts) res.type_counts.push_back({k, v});
  res.file_bytes = std::filesystem::file_size(path);
  return res;
}

}  // namespace plm
