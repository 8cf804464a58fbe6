// `pocketlm synth`: every preset writes a GGUF that pocketlm reads back with the
// preset's shapes and llama.cpp's quantisation mixture, deterministic in its seed;
// compiled bundles of synthetic models match the reference executor (including the
// Q5_0 fallback rows and Llama 3.1 RoPE factors). Loading in llama.cpp itself is
// checked by bench/peer (node-llama-cpp), which is not part of `make test`.
#include <cmath>
#include <filesystem>

#include "bundle/bundle_writer.h"
#include "error.h"
#include "import/model_file.h"
#include "import/vocab_import.h"
#include "models/model_graph.h"
#include "reference/reference_executor.h"
#include "session.h"
#include "synth/synth_model.h"
#include "test_support.h"

namespace plm {
namespace {

std::string synth(const std::string& preset, QuantMix q, int64_t layers, uint64_t seed = 1) {
  const std::string path = test::temp_dir() + "/" + preset + "-" + quant_mix_name(q) + "-L" + std::to_string(layers) + "-s" +
                           std::to_string(seed) + ".gguf";
  SynthOptions opt;
  opt.n_layer = layers;
  opt.seed = seed;
  opt.overwrite = true;
  write_synth_model(find_synth_preset(preset), q, path, opt);
  return path;
}

GgmlType type_of(const ModelFile& mf, const std::string& name) {
  const TensorInfo* t = mf.find(name);
  if (!t) throw Error("no tensor " + name);
  return t->type;
}

TEST(Synth, EveryPresetReadsBackWithItsShapesAndMixture) {
  for (const SynthPreset& p : synth_presets()) {
    SCOPED_TRACE(p.name);
    const std::string path = synth(p.name, QuantMix::Q4_K_M, 2);
    const ModelFile mf = open_model_file(path);
    const Graph g = build_graph(mf);
    EXPECT_EQ(g.hp.n_embd, p.n_embd);
    EXPECT_EQ(g.hp.n_layer, 2);
    EXPECT_EQ(g.hp.n_head, p.n_head);
    EXPECT_EQ(g.hp.n_head_kv, p.n_head_kv);
    EXPECT_EQ(g.hp.n_ff, p.n_ff);
    EXPECT_EQ(g.hp.n_vocab, p.n_vocab);
    EXPECT_EQ(g.hp.tied_output, p.tied_output);
    EXPECT_EQ(g.hp.qkv_bias, p.qkv_bias);
    EXPECT_EQ(g.hp.rope_freq_factors, p.llama3_rope);
    EXPECT_FLOAT_EQ(float(g.hp.rope_base), p.rope_base);
    // Q4_K_M: the output (or tied embedding) in Q6_K, attn_v/ffn_down in Q6_K where
    // use_more_bits(layer, 2) holds (layer 1 of 2, not layer 0), the rest Q4_K; rows
    // that are not whole 256-blocks fall back to Q8_0 / Q5_0 as llama.cpp's does.
    const bool whole = p.n_embd % 256 == 0;
    EXPECT_EQ(type_of(mf, p.tied_output ? "token_embd.weight" : "output.weight"), whole ? GgmlType::Q6_K : GgmlType::Q8_0);
    EXPECT_EQ(type_of(mf, "blk.0.attn_v.weight"), whole ? GgmlType::Q4_K : GgmlType::Q5_0);
    EXPECT_EQ(type_of(mf, "blk.1.attn_v.weight"), whole ? GgmlType::Q6_K : GgmlType::Q8_0);
    EXPECT_EQ(type_of(mf, "blk.0.attn_q.weight"), whole ? GgmlType::Q4_K : GgmlType::Q5_0);
    EXPECT_EQ(type_of(mf, "blk.0.ffn_down.weight"), p.n_ff % 256 == 0 ? GgmlType::Q4_K : GgmlType::Q5_0);
    EXPECT_EQ(type_of(mf, "blk.1.ffn_down.weight"), p.n_ff % 256 == 0 ? GgmlType::Q6_K : GgmlType::Q8_0);
    // The synthetic vocabulary tokenises any bytes and gives them back.
    const Tokenizer tok(vocab_from_metadata(mf.meta, path));
    const std::string text = "Hello, world! 123 \xC3\xA9t\xC3\xA9 \xF0\x9F\xA6\x99";
    EXPECT_EQ(tok.decode(tok.encode(text, false)), text);
    EXPECT_EQ(mf.meta.has("tokenizer.chat_template"), *p.chat_format != 0);
  }
}

TEST(Synth, TheSeedDecidesEveryByte) {
  const auto a = test::read_bytes(synth("smollm2-360m", QuantMix::Q4_0, 1, 7));
  const std::string again = synth("smollm2-360m", QuantMix::Q4_0, 1, 7);
  std::filesystem::rename(again, again + ".b");
  const auto b = test::read_bytes(synth("smollm2-360m", QuantMix::Q4_0, 1, 7));
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(test::read_bytes(again + ".b") == a);
  EXPECT_FALSE(test::read_bytes(synth("smollm2-360m", QuantMix::Q4_0, 1, 8)) == a);
}

// Bundles of synthetic models against the exact reference executor: smollm2 in
// Q4_K_M (Q5_0 and Q8_0 fallback rows, tied output) and llama-3.2 in Q4_0 (tied Q6_K
// table, Llama 3.1 RoPE factors), one layer each.
TEST(Synth, CompiledBundlesMatchTheReferenceExecutor) {
  for (const auto& [preset, quant] : {std::pair{"smollm2-360m", QuantMix::Q4_K_M}, std::pair{"llama-3.2-1b", QuantMix::Q4_0}}) {
    SCOPED_TRACE(preset);
    const std::string model = synth(preset, quant, 1);
    const ModelFile mf = open_model_file(model);
    const Graph g = build_graph(mf);
    const std::string bundle = model + ".plm";
    write_bundle(mf, g, host_soc(), bundle, BundleOptions::overwriting());
    const std::vector<int32_t> prompt = {1, 300, 1200, 4096, 17, 9999, 42, 31000};
    const std::vector<float> exact = ReferenceExecutor(g).eval(prompt);
    Session s(Model::open(bundle), 64, 16, 2);
    const std::vector<float> got = s.decode(prompt);
    const int64_t V = g.hp.n_vocab;
    ASSERT_EQ(got.size(), exact.size());
    for (size_t p = 0; p < prompt.size(); ++p) {
      double ab = 0, aa = 0, bb = 0;
      for (int64_t i = 0; i < V; ++i) {
        const double a = got[p * size_t(V) + size_t(i)], b = exact[p * size_t(V) + size_t(i)];
        ab += a * b, aa += a * a, bb += b * b;
      }
      EXPECT_GE(ab / std::sqrt(aa * bb), 0.999) << "position " << p;
    }
  }
}

TEST(Synth, ClearErrors) {
  EXPECT_THROW(find_synth_preset("gpt-5"), Error);
  EXPECT_THROW(quant_mix_from_name("q3_k_s"), Error);
  const std::string path = synth("smollm2-360m", QuantMix::Q8_0, 1);
  SynthOptions opt;
  opt.n_layer = 1;
  try {
    write_synth_model(find_synth_preset("smollm2-360m"), QuantMix::Q8_0, path, opt);
    ADD_FAILURE() << "overwrote " << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  const auto r = test::run_command({test::pocketlm_binary(), "synth", "--preset", "tinyllama-1.1b", "--quant", "q2_k", "-o", path + ".x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown quantisation 'q2_k'"), std::string::npos) << r.err;
  const auto l = test::run_command({test::pocketlm_binary(), "synth", "--list"});
  EXPECT_EQ(l.exit_code, 0);
  EXPECT_NE(l.out.find("qwen2.5-0.5b"), std::string::npos) << l.out;
}

}  // namespace
}  // namespace plm
