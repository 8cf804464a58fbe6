// The scalar reference executor: runs a Graph in f32 with exact dequantisation and
// double-precision accumulation. It is the oracle every kernel and every end-to-end
// result is tested against, not the product's execution path.
#pragma once
#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace plm {

class ReferenceExecutor {
 public:
  // n_ctx: KV cache capacity in tokens (0 = the model's training context).
  ReferenceExecutor(const Graph& g, int64_t n_ctx = 0);

  // Appends tokens at the current position (prefill when several, decode when one)
  // and returns the logits of every one of them, row-major [tokens.size()][n_vocab].
  // Throws an Error for out-of-range ids or when the context would overflow.
  std::vector<float> eval(const std::vector<int32_t>& tokens);

  int64_t position() const { return pos_; }
  int64_t context_size() const { return n_ctx_; }
  void reset() { pos_ = 0; }

 private:
  void run_op(const Op& op, int64_t n_tokens);
  const Graph& g_;
  int64_t n_ctx_;
  int64_t pos_ = 0;
  std::vector<std::vector<float>> act_;          // per value id
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer [n_ctx][n_head_kv * head_dim]
  std::vector<int32_t> tokens_;
};

// Dequantises one row of a weight value to f32.
void dequantize_weight_row(const Value& w, int64_t row, float* out);

}  // namespace plm
