// The SoC catalog: what `pocketlm compile --soc NAME` specialises kernels for.
// Figures are public specifications (core counts, caches, LPDDR peak bandwidth);
// the bandwidth feeds the roofline decode speed `compile` predicts.
#pragma once
#include <string>
#include <vector>

#include "schedule_class.h"

namespace plm {

struct SocProfile {
  std::string name;
  std::string description;
  std::string os;              // android, linux, ios, macos, harmonyos
  std::string halide_target;   // without "-no_runtime"; OS part as Halide spells it
  std::vector<std::string> features;  // CPU features the kernels need (checked at load)
  ScheduleClass schedule;      // the kernels' schedule class
  int big_cores = 0, little_cores = 0;
  int l1d_kb = 0, l2_kb = 0, l3_kb = 0;  // per big core L1d/L2; shared L3 or SLC
  double dram_gbps = 0;        // peak DRAM bandwidth
  std::string note;
  // Row tiles a decode GEMV (Q4_0, Q8_0) reads in turns, so that the hardware prefetcher
  // runs ahead on several streams at once: 4 helped Intel's AVX-512 cores and cost AMD's
  // Zen 5 a quarter to a third of its generation speed (schedules/matmul); 1 where
  // unmeasured.
  int decode_streams = 1;
};

const std::vector<SocProfile>& soc_catalog();
// By name; "host" is built from this machine's detected features. Throws an Error
// listing the catalog when the name is unknown.
SocProfile find_soc(const std::string& name);
SocProfile host_soc();

}  // namespace plm
