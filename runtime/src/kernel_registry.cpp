#include "kernel_registry.h"

#include <mutex>
#include <vector>

namespace plm {
namespace {

std::mutex g_mutex;
std::vector<const plm_kernel_registry*>& registries() {
  static std::vector<const plm_kernel_registry*> r;
  return r;
}

}  // namespace

void register_static_kernels(const plm_kernel_registry* registry) {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (const plm_kernel_registry* r : registries())
    if (std::string(r->library_id) == registry->library_id) return;
  registries().push_back(registry);
}

const plm_kernel_registry* find_static_kernels(const std::string& library_id) {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (const plm_kernel_registry* r : registries())
    if (library_id == r->library_id) return r;
  return nullptr;
}

std::string registered_static_kernel_ids() {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::string s;
  for (const plm_kernel_registry* r : registries()) s += (s.empty() ? "" : ", ") + std::string(r->library_id);
  return s.empty() ? "none" : s;
}

}  // namespace plm
