// `pocketlm inspect MODEL`: what is in a model file and the graph built from it.
#include <cstdio>
#include <cstring>
#include <sstream>

#include "cli/args.h"
#include "bundle.h"
#include "cli/commands.h"
#include "import/model_file.h"
#include "models/model_graph.h"
#include "error.h"
#include "kv_cache.h"

namespace plm {

const char kInspectHelp[] =
    "usage: pocketlm inspect MODEL [--tokenizer TOK.bin] [--no-metadata] [--no-tensors] [--no-graph]\n"
    "\n"
    "Prints what pocketlm reads from a model file: format, metadata, the model's\n"
    "hyperparameters, the tensor table (name, type, shape in GGML order, bytes) and the\n"
    "graph IR the compiler lowers.\n"
    "\n"
    "MODEL is a GGUF file (v2 or v3), a llama2.c checkpoint (.bin), or a bundle\n"
    "(.plm, from pocketlm compile), which is fully verified first (checksums, bounds,\n"
    "this CPU's features).\n"
    "  --tokenizer TOK.bin   llama2.c tokenizer (default: <stem>.tok*.bin or tokenizer.bin beside MODEL)\n"
    "  --no-metadata         skip the metadata listing\n"
    "  --no-tensors          skip the tensor table\n"
    "  --no-graph            skip the graph\n"
    "\n"
    "example: pocketlm inspect ../shared/testdata/models/synth-llama-Q4_0.gguf --no-graph\n";

static std::string human_bytes(uint64_t b) {
  char buf[64];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / double(1ull << 20));
  else if (b >= (1ull << 10)) std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

static int inspect_bundle(const std::string& path, bool tensors) {
  const auto b = Bundle::open(path, nullptr, Bundle::WeightsCheck::AtOpen);  // may be for another SoC
  const std::string why = b->cannot_run_on(host_cpu_features());
  const bundle::Bundle& m = b->meta();
  const auto& req = *m.requirements();
  const auto& hp = *m.hparams();
  std::string feats;
  if (req.features())
    for (const auto* f : *req.features()) feats += (feats.empty() ? "" : ",") + f->str();
  std::printf("bundle:   %s (%s), format v%u, verified\n", path.c_str(), human_bytes(b->file_size()).c_str(), kBundleFormatVersion);
  std::printf("from:     %s by %s\n", m.source() ? m.source()->c_str() : "?", m.generator() ? m.generator()->c_str() : "?");
  std::printf("soc:      %s (%s kernels, %s), needs %s\n", req.soc()->c_str(), req.schedule_class()->c_str(), req.arch()->c_str(),
              feats.c_str());
  std::printf("model:    %s '%s': n_vocab %lld, n_embd %lld, %lld layers, n_ff %lld, heads %lld/%lld, head_dim %lld\n",
              hp.arch()->c_str(), hp.name() ? hp.name()->c_str() : "", (long long)hp.n_vocab(), (long long)hp.n_embd(),
              (long long)hp.n_layer(), (long long)hp.n_ff(), (long long)hp.n_head(), (long long)hp.n_head_kv(), (long long)hp.head_dim());
  for (const auto* s : *m.sections())
    std::printf("section:  %-8s at %llu, %s, crc32c %08x\n", s->name()->c_str(), (unsigned long long)s->offset(),
                human_bytes(s->size()).c_str(), s->crc32());
  if (m.static_kernels())
    std::printf("kernels:  linked statically into the app (library %s, from `compile --emit-static`)\n", m.static_kernels()->c_str());
  std::printf("this CPU: %s\n", why.empty() ? "has every feature the kernels need" : why.c_str());
  if (m.plan() && m.kernels())
    std::printf("plan:     %u steps, %u kernels, arena %.1f KiB per token of batch, KV cache %s (%.1f KiB per token of context)\n",
                m.plan()->steps()->size(), m.kernels()->size(), double(m.plan()->arena_bytes_per_token()) / 1024,
                bundle::EnumNameKvCacheType(m.plan()->kv_cache_type()),
                double(2 * m.hparams()->n_layer() * kv_cache_bytes_per_position(m.plan()->kv_cache_type(), m.plan()->kv_width())) / 1024);
  if (tensors) {
    std::printf("\ntensors:\n  %-36s %-6s %-14s %5s %12s\n", "name", "format", "k x n", "tile", "bytes");
    for (const auto* t : *m.tensors()) {
      char shape[32];
      std::snprintf(shape, sizeof shape, "%lld x %lld", (long long)t->k(), (long long)t->n());
      std::printf("  %-36s %-6s %-14s %5d %12llu\n", t->name()->c_str(), bundle::EnumNameWeightFormat(t->format()), shape, t->tile_rows(),
                  (unsigned long long)(t->quants()->size() + t->scales()->size()));
    }
  }
  return 0;
}

int run_inspect(const std::vector<std::string>& argv) {
  Args a("inspect", argv, {"--tokenizer"}, {"--no-metadata", "--no-tensors", "--no-graph"});
  a.expect_positionals(1, "pocketlm inspect MODEL");
  if (looks_like_bundle(a.positional(0, "MODEL"))) return inspect_bundle(a.positional(0, "MODEL"), !a.has("--no-tensors"));
  const ModelFile mf = open_model_file(a.positional(0, "MODEL"), a.value("--tokenizer").value_or(""));
  std::printf("file:    %s\nformat:  %s\ntensors: %zu (%s)\n", mf.path.c_str(), mf.format.c_str(), mf.tensors.size(),
              human_bytes(mf.total_tensor_bytes()).c_str());
  if (!a.has("--no-metadata")) {
    std::printf("\nmetadata (%zu keys):\n", mf.meta.keys().size());
    for (const auto& k : mf.meta.keys()) std::printf("  %-44s %s\n", k.c_str(), mf.meta.find(k)->to_string().c_str());
  }
  const Graph g = build_graph(mf);
  const ModelHParams& hp = g.hp;
  std::printf("\nhparams:\n  arch %s  name '%s'\n  n_vocab %lld  n_ctx_train %lld  n_embd %lld  n_layer %lld  n_ff %lld\n"
              "  n_head %lld  n_head_kv %lld  head_dim %lld  n_rot %lld\n"
              "  rms_eps %g  rope %s base %g freq_scale %g%s  qkv_bias %s  output %s\n",
              hp.arch.c_str(), hp.name.c_str(), (long long)hp.n_vocab, (long long)hp.n_ctx_train, (long long)hp.n_embd,
              (long long)hp.n_layer, (long long)hp.n_ff, (long long)hp.n_head, (long long)hp.n_head_kv, (long long)hp.head_dim,
              (long long)hp.n_rot, double(hp.rms_eps), hp.rope_type == RopeType::Neox ? "neox" : "normal", double(hp.rope_base),
              double(hp.rope_freq_scale), hp.rope_freq_factors ? " (rope_freqs factors)" : "", hp.qkv_bias ? "yes" : "no",
              hp.tied_output ? "tied to token_embd" : "separate");
  if (!a.has("--no-tensors")) {
    std::printf("\ntensors:\n  %-36s %-6s %-22s %12s\n", "name", "type", "shape", "bytes");
    for (const auto& t : mf.tensors)
      std::printf("  %-36s %-6s %-22s %12zu\n", t.name.c_str(), traits(t.type).name, t.shape_string().c_str(), t.n_bytes);
  }
  if (!a.has("--no-graph")) std::printf("\ngraph (%zu ops, T = tokens in the batch):\n%s", g.ops.size(), g.to_string().c_str());
  return 0;
}

}  // namespace plm
