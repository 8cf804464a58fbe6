// Writes a bundle (format: runtime/schema/bundle.fbs, docs/bundle-format.md): the
// model's hyperparameters and vocabulary, and every weight repacked into the layout
// of the SoC's schedule class, in one page-aligned, checksummed section.
#pragma once
#include <functional>
#include <string>

#include "import/model_file.h"
#include "ir/graph.h"
#include "soc_catalog.h"

namespace plm {

struct BundleStats {
  uint64_t file_bytes = 0, weight_bytes = 0;
  size_t tensors = 0;
};

// progress(done, total, tensor name) is called once per tensor written.
using BundleProgress = std::function<void(size_t, size_t, const std::string&)>;

// Writes to `out` via a temporary file; refuses to replace an existing file unless
// overwrite. Throws Error naming the tensor when a weight type has no kernel layout.
BundleStats write_bundle(const ModelFile& mf, const Graph& g, const SocProfile& soc, const std::string& out, bool overwrite,
                         const BundleProgress& progress = {});

}  // namespace plm
