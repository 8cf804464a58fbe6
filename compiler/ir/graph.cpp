#include "ir/graph.h"

#include <sstream>

#include "import/model_file.h"

namespace plm {

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::Embedding: return "embedding";
    case OpKind::RmsNorm: return "rms_norm";
    case OpKind::MatMul: return "matmul";
    case OpKind::Rope: return "rope";
    case OpKind::Attention: return "attention";
    case OpKind::SwiGLU: return "swiglu";
    case OpKind::Add: return "add";
  }
  return "?";
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t k = 0; k < shape.size(); ++k) {
    os << (k ? ", " : "");
    if (shape[k] == kTokens) os << "T";
    else os << shape[k];
  }
  os << "]";
  return os.str();
}

int Graph::add_value(Value v) {
  values.push_back(std::move(v));
  return int(values.size()) - 1;
}

int Graph::add_weight(const TensorInfo& t, std::vector<int64_t> shape) {
  Value v;
  v.kind = ValueKind::Weight;
  v.name = t.name;
  v.type = t.type;
  v.shape = std::move(shape);
  v.tensor = &t;
  return add_value(std::move(v));
}

int Graph::add_op(OpKind kind, std::vector<int> inputs, std::vector<int64_t> out_shape, std::string out_name,
                  int layer, int64_t n_head) {
  Value v;
  v.kind = ValueKind::Activation;
  v.name = std::move(out_name);
  v.shape = std::move(out_shape);
  Op op{kind, std::move(inputs), add_value(std::move(v)), layer, n_head};
  ops.push_back(std::move(op));
  return ops.back().output;
}

std::string Graph::to_string() const {
  std::ostringstream os;
  for (const Op& op : ops) {
    const Value& out = values[size_t(op.output)];
    os << "  %" << out.name << " " << shape_to_string(out.shape) << " = " << op_kind_name(op.kind) << "(";
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const Value& in = values[size_t(op.inputs[k])];
      os << (k ? ", " : "");
      if (in.kind == ValueKind::Weight) os << "@" << in.name << ":" << traits(in.type).name;
      else os << "%" << in.name;
    }
    os << ")";
    if (op.kind == OpKind::Attention) os << " layer=" << op.layer << " heads=" << op.n_head;
    if (op.kind == OpKind::Rope) os << " heads=" << op.n_head;
    os << "\n";
  }
  return os.str();
}

}  // namespace plm
