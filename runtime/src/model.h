// A compiled model ready to run: the verified bundle, its kernel library loaded
// from the bundle (memfd + dlopen: the code is copied once into an anonymous file,
// weights stay in the read-only mapping), and every kernel bound to its entry point
// and argument spec. One Model serves any number of Sessions.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bundle.h"
#include "kernel_spec.h"

namespace plm {

struct BoundKernel {
  int (*fn)(void**);
  std::vector<KernelArgSpec> args;
  std::string key;
  int64_t token_block = 1;  // prefill forms: the token count is a multiple of this
};

class Model {
 public:
  static std::shared_ptr<Model> open(const std::string& path);  // throws Error
  static std::shared_ptr<Model> open(std::shared_ptr<MappedFile> file);  // a mapped range of a file
  ~Model();
  const Bundle& bundle() const { return *bundle_; }
  const std::vector<BoundKernel>& kernels() const { return kernels_; }
  // Whether plan step i only feeds the logits: token by token and read by nothing else
  // (the last layer after its KV cache writes, the output norm, the logits matmul).
  // When only the last token's logits are wanted, such a step runs on that token alone.
  bool feeds_only_logits(size_t step) const { return feeds_only_logits_[step] != 0; }

 private:
  Model() = default;
  void check_plan() const;
  void find_logits_tail();
  std::unique_ptr<Bundle> bundle_;
  void* library_ = nullptr;
  std::vector<BoundKernel> kernels_;
  std::vector<uint8_t> feeds_only_logits_;  // per plan step
  void (*set_custom_do_par_for_)(int (*)(void*, int (*)(void*, int, uint8_t*), int, int, uint8_t*)) = nullptr;
};

}  // namespace plm
