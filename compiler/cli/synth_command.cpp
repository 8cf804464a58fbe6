// `pocketlm synth --preset NAME --quant Q -o OUT.gguf`
#include <chrono>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "error.h"
#include "synth/synth_model.h"

namespace plm {

const char kSynthHelp[] =
    "usage: pocketlm synth --preset NAME --quant Q -o OUT.gguf [options]\n"
    "       pocketlm synth --list\n"
    "\n"
    "Writes a GGUF model with the architecture of a real model (layer count, widths,\n"
    "heads, vocabulary size, RoPE, tied output, biases) and random weights, quantised by\n"
    "pocketlm's own quantiser into the mixture llama.cpp's quantiser writes for Q\n"
    "(q4_0: output in Q6_K; q4_k_m: Q4_K with Q6_K in output and in attn_v/ffn_down of\n"
    "some layers; K-quant rows that are not whole 256-blocks fall back to Q5_0/Q8_0).\n"
    "The files load in llama.cpp, so both can be benchmarked on the same bytes. The\n"
    "text such a model writes is random: its vocabulary is synthetic too, unless\n"
    "--vocab takes the tokenizer of another GGUF.\n"
    "\n"
    "  --preset NAME     tinyllama-1.1b, llama-3.2-1b, qwen2.5-0.5b, smollm2-360m (--list shows shapes)\n"
    "  --quant Q         q4_0, q8_0, q4_k_m (alias q4_k), f16 or f32\n"
    "  -o, --output OUT  the GGUF to write (refuses to replace a file without --force)\n"
    "  --layers N        fewer layers than the preset (small files for tests)\n"
    "  --vocab FILE      use the tokenizer.* tables of this GGUF (e.g. a ggml-vocab file)\n"
    "  --seed S          random seed (default 1): the same seed writes the same file\n"
    "  --force           overwrite OUT\n"
    "\n"
    "example: pocketlm synth --preset tinyllama-1.1b --quant q4_0 -o tinyllama-q4_0.gguf\n";

int run_synth(const std::vector<std::string>& argv) {
  Args a("synth", argv, {"--preset", "--quant", "-o", "--output", "--layers", "--vocab", "--seed"}, {"--force", "--list"});
  a.expect_positionals(0, "pocketlm synth --preset NAME --quant Q -o OUT.gguf");
  if (a.has("--list")) {
    std::printf("%-16s %-6s %6s %6s %6s %6s %6s %7s %-24s %s\n", "preset", "arch", "dim", "layers", "heads", "kv", "ffn", "vocab",
                "tokenizer", "notes");
    for (const SynthPreset& p : synth_presets()) {
      std::string notes = p.tied_output ? "tied output" : "";
      if (p.qkv_bias) notes += ", qkv bias";
      if (p.llama3_rope) notes += ", llama3 rope scaling";
      std::printf("%-16s %-6s %6lld %6lld %6lld %6lld %6lld %7lld %-24s %s\n", p.name, p.arch, (long long)p.n_embd, (long long)p.n_layer,
                  (long long)p.n_head, (long long)p.n_head_kv, (long long)p.n_ff, (long long)p.n_vocab,
                  (std::string(p.tokenizer_model) == "llama" ? std::string("SentencePiece") : std::string("byte BPE ") + p.pre).c_str(),
                  notes.c_str());
    }
    return 0;
  }
  const SynthPreset& preset = find_synth_preset(a.required("--preset", "NAME (see pocketlm synth --list)"));
  const QuantMix quant = quant_mix_from_name(a.required("--quant", quant_mix_names()));
  if (a.has("-o") && a.has("--output")) fail("pocketlm synth: give -o or --output, not both");
  const std::string out = a.value("-o") ? *a.value("-o") : a.required("--output", "OUT.gguf (-o)");
  SynthOptions opt;
  opt.seed = uint64_t(a.integer("--seed", 1, 0, INT64_MAX));
  opt.n_layer = a.integer("--layers", 0, 1, preset.n_layer);
  opt.vocab_from = a.value("--vocab").value_or("");
  opt.overwrite = a.has("--force");
  opt.progress = [](const std::string& s) { std::fprintf(stderr, "  %s\n", s.c_str()); };
  std::fprintf(stderr, "pocketlm synth: %s, %s, random weights (seed %llu)\n", preset.name, quant_mix_name(quant),
               (unsigned long long)opt.seed);
  const auto t0 = std::chrono::steady_clock::now();
  const SynthResult r = write_synth_model(preset, quant, out, opt);
  std::string types;
  for (const auto& [name, n] : r.type_counts) types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  std::fprintf(stderr, "pocketlm synth: wrote %s in %.1f s: %.1f MiB, %.3f B parameters (tensors: %s)\n", out.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), double(r.file_bytes) / (1 << 20),
               double(r.n_params) / 1e9, types.c_str());
  return 0;
}

}  // namespace plm
