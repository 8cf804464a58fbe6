// Helpers shared by the test suites: locating ../shared/testdata, temporary files,
// reading reference dumps, and running the CLI.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace plm {
class Tokenizer;
}

namespace plm::test {

// Absolute path of a file under the shared test data (PLM_TESTDATA overrides).
std::string testdata(const std::string& rel);
// True if the file exists. Otherwise records a failure when CI=true, else returns
// false so the caller can GTEST_SKIP with a message naming the file.
bool have_testdata(const std::string& path);

#define PLM_REQUIRE_TESTDATA(path)                                                  \
  do {                                                                              \
    if (!::plm::test::have_testdata(path)) GTEST_SKIP() << "missing test data " << (path); \
  } while (0)

std::string temp_dir();  // a fresh directory per test binary run
// `model` compiled for `soc` (with the KV cache type `kv_cache`: f16 or q8_0), built once
// per test binary build and shared by the test processes (ctest runs every case in its
// own process).
std::string cached_bundle(const std::string& model, const std::string& soc, const std::string& kv_cache = "f16");
std::string write_temp(const std::string& name, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_bytes(const std::string& path);
std::vector<float> read_f32(const std::string& path);
std::vector<std::vector<int32_t>> read_id_lines(const std::string& path);  // whitespace-separated ids per line
// llama.cpp's vectors for a vocabulary file in ../shared/testdata/tokenizers: each of
// the 46 strings of GGUF.inp (separated by __ggml_vocab_test__ lines) must encode, with
// no BOS, to its line of GGUF.out; with check_decode also decode back to itself.
void expect_llama_cpp_vectors(const Tokenizer& tok, const std::string& gguf, bool check_decode);

struct RunResult {
  int exit_code;
  std::string out, err;
};
RunResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text = "");
std::string pocketlm_binary();  // the CLI matching this test binary's flavour

}  // namespace plm::test
