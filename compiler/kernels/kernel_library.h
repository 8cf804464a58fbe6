// Builds a plan's kernels ahead of time for one SoC and links them into one ELF
// shared object (the bundle's "kernels" section): each kernel from its generator
// binary (next to the pocketlm executable), a Halide runtime for the SoC's
// architecture, and a table `plm_kernel_table` of the kernels' argv entry points in
// plan order, `plm_kernel_count` long.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "plan/lower.h"
#include "soc_catalog.h"

namespace plm {

// Throws Error unless kernels for this SoC's OS can be loaded at run time (Linux and
// HarmonyOS ELF); the others take --emit-static. Checked before any long work.
void require_loadable_kernels(const SocProfile& soc);

// progress(done, total, key) after each kernel. Throws Error with the failing
// command's output.
std::vector<uint8_t> build_kernel_library(const std::vector<KernelRequest>& kernels, const SocProfile& soc,
                                          const std::function<void(size_t, size_t, const std::string&)>& progress = {});

// `compile --emit-static`: the same kernels as a static archive for platforms that
// forbid loading code (iOS), with symbols `plm_<name>_k<i>_argv`, a Halide runtime,
// and a registry `const plm_kernel_registry* plm_kernels_<name>(void)` that the app
// passes to plm_register_kernels; library_id ties the archive to its bundle.
struct StaticKernelArchive {
  std::vector<uint8_t> archive;  // NAME.kernels.a
  std::string header;            // NAME.kernels.h
};
StaticKernelArchive build_static_kernel_archive(const std::vector<KernelRequest>& kernels, const SocProfile& soc, const std::string& name,
                                                const std::string& library_id,
                                                const std::function<void(size_t, size_t, const std::string&)>& progress = {});

}  // namespace plm
