// The generators' main: Halide's own (generate_filter_main) plus one fix-up that
// Halide 14 offers no knob for. A scheduled prefetch (Stage::prefetch) always becomes an
// LLVM prefetch with locality 0, which x86 emits as `prefetchnta`. On the x86 dev
// machine that makes the streaming GEMV slower than no prefetch at all (Q4_0 2048x5632,
// 1 thread: 8.5 GB/s against 11.2 without and 14.7 with `prefetcht1`; docs/kernels.md).
// So for x86 kernels this main has Halide write assembly instead of the object, turns
// each `prefetchnta` into `prefetcht1` (into L2: the line is read a few KiB later, once),
// and assembles and archives the result with the system tools (`cc -c`, `ar`, the
// toolchain `pocketlm compile` links x86 kernel libraries with). arm64 kernels schedule
// no prefetches and go to Halide unchanged, as does everything else.
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "Halide.h"

extern char** environ;

namespace {

struct Request {
  std::string dir, name, target;
  std::vector<std::string> emits;
  int emit_index = -1;  // argv index of the -e value
  bool generator = false;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  return out;
}

Request parse(const std::vector<std::string>& args) {
  Request r;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "-g" && has_value) r.generator = true;
    if (a == "-o" && has_value) r.dir = args[i + 1];
    if ((a == "-f" || a == "-n") && has_value && (a == "-n" || r.name.empty())) r.name = split(args[i + 1], ':').back();
    if (a == "-e" && has_value) r.emits = split(args[i + 1], ','), r.emit_index = int(i + 1);
    if (a.rfind("target=", 0) == 0) r.target = a.substr(7);
  }
  return r;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

int run(const std::vector<std::string>& argv) {
  std::vector<char*> c;
  for (const auto& a : argv) c.push_back(const_cast<char*>(a.c_str()));
  c.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, c[0], nullptr, nullptr, c.data(), environ) != 0) {
    std::cerr << "pocketlm generator: cannot run " << argv[0] << "\n";
    return 1;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    std::cerr << "pocketlm generator: failed: " << cmd << "\n";
    return 1;
  }
  return 0;
}

// Halide's main on a copy of argv.
int halide_main(std::vector<std::string> args) {
  std::vector<char*> c;
  for (auto& a : args) c.push_back(a.data());
  c.push_back(nullptr);
  return Halide::Internal::generate_filter_main(int(args.size()), c.data(), std::cerr);
}

// prefetchnta -> prefetcht1 in the assembly at `path`.
bool retarget_prefetches(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  const std::string from = "prefetchnta", to = "prefetcht1 ";  // same width: columns stay
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  std::ofstream out(path, std::ios::trunc);
  out << s;
  return bool(out);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  const Request r = parse(args);
  const bool wants_code = contains(r.emits, "static_library") || contains(r.emits, "object");
  if (!r.generator || r.target.rfind("x86", 0) != 0 || !wants_code || r.dir.empty() || r.name.empty())
    return halide_main(args);

  // Halide writes NAME.s (and the other outputs asked for) in place of the object.
  std::string emits = "assembly";
  for (const auto& e : r.emits)
    if (e != "static_library" && e != "object" && e != "assembly") emits += "," + e;
  std::vector<std::string> halide_args = args;
  halide_args[size_t(r.emit_index)] = emits;
  if (const int rc = halide_main(halide_args)) return rc;

  const std::string base = r.dir + "/" + r.name, s = base + ".s", o = base + ".o";
  if (!retarget_prefetches(s)) {
    std::cerr << "pocketlm generator: cannot rewrite " << s << "\n";
    return 1;
  }
  if (run({"cc", "-c", s, "-o", o})) return 1;
  if (contains(r.emits, "static_library")) {
    std::remove((base + ".a").c_str());  // ar would add to a stale archive
    if (run({"ar", "rcs", base + ".a", o})) return 1;
    if (!contains(r.emits, "object")) std::remove(o.c_str());
  }
  if (!contains(r.emits, "assembly")) std::remove(s.c_str());
  return 0;
}
