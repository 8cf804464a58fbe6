#include "mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

namespace plm {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  try {
    map(fd, 0, 0);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

MappedFile::MappedFile(int fd, uint64_t offset, uint64_t size, const std::string& name) : path_(name) { map(fd, offset, size); }

void MappedFile::map(int fd, uint64_t offset, uint64_t size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path_, ": cannot stat: ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(path_, ": not a regular file");
  const uint64_t file_size = uint64_t(st.st_size);
  if (offset > file_size) fail(path_, ": offset ", offset, " is past the end of the file (", file_size, " bytes)");
  if (size == 0) size = file_size - offset;
  if (size > file_size - offset)
    fail(path_, ": ", size, " bytes at offset ", offset, " run past the end of the file (", file_size, " bytes)");
  size_ = size_t(size);
  if (size_ == 0) return;
  // mmap wants a page-aligned offset: map from the page that holds `offset`.
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  const uint64_t start = offset / page * page, lead = offset - start;
  map_len_ = size_t(lead + size);
  void* p = ::mmap(nullptr, map_len_, PROT_READ, MAP_PRIVATE, fd, off_t(start));
  if (p == MAP_FAILED) fail(path_, ": cannot map: ", std::strerror(errno));
  map_base_ = p;
  data_ = static_cast<const uint8_t*>(p) + lead;
}

MappedFile::~MappedFile() {
  if (map_base_) ::munmap(map_base_, map_len_);
}

}  // namespace plm
