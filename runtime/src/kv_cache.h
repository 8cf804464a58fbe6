// The byte layout of one layer's key (or value) cache: n_ctx rows of kv_width values.
//   F16:  part 0 u16 [n_ctx][kv_width]
//   Q8_0: part 0 i8 [n_ctx][kv_width], then part 1 u16 (f16 scales) [n_ctx][kv_width / 32]
// Shared by the compiler (sizes it reports) and the session (the buffers it allocates).
#pragma once
#include <cstdint>

#include "bundle_generated.h"

namespace plm {

// Plan arguments that view the cache: keys or values, the batch's rows (append) or all.
inline bool kv_cache_holds_keys(bundle::ArgKind k) { return k == bundle::ArgKind::KCacheAppend || k == bundle::ArgKind::KCache; }
inline bool kv_cache_appends(bundle::ArgKind k) { return k == bundle::ArgKind::KCacheAppend || k == bundle::ArgKind::VCacheAppend; }

inline int kv_cache_parts(bundle::KvCacheType t) { return t == bundle::KvCacheType::Q8_0 ? 2 : 1; }

// Bytes of one row (position) of part `part`.
inline int64_t kv_cache_row_bytes(bundle::KvCacheType t, int64_t kv_width, int part) {
  if (t == bundle::KvCacheType::Q8_0) return part == 0 ? kv_width : kv_width / 32 * 2;
  return kv_width * 2;
}

inline int64_t kv_cache_bytes_per_position(bundle::KvCacheType t, int64_t kv_width) {
  int64_t n = 0;
  for (int p = 0; p < kv_cache_parts(t); ++p) n += kv_cache_row_bytes(t, kv_width, p);
  return n;
}

// Offset of part `part` in a cache of n_ctx positions.
inline int64_t kv_cache_part_offset(bundle::KvCacheType t, int64_t kv_width, int64_t n_ctx, int part) {
  return part == 0 ? 0 : n_ctx * kv_cache_row_bytes(t, kv_width, 0);
}

}  // namespace plm
