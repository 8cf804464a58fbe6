// Bundles: the writer's output reads back exactly (weights, vocabulary, hparams),
// and a hostile-bundle corpus (truncations, bit flips in every section, offsets and
// sizes outside the file, wrong version, wrong checksum, features this CPU lacks)
// gives clear errors, never a crash (also run under ASan + UBSan as asan.*).
#include <filesystem>
#include <random>

#include "bundle.h"
#include "model.h"
#include "bundle/bundle_writer.h"
#include "crc32.h"
#include "error.h"
#include "import/model_file.h"
#include "import/vocab_import.h"
#include "layout/matmul_layout.h"
#include "models/model_graph.h"
#include "gguf_builder.h"
#include "session.h"
#include "test_support.h"

namespace plm {
namespace {

TEST(Crc32c, KnownVectorsAndBothImplementations) {
  const char* s = "123456789";
  EXPECT_EQ(crc32c(s, 9), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(s, 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  std::vector<uint8_t> v(100003);
  std::mt19937 rng(1);
  for (auto& b : v) b = uint8_t(rng());
  EXPECT_EQ(crc32c(v.data(), v.size()), crc32c_portable(v.data(), v.size()));
  // Incremental: crc(a + b) = crc(b, crc(a)).
  EXPECT_EQ(crc32c(v.data() + 1000, v.size() - 1000, crc32c(v.data(), 1000)), crc32c(v.data(), v.size()));
  // Interleaved streams and threads (joined by shifting CRCs over zeros) at lengths
  // around their cut points, with odd tails.
  std::vector<uint8_t> big((size_t(17) << 20) + 13);
  for (auto& b : big) b = uint8_t(rng());
  for (size_t n : {size_t(3 * 4096 - 1), size_t(3 * 4096), size_t(3 * 4096 + 7), size_t(1) << 20, size_t(16) << 20, big.size()}) {
    const uint32_t want = crc32c_portable(big.data(), n);
    EXPECT_EQ(crc32c(big.data(), n), want) << n;
    for (int threads : {1, 2, 3, 4}) EXPECT_EQ(crc32c_parallel(big.data(), n, threads), want) << n << " bytes, " << threads << " threads";
  }
}

std::string compile_to(const std::string& model, const std::string& soc, const std::string& name) {
  const ModelFile mf = open_model_file(model);
  const Graph g = build_graph(mf);
  const std::string out = test::temp_dir() + "/" + name;
  write_bundle(mf, g, find_soc(soc), out, BundleOptions::overwriting());
  return out;
}

TEST(Bundle, WeightsVocabularyAndHparamsReadBack) {
  for (const char* file : {"synth-llama-Q4_K_M.gguf", "synth-llama-Q4_0.gguf", "synth-llama-F16.gguf", "aidreams260K.bin"}) {
    const std::string model = test::testdata(std::string("models/") + file);
    PLM_REQUIRE_TESTDATA(model);
    const std::string path = test::cached_bundle(model, "host");
    const auto b = Bundle::open(path);
    const ModelFile mf = open_model_file(model);
    const Graph g = build_graph(mf);
    EXPECT_EQ(b->meta().hparams()->n_vocab(), g.hp.n_vocab) << file;
    EXPECT_EQ(b->meta().hparams()->n_head_kv(), g.hp.n_head_kv) << file;
    EXPECT_EQ(b->meta().hparams()->tied_output(), g.hp.tied_output) << file;
    const Tokenizer from_bundle(b->vocab()), from_model(vocab_from_metadata(mf.meta, model));
    const std::string text = "The quick brown fox, 1234 — ünïcödé!";
    EXPECT_EQ(from_bundle.encode(text, true), from_model.encode(text, true)) << file;
    const ScheduleClass cls = host_soc().schedule;
    for (const TensorInfo& t : mf.tensors) {
      const Bundle::TensorView* v = b->find_tensor(t.name);
      ASSERT_NE(v, nullptr) << file << " lacks " << t.name;
      if (t.ne.size() == 1) {
        std::vector<float> want(static_cast<size_t>(t.ne[0]));
        dequantize_row(t.type, t.data, want.data(), t.ne[0]);
        EXPECT_EQ(0, std::memcmp(v->quants, want.data(), want.size() * 4)) << t.name;
      } else if (t.type == GgmlType::F32 || t.type == GgmlType::F16) {
        const PackedFloatWeights p = pack_float_matmul_weights(t.type, t.data, t.ne[0], t.ne[1], cls);
        EXPECT_EQ(0, std::memcmp(v->quants, p.data.data(), p.data.size())) << t.name;
      } else {
        const PackedMatmulWeights p = pack_matmul_weights(t.type, t.data, t.ne[0], t.ne[1], cls);
        EXPECT_EQ(0, std::memcmp(v->quants, p.quants.data(), p.quants.size())) << t.name;
        if (p.scales.empty()) EXPECT_EQ(v->scales, nullptr) << t.name;  // Q4_0, Q8_0: inside quants
        else EXPECT_EQ(0, std::memcmp(v->scales, p.scales.data(), p.scales.size())) << t.name;
      }
    }
  }
}

// A byte-level BPE vocabulary (Qwen2 pre-tokenizer, merges) travels through the bundle.
TEST(Bundle, ByteLevelBpeVocabularyReadsBack) {
  test::GgufBuilder g = test::tiny_llama_gguf();
  std::vector<uint8_t> tokens, types, merges;
  std::vector<std::string> pieces;
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
  for (const char* p : {"\xC4\xA0", "\xC4\xA0t", "th", "\xC4\xA0th", "he", "\xC4\xA0the", "at", "\xC4\xA0" "c", "\xC4\xA0" "cat"}) pieces.push_back(p);
  pieces.push_back("<|im_end|>");
  while (pieces.size() < 64) pieces.push_back("<unused" + std::to_string(pieces.size()) + ">");
  for (size_t k = 0; k < pieces.size(); ++k) {
    const auto b = test::GgufBuilder::str(pieces[k]);
    tokens.insert(tokens.end(), b.begin(), b.end());
    const auto t = test::GgufBuilder::pod<int32_t>(k < 35 ? 1 : k == 35 ? 3 : 5);
    types.insert(types.end(), t.begin(), t.end());
  }
  const std::vector<std::string> merge_list = {"\xC4\xA0 t", "t h", "\xC4\xA0 th", "h e", "\xC4\xA0th e", "a t", "\xC4\xA0 c"};
  for (const auto& m : merge_list) {
    const auto b = test::GgufBuilder::str(m);
    merges.insert(merges.end(), b.begin(), b.end());
  }
  g.kv_str("tokenizer.ggml.model", "gpt2");
  g.kv_str("tokenizer.ggml.pre", "qwen2");
  g.kv("tokenizer.ggml.tokens", 9, test::GgufBuilder::array(8, pieces.size(), tokens));
  g.kv("tokenizer.ggml.token_type", 9, test::GgufBuilder::array(5, pieces.size(), types));
  g.kv("tokenizer.ggml.merges", 9, test::GgufBuilder::array(8, merge_list.size(), merges));
  g.kv_u32("tokenizer.ggml.eos_token_id", 35);
  const std::string model = test::write_temp("byte-bpe.gguf", g.build());
  const std::string path = compile_to(model, "host", "byte-bpe.plm");
  const Tokenizer from_bundle(Bundle::open(path)->vocab());
  const Tokenizer from_model(vocab_from_metadata(open_model_file(model).meta, model));
  EXPECT_EQ(from_bundle.vocab().kind, TokenizerKind::ByteBpe);
  EXPECT_EQ(from_bundle.vocab().pre, "qwen2");
  EXPECT_EQ(from_bundle.vocab().merges, merge_list);
  EXPECT_FALSE(from_bundle.vocab().add_bos);
  const std::string text = "the cat<|im_end|> sat";
  // Worked by hand: "the" -> th|e ("th e" is no merge); " cat" -> "a t" (rank 5) beats
  // "Ġ c" (rank 6) -> Ġc|at; the control token; " sat" -> Ġ|s|at.
  const std::vector<int32_t> want = {28, 4, 33, 32, 35, 26, 18, 32};
  EXPECT_EQ(from_bundle.encode(text, false, true), want);
  EXPECT_EQ(from_model.encode(text, false, true), want);
  EXPECT_EQ(from_bundle.decode(want), "the cat sat");  // control tokens print nothing
}

TEST(Bundle, RefusesToOverwriteAndChecksTheCpu) {
  const std::string model = test::testdata("models/aidreams260K.bin");
  PLM_REQUIRE_TESTDATA(model);
  const std::string path = compile_to(model, "host", "keep.plm");
  const ModelFile mf = open_model_file(model);
  EXPECT_THROW(write_bundle(mf, build_graph(mf), host_soc(), path, BundleOptions()), Error);
  // An arm64 bundle on this x86 machine (inspectable), and on arm64 CPUs with and without dotprod.
  const std::string arm = compile_to(model, "linux-arm64-dotprod", "arm.plm");
  CpuFeatures arm_cpu;
  arm_cpu.arch = "arm64";
  arm_cpu.neon = true;
  EXPECT_NO_THROW(Bundle::open(arm, nullptr));
  try {
    Bundle::open(arm, &arm_cpu);  // no dotprod
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks: dotprod, fp16"), std::string::npos) << e.what();
  }
  arm_cpu.dotprod = arm_cpu.fp16 = true;
  EXPECT_NO_THROW(Bundle::open(arm, &arm_cpu));
  const std::string vnni = compile_to(model, "x86-64-avx512-vnni", "vnni.plm");
  CpuFeatures avx2_cpu;
  avx2_cpu.arch = "x86_64";
  avx2_cpu.avx2 = avx2_cpu.fma = avx2_cpu.f16c = true;
  try {
    Bundle::open(vnni, &avx2_cpu);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("avx512_vnni"), std::string::npos) << e.what();
  }
}

// --- the hostile corpus ---

struct BadBundle {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string expect;
  bool at_first_decode = false;  // weights are verified before their first use, not at open
};
void PrintTo(const BadBundle& b, std::ostream* os) { *os << b.name; }

template <typename T>
void poke(std::vector<uint8_t>& f, size_t at, T v) {
  std::memcpy(f.data() + at, &v, sizeof v);
}

// Re-signs the metadata after tampering, so the checks behind the checksum are reached.
void resign(std::vector<uint8_t>& f) {
  BundleHeader h;
  std::memcpy(&h, f.data(), sizeof h);
  h.meta_crc32 = crc32c(f.data() + h.meta_offset, size_t(h.meta_size));
  std::memcpy(f.data(), &h, sizeof h);
}

// A bundle whose metadata is built by `edit` from the real one's fields.
std::vector<uint8_t> rebuilt(const std::vector<uint8_t>& good, const std::function<void(bundle::BundleT&)>& edit) {
  BundleHeader h;
  std::memcpy(&h, good.data(), sizeof h);
  const bundle::Bundle* original = bundle::GetBundle(good.data() + h.meta_offset);
  const uint64_t room = original->sections()->Get(0)->offset() - h.meta_offset;  // up to the weights
  std::unique_ptr<bundle::BundleT> m(original->UnPack());
  edit(*m);
  flatbuffers::FlatBufferBuilder fb;
  bundle::FinishBundleBuffer(fb, bundle::Bundle::Pack(fb, m.get()));
  std::vector<uint8_t> f = good;
  if (fb.GetSize() > room) return {};  // does not fit: the test case is skipped by the caller
  std::memset(f.data() + h.meta_offset, 0, size_t(room));
  std::memcpy(f.data() + h.meta_offset, fb.GetBufferPointer(), fb.GetSize());
  h.meta_size = fb.GetSize();
  std::memcpy(f.data(), &h, sizeof h);
  resign(f);
  return f;
}

std::vector<BadBundle> corpus() {
  const std::string model = test::testdata("models/aidreams260K.bin");
  if (!std::filesystem::exists(model)) return {};
  const std::vector<uint8_t> good = test::read_bytes(test::cached_bundle(model, "host"));
  BundleHeader h;
  std::memcpy(&h, good.data(), sizeof h);
  const auto* m = bundle::GetBundle(good.data() + h.meta_offset);
  const uint64_t sec = m->sections()->Get(0)->offset(), sec_size = m->sections()->Get(0)->size();
  std::vector<BadBundle> c;
  auto cut = [&](const std::string& n, size_t at, const std::string& e) { c.push_back({"truncated_" + n, {good.begin(), good.begin() + long(at)}, e}); };
  cut("empty", 0, "shorter than the header");
  cut("in_magic", 5, "shorter than the header");
  cut("header_end", 64, "truncated or appended to");
  cut("in_meta", size_t(h.meta_offset + h.meta_size / 2), "truncated or appended to");
  cut("meta_end", size_t(h.meta_offset + h.meta_size), "truncated or appended to");
  cut("section_start", size_t(sec), "truncated or appended to");
  cut("in_section", size_t(sec + sec_size / 2), "truncated or appended to");
  cut("last_byte", good.size() - 1, "truncated or appended to");
  auto patched = [&](const std::string& n, const std::string& e, const std::function<void(std::vector<uint8_t>&)>& f) {
    std::vector<uint8_t> b = good;
    f(b);
    c.push_back({n, b, e});
  };
  patched("appended_byte", "truncated or appended to", [](auto& b) { b.push_back(0); });
  patched("bad_magic", "bad magic", [](auto& b) { b[0] ^= 1; });
  patched("newer_version", "bundle format version 6, but this runtime reads version 5", [](auto& b) { poke<uint32_t>(b, 8, 6); });
  patched("header_size", "header size", [](auto& b) { poke<uint32_t>(b, 12, 128); });
  patched("meta_offset_huge", "outside the file", [](auto& b) { poke<uint64_t>(b, 24, ~0ull - 8); });
  patched("meta_size_huge", "outside the file", [](auto& b) { poke<uint64_t>(b, 32, 1ull << 40); });
  patched("meta_crc", "metadata checksum mismatch", [](auto& b) { b[40] ^= 0x10; });
  // A bit flip in every part of the metadata and of the weights section.
  for (uint64_t at : {h.meta_offset + 4, h.meta_offset + h.meta_size / 3, h.meta_offset + h.meta_size - 1})
    patched("meta_bitflip_" + std::to_string(at), "metadata checksum mismatch", [at](auto& b) { b[size_t(at)] ^= 0x04; });
  for (uint64_t at : {sec, sec + sec_size / 2, sec + sec_size - 1}) {
    patched("weights_bitflip_" + std::to_string(at), "'weights' checksum mismatch", [at](auto& b) { b[size_t(at)] ^= 0x80; });
    c.back().at_first_decode = true;
  }
  // ... and of the kernel library (code: checked before it is loaded).
  const auto* ks = m->sections()->Get(1);
  for (uint64_t at : {ks->offset(), ks->offset() + ks->size() / 2, ks->offset() + ks->size() - 1})
    patched("kernels_bitflip_" + std::to_string(at), "'kernels' checksum mismatch", [at](auto& b) { b[size_t(at)] ^= 0x01; });
  // Behind a valid checksum: garbage metadata, and well-formed metadata that lies.
  patched("meta_garbage", "flatbuffer verification", [&](auto& b) {
    for (uint64_t i = 8; i < h.meta_size; ++i) b[size_t(h.meta_offset + i)] = uint8_t(i * 131);
    resign(b);
  });
  auto lie = [&](const std::string& n, const std::string& e, const std::function<void(bundle::BundleT&)>& edit) {
    std::vector<uint8_t> b = rebuilt(good, edit);
    if (!b.empty()) c.push_back({"lying_" + n, b, e});
  };
  lie("tensor_past_section", "is out of place", [](auto& m) { m.tensors[3]->quants = std::make_unique<bundle::Span>(1ull << 40, m.tensors[3]->quants->size()); });
  lie("tensor_size_wrong", "is out of place", [](auto& m) { m.tensors[3]->quants = std::make_unique<bundle::Span>(m.tensors[3]->quants->offset(), 8); });
  lie("tensor_offset_wraps", "is out of place", [](auto& m) { m.tensors[3]->quants = std::make_unique<bundle::Span>(~0ull - 63, m.tensors[3]->quants->size()); });
  lie("tensor_shape_huge", "impossible shape", [](auto& m) { m.tensors[3]->k = int64_t(1) << 40; });
  lie("tensor_k_not_block", "impossible shape", [](auto& m) {
    m.tensors[3]->format = bundle::WeightFormat::Q4_K;  // k = 64 is not a multiple of 256
  });
  lie("section_misaligned", "is misplaced", [](auto& m) { m.sections[0]->offset += 8; });
  lie("section_past_end", "is misplaced", [](auto& m) { m.sections[0]->size = 1ull << 40; });
  lie("sections_overlap", "overlap", [](auto& m) { m.sections[0]->size += 4096; });
  lie("section_over_meta", "is misplaced", [](auto& m) { m.sections[0]->offset = 0; });
  lie("no_weights_section", "no weights section", [](auto& m) { m.sections[0]->name = "other"; });
  lie("vocab_short", "pieces but n_vocab", [](auto& m) { m.vocab->pieces.pop_back(); });
  lie("vocab_scores_short", "scores/types", [](auto& m) { m.vocab->scores.pop_back(); });
  lie("no_hparams", "lacks a required table", [](auto& m) { m.hparams.reset(); });
  lie("wrong_arch", "but this CPU is", [](auto& m) { m.requirements->arch = "riscv64"; });
  lie("missing_feature", "this CPU lacks: sve2", [](auto& m) { m.requirements->features.push_back("sve2"); });
  // The plan is untrusted too: every reference is checked before anything runs.
  lie("plan_missing", "no execution plan", [](auto& m) { m.plan.reset(); });
  lie("plan_kernel_out_of_range", "does not exist", [](auto& m) { m.plan->steps[2]->kernel = 9999; });
  lie("plan_prefill_out_of_range", "prefill kernel does not exist", [](auto& m) {
    for (auto& st : m.plan->steps)
      if (st->prefill_kernel >= 0) st->prefill_kernel = 4000;
  });
  lie("plan_too_few_args", "argument count", [](auto& m) { m.plan->steps[2]->args.pop_back(); });
  lie("plan_slot_out_of_range", "does not fit its arena slot", [](auto& m) {
    for (auto& a : m.plan->steps[2]->args)
      if (a->kind == bundle::ArgKind::Activation) a->ref = 100000;
  });
  lie("plan_weight_out_of_range", "is not a stored tensor", [](auto& m) {
    for (auto& st : m.plan->steps)
      for (auto& a : st->args)
        if (a->kind == bundle::ArgKind::Weight) a->ref = 5000;
  });
  lie("plan_layer_out_of_range", "is not a KV cache view", [](auto& m) {
    for (auto& st : m.plan->steps)
      for (auto& a : st->args)
        if (a->kind == bundle::ArgKind::KCache) a->ref = 77;
  });
  lie("plan_slot_outside_arena", "slot outside the arena", [](auto& m) { m.plan->slots[0]->offset = m.plan->arena_bytes_per_token; });
  lie("plan_logits_slot", "logits slot", [](auto& m) { m.plan->logits_slot = 0; });
  lie("plan_kernel_count", "kernel library has", [](auto& m) { m.kernels.pop_back(); });
  lie("plan_bad_spec", "kernel spec", [](auto& m) { m.kernels[0]->spec = "i:f99:T"; });
  lie("kernel_token_block_zero", "has token block 0 (1 to 64 expected)", [](auto& m) { m.kernels[0]->token_block = 0; });
  lie("kernel_token_block_huge", "has token block 4294967295", [](auto& m) { m.kernels.back()->token_block = ~0u; });
  return c;
}

class HostileBundle : public ::testing::TestWithParam<BadBundle> {};

TEST_P(HostileBundle, ClearErrorNotACrash) {
  const BadBundle& b = GetParam();
  const std::string path = test::write_temp(b.name + ".plm", b.bytes);
  std::string message;
  try {
    auto m = Model::open(path);
    if (!b.at_first_decode) FAIL() << b.name << " was accepted";
    // The weights are checked before their first use: every decode refuses them.
    Session s(m, 16, 4, 1);
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        s.decode({1});
        ADD_FAILURE() << b.name << ": decoded corrupted weights";
      } catch (const Error& e) {
        message = e.what();
      }
    }
    EXPECT_THROW(Bundle::open(path, &host_cpu_features(), Bundle::WeightsCheck::AtOpen), Error);
  } catch (const Error& e) {
    message = e.what();
    EXPECT_FALSE(b.at_first_decode) << b.name << " was refused at open: " << message;
  }
  EXPECT_NE(message.find(b.expect), std::string::npos) << b.name << ": " << message;
  EXPECT_NE(message.find(path), std::string::npos) << "does not name the file: " << message;
  // The CLI: run opens and checks the whole model for this CPU.
  const test::RunResult r = test::run_command({test::pocketlm_binary(), "run", path, "-p", "x", "-n", "1"});
  EXPECT_EQ(r.exit_code, 1) << b.name << ": " << r.err;
  EXPECT_NE(r.err.find(b.expect), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileBundle, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<BadBundle>& i) { return i.param.name; });

}  // namespace
}  // namespace plm
