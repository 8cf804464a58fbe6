#include "import/model_file.h"

#include <cstring>
#include <filesystem>
#include <sstream>

#include "error.h"
#include "import/hf_tokenizer.h"

namespace plm {

std::string TensorInfo::shape_string() const {
  std::ostringstream os;
  os << "[";
  for (size_t k = 0; k < ne.size(); ++k) os << (k ? ", " : "") << ne[k];
  os << "]";
  return os.str();
}

const TensorInfo* ModelFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

uint64_t ModelFile::total_tensor_bytes() const {
  uint64_t s = 0;
  for (const auto& t : tensors) s += t.n_bytes;
  return s;
}

// llama2.c checkpoints ship their vocabulary separately; look for the usual names.
static std::string find_llama2c_tokenizer(const std::string& model_path) {
  namespace fs = std::filesystem;
  const fs::path p(model_path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string stem = p.stem().string();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(stem + ".tok", 0) == 0 && n.size() > 4 && n.substr(n.size() - 4) == ".bin") return e.path().string();
  }
  if (fs::exists(dir / "tokenizer.bin", ec)) return (dir / "tokenizer.bin").string();
  return {};
}

ModelFile open_model_file(const std::string& path, const std::string& tokenizer_path) {
  char magic[4] = {};
  {
    MappedFile probe(path);
    if (probe.size() >= 4) std::memcpy(magic, probe.data(), 4);
    if (probe.size() < 28 && std::memcmp(magic, "GGUF", 4) != 0)
      fail(path, ": ", probe.size(), " bytes is too short to be a GGUF file or a llama2.c checkpoint");
  }
  if (std::memcmp(magic, "POCK", 4) == 0)
    fail(path, ": is a pocketlm bundle, not a model file (this command needs the model file it was compiled from)");
  const bool hf_json = is_hf_tokenizer_path(tokenizer_path);
  if (std::memcmp(magic, "GGUF", 4) == 0 || std::memcmp(magic, "FUGG", 4) == 0) {
    if (!tokenizer_path.empty() && !hf_json)
      fail(tokenizer_path, ": for a GGUF model --tokenizer takes a Hugging Face tokenizer.json (", path, " carries its own vocabulary)");
    ModelFile mf = load_gguf(path);
    if (hf_json) import_hf_tokenizer(tokenizer_path, mf.meta);
    return mf;
  }
  if (hf_json) {
    ModelFile mf = load_llama2c(path, "");
    import_hf_tokenizer(tokenizer_path, mf.meta);
    return mf;
  }
  return load_llama2c(path, tokenizer_path.empty() ? find_llama2c_tokenizer(path) : tokenizer_path);
}

}  // namespace plm
