// `pocketlm compile MODEL --soc NAME -o OUT.plm`
#include <chrono>
#include <cstdio>
#include <optional>

#include "bundle/bundle_writer.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "error.h"
#include "import/model_file.h"
#include "kv_cache.h"
#include "models/model_graph.h"
#include "quant/requantize.h"

namespace plm {

const char kCompileHelp[] =
    "usage: pocketlm compile MODEL --soc NAME -o OUT.plm [--quant Q] [--kv-cache T] [--emit-static] [--force]\n"
    "                        [--tokenizer FILE]\n"
    "\n"
    "Writes a bundle for one SoC: the model's hyperparameters and vocabulary, every\n"
    "weight repacked into the layout of that SoC's kernels (docs/weight-layouts.md),\n"
    "the execution plan, and the kernels, specialised to the model's shapes and built\n"
    "ahead of time with Halide; checksummed, page-aligned, mapped read-only at run time.\n"
    "\n"
    "Kernels go into the bundle, loaded at run time, for Linux ELF targets (the host,\n"
    "linux-arm64 boards, HarmonyOS). For Android, iOS and macOS SoCs they are built as a\n"
    "static archive to link into the app (--emit-static); the pocketlm runtime itself is\n"
    "not yet built for those platforms.\n"
    "\n"
    "  --soc NAME        a catalog name (pocketlm socs) or `host`\n"
    "  -o, --output OUT  the bundle to write (refuses to replace a file without --force)\n"
    "  --quant Q         keep (default): weights keep the model file's types;\n"
    "                    q8_0, q4_0, q4_k_m (alias q4_k), f16, f32: requantise F32/F16/BF16\n"
    "                    weight matrices into llama.cpp's mixture of that name (q4_0 and\n"
    "                    q4_k_m keep the output matrix in Q6_K; q4_k_m also gives Q6_K to\n"
    "                    some attn_v/ffn_down layers). Norms and biases stay F32. A matrix\n"
    "                    that is already quantised to another type is an error.\n"
    "  --kv-cache T      how the runtime stores keys and values: f16 (default) or q8_0\n"
    "                    (GGUF's Q8_0, 34 bytes per 32 values instead of 64: 47% less KV\n"
    "                    memory, slightly less exact; needs head_dim to be a multiple of 32)\n"
    "  --emit-static     do not put the kernels in the bundle: write them as a static\n"
    "                    archive OUT-STEM.kernels.a with a header OUT-STEM.kernels.h, for\n"
    "                    apps on platforms that forbid loading code. The app links the\n"
    "                    archive and calls plm_register_kernels(plm_kernels_STEM()) before\n"
    "                    plm_model_open(); the bundle names the archive it needs.\n"
    "  --force           overwrite OUT (and the .kernels.a/.h with --emit-static)\n"
    "  --tokenizer FILE  a Hugging Face tokenizer.json replacing the model's vocabulary,\n"
    "                    or a llama2.c tokenizer.bin (llama2.c checkpoints)\n"
    "\n"
    "example: pocketlm compile ../shared/testdata/models/synth-llama-Q4_0.gguf --soc host -o synth.plm\n"
    "         pocketlm compile ../shared/testdata/models/synth-llama-F16.gguf --soc host --quant q8_0 -o synth-q8.plm\n"
    "         pocketlm compile model.gguf --soc snapdragon-8-gen-3 --kv-cache q8_0 --emit-static -o phone.plm\n";

int run_compile(const std::vector<std::string>& argv) {
  Args a("compile", argv, {"--soc", "-o", "--output", "--tokenizer", "--quant", "--kv-cache"}, {"--force", "--emit-static"});
  a.expect_positionals(1, "pocketlm compile MODEL --soc NAME -o OUT.plm");
  const std::string model = a.positional(0, "MODEL");
  const SocProfile soc = find_soc(a.required("--soc", "NAME (see pocketlm socs)"));
  if (a.has("-o") && a.has("--output")) fail("pocketlm compile: give -o or --output, not both");
  const std::string out = a.value("-o") ? *a.value("-o") : a.required("--output", "OUT.plm (-o)");
  const auto t0 = std::chrono::steady_clock::now();
  const std::string quant = a.value("--quant").value_or("keep");
  const std::optional<QuantMix> mix = quant == "keep" ? std::nullopt : std::optional(quant_mix_from_name(quant));
  const std::string kv = a.value("--kv-cache").value_or("f16");
  if (kv != "f16" && kv != "q8_0") fail("pocketlm compile: --kv-cache must be f16 or q8_0, not '", kv, "'");
  const bundle::KvCacheType kv_type = kv == "q8_0" ? bundle::KvCacheType::Q8_0 : bundle::KvCacheType::F16;
  ModelFile mf = open_model_file(model, a.value("--tokenizer").value_or(""));
  if (mix) {
    const RequantStats rq = requantize(mf, *mix, [](size_t done, size_t total, const std::string& name) {
      std::fprintf(stderr, "\r  quantising %zu/%zu %-60.60s", done, total, name.c_str());
      if (done == total) std::fprintf(stderr, "\n");
    });
    std::fprintf(stderr, "  --quant %s: %lld matrices requantised, %lld kept; tensors %.2f -> %.2f MiB\n", quant_mix_name(*mix),
                 (long long)rq.requantised, (long long)rq.kept, double(rq.bytes_before) / (1 << 20), double(rq.bytes_after) / (1 << 20));
  }
  const Graph g = build_graph(mf);
  std::fprintf(stderr, "pocketlm compile: %s (%s, %lld layers, %s) for %s (%s kernels)\n", model.c_str(), g.hp.arch.c_str(),
               (long long)g.hp.n_layer, mf.format.c_str(), soc.name.c_str(), schedule_class_name(soc.schedule));
  BundleOptions opt;
  opt.overwrite = a.has("--force");
  opt.static_kernels = a.has("--emit-static");
  opt.kv_cache_type = kv_type;
  opt.progress = [](const char* stage, size_t done, size_t total, const std::string& item) {
    std::fprintf(stderr, "\r  %s %zu/%zu %-60.60s", stage, done, total, item.c_str());
    if (done == total) std::fprintf(stderr, "\n");
  };
  const BundleStats st = write_bundle(mf, g, soc, out, opt);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "pocketlm compile: wrote %s in %.1f s: %.2f MiB (%zu tensors, %.2f MiB of weights; %zu kernels, %.0f KiB;"
               " %zu steps)\n  activation arena %.1f KiB per token of batch, KV cache (%s) %.1f KiB per token of context\n",
               out.c_str(), secs, double(st.file_bytes) / (1 << 20), st.tensors, double(st.weight_bytes) / (1 << 20), st.kernels,
               double(st.kernel_bytes) / 1024, st.steps, double(st.arena_bytes_per_token) / 1024, kv.c_str(),
               double(g.hp.n_layer * 2 * kv_cache_bytes_per_position(kv_type, g.hp.n_head_kv * g.hp.head_dim)) / 1024);
  if (opt.static_kernels) {
    const StaticKernelPaths sp = static_kernel_paths(out);
    std::fprintf(stderr, "  kernels linked statically (library %s): %s and %s\n  link the archive into the app and call "
                 "plm_register_kernels(plm_kernels_%s()) before plm_model_open()\n",
                 st.static_library_id.c_str(), sp.archive.c_str(), sp.header.c_str(), sp.name.c_str());
  }
  std::fprintf(stderr, "  roofline decode estimate for %s: %.0f tok/s (%.0f GB/s / %.1f MiB of weights per token)\n", soc.name.c_str(),
               soc.dram_gbps * 1e9 / double(st.weight_bytes), soc.dram_gbps, double(st.weight_bytes) / (1 << 20));
  return 0;
}

}  // namespace plm
