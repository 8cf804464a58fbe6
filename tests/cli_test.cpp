// The pocketlm CLI end to end: help, inspect, logits, and errors that name the flag
// or file at fault with exit code 1.
#include <filesystem>

#include "gguf_builder.h"
#include "import/model_file.h"
#include "import/vocab_import.h"
#include "tokenizer.h"
#include "chat_template.h"
#include "test_support.h"

namespace plm {
namespace {

using test::run_command;

test::RunResult pocketlm(std::vector<std::string> args) {
  args.insert(args.begin(), test::pocketlm_binary());
  return run_command(args);
}

void expect_error(const test::RunResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("pocketlm", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr lacks '" << needle << "': " << r.err;
}

TEST(Cli, HelpTeaches) {
  auto r = pocketlm({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("inspect"), std::string::npos);
  EXPECT_NE(r.out.find("logits"), std::string::npos);
  r = pocketlm({"logits", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("[n_tokens][n_vocab]"), std::string::npos);
  EXPECT_NE(r.out.find("example:"), std::string::npos);
  r = pocketlm({});
  EXPECT_EQ(r.exit_code, 2);
  r = pocketlm({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(Cli, InspectPrintsHparamsTensorsAndGraph) {
  const std::string model = test::testdata("models/synth-llama-Q4_0.gguf");
  PLM_REQUIRE_TESTDATA(model);
  const auto r = pocketlm({"inspect", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("format:  GGUF v3"), std::string::npos);
  EXPECT_NE(r.out.find("n_head 8  n_head_kv 2  head_dim 32"), std::string::npos) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("output.weight"), std::string::npos);
  EXPECT_NE(r.out.find("Q6_K"), std::string::npos);
  EXPECT_NE(r.out.find("%logits [T, 32000] = matmul(%final_norm, @output.weight:Q6_K)"), std::string::npos);
  EXPECT_NE(r.out.find("attention(%q_rope.3, %k_rope.3, %v.3) layer=3 heads=8"), std::string::npos);
}

TEST(Cli, LogitsWritesReferenceLayoutAndNeverOverwrites) {
  const std::string model = test::testdata("models/aidreams260K.bin");
  const std::string ref = test::testdata("reference/aidreams260K-F32.logits.f32");
  const std::string greedy = test::testdata("reference/aidreams260K-F32.greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  PLM_REQUIRE_TESTDATA(ref);
  const std::string out = test::temp_dir() + "/cli.logits.f32";
  std::filesystem::remove(out);
  auto r = pocketlm({"logits", model, "--tokens-file", greedy, "-o", out, "--reference"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = test::read_f32(out), want = test::read_f32(ref);
  ASSERT_EQ(got.size(), want.size());
  double max_diff = 0;
  for (size_t i = 0; i < got.size(); ++i) max_diff = std::max(max_diff, double(std::abs(got[i] - want[i])));
  // Same layout and values up to f32 summation order (llama.cpp accumulates in f32).
  EXPECT_LT(max_diff, 1e-2) << "F32 logits differ from llama.cpp by " << max_diff;
  // A second run refuses to replace the file, and leaves it intact.
  r = pocketlm({"logits", model, "--tokens", "1,2", "-o", out, "--reference"});
  expect_error(r, "already exists; pass --force");
  EXPECT_EQ(test::read_f32(out).size(), want.size());
  r = pocketlm({"logits", model, "--tokens", "1,2", "-o", out, "--reference", "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_f32(out).size(), 2u * 512);
}

TEST(Cli, ErrorsNameTheFlagOrFile) {
  const std::string model = test::testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(model);
  const std::string out = test::temp_dir() + "/never-written.f32";
  expect_error(pocketlm({"logits", model, "--tokens", "1,x", "-o", out, "--reference"}), "--tokens: 'x' is not a token id");
  expect_error(pocketlm({"logits", model, "--tokens", "1,2", "-o", out}), "pass --reference");
  expect_error(pocketlm({"logits", model, "--tokens", "1,9999", "-o", out, "--reference"}), "token id 9999 is out of range");
  expect_error(pocketlm({"logits", model, "--tokens", "1,2,3", "--ctx", "2", "-o", out, "--reference"}), "context overflow");
  expect_error(pocketlm({"logits", model, "--tokens", "1", "--ctx", "-5", "-o", out, "--reference"}), "--ctx -5 is out of range");
  expect_error(pocketlm({"logits", model, "--tokens", "1", "--reference"}), "missing --output");
  expect_error(pocketlm({"logits", model, "--bogus", "--reference"}), "unknown flag --bogus");
  expect_error(pocketlm({"inspect", "/nonexistent/model.gguf"}), "/nonexistent/model.gguf: cannot open");
  expect_error(pocketlm({"inspect", model, "extra"}), "unexpected argument 'extra'");
  expect_error(pocketlm({"inspect", model, "--tokenizer", "t.bin"}), "for a GGUF model --tokenizer takes a Hugging Face tokenizer.json");
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace plm

namespace plm {
namespace {

// Tokenizer, reference executor, greedy sampling and streaming together: the text
// llama.cpp generated for the aidreams260K prompt, reproduced through `pocketlm run`.
TEST(Cli, RunGreedyReproducesLlamaCppText) {
  const std::string model = test::testdata("models/aidreams260K-F32.gguf");
  const std::string greedy = test::testdata("reference/aidreams260K-F32.greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  PLM_REQUIRE_TESTDATA(greedy);
  const auto ids = test::read_id_lines(greedy).at(0);
  const auto b = test::read_bytes(greedy);
  const std::string all(b.begin(), b.end());
  const size_t line3 = all.find('\n', all.find('\n') + 1) + 1;
  std::string continuation = all.substr(line3);
  while (!continuation.empty() && continuation.back() == '\n') continuation.pop_back();

  // The prompt's text, recovered from its ids, must encode back to exactly them.
  const Tokenizer tok(vocab_from_metadata(open_model_file(model).meta, model));
  const std::string prompt = tok.decode(ids);
  ASSERT_EQ(tok.encode(prompt, true), ids) << "'" << prompt << "'";

  const auto r = pocketlm({"run", model, "-p", prompt, "-n", "64", "--temp", "0", "--ignore-eos", "--reference"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, prompt + continuation + "\n");
  EXPECT_NE(r.err.find("generated 64 tokens"), std::string::npos) << r.err;
}

TEST(Cli, RunAndTokenizeErrors) {
  const std::string model = test::testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(model);
  expect_error(pocketlm({"run", model, "-p", "hi", "--temp", "-1", "--reference"}), "--temp -1 is out of range");
  expect_error(pocketlm({"run", model, "-p", "hi", "--top-p", "abc", "--reference"}), "--top-p 'abc' is not a number");
  expect_error(pocketlm({"run", model, "-p", "hi"}), "pass --reference");
  expect_error(pocketlm({"run", model, "--reference"}), "exactly one of -p TEXT or -f FILE");
  expect_error(pocketlm({"run", model, "-p", "a long prompt that cannot fit", "--ctx", "4", "--reference"}), "does not fit the context of 4");
  const auto full = pocketlm({"run", model, "-p", "Hi", "--ctx", "8", "-n", "100", "--ignore-eos", "--reference"});
  EXPECT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.err.find("stopped: context full"), std::string::npos) << full.err;
  const auto t = pocketlm({"tokenize", model, "-p", "Hello", "--ids", "--bos"});
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.out.rfind("1 ", 0), 0u) << t.out;
  expect_error(pocketlm({"tokenize", model, "-p", "x", "--ids", "--pieces"}), "--ids or --pieces");
}

}  // namespace
}  // namespace plm

namespace plm {
namespace {

TEST(Cli, CompileRunAndBenchABundle) {
  const std::string model = test::testdata("models/aidreams260K.bin");
  PLM_REQUIRE_TESTDATA(model);
  const std::string out = test::temp_dir() + "/cli-aidreams.plm";
  auto r = pocketlm({"compile", model, "--soc", "host", "-o", out, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("kernels"), std::string::npos) << r.err;
  expect_error(pocketlm({"compile", model, "--soc", "host", "-o", out}), "already exists; pass --force");
  expect_error(pocketlm({"compile", model, "--soc", "pixel-99", "-o", out}), "unknown SoC 'pixel-99'");
  // --emit-static checks every output before building anything, and leaves them be.
  const std::string archive = test::temp_dir() + "/cli-static.kernels.a";
  test::write_temp("cli-static.kernels.a", {'k'});
  expect_error(pocketlm({"compile", model, "--soc", "host", "-o", test::temp_dir() + "/cli-static.plm", "--emit-static"}),
               "cli-static.kernels.a: already exists; pass --force");
  EXPECT_EQ(test::read_bytes(archive), std::vector<uint8_t>{'k'});
  EXPECT_FALSE(std::filesystem::exists(test::temp_dir() + "/cli-static.plm"));
  expect_error(pocketlm({"compile", model, "--soc", "snapdragon-8-gen-3", "-o", out + ".2"}), "for android link the kernels into the app: compile with --emit-static");
  expect_error(pocketlm({"compile", model, "--soc", "host", "-o", out + ".3", "--kv-cache", "q4_0"}), "--kv-cache must be f16 or q8_0, not 'q4_0'");
  // aidreams260K's heads are 16 wide: no whole Q8_0 block per head.
  expect_error(pocketlm({"compile", model, "--soc", "host", "-o", out + ".3", "--kv-cache", "q8_0"}), "this model's head_dim is 16");
  EXPECT_FALSE(std::filesystem::exists(out + ".3"));
  r = pocketlm({"inspect", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plan:"), std::string::npos) << r.out;
  r = pocketlm({"run", out, "-p", "Once upon a time", "-n", "16", "--temp", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Once upon a time, pixels unfolding", 0), 0u) << r.out;
  r = pocketlm({"bench", out, "-p", "16", "-n", "8", "-r", "2", "-t", "1", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"tg_tok_s\""), std::string::npos) << r.out;
  r = pocketlm({"bench", out, "-p", "0", "-n", "8", "-r", "1", "-t", "1", "--profile"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("generation profile"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plm_gen_matmul matmul"), std::string::npos) << r.out;
  expect_error(pocketlm({"bench", model}), "is not a bundle");
  expect_error(pocketlm({"bench", out, "-p", "0", "-n", "0"}), "nothing to measure");
  expect_error(pocketlm({"run", out, "-p", "x", "--reference"}), "--reference runs model files");
}

}  // namespace
}  // namespace plm

namespace plm {
namespace {

// --chat: the first answer equals a one-shot completion of the rendered turn; /reset
// really empties the context (the same question gets the same greedy answer);
// a turn that cannot fit says so and the session goes on.
TEST(Cli, ChatTurnsResetAndContextLimits) {
  const std::string model = test::testdata("models/aidreams260K.bin");
  PLM_REQUIRE_TESTDATA(model);
  const std::string bundle = test::cached_bundle(model, "host");
  const std::vector<std::string> chat = {test::pocketlm_binary(), "run", bundle, "--chat", "--chat-template", "chatml", "--temp", "0", "-n", "12"};
  const auto r = test::run_command(chat, "Once upon a time\nThe robot\n/reset\nOnce upon a time\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> answers;
  for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) answers.push_back(r.out.substr(at, nl - at));
  ASSERT_GE(answers.size(), 3u) << r.out;
  EXPECT_NE(r.err.find("chatml template"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(conversation cleared)"), std::string::npos) << r.err;

  const std::string turn = render_chat(ChatFormat::ChatMl, {{"user", "Once upon a time"}}, true);
  const auto one = pocketlm({"run", bundle, "-p", turn, "--parse-special", "--temp", "0", "-n", "12"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(one.out.rfind(turn, 0), 0u);
  const std::string one_shot = one.out.substr(turn.size(), one.out.size() - turn.size() - 1);
  // Answers may contain newlines: compare the whole stdout instead of lines.
  EXPECT_EQ(r.out.rfind(one_shot + "\n", 0), 0u) << "chat: '" << r.out << "' one-shot: '" << one_shot << "'";
  const size_t second_reset_answer = r.out.rfind(one_shot + "\n");
  EXPECT_EQ(second_reset_answer + one_shot.size() + 1, r.out.size()) << "after /reset the same question gets the same answer";

  const auto full = test::run_command({test::pocketlm_binary(), "run", bundle, "--chat", "--chat-template", "llama2", "--ctx", "16"},
                                      "a question far too long to fit in sixteen tokens of context\n/exit\n");
  EXPECT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.err.find("context full: this turn needs"), std::string::npos) << full.err;
  expect_error(pocketlm({"run", bundle, "--chat"}), "has no chat template");
  expect_error(pocketlm({"run", bundle, "--chat", "--chat-template", "vicuna"}), "unknown chat template 'vicuna'");
  expect_error(pocketlm({"run", bundle, "--chat", "-p", "hi"}), "drop -p/-f");
  expect_error(pocketlm({"run", bundle, "-p", "hi", "--system", "x"}), "--system only applies with --chat");
}

// An app in plain C against runtime/include/pocketlm/pocketlm.h only.
TEST(CApi, PlainCProgramRunsABundle) {
  const std::string model = test::testdata("models/aidreams260K.bin");
  PLM_REQUIRE_TESTDATA(model);
  const test::RunResult r = test::run_command({PLM_C_API_TEST, test::cached_bundle(model, "host"), ", pixels unfolding like petals."});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace plm
