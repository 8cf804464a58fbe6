// An imported model file: metadata, tensor table and tensor bytes, whatever the
// source format. Tensor data points into a read-only mapping of the file, or into
// `made` for weights requantised in memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "import/metadata.h"
#include "quant/ggml_types.h"
#include "mapped_file.h"

namespace plm {

struct TensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> ne;   // GGML order: ne[0] is the contiguous (row) dimension
  int64_t n_elements = 0;
  uint64_t file_offset = 0;  // absolute offset of the data in the file
  size_t n_bytes = 0;
  const uint8_t* data = nullptr;

  int64_t row_len() const { return ne[0]; }
  int64_t n_rows() const { return n_elements / ne[0]; }
  std::string shape_string() const;  // "[256, 32000]"
};

struct ModelFile {
  std::string path;
  std::string format;  // "GGUF v3", "llama2.c"
  Metadata meta;
  std::vector<TensorInfo> tensors;
  std::vector<std::shared_ptr<MappedFile>> mappings;  // keep tensor bytes alive
  std::vector<std::shared_ptr<const std::vector<uint8_t>>> made;  // tensor bytes made in memory (--quant)

  const TensorInfo* find(const std::string& name) const;
  uint64_t total_tensor_bytes() const;
};

// Limits that bound what a hostile file can make us allocate or loop over.
constexpr uint64_t kMaxStringBytes = 1ull << 30;
constexpr int kMaxArrayNesting = 4;
constexpr int kMaxTensorDims = 4;
constexpr size_t kMaxTensorNameBytes = 64;  // as the GGUF spec requires

ModelFile load_gguf(const std::string& path);
// A llama2.c checkpoint; tokenizer_path may be empty (no tokenizer).
ModelFile load_llama2c(const std::string& path, const std::string& tokenizer_path);
// Detects the format from the file's first bytes. For llama2.c checkpoints with no
// tokenizer_path, a `tokenizer.bin` or `<stem>.tok*.bin` beside the model is used if present.
ModelFile open_model_file(const std::string& path, const std::string& tokenizer_path = {});

}  // namespace plm
