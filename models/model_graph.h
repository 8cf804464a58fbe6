// Model families: read a model file's hyperparameters, check its tensors, and build
// the graph IR. Supported: llama (Llama 2/3, TinyLlama, SmolLM, Mistral-style dense
// models) and qwen2.
#pragma once
#include <string>
#include <vector>

#include "import/model_file.h"
#include "ir/graph.h"

namespace plm {

std::vector<std::string> supported_architectures();

// Reads general.architecture and the family's hyperparameters. Throws an Error
// naming the file and key when something is missing or out of range.
ModelHParams read_hparams(const ModelFile& mf);

// Checks every tensor the family needs (throwing one Error that lists all missing or
// misshapen ones) and builds the graph. The graph points into mf, which must outlive it.
Graph build_graph(const ModelFile& mf);

}  // namespace plm
