// Bounded little-endian reads over an untrusted byte range. Every read checks the
// remaining length first and names the file, the offset and what was being read.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "error.h"

namespace plm {

class ByteCursor {
 public:
  ByteCursor(const uint8_t* data, size_t size, std::string file)
      : data_(data), size_(size), file_(std::move(file)) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& file() const { return file_; }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      fail(file_, ": truncated at offset ", pos_, " reading ", what, " (needs ", n, " bytes, ", remaining(), " left)");
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  const uint8_t* take(uint64_t n, const char* what) {
    need(n, what);
    const uint8_t* p = data_ + pos_;
    pos_ += size_t(n);
    return p;
  }
  void seek(size_t pos) { pos_ = pos; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string file_;
};

}  // namespace plm
