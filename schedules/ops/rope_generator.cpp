// Rotary position embedding at positions pos0 .. pos0 + tokens - 1.
// Pairs: NORMAL (llama) rotates (2i, 2i+1), NEOX (qwen2) rotates (i, i + n_rot/2);
// dimensions past n_rot pass through. theta = pos * freq_scale * base^(-2i/n_rot),
// computed in f64 (one cos/sin per pair and token) so long contexts stay exact.
// rope_factors divides each pair's frequency by a per-pair factor (Llama 3.1+).
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;

// The rotation, shared by both generators below; `factor`, when defined, divides each
// pair's frequency (Llama 3.1 style scaling from rope_freqs.weight).
template <typename In, typename Out>
void define_rope(Out& out, In& x, const Expr& pos0, const Func& factor, const std::string& schedule_class, int heads, int D, int R,
                 bool neox, double base, double freq_scale) {
  const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
  const int half = R / 2;
  plm::require(R % 2 == 0 && R <= D, "n_rot must be even and at most head_dim");
  Var i("i"), t("t"), p("p");
  Func angle("angle"), cs("cs"), sn("sn");
  const Expr log_base = Expr(std::log(base)), scale = Expr(freq_scale);
  Expr theta = f64(pos0 + t) * (scale * exp(Expr(-2.0 / double(R)) * f64(p) * log_base));
  if (factor.defined()) theta = theta / f64(factor(p));
  angle(p, t) = theta;
  cs(p, t) = f32(cos(angle(p, t)));
  sn(p, t) = f32(sin(angle(p, t)));
  Expr d = i % D, h0 = i - d;  // dimension within the head, start of the head
  Expr rotated;
  if (neox) {
    // Clamped so that bounds inference sees in-range reads (lanes past n_rot discard it).
    Expr lo = d < half, pi = clamp(select(lo, d, d - half), 0, half - 1);
    Expr a = x(h0 + pi, t), b = x(h0 + pi + half, t);
    rotated = select(lo, a * cs(pi, t) - b * sn(pi, t), a * sn(pi, t) + b * cs(pi, t));
  } else {
    Expr pi = min(d / 2, half - 1), even = d % 2 == 0;
    Expr a = x(h0 + 2 * pi, t), b = x(h0 + 2 * pi + 1, t);
    rotated = select(even, a * cs(pi, t) - b * sn(pi, t), a * sn(pi, t) + b * cs(pi, t));
  }
  out(i, t) = select(d < R, rotated, x(i, t));

  Var to("to"), ti("ti");
  out.split(t, to, ti, 16, TailStrategy::GuardWithIf).parallel(to);
  cs.compute_at(out, ti);
  sn.compute_at(out, ti);
  if (D % (2 * plm::f32_lanes(cls)) == 0) out.vectorize(i, 2 * plm::f32_lanes(cls));
  const int W = heads * D;
  x.dim(0).set_bounds(0, W).dim(1).set_stride(W);
  out.dim(0).set_bounds(0, W).dim(1).set_stride(W);
}

// The shape parameters both generators take.
template <typename Self>
class RopeParams : public Generator<Self> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> heads{"heads", 8};
  GeneratorParam<int> head_dim{"head_dim", 32};
  GeneratorParam<int> n_rot{"n_rot", 32};
  GeneratorParam<bool> neox{"neox", false};
  GeneratorParam<double> base{"base", 10000.0};
  GeneratorParam<double> freq_scale{"freq_scale", 1.0};

  template <typename In, typename Out>
  void define(Out& out, In& x, const Expr& pos0, const Func& factor) {
    define_rope(out, x, pos0, factor, schedule_class, heads, head_dim, n_rot, neox, base, freq_scale);
  }
};

class Rope : public RopeParams<Rope> {
 public:
  Input<Buffer<float, 2>> x{"x"};  // [heads * head_dim][tokens]
  Input<int32_t> pos0{"pos0"};
  Output<Buffer<float, 2>> out{"out"};

  void generate() { define(out, x, pos0, Func()); }
};

// The same with per-pair frequency divisors (rope_freqs.weight, [n_rot / 2]).
class RopeFactors : public RopeParams<RopeFactors> {
 public:
  Input<Buffer<float, 2>> x{"x"};
  Input<int32_t> pos0{"pos0"};
  Input<Buffer<float, 1>> factors{"factors"};
  Output<Buffer<float, 2>> out{"out"};

  void generate() {
    factors.dim(0).set_bounds(0, int(n_rot) / 2);
    Func f("f");
    Var p("p");
    f(p) = factors(p);
    define(out, x, pos0, f);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Rope, rope)
HALIDE_REGISTER_GENERATOR(RopeFactors, rope_factors)
