// Opening a bundle: map it read-only, verify everything before anything is used
// (header, sizes, offsets, checksums, the flatbuffer, table consistency, the CPU
// features the kernels need), then hand out views into the mapping. A bundle is
// untrusted input: every failure is an Error naming the file and what is wrong.
#pragma once
#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "bundle_generated.h"
#include "cpu_features.h"
#include "mapped_file.h"
#include "tokenizer.h"

namespace plm {

constexpr char kBundleMagic[8] = {'P', 'O', 'C', 'K', 'E', 'T', 'L', 'M'};
// 2: Q4_0 block scales stored as f16 (were f32).
// 3: Q6_K in GGUF's bits (6-bit quants, f16 d + int8 sub-scales; were bytes + f32).
// 4: Q4_K/Q5_K scales as GGUF's f16 d, dmin and 6-bit fields (were f32 scales + mins).
// 5: Q4_0/Q8_0 block scales inside the quants span, after each block's quads (were a
//    span of their own).
constexpr uint32_t kBundleFormatVersion = 5;
constexpr size_t kBundlePage = 4096;

// The fixed 64-byte header at offset 0, little-endian.
struct BundleHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;  // 64
  uint64_t file_size;
  uint64_t meta_offset;  // the flatbuffer
  uint64_t meta_size;
  uint32_t meta_crc32;   // CRC-32C of the flatbuffer
  uint32_t reserved[5];
};
static_assert(sizeof(BundleHeader) == 64);

class Bundle {
 public:
  // When the weights section's checksum is checked. Everything else (header,
  // metadata, bounds, the kernels' checksum) is checked by open() itself.
  enum class WeightsCheck {
    AtFirstUse,  // verify_weights() before the first decode: opening stays fast and
                 // does not make hundreds of MB resident before they are needed
    AtOpen,      // in open() (inspect, tests)
  };
  // Throws Error. `cpu` is the machine that will run the kernels (tests pass others);
  // nullptr skips that check (to inspect a bundle compiled for another SoC).
  static std::unique_ptr<Bundle> open(const std::string& path, const CpuFeatures* cpu = &host_cpu_features(),
                                      WeightsCheck weights = WeightsCheck::AtFirstUse);
  // A bundle already mapped (a range of a file: MappedFile's fd constructor).
  static std::unique_ptr<Bundle> open(std::shared_ptr<MappedFile> file, const CpuFeatures* cpu = &host_cpu_features(),
                                      WeightsCheck weights = WeightsCheck::AtFirstUse);
  // Checks the weights section's CRC-32C once (on up to `threads` threads); later
  // calls return at once, or throw the same Error if the weights are corrupted. Safe
  // to call from several threads.
  void verify_weights(int threads) const;
  // "" if `cpu` can run this bundle's kernels, else why not.
  std::string cannot_run_on(const CpuFeatures& cpu) const;

  const bundle::Bundle& meta() const { return *meta_; }
  const std::string& path() const { return file_->path(); }
  size_t file_size() const { return file_->size(); }
  const uint8_t* data() const { return file_->data(); }

  struct TensorView {
    const bundle::Tensor* info;
    const uint8_t* quants;  // or the float values
    const uint8_t* scales;  // the K-quants' bytes; nullptr for float formats, Q4_0 and Q8_0 (in quants)
  };
  const TensorView* find_tensor(const std::string& name) const;  // nullptr if absent
  const TensorView* tensor(uint32_t index) const { return index < tensors_.size() ? &tensors_[index].second : nullptr; }
  Vocab vocab() const;

 private:
  Bundle() = default;
  std::shared_ptr<MappedFile> file_;
  const bundle::Bundle* meta_ = nullptr;
  std::vector<std::pair<std::string, TensorView>> tensors_;
  const bundle::Section* weights_ = nullptr;
  mutable std::mutex weights_mutex_;
  mutable std::atomic<int> weights_state_{0};  // 0 unchecked, 1 good, 2 corrupted
};

// True if the file is meant to be a bundle: it starts with the bundle magic or is
// named *.plm (so that a damaged bundle gets bundle errors). It may still be invalid.
bool looks_like_bundle(const std::string& path);

// Expected byte sizes of a tensor's spans for its format and shape; false if the
// shape is impossible for the format.
struct TensorSpanSizes {
  uint64_t quants, scales;
};
bool expected_span_sizes(bundle::WeightFormat f, int64_t k, int64_t n, int32_t tile_rows, TensorSpanSizes* out);


}  // namespace plm
