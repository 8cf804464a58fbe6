#include "reference/reference_executor.h"

#include <algorithm>
#include <cmath>

#include "import/model_file.h"
#include "error.h"

namespace plm {

void dequantize_weight_row(const Value& w, int64_t row, float* out) {
  const TensorInfo& t = *w.tensor;
  const int64_t n = t.row_len();
  dequantize_row(t.type, t.data + size_t(row) * row_bytes(t.type, n), out, n);
}

static std::vector<float> dequantize_all(const Value& w) {
  const TensorInfo& t = *w.tensor;
  std::vector<float> out(size_t(t.n_elements));
  for (int64_t r = 0; r < t.n_rows(); ++r) dequantize_weight_row(w, r, out.data() + r * t.row_len());
  return out;
}

ReferenceExecutor::ReferenceExecutor(const Graph& g, int64_t n_ctx) : g_(g), n_ctx_(n_ctx ? n_ctx : g.hp.n_ctx_train) {
  if (n_ctx_ <= 0) fail("context size ", n_ctx_, " must be positive");
  act_.resize(g.values.size());
  const size_t kv = size_t(g.hp.n_head_kv * g.hp.head_dim);
  k_cache_.assign(size_t(g.hp.n_layer), std::vector<float>(size_t(n_ctx_) * kv));
  v_cache_.assign(size_t(g.hp.n_layer), std::vector<float>(size_t(n_ctx_) * kv));
}

std::vector<float> ReferenceExecutor::eval(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) fail("no tokens to evaluate");
  for (int32_t t : tokens)
    if (t < 0 || t >= g_.hp.n_vocab) fail("token id ", t, " is out of range (vocabulary has ", g_.hp.n_vocab, " tokens)");
  if (int64_t(tokens.size()) > n_ctx_ - pos_)
    fail("context overflow: ", pos_, " tokens cached + ", tokens.size(), " new > context size ", n_ctx_);
  tokens_ = tokens;
  const int64_t T = int64_t(tokens.size());
  for (const Op& op : g_.ops) run_op(op, T);
  pos_ += T;
  std::vector<float> logits = std::move(act_[size_t(g_.logits)]);
  for (auto& a : act_) a.clear();
  return logits;
}

void ReferenceExecutor::run_op(const Op& op, int64_t T) {
  const ModelHParams& hp = g_.hp;
  const Value& outv = g_.values[size_t(op.output)];
  const int64_t width = outv.shape.back();
  std::vector<float>& out = act_[size_t(op.output)];
  out.assign(size_t(T * width), 0.0f);
  auto in = [&](size_t k) -> const std::vector<float>& { return act_[size_t(op.inputs[k])]; };
  auto weight = [&](size_t k) -> const Value& { return g_.values[size_t(op.inputs[k])]; };

  switch (op.kind) {
    case OpKind::Embedding: {
      for (int64_t t = 0; t < T; ++t) dequantize_weight_row(weight(1), tokens_[size_t(t)], out.data() + t * width);
      break;
    }
    case OpKind::RmsNorm: {
      const std::vector<float> w = dequantize_all(weight(1));
      const std::vector<float>& x = in(0);
      for (int64_t t = 0; t < T; ++t) {
        const float* xr = x.data() + t * width;
        double ss = 0;
        for (int64_t i = 0; i < width; ++i) ss += double(xr[i]) * xr[i];
        const float scale = float(1.0 / std::sqrt(ss / double(width) + double(hp.rms_eps)));
        for (int64_t i = 0; i < width; ++i) out[size_t(t * width + i)] = xr[i] * scale * w[size_t(i)];
      }
      break;
    }
    case OpKind::MatMul: {
      const Value& w = weight(1);
      const int64_t K = w.shape[1];
      const std::vector<float>& x = in(0);
      std::vector<float> row(static_cast<size_t>(K));
      std::vector<float> bias = op.inputs.size() > 2 ? dequantize_all(weight(2)) : std::vector<float>();
      for (int64_t n = 0; n < width; ++n) {
        dequantize_weight_row(w, n, row.data());  // once per row, reused for every token
        for (int64_t t = 0; t < T; ++t) {
          const float* xr = x.data() + t * K;
          double acc = 0;
          for (int64_t k = 0; k < K; ++k) acc += double(xr[k]) * row[size_t(k)];
          if (!bias.empty()) acc += bias[size_t(n)];
          out[size_t(t * width + n)] = float(acc);
        }
      }
      break;
    }
    case OpKind::Rope: {
      out = in(0);
      const std::vector<float> factors = op.inputs.size() > 1 ? dequantize_all(weight(1)) : std::vector<float>();
      const int64_t D = hp.head_dim, R = hp.n_rot, half = R / 2;
      for (int64_t t = 0; t < T; ++t) {
        const double p = double(pos_ + t) * hp.rope_freq_scale;
        for (int64_t i = 0; i < half; ++i) {
          double theta = p * std::pow(double(hp.rope_base), -2.0 * double(i) / double(R));
          if (!factors.empty()) theta /= factors[size_t(i)];
          const double c = std::cos(theta), s = std::sin(theta);
          for (int64_t h = 0; h < op.n_head; ++h) {
            float* v = out.data() + t * width + h * D;
            const int64_t a = hp.rope_type == RopeType::Neox ? i : 2 * i;
            const int64_t b = hp.rope_type == RopeType::Neox ? i + half : 2 * i + 1;
            const double x0 = v[a], x1 = v[b];
            v[a] = float(x0 * c - x1 * s);
            v[b] = float(x0 * s + x1 * c);
          }
        }
      }
      break;
    }
    case OpKind::Attention: {
      const int64_t D = hp.head_dim, KVD = hp.n_head_kv * D, group = hp.n_head / hp.n_head_kv;
      std::vector<float>& kc = k_cache_[size_t(op.layer)];
      std::vector<float>& vc = v_cache_[size_t(op.layer)];
      std::copy(in(1).begin(), in(1).end(), kc.begin() + pos_ * KVD);
      std::copy(in(2).begin(), in(2).end(), vc.begin() + pos_ * KVD);
      const std::vector<float>& q = in(0);
      const double scale = 1.0 / std::sqrt(double(D));
      std::vector<double> score;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t n_keys = pos_ + t + 1;  // causal: this token and everything before it
        score.assign(size_t(n_keys), 0.0);
        for (int64_t h = 0; h < op.n_head; ++h) {
          const float* qh = q.data() + t * width + h * D;
          const int64_t kvh = h / group;
          double mx = -INFINITY;
          for (int64_t j = 0; j < n_keys; ++j) {
            const float* kj = kc.data() + j * KVD + kvh * D;
            double s = 0;
            for (int64_t d = 0; d < D; ++d) s += double(qh[d]) * kj[d];
            score[size_t(j)] = s * scale;
            mx = std::max(mx, score[size_t(j)]);
          }
          double sum = 0;
          for (auto& s : score) sum += (s = std::exp(s - mx));
          float* oh = out.data() + t * width + h * D;
          for (int64_t d = 0; d < D; ++d) {
            double acc = 0;
            for (int64_t j = 0; j < n_keys; ++j) acc += score[size_t(j)] * vc[size_t(j * KVD + kvh * D + d)];
            oh[d] = float(acc / sum);
          }
        }
      }
      break;
    }
    case OpKind::SwiGLU: {
      const std::vector<float>&gt = in(0), &up = in(1);
      for (size_t i = 0; i < out.size(); ++i) {
        const double x = gt[i];
        out[i] = float(x / (1.0 + std::exp(-x)) * up[i]);
      }
      break;
    }
    case OpKind::Add: {
      const std::vector<float>&a = in(0), &b = in(1);
      for (size_t i = 0; i < out.size(); ++i) out[i] = a[i] + b[i];
      break;
    }
  }
}

}  // namespace plm
