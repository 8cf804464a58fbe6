// RMSNorm: out = x / sqrt(mean(x^2) + eps) * weight, per token.
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;

class RmsNorm : public Generator<RmsNorm> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> n{"n", 256};
  GeneratorParam<float> eps{"eps", 1e-5f};
  Input<Buffer<float, 2>> x{"x"};       // [n][tokens]
  Input<Buffer<float, 1>> weight{"weight"};  // [n]
  Output<Buffer<float, 2>> out{"out"};  // [n][tokens]

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    Var i("i"), t("t"), u("u");
    RDom r(0, n, "r");
    Func sumsq("sumsq"), scale("scale");
    sumsq(t) = 0.0f;
    sumsq(t) += x(r, t) * x(r, t);
    scale(t) = 1.0f / sqrt(sumsq(t) / float(int(n)) + float(eps));
    out(i, t) = x(i, t) * scale(t) * weight(i);

    // Schedule: the sum of squares in vector lanes (rfactor), then the scaling pass.
    const int V = plm::f32_lanes(cls);
    const Var per_token = plm::schedule_token_map(out, i, t, cls);
    scale.compute_at(out, per_token);
    sumsq.compute_at(out, per_token);
    if (int(n) >= 4 * V) {
      RVar ro("ro"), ri("ri");
      Func partial = sumsq.update().split(r.x, ro, ri, V, TailStrategy::GuardWithIf).rfactor(ri, u);
      partial.compute_at(out, per_token).vectorize(u);
      partial.update().vectorize(u);
    }
    x.dim(0).set_bounds(0, n).dim(1).set_stride(n);
    weight.dim(0).set_bounds(0, n);
    out.dim(0).set_bounds(0, n).dim(1).set_stride(n);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(RmsNorm, rms_norm)
