// Embedding lookup: out[t] = row ids[t] of the table, dequantised to f32. The table
// is read in the matmul weight layout of its type (matmul_generator.cpp,
// matmul_float_generator.cpp), so a tied embedding/output matrix is stored once.
// Values: (q - z) * scale - min, exactly as dequantize_row computes them.
// Ids are clamped into the table (the runtime rejects bad ids before this runs).
#include "f16_block_layout.h"
#include "generator_support.h"
#include "k_quant_scales.h"
#include "q6_k_layout.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;


class Embedding : public Generator<Embedding> {
 public:
  GeneratorParam<std::string> weight_type{"weight_type", "q8_0"};  // q8_0 q4_0 q4_k q5_k q6_k f32 f16
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> k{"k", 256};  // row length (embedding size)
  GeneratorParam<int> n{"n", 512};  // rows (vocabulary)

  Input<Buffer<int32_t, 1>> ids{"ids"};  // [tokens]
  Output<Buffer<float, 2>> out{"out"};   // [k][tokens]
  Input<Buffer<void>>* w = nullptr;      // the table, in its matmul layout
  Input<Buffer<void>>* wd = nullptr;     // the K-quants' scale bytes (q4_0, q8_0: inside w)

  void configure() {
    const std::string wt = weight_type;
    const bool is_float = wt == "f32" || wt == "f16";
    w = add_input<Buffer<void>>("w", wt == "f32" ? Float(32) : wt == "f16" ? UInt(16) : UInt(8), is_float ? 3 : 2);
    if (!is_float && !plm::f16_block_scales(wt)) wd = add_input<Buffer<void>>("wd", UInt(8), 2);
  }

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    const std::string wt = weight_type;
    const int R = plm::matmul_tile_rows(cls), tiles = (int(n) + R - 1) / R;
    const bool arm = plm::is_arm64(cls);
    Var e("e"), t("t");
    Expr row = clamp(ids(t), 0, int(n) - 1), tile = row / R, lane = row % R;
    Expr value;
    if (wt == "f32" || wt == "f16") {
      Expr x = (*w)(lane, e, tile);
      value = wt == "f16" ? plm::widen_f16(x) : x;
      w->dim(0).set_bounds(0, R).dim(1).set_bounds(0, k).set_stride(R).dim(2).set_bounds(0, tiles).set_stride(R * int(k));
    } else if (wt == "q6_k") {
      Expr b = e / 16;
      value = f32(i32(plm::q6_k::quant(*w, b, (e % 16) / 4, e % 4, lane, tile, R)) - 32) * plm::q6_k::scale(*wd, b, lane, tile, R);
      const int qb = plm::q6_k::quant_bytes(int(k), R), sb = plm::q6_k::scale_bytes(int(k), R);
      w->dim(0).set_bounds(0, qb).dim(1).set_bounds(0, tiles).set_stride(qb);
      wd->dim(0).set_bounds(0, sb).dim(1).set_bounds(0, tiles).set_stride(sb);
    } else {
      const bool nibbles = wt == "q4_0" || wt == "q4_k", f16 = plm::f16_block_scales(wt);
      const int B = 32;
      const int zp = wt == "q4_0" ? 8 : (wt == "q8_0" && !arm) ? 128 : 0;
      Expr b = e / B, j = e % B;
      // The quad and byte holding element j of block b (nibbles: 4 quads, low then high).
      Expr quad = nibbles ? (j % 16) / 4 : j / 4, byte_in_quad = j % 4;
      Expr byte = f16 ? plm::f16_blocks::quant(*w, b, quad, byte_in_quad, lane, tile, nibbles, R)
                      : (*w)(byte_in_quad + 4 * lane + 4 * R * (b * (nibbles ? 4 : 8) + quad), tile);
      Expr q = nibbles ? i32(select(j < 16, byte & 15, byte >> 4)) : arm ? i32(cast<int8_t>(byte)) : i32(byte);
      const int tile_bytes = f16 ? plm::f16_blocks::tile_bytes(int(k), nibbles, R) : 4 * R * (int(k) / 32) * (nibbles ? 4 : 8);
      w->dim(0).set_bounds(0, tile_bytes).dim(1).set_bounds(0, tiles).set_stride(tile_bytes);
      if (f16) {
        value = f32(q - zp) * plm::f16_blocks::scale(*w, b, lane, tile, nibbles, R);
      } else {  // Q4_K, Q5_K
        value = f32(q - zp) * plm::k_quant_scales::scale(*wd, e / B, lane, tile, R) - plm::k_quant_scales::min(*wd, e / B, lane, tile, R);
        const int sb = plm::k_quant_scales::bytes(int(k), R);
        wd->dim(0).set_bounds(0, sb).dim(1).set_bounds(0, tiles).set_stride(sb);
      }
    }
    out(e, t) = value;
    // A handful of rows per call: vectorise along the row, nothing else pays.
    out.vectorize(e, plm::f32_lanes(cls), TailStrategy::GuardWithIf);
    out.dim(0).set_bounds(0, k).dim(1).set_stride(k);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Embedding, embedding)
