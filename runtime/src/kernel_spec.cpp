#include "kernel_spec.h"

#include <sstream>

#include "error.h"

namespace plm {

std::vector<KernelArgSpec> parse_kernel_spec(const std::string& spec) {
  std::vector<KernelArgSpec> args;
  std::istringstream is(spec);
  std::string tok;
  while (is >> tok) {
    KernelArgSpec a;
    a.role = tok[0];
    if (tok == "s") {
      args.push_back(a);
      continue;
    }
    if ((a.role != 'i' && a.role != 'o') || tok.size() < 3 || tok[1] != ':') fail("kernel spec: bad argument '", tok, "'");
    const size_t c1 = tok.find(':', 2);
    if (c1 == std::string::npos) fail("kernel spec: no extents in '", tok, "'");
    const std::string type = tok.substr(2, c1 - 2);
    if (type == "f32") a.type = halide_type_t(halide_type_float, 32), a.elem_bytes = 4;
    else if (type == "i32") a.type = halide_type_t(halide_type_int, 32), a.elem_bytes = 4;
    else if (type == "i8") a.type = halide_type_t(halide_type_int, 8), a.elem_bytes = 1;
    else if (type == "u8") a.type = halide_type_t(halide_type_uint, 8), a.elem_bytes = 1;
    else if (type == "u16") a.type = halide_type_t(halide_type_uint, 16), a.elem_bytes = 2;
    else fail("kernel spec: bad type in '", tok, "'");
    std::istringstream dims(tok.substr(c1 + 1));
    std::string d;
    while (std::getline(dims, d, ',')) {
      if (d == "T") a.extents.push_back(kExtentTokens);
      else if (d == "P") a.extents.push_back(kExtentPositions);
      else {
        char* end = nullptr;
        const long long v = std::strtoll(d.c_str(), &end, 10);
        if (d.empty() || *end || v <= 0 || v > (1ll << 31) - 1) fail("kernel spec: bad extent in '", tok, "'");
        a.extents.push_back(v);
      }
    }
    if (a.extents.empty() || a.extents.size() > 4) fail("kernel spec: 1 to 4 extents in '", tok, "'");
    args.push_back(a);
  }
  return args;
}

std::vector<int32_t> resolve_extents(const KernelArgSpec& a, int64_t tokens, int64_t positions) {
  std::vector<int32_t> e;
  for (int64_t x : a.extents) e.push_back(int32_t(x == kExtentTokens ? tokens : x == kExtentPositions ? positions : x));
  return e;
}

uint64_t bytes_per_token(const KernelArgSpec& a) {
  if (a.extents.empty() || a.extents.back() != kExtentTokens) return 0;
  uint64_t b = uint64_t(a.elem_bytes);
  for (size_t i = 0; i + 1 < a.extents.size(); ++i) b *= uint64_t(a.extents[i]);
  return b;
}

}  // namespace plm
