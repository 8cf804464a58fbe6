// Kernels linked into the app (`compile --emit-static`): the registries the app
// hands to plm_register_kernels, found again by the library id a bundle names.
#pragma once
#include <string>

#include "pocketlm/pocketlm.h"

namespace plm {

// Keeps the pointer (registries are static data of the app). Registering the same id
// twice keeps the first.
void register_static_kernels(const plm_kernel_registry* registry);
// nullptr if no registry has this id.
const plm_kernel_registry* find_static_kernels(const std::string& library_id);
// "a-1234abcd, b-5678ef01" or "none", for error messages.
std::string registered_static_kernel_ids();

}  // namespace plm
