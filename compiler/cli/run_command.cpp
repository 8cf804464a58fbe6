// `pocketlm run MODEL -p TEXT --reference`: generate text.
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/args.h"
#include "cli/chat_loop.h"
#include "cli/commands.h"
#include "error.h"
#include "generation.h"
#include "import/model_file.h"
#include "import/vocab_import.h"
#include "models/model_graph.h"
#include "bundle.h"
#include "reference/reference_executor.h"
#include "session.h"

namespace plm {

const char kRunHelp[] =
    "usage: pocketlm run BUNDLE.plm (-p TEXT | -f FILE | --chat) [options]\n"
    "       pocketlm run MODEL (-p TEXT | -f FILE | --chat) --reference [options]\n"
    "\n"
    "Generates text after the prompt, streaming it to stdout; timings go to stderr.\n"
    "With --chat it is a conversation instead: each line you type is a user turn, the\n"
    "model's answer streams back, and the history stays in the context.\n"
    "A bundle (pocketlm compile) runs its compiled kernels. A model file (GGUF or\n"
    "llama2.c) runs on the scalar f32 reference executor with --reference: exact but\n"
    "slow, meant for checking and debugging.\n"
    "\n"
    "prompt:\n"
    "  -p, --prompt TEXT       the prompt\n"
    "  -f, --file FILE         read the prompt from FILE\n"
    "  --no-bos                do not prepend the BOS token\n"
    "  --parse-special         treat control-token text such as </s> in the prompt as tokens\n"
    "chat:\n"
    "  --chat                  interactive multi-turn chat on stdin (/reset starts over, /exit quits)\n"
    "  --system TEXT           the system prompt\n"
    "  --chat-template NAME    format turns as NAME instead of the model's own template:\n"
    "                          chatml, llama2, llama3, phi3, gemma, mistral, mistral-v3\n"
    "generation:\n"
    "  -n, --n-predict N       tokens to generate (default 128)\n"
    "  --ctx N                 context size in tokens (default: the model's, at most 4096)\n"
    "  -t, --threads N         threads for a bundle's kernels (default: all CPUs)\n"
    "  --stop TEXT             stop when TEXT appears in the output (not printed)\n"
    "  --ignore-eos            keep going past the end-of-sequence token\n"
    "sampling (defaults as llama.cpp's):\n"
    "  --temp T                temperature (default 0.8; 0 = greedy)\n"
    "  --top-k K               keep the K most likely tokens (default 40; 0 = off)\n"
    "  --top-p P               keep the smallest set with probability >= P (default 0.95; 1 = off)\n"
    "  --min-p P               drop tokens below P x the best one's probability (default 0.05)\n"
    "  --repeat-penalty X      penalise the last --repeat-last-n tokens (default 1 = off)\n"
    "  --repeat-last-n N       (default 64)\n"
    "  --frequency-penalty X   (default 0)\n"
    "  --presence-penalty X    (default 0)\n"
    "  --seed S                random seed; the same seed gives the same text (default 0)\n"
    "  --tokenizer FILE        a Hugging Face tokenizer.json replacing the model's vocabulary,\n"
    "                          or a llama2.c tokenizer.bin (llama2.c checkpoints)\n"
    "\n"
    "examples:\n"
    "  pocketlm run ../shared/testdata/models/aidreams260K.bin -p \"Once upon a time\" -n 64 --reference\n"
    "  pocketlm run qwen.plm --chat --system \"You are terse.\" --temp 0.7\n";

int run_run(const std::vector<std::string>& argv) {
  Args a("run", argv,
         {"-p", "--prompt", "-f", "--file", "-n", "--n-predict", "--ctx", "--stop", "--temp", "--top-k", "--top-p", "--min-p",
          "--repeat-penalty", "--repeat-last-n", "--frequency-penalty", "--presence-penalty", "--seed", "--tokenizer", "-t",
          "--threads", "--system", "--chat-template"},
         {"--reference", "--no-bos", "--parse-special", "--ignore-eos", "--chat"});
  a.expect_positionals(1, "pocketlm run MODEL -p TEXT --reference");
  const std::string model = a.positional(0, "MODEL");
  const bool chat = a.has("--chat");
  if (chat && (a.has("-p") || a.has("--prompt") || a.has("-f") || a.has("--file")))
    fail("pocketlm run: --chat reads the conversation from stdin; drop -p/-f (or drop --chat to complete a prompt)");
  if (!chat)
    for (const char* f : {"--system", "--chat-template"})
      if (a.has(f)) fail("pocketlm run: ", f, " only applies with --chat");
  if (chat && (a.has("--no-bos") || a.has("--parse-special")))
    fail("pocketlm run: --chat adds BOS and parses the template's special tokens itself; drop --no-bos/--parse-special");
  const std::string prompt = chat ? std::string() : read_prompt(a);
  GenerateOptions opt;
  opt.max_tokens = int32_t(a.has("-n") ? a.integer("-n", 128, 0, 1 << 20) : a.integer("--n-predict", 128, 0, 1 << 20));
  if (auto s = a.value("--stop")) {
    if (s->empty()) fail("pocketlm run: --stop needs a non-empty string");
    opt.stop_strings.push_back(*s);
  }
  opt.stop_at_eos = !a.has("--ignore-eos");
  SamplerParams& sp = opt.sampling;
  sp.temperature = float(a.real("--temp", sp.temperature, 0, 100));
  sp.top_k = int32_t(a.integer("--top-k", sp.top_k, 0, 1 << 24));
  sp.top_p = float(a.real("--top-p", sp.top_p, 1e-6, 1));
  sp.min_p = float(a.real("--min-p", sp.min_p, 0, 0.999));
  sp.repeat_penalty = float(a.real("--repeat-penalty", sp.repeat_penalty, 0.01, 10));
  sp.repeat_last_n = int32_t(a.integer("--repeat-last-n", sp.repeat_last_n, 0, 1 << 20));
  sp.frequency_penalty = float(a.real("--frequency-penalty", 0, -10, 10));
  sp.presence_penalty = float(a.real("--presence-penalty", 0, -10, 10));
  sp.seed = uint64_t(a.integer("--seed", 0, 0, INT64_MAX));
  const bool bundle_file = looks_like_bundle(model);
  if (bundle_file && a.has("--reference")) fail("pocketlm run: --reference runs model files, not bundles; give the model file");
  if (!bundle_file && !a.has("--reference"))
    fail("pocketlm run: ", model, " is a model file: pass --reference to run the reference executor, or compile it first "
         "(pocketlm compile ", model, " --soc host -o model.plm)");

  std::unique_ptr<Tokenizer> tok;
  std::function<const float*(const std::vector<int32_t>&)> decode;
  std::function<void()> reset;
  std::function<int64_t()> position;
  int64_t n_ctx = 0, n_vocab = 0;
  std::unique_ptr<Session> session;
  std::unique_ptr<ModelFile> mf;
  std::unique_ptr<Graph> g;
  std::unique_ptr<ReferenceExecutor> ex;
  std::vector<float> logits;
  const char* engine;
  if (bundle_file) {
    auto m = Model::open(model);
    tok = std::make_unique<Tokenizer>(m->bundle().vocab());
    const int threads = int(a.has("-t") ? a.integer("-t", 0, 1, 256) : a.integer("--threads", 0, 1, 256));
    session = std::make_unique<Session>(m, a.integer("--ctx", 0, 1, 1 << 20), 64, threads);
    n_ctx = session->context_size();
    n_vocab = session->n_vocab();
    decode = [&](const std::vector<int32_t>& batch) -> const float* {
      logits = session->decode(batch, /*last_only=*/true);
      return logits.data();
    };
    reset = [&] { session->reset(); };
    position = [&] { return session->position(); };
    engine = "compiled kernels";
  } else {
    mf = std::make_unique<ModelFile>(open_model_file(model, a.value("--tokenizer").value_or("")));
    g = std::make_unique<Graph>(build_graph(*mf));
    tok = std::make_unique<Tokenizer>(vocab_from_metadata(mf->meta, model));
    n_vocab = g->hp.n_vocab;
    if (tok->n_tokens() != n_vocab) fail(model, ": tokenizer has ", tok->n_tokens(), " tokens but the model's vocabulary is ", n_vocab);
    n_ctx = a.integer("--ctx", std::min<int64_t>(g->hp.n_ctx_train, 4096), 1, 1 << 20);
    ex = std::make_unique<ReferenceExecutor>(*g, n_ctx);
    decode = [&](const std::vector<int32_t>& batch) -> const float* {
      logits = ex->eval(batch);
      return logits.data() + (batch.size() - 1) * size_t(n_vocab);
    };
    reset = [&] { ex->reset(); };
    position = [&] { return ex->position(); };
    engine = "reference executor";
  }
  if (chat) {
    ChatFormat format;
    if (auto name = a.value("--chat-template")) format = chat_format_from_name(*name);
    else if (tok->vocab().chat_template.empty())
      fail("pocketlm run: ", model, " has no chat template (tokenizer.chat_template); choose a format with --chat-template NAME (",
           chat_format_names(), ")");
    else format = detect_chat_format(tok->vocab().chat_template);
    return run_chat(ChatEngine{tok.get(), decode, reset, position, n_ctx}, format, a.value("--system").value_or(""), opt);
  }
  const std::vector<int32_t> ids = tok->encode(prompt, !a.has("--no-bos") && tok->vocab().add_bos, a.has("--parse-special"));
  if (ids.empty()) fail("pocketlm run: the prompt is empty and --no-bos leaves nothing to start from");

  std::fputs(prompt.c_str(), stdout);
  std::fflush(stdout);
  const GenerateStats st = generate(*tok, decode, n_ctx, ids, opt, [](const std::string& text) {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputs("\n", stdout);
  std::fprintf(stderr, "\npocketlm run: prompt %d tokens in %.3f s (%.1f tok/s), generated %d tokens in %.3f s (%.1f tok/s), "
               "%s; stopped: %s%s\n",
               st.n_prompt, st.prompt_seconds, st.n_prompt / std::max(st.prompt_seconds, 1e-9), st.n_generated,
               st.generate_seconds, st.n_generated / std::max(st.generate_seconds, 1e-9), engine, stop_reason_name(st.reason),
               st.reason == StopReason::ContextFull ? " (raise --ctx or shorten the prompt)" : "");
  return 0;
}

}  // namespace plm
