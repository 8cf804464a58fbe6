#include "kernel_test_support.h"

#include "cpu_features.h"
#include "test_support.h"

namespace plm::test {

const ClassInfo kClasses[5] = {
    {"x86-avx512-vnni", "x86_64", nullptr},
    {"x86-avx2", "x86_64", nullptr},
    {"arm64-neon", "arm64", "cortex-a53"},
    {"arm64-dotprod", "arm64", "cortex-a76"},
    {"arm64-i8mm", "arm64", "max"},  // qemu's max CPU has i8mm (and dotprod, fp16)
};

std::string id_of(const std::string& cls) {
  std::string s = cls;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

std::string cannot_run(const ClassInfo& c) {
  const CpuFeatures& f = host_cpu_features();
  if (std::string(c.arch) == "arm64") return f.arch == "x86_64" || f.arch == "arm64" ? "" : "no way to run arm64 code";
  if (f.arch != "x86_64") return "not an x86-64 machine";
  if (std::string(c.name) == "x86-avx512-vnni" && !(f.avx512_vnni && f.avx512bw && f.avx512vl)) return "CPU lacks AVX-512 VNNI";
  if (!(f.avx2 && f.fma)) return "CPU lacks AVX2/FMA";
  return "";
}

std::vector<uint8_t> run_kernel(const ClassInfo& c, const std::string& name, int32_t T, const std::vector<uint8_t>& inputs,
                                int32_t P) {
  std::vector<uint8_t> in;
  in.reserve(8 + inputs.size());
  append(in, &T, 1);
  append(in, &P, 1);
  for (uint8_t b : inputs) in.push_back(b);
  const std::string in_path = test::write_temp("kin_" + name + ".bin", in);
  const std::string out_path = test::temp_dir() + "/kout_" + name + ".bin";
  const std::string runner = std::string(PLM_RUNNER_DIR) + "/plm_kernel_runner_" + c.arch;
  std::vector<std::string> argv;
  if (c.qemu_cpu) argv = {PLM_QEMU_AARCH64, "-cpu", c.qemu_cpu, "-L", "/usr/aarch64-linux-gnu"};
  argv.insert(argv.end(), {runner, name, in_path, out_path});
  const test::RunResult r = test::run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  return test::read_bytes(out_path);
}


}  // namespace plm::test
