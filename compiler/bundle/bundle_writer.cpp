#include "bundle/bundle_writer.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "bundle.h"
#include "crc32.h"
#include "error.h"
#include "import/vocab_import.h"
#include "kernels/kernel_library.h"
#include "layout/matmul_layout.h"
#include "plan/lower.h"
#include "reference/reference_executor.h"
#include "support/output_file.h"

namespace plm {
namespace {

struct PackedTensor {
  std::string name;
  bundle::WeightFormat format;
  int64_t k, n;
  int32_t tile_rows;
  std::vector<uint8_t> quants, scales;  // scales as stored (matmul_layout.h)
  bundle::Span q{0, 0}, s{0, 0};
};

bundle::WeightFormat format_of(MatmulWeightFormat f) {
  switch (f) {
    case MatmulWeightFormat::Q8_0: return bundle::WeightFormat::Q8_0;
    case MatmulWeightFormat::Q4_0: return bundle::WeightFormat::Q4_0;
    case MatmulWeightFormat::Q4_K: return bundle::WeightFormat::Q4_K;
    case MatmulWeightFormat::Q5_K: return bundle::WeightFormat::Q5_K;
    case MatmulWeightFormat::Q6_K: return bundle::WeightFormat::Q6_K;
  }
  return bundle::WeightFormat::F32;
}

PackedTensor pack(const Value& w, ScheduleClass cls) {
  const TensorInfo& t = *w.tensor;
  PackedTensor p;
  p.name = t.name;
  if (w.shape.size() == 1) {  // norms, biases, rope factors: f32 vectors
    p.format = bundle::WeightFormat::F32;
    p.k = w.shape[0];
    p.n = 1;
    p.tile_rows = 1;
    std::vector<float> v(size_t(p.k));
    dequantize_weight_row(w, 0, v.data());
    p.quants.resize(v.size() * 4);
    std::memcpy(p.quants.data(), v.data(), p.quants.size());
    return p;
  }
  p.n = w.shape[0];
  p.k = w.shape[1];
  switch (t.type) {
    case GgmlType::Q8_0:
    case GgmlType::Q5_0:
    case GgmlType::Q4_0:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: {
      PackedMatmulWeights pw = pack_matmul_weights(t.type, t.data, p.k, p.n, cls);
      p.format = format_of(pw.format);
      p.tile_rows = int32_t(pw.tile_rows);
      p.quants = std::move(pw.quants);
      p.scales = std::move(pw.scales);
      return p;
    }
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16: {
      PackedFloatWeights pf = pack_float_matmul_weights(t.type, t.data, p.k, p.n, cls);
      p.format = pf.f16 ? bundle::WeightFormat::F16 : bundle::WeightFormat::F32;
      p.tile_rows = int32_t(pf.tile_rows);
      p.quants = std::move(pf.data);
      return p;
    }
    default:
      fail("tensor '", t.name, "' is ", traits(t.type).name,
           ", which has no kernel layout (kernels read F32, F16, BF16, Q8_0, Q5_0, Q4_0, Q4_K, Q5_K, Q6_K); "
           "requantise it from an F16/F32 source with --quant q8_0, q4_0 or q4_k_m");
  }
}

uint64_t align(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

StaticKernelPaths static_kernel_paths(const std::string& out) {
  const std::filesystem::path p(out);
  std::string name = p.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "m" + name;
  const std::string base = (p.parent_path() / p.stem()).string();
  return {base + ".kernels.a", base + ".kernels.h", name};
}

BundleStats write_bundle(const ModelFile& mf, const Graph& g, const SocProfile& soc, const std::string& out, const BundleOptions& opt) {
  const BundleProgress& progress = opt.progress;
  const bool overwrite = opt.overwrite;
  const StaticKernelPaths static_paths = static_kernel_paths(out);
  if (!opt.static_kernels) require_loadable_kernels(soc);  // refuse before the work, not after it
  require_kv_cache_fits(g, opt.kv_cache_type);
  if (!overwrite)
    for (const std::string& p : opt.static_kernels ? std::vector<std::string>{out, static_paths.archive, static_paths.header}
                                                   : std::vector<std::string>{out})
      refuse_to_overwrite(p);
  // Every weight the graph reads, once (tied tables appear twice in the graph).
  std::vector<const Value*> weights;
  std::set<std::string> seen;
  for (const Value& v : g.values)
    if (v.kind == ValueKind::Weight && seen.insert(v.name).second) weights.push_back(&v);
  const Vocab vocab = vocab_from_metadata(mf.meta, mf.path);
  if (int64_t(vocab.pieces.size()) != g.hp.n_vocab)
    fail(mf.path, ": tokenizer has ", vocab.pieces.size(), " pieces but the model's vocabulary is ", g.hp.n_vocab);

  // Pack and place every tensor (64-byte aligned spans in the weights section).
  std::vector<PackedTensor> packed;
  uint64_t off = 0;
  auto place = [&](size_t bytes) {
    bundle::Span s(off, bytes);
    off = align(off + bytes, 64);
    return s;
  };
  for (size_t i = 0; i < weights.size(); ++i) {
    PackedTensor p = pack(*weights[i], soc.schedule);
    p.q = place(p.quants.size());
    p.s = place(p.scales.size());
    if (progress) progress("weights", i + 1, weights.size(), p.name);
    packed.push_back(std::move(p));
  }
  const uint64_t weights_size = off;

  // The weights section's bytes, then its checksum (needed in the metadata).
  std::vector<uint8_t> section(size_t(weights_size), 0);
  for (const PackedTensor& p : packed) {
    std::memcpy(section.data() + p.q.offset(), p.quants.data(), p.quants.size());
    if (!p.scales.empty()) std::memcpy(section.data() + p.s.offset(), p.scales.data(), p.scales.size());
  }
  const uint32_t section_crc = crc32c(section.data(), section.size());

  // The plan, and the kernels it calls built for this SoC.
  std::map<std::string, StoredTensor> stored;
  for (size_t i = 0; i < packed.size(); ++i)
    stored[packed[i].name] = {uint32_t(i), packed[i].format, packed[i].k, packed[i].n, packed[i].tile_rows};
  const LoweredPlan plan = lower_graph(g, stored, soc.schedule, opt.kv_cache_type, soc.decode_streams);
  auto kernel_progress = [&](size_t d, size_t t, const std::string& key) {
    if (progress) progress("kernels", d, t, key);
  };
  std::vector<uint8_t> library;
  std::string static_id;
  StaticKernelArchive archive;
  if (opt.static_kernels) {
    // The id ties the archive to this bundle: the same kernels for the same target.
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&](const std::string& x) {
      for (unsigned char c : x) h = (h ^ c) * 0x100000001b3ull;
      h = (h ^ 0xff) * 0x100000001b3ull;
    };
    mix(soc.halide_target);
    for (const KernelRequest& k : plan.kernels) mix(k.key);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    static_id = static_paths.name + "-" + std::string(hex, 8);
    archive = build_static_kernel_archive(plan.kernels, soc, static_paths.name, static_id, kernel_progress);
  } else {
    library = build_kernel_library(plan.kernels, soc, kernel_progress);
  }
  const uint32_t library_crc = crc32c(library.data(), library.size());
  const std::string symbol_prefix = opt.static_kernels ? "plm_" + static_paths.name + "_k" : "plm_k";

  // The metadata. Its size decides where the sections start, which the metadata
  // records: build once to measure, then again with the final offsets.
  auto build_meta = [&](uint64_t section_offset) {
    flatbuffers::FlatBufferBuilder fb(1 << 20);
    std::vector<flatbuffers::Offset<flatbuffers::String>> feats;
    for (const auto& f : soc.features) feats.push_back(fb.CreateString(f));
    const std::string arch = is_arm64(soc.schedule) ? "arm64" : "x86_64";
    auto req = bundle::CreateRequirements(fb, fb.CreateString(soc.name), fb.CreateString(schedule_class_name(soc.schedule)),
                                          fb.CreateString(arch), fb.CreateVector(feats));
    const ModelHParams& hp = g.hp;
    auto hparams = bundle::CreateHParams(fb, fb.CreateString(hp.arch), fb.CreateString(hp.name), hp.n_vocab, hp.n_ctx_train, hp.n_embd,
                                         hp.n_layer, hp.n_ff, hp.n_head, hp.n_head_kv, hp.head_dim, hp.n_rot, hp.rms_eps, hp.rope_base,
                                         hp.rope_freq_scale, hp.rope_type == RopeType::Neox, hp.qkv_bias, hp.tied_output,
                                         hp.rope_freq_factors);
    std::vector<int8_t> types;
    for (TokenType t : vocab.types) types.push_back(int8_t(t));
    auto voc = bundle::CreateVocab(fb, fb.CreateVectorOfStrings(vocab.pieces), fb.CreateVector(vocab.scores), fb.CreateVector(types),
                                   vocab.bos, vocab.eos, vocab.unk, vocab.add_bos, vocab.add_space_prefix,
                                   bundle::TokenizerModel(vocab.kind), fb.CreateVectorOfStrings(vocab.merges),
                                   fb.CreateString(vocab.pre), fb.CreateString(vocab.chat_template));
    std::vector<flatbuffers::Offset<bundle::Tensor>> tensors;
    for (const PackedTensor& p : packed)
      tensors.push_back(bundle::CreateTensor(fb, fb.CreateString(p.name), p.format, p.k, p.n, p.tile_rows, &p.q, &p.s));
    const uint64_t library_offset = align(section_offset + weights_size, kBundlePage);
    std::vector<flatbuffers::Offset<bundle::Section>> sections = {
        bundle::CreateSection(fb, fb.CreateString("weights"), section_offset, weights_size, section_crc)};
    if (!opt.static_kernels)
      sections.push_back(bundle::CreateSection(fb, fb.CreateString("kernels"), library_offset, library.size(), library_crc));
    std::vector<flatbuffers::Offset<bundle::Kernel>> kernels;
    for (size_t i = 0; i < plan.kernels.size(); ++i)
      kernels.push_back(bundle::CreateKernel(fb, fb.CreateString(symbol_prefix + std::to_string(i)), fb.CreateString(plan.kernels[i].key),
                                             fb.CreateString(plan.kernels[i].spec), plan.kernels[i].token_block));
    std::vector<flatbuffers::Offset<bundle::Step>> steps;
    for (const PlanStep& st : plan.steps) {
      std::vector<flatbuffers::Offset<bundle::Arg>> args;
      for (const PlanArg& a : st.args) args.push_back(bundle::CreateArg(fb, a.kind, a.ref, a.part));
      steps.push_back(bundle::CreateStep(fb, st.kernel, st.prefill_kernel, fb.CreateVector(args), fb.CreateString(st.op)));
    }
    std::vector<flatbuffers::Offset<bundle::Slot>> slots;
    for (size_t i = 0; i < plan.slot_offsets.size(); ++i)
      slots.push_back(bundle::CreateSlot(fb, plan.slot_offsets[i], plan.slot_bytes_per_token[i]));
    auto bplan = bundle::CreatePlan(fb, fb.CreateVector(steps), fb.CreateVector(slots), plan.arena_bytes_per_token, plan.logits_slot,
                                    plan.kv_width, fb.CreateString(soc.halide_target), plan.kv_cache_type);
    auto root = bundle::CreateBundle(fb, fb.CreateString("pocketlm 0.1.0"), fb.CreateString(mf.path), req, hparams, voc,
                                     fb.CreateVector(tensors), fb.CreateVector(sections), fb.CreateVector(kernels), bplan,
                                     opt.static_kernels ? fb.CreateString(static_id) : 0);
    bundle::FinishBundleBuffer(fb, root);
    return std::vector<uint8_t>(fb.GetBufferPointer(), fb.GetBufferPointer() + fb.GetSize());
  };
  uint64_t section_offset = align(sizeof(BundleHeader) + build_meta(0).size(), kBundlePage);
  std::vector<uint8_t> meta = build_meta(section_offset);
  while (sizeof(BundleHeader) + meta.size() > section_offset) {  // a longer offset encoding grew it
    section_offset += kBundlePage;
    meta = build_meta(section_offset);
  }

  BundleHeader h{};
  std::memcpy(h.magic, kBundleMagic, 8);
  h.version = kBundleFormatVersion;
  h.header_size = sizeof(BundleHeader);
  h.meta_offset = sizeof(BundleHeader);
  h.meta_size = meta.size();
  h.meta_crc32 = crc32c(meta.data(), meta.size());
  const uint64_t library_offset = align(section_offset + weights_size, kBundlePage);
  h.file_size = library_offset + library.size();

  std::vector<uint8_t> pad(size_t(section_offset - sizeof(BundleHeader) - meta.size()), 0);
  std::vector<uint8_t> pad2(size_t(library_offset - section_offset - weights_size), 0);
  write_file_atomically(out,
                        {{&h, sizeof h}, {meta.data(), meta.size()}, {pad.data(), pad.size()}, {section.data(), section.size()},
                         {pad2.data(), pad2.size()}, {library.data(), library.size()}},
                        overwrite);
  if (opt.static_kernels) {
    write_file_atomically(static_paths.archive, {{archive.archive.data(), archive.archive.size()}}, overwrite);
    write_file_atomically(static_paths.header, {{archive.header.data(), archive.header.size()}}, overwrite);
  }
  BundleStats st;
  st.static_library_id = static_id;
  st.file_bytes = h.file_size;
  st.weight_bytes = weights_size;
  st.kernel_bytes = opt.static_kernels ? archive.archive.size() : library.size();
  st.arena_bytes_per_token = plan.arena_bytes_per_token;
  st.tensors = packed.size();
  st.kernels = plan.kernels.size();
  st.steps = plan.steps.size();
  return st;
}

}  // namespace plm
