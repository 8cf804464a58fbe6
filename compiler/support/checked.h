// Overflow-checked size arithmetic for untrusted counts, shapes and offsets.
#pragma once
#include <cstddef>
#include <cstdint>

namespace plm {

template <typename T>
inline bool checked_mul(T a, T b, T* out) { return !__builtin_mul_overflow(a, b, out); }
template <typename T>
inline bool checked_add(T a, T b, T* out) { return !__builtin_add_overflow(a, b, out); }

inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace plm
