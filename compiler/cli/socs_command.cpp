// `pocketlm socs`: the SoC catalog.
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cpu_features.h"
#include "error.h"
#include "soc_catalog.h"

namespace plm {

const char kSocsHelp[] =
    "usage: pocketlm socs [--targets]\n"
    "\n"
    "Lists the SoCs `pocketlm compile --soc NAME` can specialise kernels for: OS, cores\n"
    "(big+little), per-core L2, shared L3/SLC, peak DRAM bandwidth (for the roofline\n"
    "decode speed), the schedule class of the kernels and the CPU features they need.\n"
    "`host` is this machine, detected.\n"
    "  --targets   also print each SoC's Halide target string\n";

int run_socs(const std::vector<std::string>& argv) {
  Args a("socs", argv, {}, {"--targets"});
  a.expect_positionals(0, "pocketlm socs");
  std::printf("%-20s %-9s %-6s %-7s %-7s %-8s %-16s %s\n", "soc", "os", "cores", "L2", "L3/SLC", "DRAM", "kernels", "needs");
  auto row = [&](const SocProfile& s) {
    std::string feats;
    for (const auto& f : s.features) feats += (feats.empty() ? "" : ",") + f;
    char cores[16], l2[16], l3[16], bw[16];
    std::snprintf(cores, sizeof cores, "%d+%d", s.big_cores, s.little_cores);
    std::snprintf(l2, sizeof l2, "%dK", s.l2_kb);
    std::snprintf(l3, sizeof l3, "%dM", s.l3_kb / 1024);
    std::snprintf(bw, sizeof bw, "%.0fGB/s", s.dram_gbps);
    std::printf("%-20s %-9s %-6s %-7s %-7s %-8s %-16s %s\n", s.name.c_str(), s.os.c_str(), cores, l2, l3, bw,
                schedule_class_name(s.schedule), feats.c_str());
    if (a.has("--targets")) std::printf("%20s target %s\n", "", s.halide_target.c_str());
    if (!s.note.empty()) std::printf("%20s note: %s\n", "", s.note.c_str());
  };
  for (const auto& s : soc_catalog()) row(s);
  std::string host_is;
  try {
    const SocProfile host = host_soc();
    row(host);
    host_is = "\nhost: " + host.description;
  } catch (const Error& e) {
    std::printf("%-20s %s\n", "host", e.what());
  }
  const CpuFeatures& cpu = host_cpu_features();
  std::string hf;
  for (const auto& f : cpu.names()) hf += f + " ";
  std::printf("\nthis CPU (%s%s%s, %d CPUs): %s%s\n", cpu.arch.c_str(), cpu.vendor.empty() ? "" : " ", cpu.vendor.c_str(), cpu.n_cpus,
              hf.c_str(), host_is.c_str());
  return 0;
}

}  // namespace plm
