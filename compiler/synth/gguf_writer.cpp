#include "synth/gguf_writer.h"

#include <cstring>

#include "error.h"
#include "support/output_file.h"

namespace plm {
namespace {

constexpr uint64_t kAlignment = 32;  // GGUF's default (no general.alignment written)

class Bytes {
 public:
  template <typename T>
  void pod(T v) {
    const size_t at = b_.size();
    b_.resize(at + sizeof(T));
    std::memcpy(b_.data() + at, &v, sizeof(T));
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    b_.insert(b_.end(), s.begin(), s.end());
  }
  void value(const MetaValue& v) {
    switch (v.type) {
      case MetaType::U8: pod(uint8_t(v.u)); break;
      case MetaType::I8: pod(int8_t(v.i)); break;
      case MetaType::U16: pod(uint16_t(v.u)); break;
      case MetaType::I16: pod(int16_t(v.i)); break;
      case MetaType::U32: pod(uint32_t(v.u)); break;
      case MetaType::I32: pod(int32_t(v.i)); break;
      case MetaType::F32: pod(float(v.f)); break;
      case MetaType::BOOL: pod(uint8_t(v.u != 0)); break;
      case MetaType::STRING: str(v.str); break;
      case MetaType::U64: pod(uint64_t(v.u)); break;
      case MetaType::I64: pod(int64_t(v.i)); break;
      case MetaType::F64: pod(double(v.f)); break;
      case MetaType::ARRAY:
        pod(uint32_t(v.elem_type));
        pod<uint64_t>(v.array.size());
        for (const MetaValue& e : v.array) value(e);
        break;
    }
  }
  void pad() { b_.resize((b_.size() + kAlignment - 1) / kAlignment * kAlignment, 0); }
  std::vector<uint8_t>& get() { return b_; }

 private:
  std::vector<uint8_t> b_;
};

}  // namespace

void write_gguf(const std::string& path, const Metadata& meta, const std::vector<GgufTensorData>& tensors, bool overwrite) {
  Bytes h;
  h.pod(uint32_t(0x46554747));  // "GGUF"
  h.pod(uint32_t(3));
  h.pod<uint64_t>(tensors.size());
  h.pod<uint64_t>(meta.keys().size());
  for (const std::string& k : meta.keys()) {
    const MetaValue& v = *meta.find(k);
    h.str(k);
    h.pod(uint32_t(v.type));
    h.value(v);
  }
  uint64_t offset = 0;
  for (const GgufTensorData& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.ne) n *= d;
    if (t.data.size() != row_bytes(t.type, t.ne[0]) * size_t(n / t.ne[0]))
      fail(path, ": tensor '", t.name, "' holds ", t.data.size(), " bytes, not what its shape and type need");
    h.str(t.name);
    h.pod(uint32_t(t.ne.size()));
    for (int64_t d : t.ne) h.pod(uint64_t(d));
    h.pod(uint32_t(t.type));
    h.pod(offset);
    offset += (t.data.size() + kAlignment - 1) / kAlignment * kAlignment;
  }
  h.pad();
  static const uint8_t zeros[kAlignment] = {};
  ByteChunks chunks = {{h.get().data(), h.get().size()}};
  for (const GgufTensorData& t : tensors) {
    chunks.push_back({t.data.data(), t.data.size()});
    if (const size_t rest = t.data.size() % kAlignment) chunks.push_back({zeros, kAlignment - rest});
  }
  write_file_atomically(path, chunks, overwrite);
}

}  // namespace plm
