// Writes GGUF files byte by byte for the importer tests, and records where each
// section starts so the malformed-file corpus can cut and corrupt them precisely.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace plm::test {

class GgufBuilder {
 public:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;
    std::vector<uint8_t> data;
  };
  struct Sections {  // byte offsets in the finished file
    size_t header_end, kv_end, infos_end, data_start, file_size;
    std::vector<size_t> kv_starts, info_starts;
  };

  uint32_t version = 3;
  uint32_t alignment = 32;

  // Raw key/value: the caller encodes the value (see the value encoders below).
  void kv(const std::string& key, uint32_t type, std::vector<uint8_t> value) { kvs_.push_back({key, type, std::move(value)}); }
  void kv_u32(const std::string& key, uint32_t v) { kv(key, 4, pod(v)); }
  void kv_f32(const std::string& key, float v) { kv(key, 6, pod(v)); }
  void kv_str(const std::string& key, const std::string& v) { kv(key, 8, str(v)); }
  void tensor(Tensor t) { tensors_.push_back(std::move(t)); }

  template <typename T>
  static std::vector<uint8_t> pod(T v) {
    std::vector<uint8_t> b(sizeof(T));
    std::memcpy(b.data(), &v, sizeof(T));
    return b;
  }
  static std::vector<uint8_t> str(const std::string& s) {
    auto b = pod<uint64_t>(s.size());
    for (char c : s) b.push_back(uint8_t(c));
    return b;
  }
  // ARRAY value: element type, count, then the already-encoded elements.
  static std::vector<uint8_t> array(uint32_t elem_type, uint64_t count, const std::vector<uint8_t>& elems) {
    auto b = pod(elem_type);
    auto c = pod(count);
    b.insert(b.end(), c.begin(), c.end());
    b.insert(b.end(), elems.begin(), elems.end());
    return b;
  }

  std::vector<uint8_t> build(Sections* s = nullptr) const {
    std::vector<uint8_t> f;
    auto put = [&](const std::vector<uint8_t>& b) { f.insert(f.end(), b.begin(), b.end()); };
    Sections sec;
    put({'G', 'G', 'U', 'F'});
    put(pod(version));
    put(pod<uint64_t>(tensors_.size()));
    put(pod<uint64_t>(kvs_.size() + 1));
    sec.header_end = f.size();
    for (const auto& k : kvs_) {
      sec.kv_starts.push_back(f.size());
      put(str(k.key));
      put(pod(k.type));
      put(k.value);
    }
    sec.kv_starts.push_back(f.size());
    put(str("general.alignment"));
    put(pod<uint32_t>(4));
    put(pod(alignment));
    sec.kv_end = f.size();
    const uint32_t pad = alignment ? alignment : 1;  // the file may declare a bad alignment
    uint64_t off = 0;
    std::vector<uint64_t> offsets;
    for (const auto& t : tensors_) {
      sec.info_starts.push_back(f.size());
      put(str(t.name));
      put(pod<uint32_t>(uint32_t(t.ne.size())));
      for (uint64_t d : t.ne) put(pod(d));
      put(pod(t.type));
      put(pod(off));
      offsets.push_back(off);
      off += (t.data.size() + pad - 1) / pad * pad;
    }
    sec.infos_end = f.size();
    while (f.size() % pad) f.push_back(0);
    sec.data_start = f.size();
    for (size_t k = 0; k < tensors_.size(); ++k) {
      f.resize(sec.data_start + offsets[k]);
      put(tensors_[k].data);
    }
    sec.file_size = f.size();
    if (s) *s = sec;
    return f;
  }

 private:
  struct Kv {
    std::string key;
    uint32_t type;
    std::vector<uint8_t> value;
  };
  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
};

// A complete, valid tiny llama model (dim 32, 1 layer, 2 heads, vocab 64, F32) for
// tests that need a loadable file to start from.
GgufBuilder tiny_llama_gguf();
// The same model as a llama2.c checkpoint plus its tokenizer.bin bytes.
std::vector<uint8_t> tiny_llama2c(bool shared_classifier = true);
std::vector<uint8_t> tiny_llama2c_tokenizer(int vocab = 64);

}  // namespace plm::test
