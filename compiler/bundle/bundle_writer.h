// Writes a bundle (format: runtime/schema/bundle.fbs): the model's hyperparameters
// and vocabulary, every weight repacked into the layout of the SoC's schedule class,
// the execution plan, and the kernel library built for the SoC, in page-aligned,
// checksummed sections.
#pragma once
#include <functional>
#include <string>

#include "import/model_file.h"
#include "bundle_generated.h"
#include "ir/graph.h"
#include "soc_catalog.h"

namespace plm {

struct BundleStats {
  uint64_t file_bytes = 0, weight_bytes = 0, kernel_bytes = 0;
  uint64_t arena_bytes_per_token = 0;
  size_t tensors = 0, kernels = 0, steps = 0;
  std::string static_library_id;  // with BundleOptions::static_kernels
};

// progress(stage, done, total, item): stage "weights" once per tensor, "kernels"
// once per kernel built.
using BundleProgress = std::function<void(const char*, size_t, size_t, const std::string&)>;

struct BundleOptions {
  bool overwrite = false;  // replace existing outputs
  // `--emit-static`: the kernels go to OUT's stem + ".kernels.a" (and ".kernels.h")
  // instead of into the bundle; see kernels/kernel_library.h.
  bool static_kernels = false;
  // `--kv-cache`: how the runtime stores keys and values (runtime/src/kv_cache.h).
  bundle::KvCacheType kv_cache_type = bundle::KvCacheType::F16;
  BundleProgress progress;

  static BundleOptions overwriting() {
    BundleOptions o;
    o.overwrite = true;
    return o;
  }
};

// The static archive and header written beside `out` with static_kernels, and the
// name in their registry function plm_kernels_<name>: OUT's file stem as a C identifier.
struct StaticKernelPaths {
  std::string archive, header, name;
};
StaticKernelPaths static_kernel_paths(const std::string& out);

// Writes to `out` via a temporary file; refuses to replace an existing file unless
// overwrite. Throws Error naming the tensor when a weight type has no kernel layout.
BundleStats write_bundle(const ModelFile& mf, const Graph& g, const SocProfile& soc, const std::string& out, const BundleOptions& opt);

}  // namespace plm
