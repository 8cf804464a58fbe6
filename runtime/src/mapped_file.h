// A read-only memory mapping of a file (or of a range of one). Model files are never
// copied whole.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace plm {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error naming the path
  // `size` bytes at `offset` of an open file (size 0: to its end), e.g. a bundle stored
  // uncompressed inside an Android APK. `name` stands for the path in messages. The fd
  // may be closed afterwards.
  MappedFile(int fd, uint64_t offset, uint64_t size, const std::string& name);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void map(int fd, uint64_t offset, uint64_t size);
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* map_base_ = nullptr;  // page-aligned start of the mapping
  size_t map_len_ = 0;
};

}  // namespace plm
