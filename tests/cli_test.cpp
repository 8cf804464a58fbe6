// The pocketlm CLI end to end: help, inspect, logits, and errors that name the flag
// or file at fault with exit code 1.
#include <filesystem>

#include "gguf_builder.h"
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
  expect_error(pocketlm({"inspect", model, "--tokenizer", "t.bin"}), "only for llama2.c checkpoints");
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace plm
