#include "quant/quant_mix.h"

#include "error.h"

namespace plm {
namespace {

constexpr QuantMix kAll[] = {QuantMix::F32, QuantMix::F16, QuantMix::Q8_0, QuantMix::Q4_0, QuantMix::Q4_K_M};

// llama.cpp's rule for which layers of a Q4_K_M file get Q6_K in attn_v and ffn_down.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// A row must hold whole blocks: K-quants fall back to 32-element formats and those
// to F16, as llama.cpp's quantiser does.
GgmlType fit_row(GgmlType t, int64_t row) {
  if (row % traits(t).block_elems == 0) return t;
  if (t == GgmlType::Q4_K) return fit_row(GgmlType::Q5_0, row);
  if (t == GgmlType::Q6_K) return fit_row(GgmlType::Q8_0, row);
  return GgmlType::F16;
}

}  // namespace

QuantMix quant_mix_from_name(const std::string& n) {
  for (QuantMix q : kAll)
    if (n == quant_mix_name(q)) return q;
  if (n == "q4_k") return QuantMix::Q4_K_M;
  fail("unknown quantisation '", n, "' (choose ", quant_mix_names(), ")");
}

const char* quant_mix_name(QuantMix q) {
  switch (q) {
    case QuantMix::F32: return "f32";
    case QuantMix::F16: return "f16";
    case QuantMix::Q8_0: return "q8_0";
    case QuantMix::Q4_0: return "q4_0";
    case QuantMix::Q4_K_M: return "q4_k_m";
  }
  return "?";
}

const char* quant_mix_names() { return "f32, f16, q8_0, q4_0 or q4_k_m (alias q4_k)"; }

int32_t llama_file_type(QuantMix q) {
  switch (q) {
    case QuantMix::F32: return 0;
    case QuantMix::F16: return 1;
    case QuantMix::Q4_0: return 2;
    case QuantMix::Q8_0: return 7;
    case QuantMix::Q4_K_M: return 15;
  }
  return 0;
}

GgmlType mix_matrix_type(QuantMix q, const std::string& role, int64_t layer, int64_t n_layer, int64_t row_len) {
  GgmlType t = GgmlType::F32;
  switch (q) {
    case QuantMix::F32: t = GgmlType::F32; break;
    case QuantMix::F16: t = GgmlType::F16; break;
    case QuantMix::Q8_0: t = GgmlType::Q8_0; break;
    case QuantMix::Q4_0: t = role == "output" ? GgmlType::Q6_K : GgmlType::Q4_0; break;
    case QuantMix::Q4_K_M:
      if (role == "output") t = GgmlType::Q6_K;
      else if ((role == "attn_v" || role == "ffn_down") && use_more_bits(layer, n_layer)) t = GgmlType::Q6_K;
      else t = GgmlType::Q4_K;
      break;
  }
  return fit_row(t, row_len);
}

}  // namespace plm
