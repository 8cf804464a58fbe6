#include "quant/requantize.h"

#include <algorithm>
#include <vector>

#include "error.h"
#include "quant/quantize.h"
#include "support/parallel_rows.h"

namespace plm {
namespace {

bool is_float(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// "blk.7.attn_v.weight" -> ("attn_v", 7); "output.weight" -> ("output", -1).
std::pair<std::string, int64_t> role_of(const std::string& name) {
  std::string n = name;
  int64_t layer = -1;
  if (n.rfind("blk.", 0) == 0) {
    size_t i = 4;
    int64_t v = 0;
    while (i < n.size() && i < 12 && n[i] >= '0' && n[i] <= '9') v = v * 10 + (n[i++] - '0');
    if (i > 4 && i < n.size() && n[i] == '.') layer = v, n = n.substr(i + 1);
  }
  const std::string suffix = ".weight";
  if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) n.resize(n.size() - suffix.size());
  return {n, layer};
}


}  // namespace

RequantStats requantize(ModelFile& mf, QuantMix mix, const std::function<void(size_t, size_t, const std::string&)>& progress) {
  int64_t n_layer = 0;
  for (const TensorInfo& t : mf.tensors) n_layer = std::max(n_layer, role_of(t.name).second + 1);
  const bool tied = mf.find("output.weight") == nullptr;
  std::vector<TensorInfo*> matrices;
  RequantStats st;
  for (TensorInfo& t : mf.tensors) {
    st.bytes_before += t.n_bytes;
    if (t.ne.size() >= 2 && t.ne[1] > 1) matrices.push_back(&t);
  }
  for (size_t i = 0; i < matrices.size(); ++i) {
    TensorInfo& t = *matrices[i];
    auto [role, layer] = role_of(t.name);
    layer = std::max<int64_t>(layer, 0);
    if (role == "token_embd" && tied) role = "output";  // the table is also the output matrix
    const GgmlType target = mix_matrix_type(mix, role, layer, n_layer, t.row_len());
    if (target == t.type) {
      ++st.kept;
    } else {
      if (!is_float(t.type))
        fail(mf.path, ": tensor '", t.name, "' is ", traits(t.type).name, " and --quant ", quant_mix_name(mix), " wants ",
             traits(target).name, "; only F32, F16 and BF16 weights are requantised (quantising quantised weights "
             "compounds their error): use --quant keep, or start from an F16/F32 model file");
      const int64_t row = t.row_len(), rows = t.n_rows();
      const size_t src_rb = row_bytes(t.type, row), dst_rb = row_bytes(target, row);
      auto bytes = std::make_shared<std::vector<uint8_t>>(dst_rb * size_t(rows));
      const uint8_t* src = t.data;
      uint8_t* dst = bytes->data();
      const GgmlType from = t.type;
      parallel_rows(rows, [&](int64_t r0, int64_t r1) {
        std::vector<float> x(static_cast<size_t>(row));
        for (int64_t r = r0; r < r1; ++r) {
          dequantize_row(from, src + size_t(r) * src_rb, x.data(), row);
          quantize_row(target, x.data(), dst + size_t(r) * dst_rb, row);
        }
      });
      t.type = target;
      t.data = bytes->data();
      t.n_bytes = bytes->size();
      t.file_offset = 0;
      mf.made.push_back(std::move(bytes));
      ++st.requantised;
    }
    if (progress) progress(i + 1, matrices.size(), t.name);
  }
  for (const TensorInfo& t : mf.tensors) st.bytes_after += t.n_bytes;
  if (mf.meta.has("general.file_type")) mf.meta.set("general.file_type", MetaValue::of_u32(uint32_t(llama_file_type(mix))));
  return st;
}

}  // namespace plm
