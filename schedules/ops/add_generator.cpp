// Residual add: out = a + b.
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;

class Add : public Generator<Add> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> n{"n", 256};
  Input<Buffer<float, 2>> a{"a"};  // [n][tokens]
  Input<Buffer<float, 2>> b{"b"};
  Output<Buffer<float, 2>> out{"out"};

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    Var i("i"), t("t");
    out(i, t) = a(i, t) + b(i, t);
    plm::schedule_token_map(out, i, t, cls);
    for (auto* x : {&a, &b}) (*x).dim(0).set_bounds(0, n).dim(1).set_stride(n);
    out.dim(0).set_bounds(0, n).dim(1).set_stride(n);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Add, add)
