// `compile --emit-static` for phone and Apple SoCs: the archive holds every kernel of
// the plan, the registry and the i8mm micro-kernel in the platform's object format
// (Mach-O for iOS/macOS, ELF with Android's Halide runtime for Android), with smmla in
// its code. These archives are checked by their symbols and instructions; running them
// needs the platform (the same kernels run under qemu as linux-arm64-i8mm, and the
// host's static archive is linked and run by static.LogitsMatchEmbeddedKernels).
#include "bundle.h"
#include "test_support.h"

namespace plm {
namespace {

struct PlatformCase {
  const char* soc;
  const char* nm;       // symbol lister for the format
  const char* objdump;  // disassembler, with the flags that make it show smmla
  const char* symbol_prefix;  // Mach-O symbols carry a leading underscore
};
void PrintTo(const PlatformCase& c, std::ostream* os) { *os << c.soc; }

class PlatformArchive : public ::testing::TestWithParam<PlatformCase> {};

TEST_P(PlatformArchive, HoldsEveryKernelTheRegistryAndSmmla) {
  const PlatformCase& c = GetParam();
  const std::string model = test::testdata("models/synth-llama-Q4_0.gguf");
  PLM_REQUIRE_TESTDATA(model);
  std::string name = c.soc;
  for (char& ch : name)
    if (ch == '-') ch = '_';
  const std::string out = test::temp_dir() + "/" + name + ".plm", archive = test::temp_dir() + "/" + name + ".kernels.a";
  const auto r = test::run_command({test::pocketlm_binary(), "compile", model, "--soc", c.soc, "-o", out, "--emit-static", "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto bundle = Bundle::open(out, nullptr);
  ASSERT_NE(bundle->meta().static_kernels(), nullptr);
  const size_t n_kernels = bundle->meta().kernels()->size();
  ASSERT_GT(n_kernels, 10u);

  const auto nm = test::run_command({c.nm, archive});
  ASSERT_EQ(nm.exit_code, 0) << nm.err;
  const std::string p = c.symbol_prefix;
  EXPECT_NE(nm.out.find(" T " + p + "plm_kernels_" + name + "\n"), std::string::npos) << nm.out.substr(0, 2000);
  EXPECT_NE(nm.out.find(" T " + p + "plm_i8mm_prefill_tile\n"), std::string::npos);
  for (size_t i = 0; i < n_kernels; ++i)
    EXPECT_NE(nm.out.find(" T " + p + "plm_" + name + "_k" + std::to_string(i) + "_argv\n"), std::string::npos) << "kernel " << i;
  if (std::string(c.soc).rfind("apple", 0) != 0) {
    EXPECT_NE(nm.out.find(" U __android_log_print"), std::string::npos) << "Android's Halide runtime logs through liblog";
  }

  std::vector<std::string> dis = {"/bin/sh", "-c", std::string(c.objdump) + " '" + archive + "' | grep -c smmla"};
  const auto d = test::run_command(dis);
  EXPECT_GE(std::atoi(d.out.c_str()), 4) << d.out << d.err;
}

INSTANTIATE_TEST_SUITE_P(
    Socs, PlatformArchive,
    ::testing::Values(PlatformCase{"apple-a17", "/usr/bin/llvm-nm-14", "/usr/bin/llvm-objdump-14 --macho -d --mattr=+i8mm", "_"},
                      PlatformCase{"apple-m2", "/usr/bin/llvm-nm-14", "/usr/bin/llvm-objdump-14 --macho -d --mattr=+i8mm", "_"},
                      PlatformCase{"snapdragon-8-gen-3", "/usr/bin/aarch64-linux-gnu-nm", "/usr/bin/aarch64-linux-gnu-objdump -d", ""}),
    [](const auto& i) {
      std::string n = i.param.soc;
      for (char& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

}  // namespace
}  // namespace plm
