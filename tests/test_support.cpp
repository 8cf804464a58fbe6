#include "test_support.h"

#include "bundle/bundle_writer.h"
#include "import/model_file.h"
#include "models/model_graph.h"
#include "tokenizer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace plm::test {

std::string testdata(const std::string& rel) {
  const char* env = std::getenv("PLM_TESTDATA");
  return std::string(env && *env ? env : PLM_DEFAULT_TESTDATA) + "/" + rel;
}

bool have_testdata(const std::string& path) {
  if (std::filesystem::exists(path)) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") ADD_FAILURE() << "CI=true and test data is missing: " << path;
  return false;
}

std::string temp_dir() {
  // Removed when the test binary exits (ctest runs each test case in its own process,
  // hundreds per run: left behind, their files filled the disk).
  struct TempDir {
    std::string path;
    TempDir() {
      std::string tmpl = (std::filesystem::temp_directory_path() / "pocketlm-test-XXXXXX").string();
      if (!mkdtemp(tmpl.data())) std::abort();
      path = tmpl;
    }
    ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const TempDir dir;
  return dir.path;
}

std::string cached_bundle(const std::string& model, const std::string& soc, const std::string& kv_cache) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Keyed by this test binary (name and build time): it links the compiler that writes
  // bundles; and by the newest kernel generator beside it, so that a schedule change
  // alone gets new kernels. Entries an older build of the same binary left behind are
  // removed, so the cache holds one generation per binary instead of growing with every
  // rebuild.
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  auto stamp = fs::last_write_time(exe, ec).time_since_epoch().count();
  for (const auto& e : fs::directory_iterator(exe.parent_path(), ec))
    if (e.path().filename().string().rfind("plm_gen_", 0) == 0)
      stamp = std::max(stamp, fs::last_write_time(e.path(), ec).time_since_epoch().count());
  const fs::path dir = fs::path(PLM_TEST_CACHE_DIR);
  fs::create_directories(dir, ec);
  const std::string prefix =
      fs::path(model).filename().string() + "." + soc + "." + (kv_cache == "f16" ? "" : "kv-" + kv_cache + ".") + exe.filename().string() + ".";
  const fs::path out = dir / (prefix + std::to_string(stamp) + ".plm");
  if (!fs::exists(out)) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      // Finished bundles only: a concurrent writer's "<out>.tmp.<pid>" is not ours to remove.
      const bool bundle = name.size() > 4 && name.compare(name.size() - 4, 4, ".plm") == 0;
      if (bundle && name.rfind(prefix, 0) == 0 && e.path() != out) fs::remove(e.path(), ec);
    }
    const ModelFile mf = open_model_file(model);
    BundleOptions opt = BundleOptions::overwriting();
    if (kv_cache == "q8_0") opt.kv_cache_type = bundle::KvCacheType::Q8_0;
    else if (kv_cache != "f16") throw std::runtime_error("cached_bundle: unknown KV cache type " + kv_cache);
    write_bundle(mf, build_graph(mf), find_soc(soc), out.string(), opt);  // atomic rename: racing writers agree
  }
  return out.string();
}

std::string write_temp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<float> read_f32(const std::string& path) {
  const auto b = read_bytes(path);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

std::vector<std::vector<int32_t>> read_id_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::vector<int32_t>> lines;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::vector<int32_t> ids;
    long v;
    while (is >> v) ids.push_back(int32_t(v));
    lines.push_back(ids);
  }
  return lines;
}


void expect_llama_cpp_vectors(const Tokenizer& tok, const std::string& gguf, bool check_decode) {
  const auto b = read_bytes(gguf + ".inp");
  const std::string all(b.begin(), b.end());
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  size_t pos = 0;
  for (size_t at; (at = all.find(sep, pos)) != std::string::npos; pos = at + sep.size()) inputs.push_back(all.substr(pos, at - pos));
  const auto expected = read_id_lines(gguf + ".out");
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_GE(expected.size(), inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    const auto ids = tok.encode(inputs[k], /*add_bos=*/false);
    EXPECT_EQ(ids, expected[k]) << "string " << k << ": '" << inputs[k] << "'";
    if (check_decode) {
      EXPECT_EQ(tok.decode(ids), inputs[k]) << "string " << k;
    }
  }
}

RunResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text) {
  // stdin, stdout and stderr are temp files so large outputs cannot deadlock a pipe.
  const std::string out_path = temp_dir() + "/cmd.out", err_path = temp_dir() + "/cmd.err";
  const std::string in_path = write_temp("cmd.in", std::vector<uint8_t>(stdin_text.begin(), stdin_text.end()));
  std::fflush(stdout);  // or the child would write the parent's buffered output again
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    FILE* o = std::freopen(out_path.c_str(), "w", stdout);
    FILE* e = std::freopen(err_path.c_str(), "w", stderr);
    FILE* i = std::freopen(in_path.c_str(), "r", stdin);
    (void)o; (void)e; (void)i;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const auto ob = read_bytes(out_path), eb = read_bytes(err_path);
  r.out.assign(ob.begin(), ob.end());
  r.err.assign(eb.begin(), eb.end());
  return r;
}

std::string pocketlm_binary() { return PLM_CLI_PATH; }

}  // namespace plm::test
