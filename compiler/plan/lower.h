// Lowering: the graph becomes a plan of kernel calls over an activation arena, the
// KV cache and the bundle's tensors, plus the list of kernels to build (deduplicated
// by generator and parameters). Every kernel is specialised to the model's shapes.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bundle_generated.h"
#include "ir/graph.h"
#include "schedule_class.h"

namespace plm {

// How a graph weight was stored in the bundle.
struct StoredTensor {
  uint32_t index;  // in the bundle's tensor table
  bundle::WeightFormat format;
  int64_t k, n;
  int32_t tile_rows;
};

struct KernelRequest {
  std::string generator;  // plm_gen_matmul, plm_gen_ops, plm_gen_attention
  std::string function;   // the generator's registered name
  std::vector<std::string> params;  // name=value, schedule_class included
  std::string spec;       // runtime/src/kernel_spec.h notation
  std::string key;        // generator + function + params: identical kernels share it
  uint32_t token_block = 1;  // prefill forms: token counts are a multiple of this
};

struct PlanArg {
  bundle::ArgKind kind;
  uint32_t ref = 0;
  uint8_t part = 0;
};

struct PlanStep {
  uint32_t kernel;
  int32_t prefill_kernel = -1;
  std::vector<PlanArg> args;
  std::string op;
};

struct LoweredPlan {
  std::vector<KernelRequest> kernels;
  std::vector<PlanStep> steps;
  std::vector<uint64_t> slot_bytes_per_token, slot_offsets;  // offsets per token of batch capacity
  uint64_t arena_bytes_per_token = 0;
  uint32_t logits_slot = 0;
  int64_t kv_width = 0;
  bundle::KvCacheType kv_cache_type = bundle::KvCacheType::F16;
};

// Throws Error unless the model's heads can hold the KV cache type (Q8_0: blocks of 32
// within a head). lower_graph checks it too; callers check first to fail before long work.
void require_kv_cache_fits(const Graph& g, bundle::KvCacheType kv_cache_type);

// Throws Error naming the op when no kernel implements it (e.g. rope_freqs factors),
// or when the model's heads cannot hold the KV cache type (Q8_0: head_dim % 32).
// decode_streams: the SoC's row tiles a Q4_0/Q8_0 decode GEMV reads in turns (SocProfile).
LoweredPlan lower_graph(const Graph& g, const std::map<std::string, StoredTensor>& tensors, ScheduleClass cls,
                        bundle::KvCacheType kv_cache_type = bundle::KvCacheType::F16, int decode_streams = 1);

}  // namespace plm
