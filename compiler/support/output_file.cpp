#include "support/output_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

namespace plm {

void refuse_to_overwrite(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) fail(path, ": already exists; pass --force to overwrite it");
}

void write_file_atomically(const std::string& path, const ByteChunks& chunks, bool overwrite) {
  if (!overwrite) refuse_to_overwrite(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(path, ": cannot create: ", std::strerror(errno));
  bool ok = true;
  for (const auto& [data, n] : chunks) ok = ok && (n == 0 || std::fwrite(data, 1, n, f) == n);  // empty chunks may have no data
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    fail(path, ": write failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot rename into place: ", std::strerror(e));
  }
}

}  // namespace plm
