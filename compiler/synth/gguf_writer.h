// Writes GGUF v3 files (what `pocketlm synth` produces): metadata in insertion order,
// tensor infos, then tensor data aligned to 32 bytes, as the GGUF specification lays
// them out. The file appears atomically; an existing one is kept unless overwrite.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "import/metadata.h"
#include "quant/ggml_types.h"

namespace plm {

struct GgufTensorData {
  std::string name;
  std::vector<int64_t> ne;  // GGML order: ne[0] is the row length
  GgmlType type;
  std::vector<uint8_t> data;  // row_bytes(type, ne[0]) * rows
};

void write_gguf(const std::string& path, const Metadata& meta, const std::vector<GgufTensorData>& tensors, bool overwrite);

}  // namespace plm
