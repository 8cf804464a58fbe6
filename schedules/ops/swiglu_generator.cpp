// SwiGLU: out = silu(gate) * up, silu(g) = g / (1 + exp(-g)).
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;

class SwiGLU : public Generator<SwiGLU> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> n{"n", 256};
  Input<Buffer<float, 2>> gate{"gate"};  // [n][tokens]
  Input<Buffer<float, 2>> up{"up"};
  Output<Buffer<float, 2>> out{"out"};

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    Var i("i"), t("t");
    out(i, t) = gate(i, t) / (1.0f + exp(-gate(i, t))) * up(i, t);
    plm::schedule_token_map(out, i, t, cls);
    for (auto* b : {&gate, &up}) (*b).dim(0).set_bounds(0, n).dim(1).set_stride(n);
    out.dim(0).set_bounds(0, n).dim(1).set_stride(n);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(SwiGLU, swiglu)
