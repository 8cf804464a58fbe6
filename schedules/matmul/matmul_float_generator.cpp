// The float matmul family: out[t][n] = sum_k W[n][k] * x[t][k] (+ bias[n]) with W in
// F32 or F16 (any k, e.g. 172). For small or unquantised models and for layers a
// quantiser keeps in float.
//
// Weight layout (compiler/layout/, docs/weight-layouts.md): rows interleaved in
// tiles of R = matmul_tile_rows(class): w(row, k, tile), so the R rows' weights for
// one k are one contiguous vector and x(k) is a broadcast: no horizontal sums.
// F16 weights stay 2 bytes in memory and widen exactly with widen_f16 (Halide 14
// emulates f16 -> f32 conversions at great cost).
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;


class MatMulFloat : public Generator<MatMulFloat> {
 public:
  GeneratorParam<std::string> weight_type{"weight_type", "f32"};  // f32 | f16
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> k{"k", 256};
  GeneratorParam<int> n{"n", 256};
  GeneratorParam<std::string> form{"form", "decode"};  // decode | prefill (tokens % 4 == 0)
  GeneratorParam<bool> has_bias{"has_bias", false};

  Input<Buffer<void, 3>> w{"w"};  // [R rows][k][tiles]; pass w.type=float32 (f32) or uint16 (f16 bits)
  Input<Buffer<float, 2>> x{"x"};       // [k][tokens]
  Output<Buffer<float, 2>> out{"out"};  // [n][tokens]
  Input<Buffer<float, 1>>* bias = nullptr;  // [n], only with has_bias (after x)

  void configure() {
    if (has_bias) bias = add_input<Buffer<float, 1>>("bias");
  }

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    const bool f16 = std::string(weight_type) == "f16";
    plm::require(f16 || std::string(weight_type) == "f32", "weight_type must be f32 or f16");
    const bool prefill = std::string(form) == "prefill";
    plm::require(prefill || std::string(form) == "decode", "form must be decode or prefill");
    const int R = plm::matmul_tile_rows(cls), tiles = (int(n) + R - 1) / R;
    plm::require(w.type() == (f16 ? UInt(16) : Float(32)), "w.type must be uint16 for f16 weights, float32 for f32");

    Var lane("lane"), tile("tile"), t("t"), o("o"), oo("oo"), oi("oi"), to("to"), ti("ti"), u("u");
    RDom rk(0, k, "rk");
    Func acc("acc");
    Expr wv = f16 ? plm::widen_f16(w(lane, rk, tile)) : Expr(w(lane, rk, tile));
    acc(lane, tile, t) = 0.0f;
    acc(lane, tile, t) += wv * x(rk, t);
    Expr y = acc(o % R, o / R, t);
    out(o, t) = bias ? y + (*bias)(o) : y;

    const TailStrategy tail = int(n) % R == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    out.split(o, oo, oi, R, tail);
    if (prefill) {
      // 4 tokens share each weight vector: 4 x (R / lanes) independent FMA chains (8
      // tokens of a 64-row tile would be 32 zmm of sums). The class's token block (the
      // runtime's contract) is a multiple of 4: its 4-token parts run one after another.
      const int TB = plm::prefill_token_block(cls);
      Var tio("tio"), tii("tii");
      out.split(t, to, ti, TB, TailStrategy::RoundUp).split(ti, tio, tii, 4).reorder(oi, tii, tio, to, oo).vectorize(oi).unroll(tii);
      acc.compute_at(out, tio).vectorize(lane).unroll(t);
      acc.update().reorder(lane, t, rk.x).vectorize(lane).unroll(t);
      out.dim(1).set_extent((out.dim(1).extent() / TB) * TB);
    } else {
      // One token: split k four ways into independent partial sums (FMA latency).
      out.reorder(oi, t, oo).vectorize(oi);
      acc.compute_at(out, t).vectorize(lane);
      if (int(k) % 4 == 0) {
        RVar ko("ko"), ki("ki");
        Func part = acc.update().split(rk.x, ko, ki, 4).rfactor(ki, u);
        part.compute_at(out, t).vectorize(lane).unroll(u);
        part.update().reorder(lane, u, ko).vectorize(lane).unroll(u);
      } else {
        acc.update().vectorize(lane);
      }
    }
    if (tiles >= 4) out.parallel(oo);

    w.dim(0).set_bounds(0, R).dim(1).set_bounds(0, k).set_stride(R).dim(2).set_bounds(0, tiles).set_stride(R * int(k));
    x.dim(0).set_bounds(0, k).dim(1).set_stride(k);
    if (bias) bias->dim(0).set_bounds(0, n);
    out.dim(0).set_bounds(0, n).dim(1).set_stride(n);
    x.dim(1).set_min(0);
    out.dim(1).set_min(0);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(MatMulFloat, matmul_float)
