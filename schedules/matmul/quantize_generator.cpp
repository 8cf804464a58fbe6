// Activation quantisation for the integer matmuls: each block of 32 values becomes
// int8 q = round(x * (1 / d)) with d = max|x| * (1 / 127) (ties to even), plus the block's scale d and the sum
// of its q (which the matmul uses to remove the weights' zero point).
// With block=256 the max is taken over 256 values (every 32-block of them gets the same
// d): what llama.cpp does for K-quant weights (its Q8_K), so that our int8 activations
// round as its do. Measured on the shared Q4_K_M model: top-1 agreement with llama.cpp
// 19/22 positions with 32-blocks, 21/22 with 256 (the misses were near-ties).
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;

class QuantizeQ8 : public Generator<QuantizeQ8> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> k{"k", 256};  // values per token, a multiple of 32 (of 256 with block=256)
  GeneratorParam<int> block{"block", 32};  // values sharing one max: 32, or 256 for K-quant weights

  Input<Buffer<float, 2>> x{"x"};       // [k][tokens]
  Output<Buffer<int8_t, 2>> xq{"xq"};   // [k][tokens]
  Output<Buffer<float, 2>> xd{"xd"};    // [k/32][tokens]
  Output<Buffer<int32_t, 2>> xs{"xs"};  // [k/32][tokens]

  void generate() {
    plm::require(int(block) == 32 || int(block) == 256, "block must be 32 or 256");
    plm::require(int(k) % int(block) == 0 && int(k) > 0, "k must be a positive multiple of the block");
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    Var i("i"), b("b"), t("t");
    RDom r(0, 32, "r");
    // Explicit reductions rather than maximum()/sum(), so that they can be scheduled.
    Func block_max("block_max"), amax("amax"), inv("inv"), q("q");
    block_max(b, t) = 0.0f;  // |x| >= 0, so 0 is max's identity here
    block_max(b, t) = max(block_max(b, t), abs(x(b * 32 + r, t)));
    Func group_max("group_max");
    RDom r8(0, 8, "r8");
    if (int(block) == 32) {
      amax(b, t) = block_max(b, t);
    } else {
      group_max(b, t) = 0.0f;
      group_max(b, t) = max(group_max(b, t), block_max(b * 8 + r8, t));
      amax(b, t) = group_max(b / 8, t);
    }
    Expr d = amax(b, t) * (1.0f / 127.0f);  // spelled as Halide computes x / 127 anyway
    inv(b, t) = select(amax(b, t) > 0.0f, 1.0f / d, 0.0f);
    q(i, t) = i8(clamp(round(x(i, t) * inv(i / 32, t)), -127.0f, 127.0f));
    xq(i, t) = q(i, t);
    xd(b, t) = d;
    Func qsum("qsum");
    qsum(b, t) = 0;
    qsum(b, t) += i32(q(b * 32 + r, t));
    xs(b, t) = qsum(b, t);

    // Schedule (the same for every class). Prefill quantises 64 tokens a call: tokens
    // in parallel tasks of 8; the 32-value reductions as vector loads and one
    // horizontal step (serial scalar loops had this op at 4% of 1-thread prefill and
    // 7% of 2-thread). The reductions are computed inside a parallel loop of another
    // Func: an atomic() stage that is itself parallel gets a compare-and-swap per
    // store. q is recomputed by xq and xs (a multiply, round, clamp per value)
    // rather than stored and read back.
    const int vec = plm::is_arm64(cls) ? 16 : 32;
    const int lanes = plm::is_arm64(cls) ? 4 : 16;  // f32 lanes of one vector register
    const int task_tokens = 8;
    // Guarded splits throughout: a rounded-up token or block loop would read x past
    // the tokens given or past k (k/32 need not be a multiple of the lanes: qwen's 896).
    const TailStrategy guard = TailStrategy::GuardWithIf;
    amax.compute_root().parallel(t, task_tokens, guard);
    block_max.compute_at(amax, t).vectorize(b, lanes, guard);
    block_max.update().atomic().vectorize(r, lanes);
    if (int(block) != 32) {
      group_max.compute_at(amax, t);
      group_max.update().unroll(r8);
    }
    inv.compute_root().parallel(t, task_tokens, guard).vectorize(b, lanes, guard);
    xq.parallel(t, task_tokens, guard).vectorize(i, vec, guard);
    xs.parallel(t, task_tokens, guard).vectorize(b, lanes, guard);
    qsum.compute_at(xs, t).vectorize(b, lanes, guard);
    qsum.update().atomic().vectorize(r, vec);
    x.dim(0).set_bounds(0, k).dim(1).set_stride(k);
    xq.dim(0).set_bounds(0, k).dim(1).set_stride(k);
    xd.dim(0).set_bounds(0, int(k) / 32).dim(1).set_stride(int(k) / 32);
    xs.dim(0).set_bounds(0, int(k) / 32).dim(1).set_stride(int(k) / 32);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(QuantizeQ8, quantize_q8)
