// pocketlm: the command-line front end. Dispatches to one subcommand per file.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "error.h"

namespace {

const plm::Command kCommands[] = {
    {"socs", "list the SoCs kernels can be specialised for", plm::kSocsHelp, plm::run_socs},
    {"compile", "compile a model for one SoC into a bundle (kernels, plan, weights)", plm::kCompileHelp, plm::run_compile},
    {"run", "generate text (bundle, or model file with --reference)", plm::kRunHelp, plm::run_run},
    {"bench", "prompt processing and generation speed of a bundle", plm::kBenchHelp, plm::run_bench},
    {"inspect", "show a model file (metadata, hparams, tensors, graph) or a bundle", plm::kInspectHelp, plm::run_inspect},
    {"tokenize", "show how a model's or bundle's tokenizer splits text", plm::kTokenizeHelp, plm::run_tokenize},
    {"synth", "write a GGUF with a real model's architecture and random weights", plm::kSynthHelp, plm::run_synth},
    {"logits", "write the logits of a token sequence (bundle, or model file with --reference)", plm::kLogitsHelp, plm::run_logits},
};

void print_usage(FILE* to) {
  std::fprintf(to,
               "pocketlm: ahead-of-time compiled LLM inference for phones\n"
               "\n"
               "usage: pocketlm COMMAND [ARGS]   (pocketlm COMMAND --help for details)\n"
               "\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(to, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(to,
               "\nmodels: GGUF v2/v3 (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K) and llama2.c\n"
               "checkpoints; architectures llama and qwen2.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    print_usage(stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (cmd != c.name) continue;
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& a : args)
      if (a == "-h" || a == "--help") {
        std::fputs(c.help, stdout);
        return 0;
      }
    try {
      return c.run(args);
    } catch (const plm::Error& e) {
      std::fprintf(stderr, "pocketlm: error: %s\n", e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "pocketlm: error: out of memory\n");
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pocketlm: internal error: %s\n", e.what());
      return 3;
    }
  }
  std::fprintf(stderr, "pocketlm: unknown command '%s'\n\n", cmd.c_str());
  print_usage(stderr);
  return 2;
}
