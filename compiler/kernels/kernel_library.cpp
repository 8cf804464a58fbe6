#include "kernels/kernel_library.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "error.h"

namespace plm {
namespace fs = std::filesystem;
namespace {

fs::path tools_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot locate the pocketlm executable (needed to find the kernel generators)");
  return self.parent_path();
}

struct Job {
  pid_t pid;
  std::vector<std::string> argv;
  fs::path log;
};

// Starts argv with its output in `log`.
Job spawn(const std::vector<std::string>& argv, const fs::path& log) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) fail("cannot start ", argv[0]);
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    dup2(fileno(stdout), 2);
    std::vector<char*> a;
    for (const auto& x : argv) a.push_back(const_cast<char*>(x.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  return {pid, argv, log};
}

// Waits for the job; throws with its command and output on failure.
void finish(const Job& j) {
  int status = 0;
  waitpid(j.pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(j.log);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string cmd;
    for (const auto& x : j.argv) cmd += x + " ";
    fail("kernel build step failed: ", cmd, "\n", ss.str().substr(0, 4000));
  }
}

void run(const std::vector<std::string>& argv, const fs::path& log) { finish(spawn(argv, log)); }

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "pocketlm-kernels-XXXXXX").string();
    if (!mkdtemp(t.data())) fail("cannot create a temporary directory for kernels");
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The kernels' static libraries, one per kernel, each exporting `<prefix><i>_argv`,
// built two generator processes at a time (one per core of a small machine).
std::vector<std::string> build_kernel_archives(const std::vector<KernelRequest>& kernels, const SocProfile& soc, const std::string& prefix,
                                               const fs::path& dir, const std::function<void(size_t, size_t, const std::string&)>& progress) {
  const fs::path bin = tools_dir();
  // user_context: every kernel call carries its session's thread pool to halide_do_par_for.
  const std::string target = soc.halide_target + "-user_context-no_runtime";
  std::vector<Job> running;
  std::vector<std::string> archives;
  size_t done = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const KernelRequest& k = kernels[i];
    const std::string name = prefix + std::to_string(i);
    std::vector<std::string> argv = {(bin / k.generator).string(), "-g", k.function, "-f", name, "-o", dir.string(),
                                     "-e", "static_library", "target=" + target};
    argv.insert(argv.end(), k.params.begin(), k.params.end());
    if (running.size() == 2) {
      finish(running.front());
      running.erase(running.begin());
      ++done;
      if (progress) progress(done, kernels.size(), kernels[done - 1].key);
    }
    running.push_back(spawn(argv, dir / (name + ".log")));
    archives.push_back((dir / (name + ".a")).string());
  }
  for (const Job& j : running) {
    finish(j);
    ++done;
    if (progress) progress(done, kernels.size(), kernels[done - 1].key);
  }
  return archives;
}

// How kernel code for a SoC's OS is compiled and archived: Linux, HarmonyOS and
// Android are ELF (GNU toolchains; Android's Halide code is the same as Linux's, its
// runtime logs through liblog), iOS and macOS Mach-O (clang and llvm-ar, freestanding:
// the registry and micro-kernel need no SDK).
struct Toolchain {
  std::vector<std::string> cc;  // compiler and target flags
  std::string ar;
  std::string runtime_target;   // the Halide runtime: the architecture's baseline for the OS
  std::string micro_kernel;     // the i8mm object built for this OS, in the tools directory
};

Toolchain toolchain_for(const SocProfile& soc) {
  const bool arm = is_arm64(soc.schedule);
  if (soc.os == "ios" || soc.os == "macos") {
    const std::string triple = soc.os == "ios" ? "arm64-apple-ios14" : "arm64-apple-macos11";
    return {{"clang", "-target", triple, "-ffreestanding", "-nostdlibinc"},
            "llvm-ar", soc.os == "ios" ? "arm-64-ios" : "arm-64-osx", "plm_i8mm_microkernel_arm64_" + soc.os + ".o"};
  }
  const std::string os = soc.os == "android" ? "android" : "linux";
  if (arm) return {{"aarch64-linux-gnu-gcc"}, "aarch64-linux-gnu-ar", "arm-64-" + os, "plm_i8mm_microkernel_arm64.o"};
  return {{"cc"}, "ar", "x86-64-" + os, ""};
}

// One Halide runtime for the architecture's baseline (no feature-specific code).
std::string build_halide_runtime(const Toolchain& tc, const fs::path& dir) {
  run({(tools_dir() / "plm_gen_matmul").string(), "-r", "plm_halide_runtime", "-o", dir.string(), "-e", "static_library",
       "target=" + tc.runtime_target},
      dir / "runtime.log");
  return (dir / "plm_halide_runtime.a").string();
}

// Objects every kernel library of this class needs besides its Halide kernels: the
// arm64-i8mm smmla micro-kernel (schedules/matmul/i8mm_microkernel.h).
std::vector<std::string> extra_objects(const SocProfile& soc, const Toolchain& tc) {
  if (soc.schedule != ScheduleClass::Arm64I8mm) return {};
  const fs::path o = tools_dir() / tc.micro_kernel;
  if (!fs::exists(o)) fail("the i8mm micro-kernel ", o.string(), " is missing (it is built with pocketlm)");
  return {o.string()};
}

// The toolchain's compiler command followed by `args`.
std::vector<std::string> compile_command(const Toolchain& tc, std::initializer_list<std::string> args) {
  std::vector<std::string> argv = tc.cc;
  argv.insert(argv.end(), args);
  return argv;
}

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

void require_loadable_kernels(const SocProfile& soc) {
  if (soc.os != "linux" && soc.os != "harmonyos")
    fail("SoC ", soc.name, ": kernel libraries loaded at run time are built for Linux and HarmonyOS (ELF) only; for ", soc.os,
         " link the kernels into the app: compile with --emit-static");
}

std::vector<uint8_t> build_kernel_library(const std::vector<KernelRequest>& kernels, const SocProfile& soc,
                                          const std::function<void(size_t, size_t, const std::string&)>& progress) {
  require_loadable_kernels(soc);
  const Toolchain tc = toolchain_for(soc);
  TempDir tmp;
  const std::vector<std::string> archives = build_kernel_archives(kernels, soc, "plm_k", tmp.path, progress);
  const std::string runtime = build_halide_runtime(tc, tmp.path);
  // The kernel table.
  std::ofstream reg(tmp.path / "registry.c");
  reg << "/* generated by pocketlm compile */\n";
  for (size_t i = 0; i < kernels.size(); ++i) reg << "extern int plm_k" << i << "_argv(void **);\n";
  reg << "typedef int (*plm_kernel_fn)(void **);\n";
  reg << "const plm_kernel_fn plm_kernel_table[] = {\n";
  for (size_t i = 0; i < kernels.size(); ++i) reg << "  plm_k" << i << "_argv,\n";
  reg << "};\nconst int plm_kernel_count = " << kernels.size() << ";\n";
  reg.close();
  const fs::path so = tmp.path / "kernels.so";
  std::vector<std::string> link =
      compile_command(tc, {"-shared", "-fPIC", "-O2", "-o", so.string(), (tmp.path / "registry.c").string(), "-Wl,--whole-archive"});
  link.insert(link.end(), archives.begin(), archives.end());
  link.push_back("-Wl,--no-whole-archive");
  for (const std::string& o : extra_objects(soc, tc)) link.push_back(o);
  link.insert(link.end(), {runtime, "-Wl,-Bsymbolic", "-lpthread", "-ldl", "-lm"});
  run(link, tmp.path / "link.log");
  return read_all(so);
}

StaticKernelArchive build_static_kernel_archive(const std::vector<KernelRequest>& kernels, const SocProfile& soc, const std::string& name,
                                                const std::string& library_id,
                                                const std::function<void(size_t, size_t, const std::string&)>& progress) {
  const Toolchain tc = toolchain_for(soc);
  TempDir tmp;
  const std::string prefix = "plm_" + name + "_k";
  const std::vector<std::string> archives = build_kernel_archives(kernels, soc, prefix, tmp.path, progress);
  const std::string runtime = build_halide_runtime(tc, tmp.path);
  // The registry: the layout of plm_kernel_registry in runtime/include/pocketlm/pocketlm.h,
  // spelled out so that compiling it needs no pocketlm headers.
  std::ofstream reg(tmp.path / "registry.c");
  reg << "/* generated by pocketlm compile --emit-static: the kernel registry of " << library_id << " */\n"
      << "#include <stdint.h>\n"
      << "typedef int (*plm_kernel_fn)(void **);\n"
      << "typedef struct { const char *library_id; int32_t n_kernels; const plm_kernel_fn *kernels; void (*set_parallel_handler)(void); } "
         "plm_kernel_registry;\n"
      << "extern void halide_set_custom_do_par_for(void);\n";
  for (size_t i = 0; i < kernels.size(); ++i) reg << "extern int " << prefix << i << "_argv(void **);\n";
  reg << "static const plm_kernel_fn kernels[] = {\n";
  for (size_t i = 0; i < kernels.size(); ++i) reg << "  " << prefix << i << "_argv,\n";
  reg << "};\n"
      << "static const plm_kernel_registry registry = {\"" << library_id << "\", " << kernels.size()
      << ", kernels, halide_set_custom_do_par_for};\n"
      << "const plm_kernel_registry *plm_kernels_" << name << "(void) { return &registry; }\n";
  reg.close();
  const std::string obj = (tmp.path / ("plm_" + name + "_registry.o")).string();
  run(compile_command(tc, {"-c", "-O2", "-fPIC", "-o", obj, (tmp.path / "registry.c").string()}), tmp.path / "registry.log");
  // One archive: every kernel's objects, the registry and a Halide runtime (whose
  // symbols are weak, so several models' archives link into one app).
  const fs::path out = tmp.path / "kernels.a";
  std::ofstream mri(tmp.path / "archive.mri");
  mri << "CREATE " << out.string() << "\n";
  for (const std::string& a : archives) mri << "ADDLIB " << a << "\n";
  for (const std::string& o : extra_objects(soc, tc)) mri << "ADDMOD " << o << "\n";
  mri << "ADDLIB " << runtime << "\nADDMOD " << obj << "\nSAVE\nEND\n";
  mri.close();
  const fs::path script = tmp.path / "archive.mri";
  run({"/bin/sh", "-c", tc.ar + " -M < '" + script.string() + "'"}, tmp.path / "ar.log");
  StaticKernelArchive res;
  res.archive = read_all(out);
  res.header = "/* generated by pocketlm compile --emit-static */\n"
               "/* The kernels of the bundle whose static kernel library is " + library_id + ".\n"
               " * Link " + name + ".kernels.a into the app, then before plm_model_open():\n"
               " *   plm_register_kernels(plm_kernels_" + name + "());\n */\n"
               "#ifndef PLM_KERNELS_" + name + "_H\n#define PLM_KERNELS_" + name + "_H\n"
               "#include \"pocketlm/pocketlm.h\"\n"
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
               "const plm_kernel_registry* plm_kernels_" + name + "(void);\n"
               "#ifdef __cplusplus\n}\n#endif\n#endif\n";
  return res;
}

}  // namespace plm
