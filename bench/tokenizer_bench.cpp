// pocketlm-tokenizer-bench: encoding throughput (MB of input text per second) of each
// tokenizer family in ../shared/testdata/tokenizers, on English prose and on
// mixed-script text (Latin, Cyrillic, CJK, Khmer, emoji, code, digit runs), plus
// decoding. The input is ~1 MiB, built from text in this file and the llama.cpp
// vocabulary test strings, so runs are comparable across machines and commits.
//
//   build/bin/pocketlm-tokenizer-bench [--benchmark_filter=gpt_2]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "import/model_file.h"
#include "import/vocab_import.h"
#include "tokenizer.h"

namespace plm {
namespace {

const char kEnglish[] =
    "The lighthouse keeper had kept the lamp burning for forty-one winters, and in all that time he had never once "
    "missed a night. He wrote the weather in a ledger: wind from the north-east, sea state moderate, visibility good "
    "until the fog came in at 3 a.m. Ships passed, mostly fishing boats, sometimes a tanker riding low with oil. "
    "When the new automatic beacon was installed, the engineers told him he could retire; he thanked them, made tea, "
    "and went on writing in the ledger anyway. \"Somebody ought to notice,\" he said, \"what the sea is doing.\"\n";

std::string text_file(const char* which) {
  if (std::string(which) == "english") return kEnglish;
  const char* env = std::getenv("PLM_TESTDATA");
  const std::string dir = std::string(env && *env ? env : PLM_DEFAULT_TESTDATA) + "/tokenizers/";
  std::ifstream in(dir + "ggml-vocab-gpt-2.gguf.inp", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  for (size_t at; (at = s.find("__ggml_vocab_test__")) != std::string::npos;) s.erase(at, 19);
  return s;
}

std::string megabyte_of(const char* which) {
  const std::string unit = text_file(which);
  if (unit.empty()) return {};
  std::string s;
  while (s.size() < (1u << 20)) s += unit;
  return s;
}

const Tokenizer* tokenizer(const std::string& family) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& t = cache[family];
  if (!t) {
    const char* env = std::getenv("PLM_TESTDATA");
    const std::string path = std::string(env && *env ? env : PLM_DEFAULT_TESTDATA) + "/tokenizers/ggml-vocab-" + family + ".gguf";
    t = std::make_unique<Tokenizer>(vocab_from_metadata(open_model_file(path).meta, path));
  }
  return t.get();
}

void encode(benchmark::State& state, const std::string& family, const char* which) {
  const std::string text = megabyte_of(which);
  const Tokenizer* tok = tokenizer(family);
  size_t n_tokens = 0;
  for (auto _ : state) {
    const auto ids = tok->encode(text, false);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["bytes_per_token"] = double(text.size()) / double(n_tokens);
}

void decode(benchmark::State& state, const std::string& family) {
  const std::string text = megabyte_of("mixed");
  const Tokenizer* tok = tokenizer(family);
  const auto ids = tok->encode(text, false);
  for (auto _ : state) {
    const std::string s = tok->decode(ids);
    benchmark::DoNotOptimize(s.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}

const int kRegistered = [] {
  for (const char* family : {"llama-spm", "gpt-2", "starcoder", "deepseek-llm"}) {
    for (const char* which : {"english", "mixed"})
      benchmark::RegisterBenchmark((std::string("encode/") + family + "/" + which).c_str(),
                                   [=](benchmark::State& s) { encode(s, family, which); })
          ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("decode/") + family).c_str(), [=](benchmark::State& s) { decode(s, family); })
        ->Unit(benchmark::kMillisecond);
  }
  return 0;
}();

}  // namespace
}  // namespace plm

BENCHMARK_MAIN();
