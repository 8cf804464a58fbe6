// Writing results: through a temporary file renamed into place, never replacing an
// existing file unless asked, so nothing the user had is lost silently.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace plm {

using ByteChunks = std::vector<std::pair<const void*, size_t>>;
// Throws Error naming the path if it exists (checks outputs before long work).
void refuse_to_overwrite(const std::string& path);
// Throws Error naming the path (exists without overwrite, cannot create, disk full).
void write_file_atomically(const std::string& path, const ByteChunks& chunks, bool overwrite);

}  // namespace plm
