// The generators' main: Halide's own (generate_filter_main) plus two fix-ups to x86
// code generation that Halide 14 offers no knob for.
// 1. The CPU model. Halide 14 gets vpdpbusd only from its avx512_sapphirerapids
//    feature, and for that feature it hands LLVM -mcpu=sapphirerapids with AMX, BF16,
//    IFMA and VBMI, so instruction selection may use any of those and AVX512-FP16. It
//    did: the F16 embedding's 16-bit gathers became `vmovw`, an illegal instruction on
//    Zen 4 (AVX-512 VNNI without FP16). The catalog promises that these kernels need
//    only avx512 f/bw/vl/vnni (soc_catalog.cpp), which is Cascade Lake. So for x86
//    kernels Halide writes its optimised LLVM IR, and LLVM's code generator (llc, the
//    LLVM Halide 14 is built on) runs here with the options Halide's own uses
//    (CodeGen_Internal's make_target_machine) and the CPU the catalog promises. With
//    Halide's CPU this reproduces Halide's assembly byte for byte.
// 2. Prefetches. A scheduled prefetch (Stage::prefetch) always becomes an LLVM
//    prefetch with locality 0, which x86 emits as `prefetchnta`. On the x86 dev machine
//    that makes the streaming GEMV slower than no prefetch at all (Q4_0 2048x5632, 1
//    thread: 8.5 GB/s against 11.2 without and 14.7 with `prefetcht1`;
//    docs/kernels.md). So each `prefetchnta` in the assembly becomes `prefetcht1` (into
//    L2: the line is read a few KiB later, once).
// The result is assembled and archived with the system tools (`cc -c`, `ar`, the
// toolchain `pocketlm compile` links x86 kernel libraries with). arm64 kernels go to
// Halide unchanged, as does everything else.
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

bool read_file(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *text = s.str();
  return true;
}

// The value of the string module flag `name` in Halide's LLVM IR: !{i32 2, !"name", !"value"}.
std::string module_flag(const std::string& ir, const std::string& name) {
  const std::string key = "!\"" + name + "\", !\"";
  const size_t at = ir.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size(), end = ir.find('"', begin);
  return end == std::string::npos ? "" : ir.substr(begin, end - begin);
}

// The CPU and features LLVM generates code for: Halide's, except that its
// sapphirerapids becomes the Cascade Lake feature set the catalog promises (header).
void catalog_cpu(std::string* mcpu, std::string* mattrs) {
  if (*mcpu != "sapphirerapids") return;
  *mcpu = "cascadelake";
  std::string kept;
  for (const std::string& a : split(*mattrs, ','))
    if (a != "+avx512ifma" && a != "+avx512vbmi" && a != "+avx512bf16" && a.rfind("+amx", 0) != 0) kept += (kept.empty() ? "" : ",") + a;
  *mattrs = kept;
}

// prefetchnta -> prefetcht1 in assembly text.
void retarget_prefetches(std::string* s) {
  const std::string from = "prefetchnta", to = "prefetcht1 ";  // same width: columns stay
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) s->replace(at, from.size(), to);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  const Request r = parse(args);
  const bool wants_code = contains(r.emits, "static_library") || contains(r.emits, "object");
  if (!r.generator || r.target.rfind("x86", 0) != 0 || !wants_code || r.dir.empty() || r.name.empty())
    return halide_main(args);

  // Halide writes NAME.ll (and the other outputs asked for) in place of the object.
  std::string emits = "llvm_assembly";
  for (const auto& e : r.emits)
    if (e != "static_library" && e != "object" && e != "assembly" && e != "llvm_assembly") emits += "," + e;
  std::vector<std::string> halide_args = args;
  halide_args[size_t(r.emit_index)] = emits;
  if (const int rc = halide_main(halide_args)) return rc;

  const std::string base = r.dir + "/" + r.name, ll = base + ".ll", s = base + ".s", o = base + ".o";
  std::string ir;
  if (!read_file(ll, &ir)) {
    std::cerr << "pocketlm generator: cannot read " << ll << "\n";
    return 1;
  }
  std::string mcpu = module_flag(ir, "halide_mcpu"), mattrs = module_flag(ir, "halide_mattrs");
  if (mcpu.empty()) {
    std::cerr << "pocketlm generator: " << ll << " names no halide_mcpu\n";
    return 1;
  }
  catalog_cpu(&mcpu, &mattrs);
  // Halide's TargetOptions (fast FP contraction, unsafe/no-inf/no-nan math, sign-dependent
  // rounding honoured, function sections), PIC, small code model, -O3.
  if (run({"llc-14", "-O3", "-relocation-model=pic", "-fp-contract=fast", "--enable-unsafe-fp-math",
           "--enable-no-infs-fp-math", "--enable-no-nans-fp-math", "--enable-sign-dependent-rounding-fp-math",
           "--function-sections", "-mcpu=" + mcpu, "-mattr=" + mattrs, ll, "-o", s}))
    return 1;
  std::string text;
  if (!read_file(s, &text)) {
    std::cerr << "pocketlm generator: cannot read " << s << "\n";
    return 1;
  }
  retarget_prefetches(&text);
  if (!(std::ofstream(s, std::ios::trunc) << text)) {
    std::cerr << "pocketlm generator: cannot rewrite " << s << "\n";
    return 1;
  }
  if (!contains(r.emits, "llvm_assembly")) std::remove(ll.c_str());
  if (run({"cc", "-c", s, "-o", o})) return 1;
  if (contains(r.emits, "static_library")) {
    std::remove((base + ".a").c_str());  // ar would add to a stale archive
    if (run({"ar", "rcs", base + ".a", o})) return 1;
    if (!contains(r.emits, "object")) std::remove(o.c_str());
  }
  if (!contains(r.emits, "assembly")) std::remove(s.c_str());
  return 0;
}
