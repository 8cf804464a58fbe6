// Builds a plan's kernels ahead of time for one SoC and links them into one ELF
// shared object (the bundle's "kernels" section): each kernel from its generator
// binary (next to the pocketlm executable), a Halide runtime for the SoC's
// architecture, and a table `plm_kernel_table` of the kernels' argv entry points in
// plan order, `plm_kernel_count` long.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "plan/lower.h"
#include "soc_catalog.h"

namespace plm {

// progress(done, total, key) after each kernel. Throws Error with the failing
// command's output.
std::vector<uint8_t> build_kernel_library(const std::vector<KernelRequest>& kernels, const SocProfile& soc,
                                          const std::function<void(size_t, size_t, const std::string&)>& progress = {});

}  // namespace plm
