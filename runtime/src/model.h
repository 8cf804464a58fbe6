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
};

class Model {
 public:
  static std::shared_ptr<Model> open(const std::string& path);  // throws Error
  static std::shared_ptr<Model> open(std::shared_ptr<MappedFile> file);  // a mapped range of a file
  ~Model();
  const Bundle& bundle() const { return *bundle_; }
  const std::vector<BoundKernel>& kernels() const { return kernels_; }

 private:
  Model() = default;
  void check_plan() const;
  std::unique_ptr<Bundle> bundle_;
  void* library_ = nullptr;
  std::vector<BoundKernel> kernels_;
  void (*set_custom_do_par_for_)(int (*)(void*, int (*)(void*, int, uint8_t*), int, int, uint8_t*)) = nullptr;
};

}  // namespace plm
