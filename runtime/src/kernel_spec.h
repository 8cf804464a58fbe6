// A kernel's argument list as a string, e.g. "i:f32:256,T i:u16:64,P s o:f32:256,T":
// i = input buffer, o = output buffer, s = int32 scalar; extents innermost first,
// T = tokens of the call, P = KV cache positions in use. The compiler writes one per
// kernel into the bundle; the runtime and the test runners bind arguments with it.
#pragma once
#include <HalideRuntime.h>

#include <cstdint>
#include <string>
#include <vector>

namespace plm {

constexpr int64_t kExtentTokens = -1, kExtentPositions = -2;

struct KernelArgSpec {
  char role = 'i';  // i, o, s
  halide_type_t type{};
  int elem_bytes = 0;
  std::vector<int64_t> extents;  // kExtentTokens / kExtentPositions for T / P
};

// Throws Error on a malformed spec.
std::vector<KernelArgSpec> parse_kernel_spec(const std::string& spec);
// The extents with T and P filled in.
std::vector<int32_t> resolve_extents(const KernelArgSpec& a, int64_t tokens, int64_t positions);
// Bytes of one token's worth (all extents but a trailing T); 0 if there is no T.
uint64_t bytes_per_token(const KernelArgSpec& a);

}  // namespace plm
