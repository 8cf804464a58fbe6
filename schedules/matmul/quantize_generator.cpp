// Activation quantisation for the integer matmuls: each block of 32 values becomes
// int8 q = round(x * (1 / d)) with d = max|x| * (1 / 127) (ties to even), plus the block's scale d and the sum
// of its q (which the matmul uses to remove the weights' zero point).
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;

class QuantizeQ8 : public Generator<QuantizeQ8> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> k{"k", 256};  // values per token, a multiple of 32

  Input<Buffer<float, 2>> x{"x"};       // [k][tokens]
  Output<Buffer<int8_t, 2>> xq{"xq"};   // [k][tokens]
  Output<Buffer<float, 2>> xd{"xd"};    // [k/32][tokens]
  Output<Buffer<int32_t, 2>> xs{"xs"};  // [k/32][tokens]

  void generate() {
    plm::require(int(k) % 32 == 0 && int(k) > 0, "k must be a positive multiple of 32");
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    Var i("i"), b("b"), t("t");
    RDom r(0, 32, "r");
    Func amax("amax"), inv("inv"), q("q");
    amax(b, t) = maximum(abs(x(b * 32 + r, t)));
    Expr d = amax(b, t) * (1.0f / 127.0f);  // spelled as Halide computes x / 127 anyway
    inv(b, t) = select(amax(b, t) > 0.0f, 1.0f / d, 0.0f);
    q(i, t) = i8(clamp(round(x(i, t) * inv(i / 32, t)), -127.0f, 127.0f));
    xq(i, t) = q(i, t);
    xd(b, t) = d;
    xs(b, t) = sum(i32(q(b * 32 + r, t)));

    // Schedule (the same for every class: this op is memory-trivial next to the matmul).
    const int vec = plm::is_arm64(cls) ? 16 : 32;
    amax.compute_root();
    inv.compute_root();
    q.compute_root().vectorize(i, vec);
    xq.vectorize(i, vec);
    x.dim(0).set_bounds(0, k).dim(1).set_stride(k);
    xq.dim(0).set_bounds(0, k).dim(1).set_stride(k);
    xd.dim(0).set_bounds(0, int(k) / 32).dim(1).set_stride(int(k) / 32);
    xs.dim(0).set_bounds(0, int(k) / 32).dim(1).set_stride(int(k) / 32);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(QuantizeQ8, quantize_q8)
