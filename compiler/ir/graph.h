// The graph IR: typed tensors with static shapes (except the token count) and the
// ops between them. Model families build it (models/); the reference executor runs
// it in scalar f32; the compiler lowers it to kernels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "quant/ggml_types.h"

namespace plm {

struct TensorInfo;

// Rotary embedding layouts as GGML numbers them: NORMAL rotates adjacent pairs
// (2i, 2i+1) (llama), NEOX rotates (i, i + n_rot/2) (qwen2, GPT-NeoX).
enum class RopeType { Normal = 0, Neox = 2 };

struct ModelHParams {
  std::string arch;            // "llama", "qwen2"
  std::string name;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_rot = 0;           // rotated dimensions per head (<= head_dim)
  float rms_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
  RopeType rope_type = RopeType::Normal;
  bool qkv_bias = false;         // attn_q/k/v carry biases
  bool tied_output = false;      // output projection reuses token_embd
  bool rope_freq_factors = false;  // per-dimension divisors from rope_freqs.weight (Llama 3.1)
};

enum class ValueKind { TokenIds, Weight, Activation };

// A tensor in the graph. Shapes are outermost-first (row-major); kTokens stands for
// the runtime token count. Weights are [rows, cols] with cols contiguous.
constexpr int64_t kTokens = -1;

struct Value {
  ValueKind kind = ValueKind::Activation;
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> shape;
  const TensorInfo* tensor = nullptr;  // weights only
};

enum class OpKind {
  Embedding,   // (token ids, table [n_vocab, n_embd]) -> [T, n_embd]
  RmsNorm,     // (x [T, n], weight [n]) -> x / rms(x) * weight
  MatMul,      // (x [T, k], weight [n, k] [, bias [n]]) -> x . weight^T + bias
  Rope,        // (x [T, heads * head_dim]) -> rotated at the tokens' positions
  Attention,   // (q, k, v) -> causal softmax(q k^T / sqrt(d)) v over this layer's KV cache
  SwiGLU,      // (gate, up) -> silu(gate) * up
  Add,         // (a, b) -> a + b
};
const char* op_kind_name(OpKind k);

struct Op {
  OpKind kind;
  std::vector<int> inputs;  // value ids
  int output = -1;
  int layer = -1;           // Attention: which KV cache; others: for display
  int64_t n_head = 0;       // Rope / Attention: heads in the first input
};

struct Graph {
  ModelHParams hp;
  std::vector<Value> values;
  std::vector<Op> ops;
  int token_ids = -1;
  int logits = -1;

  int add_value(Value v);
  int add_weight(const TensorInfo& t, std::vector<int64_t> shape);
  int add_op(OpKind kind, std::vector<int> inputs, std::vector<int64_t> out_shape, std::string out_name,
             int layer = -1, int64_t n_head = 0);
  std::string to_string() const;
};

std::string shape_to_string(const std::vector<int64_t>& shape);  // "[T, 256]"

}  // namespace plm
