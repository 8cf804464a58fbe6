// Builds the runtime's Vocab from a model file's tokenizer.ggml.* metadata.
#pragma once
#include "import/metadata.h"
#include "tokenizer.h"

namespace plm {

// Throws an Error naming the file and key when the tables are missing, inconsistent,
// or of a tokenizer model pocketlm does not implement.
Vocab vocab_from_metadata(const Metadata& meta, const std::string& path);

}  // namespace plm
