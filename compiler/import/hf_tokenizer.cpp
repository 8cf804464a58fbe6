#include "import/hf_tokenizer.h"

#include <filesystem>
#include <functional>
#include <unordered_map>
#include <fstream>
#include <nlohmann/json.hpp>

#include "error.h"
#include "pretokenizer.h"
#include "tokenizer.h"

namespace plm {
namespace {

using json = nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
}

// A JSON value at `where` of the wanted kind, or an Error naming the file and field.
const json& field(const json& j, const char* key, json::value_t kind, const std::string& path, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) fail(path, ": ", where, " has no \"", key, "\"");
  const json& v = j.at(key);
  const bool ok = v.type() == kind || (kind == json::value_t::number_unsigned && v.is_number_integer() && v.get<int64_t>() >= 0);
  if (!ok) fail(path, ": ", where, ".", key, " is ", v.type_name(), ", not the expected ", json(kind).type_name());
  return v;
}

// The pre-tokenizer's patterns in order: Split regexes, and GPT-2's when a ByteLevel
// step splits by itself (use_regex). Anything else has no byte-level BPE meaning.
void collect_patterns(const json& pre, const std::string& path, std::vector<std::string>& patterns, bool& byte_level) {
  if (pre.is_null()) return;
  const std::string type = field(pre, "type", json::value_t::string, path, "pre_tokenizer").get<std::string>();
  if (type == "Sequence") {
    for (const json& p : field(pre, "pretokenizers", json::value_t::array, path, "pre_tokenizer")) collect_patterns(p, path, patterns, byte_level);
  } else if (type == "ByteLevel") {
    byte_level = true;
    if (pre.value("use_regex", true)) patterns.push_back("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    if (pre.value("add_prefix_space", false)) fail(path, ": pre_tokenizer ByteLevel.add_prefix_space is not supported");
  } else if (type == "Split") {
    const json& pat = field(pre, "pattern", json::value_t::object, path, "pre_tokenizer Split");
    if (!pat.contains("Regex") || !pat.at("Regex").is_string()) fail(path, ": pre_tokenizer Split.pattern is not a {\"Regex\": ...}");
    const std::string behavior = pre.value("behavior", "Isolated");
    if (behavior != "Isolated" || pre.value("invert", false))
      fail(path, ": pre_tokenizer Split with behavior '", behavior, "' or invert is not supported (only Isolated)");
    patterns.push_back(pat.at("Regex").get<std::string>());
  } else if (type == "Metaspace") {
    // SentencePiece-style spaces: see sentencepiece_style().
  } else if (type == "Digits") {
    patterns.push_back(pre.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+");
  } else {
    fail(path, ": pre_tokenizer type '", type, "' is not supported (Sequence, Split, ByteLevel, Digits, Metaspace)");
  }
}

std::string token_text(const json& t) {  // tokenizer_config.json: "x" or {"content": "x", ...}
  if (t.is_string()) return t.get<std::string>();
  if (t.is_object() && t.contains("content") && t.at("content").is_string()) return t.at("content").get<std::string>();
  return "";
}

// SentencePiece-style BPE as Hugging Face writes it (Llama 2, Mistral, Gemma):
// "▁" for spaces, added in front by a Prepend normalizer or a Metaspace step.
bool sentencepiece_style(const json& root, bool* space_prefix) {
  const std::string meta_space = "\xE2\x96\x81";
  bool spm = false;
  *space_prefix = false;
  std::function<void(const json&)> visit = [&](const json& n) {
    if (!n.is_object()) return;
    const std::string type = n.value("type", "");
    if (type == "Sequence") {
      for (const char* key : {"normalizers", "pretokenizers"})
        if (n.contains(key) && n.at(key).is_array())
          for (const json& c : n.at(key)) visit(c);
    } else if (type == "Prepend" && n.value("prepend", "") == meta_space) {
      spm = *space_prefix = true;
    } else if (type == "Replace" && n.value("content", "") == meta_space) {
      spm = true;
    } else if (type == "Metaspace") {
      spm = true;
      *space_prefix = n.value("prepend_scheme", n.value("add_prefix_space", true) ? "always" : "never") != "never";
    }
  };
  visit(root.value("normalizer", json()));
  visit(root.value("pre_tokenizer", json()));
  return spm;
}

}  // namespace

bool is_hf_tokenizer_path(const std::string& path) { return path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0; }

void import_hf_tokenizer(const std::string& path, Metadata& meta) {
  const json root = read_json(path);
  const json& model = field(root, "model", json::value_t::object, path, "the file");
  const std::string type = model.value("type", "");
  if (type != "BPE") fail(path, ": model.type '", type, "' is not supported (BPE only: byte-level or SentencePiece-style)");

  std::vector<std::string> patterns;
  bool byte_level = false, space_prefix = false;
  collect_patterns(root.value("pre_tokenizer", json()), path, patterns, byte_level);
  const bool spm = !byte_level && sentencepiece_style(root, &space_prefix);
  if (!byte_level && !spm)
    fail(path, ": neither a ByteLevel pre-tokenizer nor SentencePiece's \u2581 spaces: not a tokenizer pocketlm reads");
  const std::string pre = spm ? std::string("spm") : PreTokenizer::family_of(patterns);
  if (pre.empty()) {
    std::string list;
    for (const auto& p : patterns) list += (list.empty() ? "" : ", ") + ("'" + p + "'");
    fail(path, ": its pre-tokenizer patterns [", list, "] are not those of a family pocketlm implements (",
         PreTokenizer::supported_families(), ")");
  }

  // Ids: model.vocab, then added_tokens (which may extend it); every id 0..n-1 must be named.
  std::vector<std::string> tokens;
  std::vector<TokenType> types;
  auto put = [&](const std::string& text, int64_t id, TokenType t, const char* where) {
    if (id < 0 || id > (1 << 24)) fail(path, ": ", where, " id ", id, " for '", text, "' is out of range");
    if (size_t(id) >= tokens.size()) tokens.resize(size_t(id) + 1), types.resize(size_t(id) + 1, TokenType::Undefined);
    tokens[size_t(id)] = text;
    types[size_t(id)] = t;
  };
  const std::string unk = model.contains("unk_token") && model.at("unk_token").is_string() ? model.at("unk_token").get<std::string>() : "";
  for (const auto& [text, id] : field(model, "vocab", json::value_t::object, path, "model").items()) {
    if (!id.is_number_integer()) fail(path, ": model.vocab['", text, "'] is not an integer id");
    TokenType t = TokenType::Normal;
    if (spm && text.size() == 6 && text.compare(0, 3, "<0x") == 0 && text[5] == '>') t = TokenType::Byte;  // byte fallback pieces
    if (!unk.empty() && text == unk) t = TokenType::Unknown;
    put(text, id.get<int64_t>(), t, "model.vocab");
  }
  if (root.contains("added_tokens")) {
    for (const json& t : field(root, "added_tokens", json::value_t::array, path, "the file")) {
      const std::string text = field(t, "content", json::value_t::string, path, "added_tokens[]").get<std::string>();
      put(text, field(t, "id", json::value_t::number_unsigned, path, "added_tokens[]").get<int64_t>(),
          t.value("special", false) ? TokenType::Control : TokenType::UserDefined, "added_tokens");
    }
  }
  for (size_t i = 0; i < tokens.size(); ++i)
    if (types[i] == TokenType::Undefined) fail(path, ": no token has id ", i, " (ids must run from 0 without gaps)");

  std::vector<std::string> merges;
  for (const json& m : field(model, "merges", json::value_t::array, path, "model")) {
    if (m.is_string()) merges.push_back(m.get<std::string>());
    else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    else fail(path, ": model.merges holds ", m.dump(), ", neither \"a b\" nor [\"a\", \"b\"]");
  }

  std::vector<MetaValue> tv;
  for (TokenType t : types) tv.push_back(MetaValue::of_i32(int32_t(t)));
  meta.set("tokenizer.ggml.tokens", MetaValue::of_strings(tokens));
  meta.set("tokenizer.ggml.token_type", MetaValue::of_array(MetaType::I32, std::move(tv)));
  if (spm) {
    // SentencePiece merges the pair whose result scores best; Hugging Face lists the
    // merges in that order, so a piece's score is minus the rank of its first merge.
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < tokens.size(); ++i) index.emplace(tokens[i], i);
    std::vector<float> scores(tokens.size(), -1e9f);  // pieces no merge makes never win one
    std::vector<bool> scored(tokens.size(), false);
    for (size_t r = 0; r < merges.size(); ++r) {
      const size_t sp = merges[r].find(' ');
      if (sp == std::string::npos) fail(path, ": model.merges[", r, "] '", merges[r], "' is not two pieces");
      const auto it = index.find(merges[r].substr(0, sp) + merges[r].substr(sp + 1));
      if (it != index.end() && !scored[it->second]) scores[it->second] = -float(r + 1), scored[it->second] = true;
    }
    std::vector<MetaValue> sv;
    for (float f : scores) sv.push_back(MetaValue::of_f32(f));
    meta.set("tokenizer.ggml.model", MetaValue::of_string("llama"));
    meta.set("tokenizer.ggml.scores", MetaValue::of_array(MetaType::F32, std::move(sv)));
    meta.set("tokenizer.ggml.add_space_prefix", MetaValue::of_bool(space_prefix));
    if (!unk.empty())
      if (const auto it = index.find(unk); it != index.end()) meta.set("tokenizer.ggml.unknown_token_id", MetaValue::of_u32(uint32_t(it->second)));
  } else {
    meta.set("tokenizer.ggml.model", MetaValue::of_string("gpt2"));
    meta.set("tokenizer.ggml.pre", MetaValue::of_string(pre));
    meta.set("tokenizer.ggml.merges", MetaValue::of_strings(merges));
  }

  // BOS/EOS from tokenizer_config.json beside it, as the model's authors set them.
  const std::filesystem::path config = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config)) {
    const json c = read_json(config.string());
    auto id_of = [&](const char* key) -> int64_t {
      if (!c.contains(key)) return -1;
      const std::string text = token_text(c.at(key));
      for (size_t i = 0; i < tokens.size(); ++i)
        if (!text.empty() && tokens[i] == text) return int64_t(i);
      if (!c.at(key).is_null()) fail(config.string(), ": ", key, " '", text, "' is not a token of ", path);
      return -1;
    };
    if (const int64_t b = id_of("bos_token"); b >= 0) meta.set("tokenizer.ggml.bos_token_id", MetaValue::of_u32(uint32_t(b)));
    if (const int64_t e = id_of("eos_token"); e >= 0) meta.set("tokenizer.ggml.eos_token_id", MetaValue::of_u32(uint32_t(e)));
    if (c.contains("add_bos_token") && c.at("add_bos_token").is_boolean())
      meta.set("tokenizer.ggml.add_bos_token", MetaValue::of_bool(c.at("add_bos_token").get<bool>()));
    if (c.contains("chat_template") && c.at("chat_template").is_string())
      meta.set("tokenizer.chat_template", MetaValue::of_string(c.at("chat_template").get<std::string>()));
  }
  // Ids the model file named for its old vocabulary must still exist.
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                          "tokenizer.ggml.padding_token_id"})
    if (auto id = meta.opt_uint(key); id && *id >= tokens.size() && *id != 0xFFFFFFFFu)
      fail(path, ": has ", tokens.size(), " tokens but the model's ", key, " is ", *id, " (give tokenizer_config.json beside it)");
}

}  // namespace plm
