// Embedding lookup: out[t] = row ids[t] of the table, dequantised to f32. The table
// is read in the matmul weight layout of its type (matmul_generator.cpp,
// matmul_float_generator.cpp), so a tied embedding/output matrix is stored once.
// Values: (q - z) * scale - min, exactly as dequantize_row computes them.
// Ids are clamped into the table (the runtime rejects bad ids before this runs).
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
  Input<Buffer<void>>* wd = nullptr;     // block scales: f16 bits (q4_0, q8_0), or the K-quants' bytes

  void configure() {
    const std::string wt = weight_type;
    const bool is_float = wt == "f32" || wt == "f16";
    w = add_input<Buffer<void>>("w", wt == "f32" ? Float(32) : wt == "f16" ? UInt(16) : UInt(8), is_float ? 3 : 2);
    if (plm::f16_block_scales(wt)) wd = add_input<Buffer<void>>("wd", UInt(16), 3);
    else if (!is_float) wd = add_input<Buffer<void>>("wd", UInt(8), 2);
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
      const bool nibbles = wt == "q4_0" || wt == "q4_k";
      const int B = 32;
      const int zp = wt == "q4_0" ? 8 : (wt == "q8_0" && !arm) ? 128 : 0;
      Expr q;
      int quads;
      if (nibbles) {
        Expr b = e / 32, j = e % 32;
        Expr byte = (*w)(j % 4 + 4 * lane + 4 * R * (b * 4 + (j % 16) / 4), tile);
        q = select(j < 16, byte & 15, byte >> 4);
        q = i32(q);
        quads = int(k) / 32 * 4;
      } else {
        Expr byte = (*w)(e % 4 + 4 * lane + 4 * R * (e / 4), tile);
        q = arm ? i32(cast<int8_t>(byte)) : i32(byte);
        quads = int(k) / 4;
      }
      w->dim(0).set_bounds(0, 4 * R * quads).dim(1).set_bounds(0, tiles).set_stride(4 * R * quads);
      if (plm::f16_block_scales(wt)) {
        value = f32(q - zp) * plm::widen_f16((*wd)(lane, e / B, tile));
        const int nwb = int(k) / B;
        wd->dim(0).set_bounds(0, R).dim(1).set_bounds(0, nwb).set_stride(R).dim(2).set_bounds(0, tiles).set_stride(R * nwb);
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
