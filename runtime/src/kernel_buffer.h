// halide_buffer_t descriptors over memory we own or map: kernels read weights in place.
#pragma once
#include <HalideRuntime.h>

#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <vector>

namespace plm {

// A dense buffer: extents innermost first, strides derived (dimension 0 contiguous).
struct KernelBuffer {
  halide_buffer_t buf{};
  halide_dimension_t dims[4]{};

  template <typename T>
  KernelBuffer(const T* host, std::initializer_list<int32_t> extents)
      : KernelBuffer(const_cast<T*>(host), type_of<T>(), std::vector<int32_t>(extents)) {}
  KernelBuffer(void* host, halide_type_t type, const std::vector<int32_t>& extents) {
    buf.host = static_cast<uint8_t*>(host);
    buf.type = type;
    // More dimensions than a kernel takes: describe none, so the kernel's entry check
    // reports the mismatch instead of this writing past dims[].
    buf.dimensions = extents.size() <= 4 ? int32_t(extents.size()) : 0;
    if (buf.dimensions == 0) return;
    buf.dim = dims;
    int32_t stride = 1, d = 0;
    for (int32_t e : extents) {
      dims[d++] = halide_dimension_t{0, e, stride, 0};
      stride *= e;
    }
  }
  KernelBuffer(const KernelBuffer&) = delete;
  KernelBuffer& operator=(const KernelBuffer&) = delete;
  halide_buffer_t* get() { return &buf; }

 private:
  template <typename T>
  static halide_type_t type_of() {
    if constexpr (std::is_same_v<T, float>) return halide_type_t(halide_type_float, 32);
    else if constexpr (std::is_same_v<T, int8_t>) return halide_type_t(halide_type_int, 8);
    else if constexpr (std::is_same_v<T, uint8_t>) return halide_type_t(halide_type_uint, 8);
    else if constexpr (std::is_same_v<T, uint16_t>) return halide_type_t(halide_type_uint, 16);
    else if constexpr (std::is_same_v<T, int32_t>) return halide_type_t(halide_type_int, 32);
    else static_assert(sizeof(T) == 0, "unsupported element type");
  }
};

}  // namespace plm
