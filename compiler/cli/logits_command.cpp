// `pocketlm logits MODEL --tokens 1,2,3 -o OUT.f32 --reference`
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "support/output_file.h"
#include "import/model_file.h"
#include "models/model_graph.h"
#include "bundle.h"
#include "reference/reference_executor.h"
#include "session.h"
#include "error.h"

namespace plm {

const char kLogitsHelp[] =
    "usage: pocketlm logits BUNDLE.plm|MODEL (--tokens IDS | --tokens-file FILE) -o OUT.f32 [--reference] [options]\n"
    "\n"
    "Evaluates the tokens as one batch at positions 0..n-1 and writes the logits at\n"
    "every position: float32 little-endian, row-major [n_tokens][n_vocab], the layout\n"
    "of llama.cpp's reference dumps in ../shared/testdata/reference.\n"
    "\n"
    "  --tokens IDS          token ids separated by commas, e.g. 1,450,4996\n"
    "  --tokens-file FILE    read ids from the first line of FILE (e.g. a *.greedy.txt)\n"
    "  -o, --output OUT      output file (refuses to replace an existing file without --force)\n"
    "  --reference           MODEL files only: run the scalar f32 reference executor (exact\n"
    "                        dequantisation), the oracle for compiled bundles. Required for\n"
    "                        model files; bundles run their compiled kernels.\n"
    "  -t, --threads N       threads for a bundle's kernels (default: all CPUs)\n"
    "  --ctx N               KV cache size in tokens (default: the model's context length)\n"
    "  --tokenizer TOK.bin   llama2.c tokenizer (llama2.c checkpoints only)\n"
    "  --force               overwrite OUT if it exists\n"
    "\n"
    "example: pocketlm logits m.gguf --tokens 1,450,4996 -o m.logits.f32 --reference\n";

int run_logits(const std::vector<std::string>& argv) {
  Args a("logits", argv, {"--tokens", "--tokens-file", "-o", "--output", "--ctx", "--tokenizer", "-t", "--threads"},
         {"--reference", "--force"});
  a.expect_positionals(1, "pocketlm logits MODEL --tokens IDS -o OUT.f32 --reference");
  const std::string model = a.positional(0, "MODEL");
  if (a.has("-o") && a.has("--output")) fail("pocketlm logits: give -o or --output, not both");
  const std::string out = a.value("-o") ? *a.value("-o") : a.required("--output", "OUT.f32 (-o)");
  std::vector<int32_t> tokens;
  if (a.has("--tokens") == a.has("--tokens-file")) fail("pocketlm logits: give exactly one of --tokens or --tokens-file");
  if (auto t = a.value("--tokens")) tokens = parse_token_list(*t, "--tokens");
  else {
    const std::string path = *a.value("--tokens-file");
    std::ifstream f(path);
    if (!f) fail(path, ": cannot open --tokens-file");
    std::string line;
    std::getline(f, line);
    tokens = parse_token_list(line, path);
  }
  const int64_t n_ctx = a.integer("--ctx", 0, 1, int64_t(1) << 24);
  std::vector<float> logits;
  int64_t n_vocab = 0;
  if (looks_like_bundle(model)) {
    if (a.has("--reference")) fail("pocketlm logits: --reference runs model files, not bundles; give the model file");
    const int threads = int(a.has("-t") ? a.integer("-t", 0, 1, 256) : a.integer("--threads", 0, 1, 256));
    Session session(Model::open(model), n_ctx ? n_ctx : std::max<int64_t>(int64_t(tokens.size()), 0), 64, threads);
    std::fprintf(stderr, "pocketlm logits: %zu tokens through %s (compiled kernels)\n", tokens.size(), model.c_str());
    logits = session.decode(tokens);
    n_vocab = session.n_vocab();
  } else {
    if (!a.has("--reference"))
      fail("pocketlm logits: ", model, " is a model file: pass --reference to run the reference executor, or compile it first "
           "(pocketlm compile ", model, " --soc host -o model.plm)");
    const ModelFile mf = open_model_file(model, a.value("--tokenizer").value_or(""));
    const Graph g = build_graph(mf);
    ReferenceExecutor ex(g, n_ctx);
    std::fprintf(stderr, "pocketlm logits: %zu tokens through %s (%s, %lld layers) on the reference executor\n", tokens.size(),
                 model.c_str(), g.hp.arch.c_str(), (long long)g.hp.n_layer);
    logits = ex.eval(tokens);
    n_vocab = g.hp.n_vocab;
  }
  write_file_atomically(out, {{logits.data(), logits.size() * sizeof(float)}}, a.has("--force"));
  std::fprintf(stderr, "pocketlm logits: wrote %s [%zu][%lld] float32\n", out.c_str(), tokens.size(), (long long)n_vocab);
  return 0;
}

}  // namespace plm
