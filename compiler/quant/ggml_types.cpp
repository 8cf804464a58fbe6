#include "quant/ggml_types.h"

#include <cstring>
#include <strings.h>
#include <type_traits>

#include "error.h"
#include "fp16.h"

namespace plm {

namespace {

struct TypeRow { uint32_t id; GgmlTypeTraits traits; bool supported; };

// Every id the GGUF spec names, so refusals can name the type; `supported` marks the ones we decode.
const TypeRow kTypes[] = {
    {0, {"F32", 1, 4}, true},          {1, {"F16", 1, 2}, true},
    {2, {"Q4_0", 32, 18}, true},       {3, {"Q4_1", 32, 20}, true},
    {6, {"Q5_0", 32, 22}, true},       {7, {"Q5_1", 32, 24}, true},
    {8, {"Q8_0", 32, 34}, true},       {9, {"Q8_1", 32, 36}, false},
    {10, {"Q2_K", 256, 84}, true},     {11, {"Q3_K", 256, 110}, true},
    {12, {"Q4_K", 256, 144}, true},    {13, {"Q5_K", 256, 176}, true},
    {14, {"Q6_K", 256, 210}, true},    {15, {"Q8_K", 256, 292}, false},
    {16, {"IQ2_XXS", 256, 66}, false}, {17, {"IQ2_XS", 256, 74}, false},
    {18, {"IQ3_XXS", 256, 98}, false}, {19, {"IQ1_S", 256, 50}, false},
    {20, {"IQ4_NL", 32, 18}, false},   {21, {"IQ3_S", 256, 110}, false},
    {22, {"IQ2_S", 256, 82}, false},   {23, {"IQ4_XS", 256, 136}, false},
    {24, {"I8", 1, 1}, false},         {25, {"I16", 1, 2}, false},
    {26, {"I32", 1, 4}, false},        {27, {"I64", 1, 8}, false},
    {28, {"F64", 1, 8}, false},        {29, {"IQ1_M", 256, 56}, false},
    {30, {"BF16", 1, 2}, true},        {34, {"TQ1_0", 256, 54}, false},
    {35, {"TQ2_0", 256, 66}, false},
};

const TypeRow* find_row(uint32_t id) {
  for (const auto& r : kTypes)
    if (r.id == id) return &r;
  return nullptr;
}

inline float h(uint16_t v) { return fp16_to_f32(v); }

template <typename Block>
const Block* blocks(const void* src) { return static_cast<const Block*>(src); }

void dq_q4_0(const void* src, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const auto& x = blocks<Q4_0Block>(src)[b];
    const float d = h(x.d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float((x.qs[j] & 0x0f) - 8) * d;
      y[j + kQK / 2] = float((x.qs[j] >> 4) - 8) * d;
    }
  }
}

void dq_q4_1(const void* src, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const auto& x = blocks<Q4_1Block>(src)[b];
    const float d = h(x.d), m = h(x.m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float(x.qs[j] & 0x0f) * d + m;
      y[j + kQK / 2] = float(x.qs[j] >> 4) * d + m;
    }
  }
}

// Q5: the fifth bit of element j is bit j of the 32-bit little-endian qh.
template <typename Block>
void dq_q5(const void* src, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const auto& x = blocks<Block>(src)[b];
    const float d = h(x.d);
    float m = 0;
    int offset = -16;
    if constexpr (std::is_same_v<Block, Q5_1Block>) { m = h(x.m); offset = 0; }
    uint8_t q[kQK];
    unpack_q5_values(x.qs, x.qh, q);
    for (int j = 0; j < kQK; ++j) y[j] = float(int(q[j]) + offset) * d + m;
  }
}

void dq_q8_0(const void* src, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const auto& x = blocks<Q8_0Block>(src)[b];
    const float d = h(x.d);
    for (int j = 0; j < kQK; ++j) y[j] = float(x.qs[j]) * d;
  }
}

// Q2_K: 16 sub-blocks of 16; scale byte = (min << 4) | scale; 2-bit quants,
// four planes per 32 bytes of qs.
void dq_q2_k(const void* src, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const auto& x = blocks<Q2_KBlock>(src)[b];
    const float d = h(x.d), dmin = h(x.dmin);
    const uint8_t* q = x.qs;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {
          const uint8_t sc = x.scales[is++];
          const float dl = d * float(sc & 0x0f), ml = dmin * float(sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * float((q[l + 16 * part] >> shift) & 3) - ml;
        }
      }
    }
  }
}

// Q3_K: 16 six-bit signed scales (offset 32) packed in 12 bytes: low nibbles in
// bytes 0..7, high 2-bit pairs in bytes 8..11. A quant is 2 low bits from qs
// minus 4 unless its hmask bit is set.
void dq_q3_k(const void* src, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const auto& x = blocks<Q3_KBlock>(src)[b];
    int scales[16];
    for (int i = 0; i < 16; ++i) {
      const int lo = i < 8 ? (x.scales[i] & 0x0f) : (x.scales[i - 8] >> 4);
      const int hi = (x.scales[8 + i % 4] >> (2 * (i / 4))) & 3;
      scales[i] = (lo | (hi << 4)) - 32;
    }
    const float d = h(x.d);
    const uint8_t* q = x.qs;
    uint8_t mask = 1;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, mask <<= 1) {
        for (int part = 0; part < 2; ++part) {
          const float dl = d * float(scales[is++]);
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            const int v = int((q[l] >> shift) & 3) - ((x.hmask[l] & mask) ? 0 : 4);
            *y++ = dl * float(v);
          }
        }
      }
    }
  }
}

}  // namespace

void k4_scale_min(int j, const uint8_t* s, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = uint8_t((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
    *min = uint8_t((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

namespace {

// Q4_K / Q5_K / Q6_K through their integer form (see unpack_k_block).
void dq_k(GgmlType t, const void* src, float* y, int64_t nb) {
  const size_t bytes = traits(t).block_bytes;
  KBlockInts k;
  for (int64_t b = 0; b < nb; ++b, y += kQK_K) {
    unpack_k_block(t, static_cast<const uint8_t*>(src) + size_t(b) * bytes, &k);
    for (int e = 0; e < kQK_K; ++e) {
      const int s = e / k.sub;
      y[e] = k.zero_point ? k.scale[s] * float(int(k.q[e]) - k.zero_point) : k.scale[s] * float(k.q[e]) - k.min[s];
    }
  }
}

}  // namespace

std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id) {
  const TypeRow* r = find_row(id);
  if (!r || !r->supported) return std::nullopt;
  return r->traits;
}

const GgmlTypeTraits& traits(GgmlType t) {
  const TypeRow* r = find_row(uint32_t(t));
  if (!r) fail("internal: no traits for type id ", uint32_t(t));
  return r->traits;
}

std::string ggml_type_name(uint32_t id) {
  const TypeRow* r = find_row(id);
  return r ? r->traits.name : "type " + std::to_string(id);
}

std::optional<GgmlType> ggml_type_from_name(const std::string& name) {
  for (const auto& r : kTypes) {
    if (!r.supported) continue;
    std::string n = r.traits.name;
    if (strcasecmp(n.c_str(), name.c_str()) == 0) return GgmlType(r.id);
  }
  return std::nullopt;
}

size_t row_bytes(GgmlType t, int64_t n) {
  const auto& tr = traits(t);
  return size_t(n / tr.block_elems) * tr.block_bytes;
}

void dequantize_row(GgmlType t, const void* src, float* y, int64_t n) {
  const int64_t nb = n / traits(t).block_elems;
  switch (t) {
    case GgmlType::F32: std::memcpy(y, src, size_t(n) * 4); return;
    case GgmlType::F16: {
      const auto* s = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) { uint16_t v; std::memcpy(&v, s + 2 * i, 2); y[i] = fp16_to_f32(v); }
      return;
    }
    case GgmlType::BF16: {
      const auto* s = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) { uint16_t v; std::memcpy(&v, s + 2 * i, 2); y[i] = bf16_to_f32(v); }
      return;
    }
    case GgmlType::Q4_0: dq_q4_0(src, y, nb); return;
    case GgmlType::Q4_1: dq_q4_1(src, y, nb); return;
    case GgmlType::Q5_0: dq_q5<Q5_0Block>(src, y, nb); return;
    case GgmlType::Q5_1: dq_q5<Q5_1Block>(src, y, nb); return;
    case GgmlType::Q8_0: dq_q8_0(src, y, nb); return;
    case GgmlType::Q2_K: dq_q2_k(src, y, nb); return;
    case GgmlType::Q3_K: dq_q3_k(src, y, nb); return;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: dq_k(t, src, y, nb); return;
    default: fail("cannot dequantise tensor type ", ggml_type_name(uint32_t(t)));
  }
}

void unpack_q5_values(const uint8_t qs[kQK / 2], const uint8_t qh_bytes[4], uint8_t out[kQK]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < kQK / 2; ++j) {
    out[j] = uint8_t((qs[j] & 0x0f) | ((qh >> j) & 1) << 4);
    out[j + kQK / 2] = uint8_t((qs[j] >> 4) | ((qh >> (j + kQK / 2)) & 1) << 4);
  }
}

void unpack_k_block(GgmlType t, const void* block, KBlockInts* k) {
  if (t == GgmlType::Q4_K || t == GgmlType::Q5_K) {
    // 4 chunks of 64: sub-block 2j is the low nibbles of qs[32j..32j+31], 2j+1 the high
    // nibbles; Q5_K adds bit 2j / 2j+1 of qh[l] as the fifth bit.
    const bool five = t == GgmlType::Q5_K;
    Q5_KBlock x5;
    Q4_KBlock x4;
    const uint8_t *qs, *scales, *qh = nullptr;
    uint16_t d, dmin;
    if (five) {
      std::memcpy(&x5, block, sizeof x5);
      qs = x5.qs, scales = x5.scales, qh = x5.qh, d = x5.d, dmin = x5.dmin;
    } else {
      std::memcpy(&x4, block, sizeof x4);
      qs = x4.qs, scales = x4.scales, d = x4.d, dmin = x4.dmin;
    }
    k->sub = 32;
    k->zero_point = 0;
    k->d = d;
    k->dmin = dmin;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k4_scale_min(j, scales, &sc, &m);
      k->sc[j] = sc;
      k->m[j] = m;
      k->scale[j] = fp16_to_f32(d) * float(sc);
      k->min[j] = fp16_to_f32(dmin) * float(m);
      const uint8_t* q = qs + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        int v = j % 2 ? q[l] >> 4 : q[l] & 0x0f;
        if (five) v += ((qh[l] >> j) & 1) << 4;
        k->q[32 * j + l] = uint8_t(v);
      }
    }
    return;
  }
  if (t == GgmlType::Q6_K) {
    // Two halves of 128: 4 low bits in ql, 2 high bits in qh; int8 scale per 16.
    Q6_KBlock x;
    std::memcpy(&x, block, sizeof x);
    const float d = fp16_to_f32(x.d);
    k->sub = 16;
    k->zero_point = 32;
    for (int s = 0; s < 16; ++s) {
      k->scale[s] = d * float(x.scales[s]);
      k->min[s] = 0;
    }
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x.ql + 64 * half;
      const uint8_t* qh = x.qh + 32 * half;
      uint8_t* q = k->q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        q[l] = uint8_t((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4));
        q[l + 32] = uint8_t((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4));
        q[l + 64] = uint8_t((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
        q[l + 96] = uint8_t((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
      }
    }
    return;
  }
  fail("unpack_k_block: ", traits(t).name, " is not a Q4_K/Q5_K/Q6_K type");
}

}  // namespace plm
