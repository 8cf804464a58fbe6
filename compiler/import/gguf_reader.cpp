// GGUF v2/v3 reader. The file is mmapped; tensor data is referenced in place.
// Layout: magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, n_kv key/values,
// n_tensors tensor infos, padding to general.alignment, then the data section.
#include <set>

#include "import/byte_cursor.h"
#include "import/model_file.h"
#include "support/checked.h"
#include "error.h"

namespace plm {
namespace {

// Smallest encoding of one value of a type: bounds array counts before allocating.
uint64_t min_value_bytes(MetaType t) {
  switch (t) {
    case MetaType::U8: case MetaType::I8: case MetaType::BOOL: return 1;
    case MetaType::U16: case MetaType::I16: return 2;
    case MetaType::U32: case MetaType::I32: case MetaType::F32: return 4;
    case MetaType::U64: case MetaType::I64: case MetaType::F64: return 8;
    case MetaType::STRING: return 8;   // length prefix
    case MetaType::ARRAY: return 12;   // elem type + count
  }
  return 1;
}

bool valid_meta_type(uint32_t t) { return t <= uint32_t(MetaType::F64); }

class GgufParser {
 public:
  GgufParser(ByteCursor& c) : c_(c) {}

  std::string read_string(const char* what) {
    const uint64_t n = c_.read<uint64_t>(what);
    if (n > kMaxStringBytes) fail(c_.file(), ": ", what, " at offset ", c_.offset() - 8, " claims ", n, " bytes (limit ", kMaxStringBytes, ")");
    const uint8_t* p = c_.take(n, what);
    return std::string(reinterpret_cast<const char*>(p), size_t(n));
  }

  MetaValue read_value(MetaType t, const std::string& key, int depth) {
    MetaValue v;
    v.type = t;
    switch (t) {
      case MetaType::U8: v.u = c_.read<uint8_t>("u8 value"); break;
      case MetaType::I8: v.i = c_.read<int8_t>("i8 value"); break;
      case MetaType::U16: v.u = c_.read<uint16_t>("u16 value"); break;
      case MetaType::I16: v.i = c_.read<int16_t>("i16 value"); break;
      case MetaType::U32: v.u = c_.read<uint32_t>("u32 value"); break;
      case MetaType::I32: v.i = c_.read<int32_t>("i32 value"); break;
      case MetaType::U64: v.u = c_.read<uint64_t>("u64 value"); break;
      case MetaType::I64: v.i = c_.read<int64_t>("i64 value"); break;
      case MetaType::F32: v.f = c_.read<float>("f32 value"); break;
      case MetaType::F64: v.f = c_.read<double>("f64 value"); break;
      case MetaType::BOOL: {
        const uint8_t b = c_.read<uint8_t>("bool value");
        if (b > 1) fail(c_.file(), ": metadata '", key, "': bool value ", int(b), " is neither 0 nor 1");
        v.u = b;
        break;
      }
      case MetaType::STRING: v.str = read_string("string value"); break;
      case MetaType::ARRAY: {
        if (depth >= kMaxArrayNesting) fail(c_.file(), ": metadata '", key, "': arrays nested deeper than ", kMaxArrayNesting);
        const uint32_t et = c_.read<uint32_t>("array element type");
        if (!valid_meta_type(et)) fail(c_.file(), ": metadata '", key, "': unknown array element type ", et);
        v.elem_type = MetaType(et);
        const uint64_t n = c_.read<uint64_t>("array length");
        uint64_t min_bytes = 0;
        if (!checked_mul(n, min_value_bytes(v.elem_type), &min_bytes) || min_bytes > c_.remaining())
          fail(c_.file(), ": metadata '", key, "': array of ", n, " ", meta_type_name(v.elem_type),
               " runs past the end of the file (", c_.remaining(), " bytes left at offset ", c_.offset(), ")");
        v.array.reserve(size_t(n));
        for (uint64_t k = 0; k < n; ++k) v.array.push_back(read_value(v.elem_type, key, depth + 1));
        break;
      }
    }
    return v;
  }

 private:
  ByteCursor& c_;
};

}  // namespace

ModelFile load_gguf(const std::string& path) {
  auto map = std::make_shared<MappedFile>(path);
  ByteCursor c(map->data(), map->size(), path);
  ModelFile mf;
  mf.path = path;
  mf.meta = Metadata(path);
  mf.mappings.push_back(map);

  const uint8_t* magic = c.take(4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    if (std::memcmp(magic, "FUGG", 4) == 0) fail(path, ": big-endian GGUF files are not supported");
    fail(path, ": not a GGUF file (bad magic)");
  }
  const uint32_t version = c.read<uint32_t>("version");
  if (version == 1) fail(path, ": GGUF version 1 is obsolete and not supported (need version 2 or 3)");
  if (version != 2 && version != 3) {
    if ((version & 0xffff) == 0 && version != 0) fail(path, ": GGUF version field ", version, " looks byte-swapped (big-endian file?); need 2 or 3");
    fail(path, ": unsupported GGUF version ", version, " (need 2 or 3)");
  }
  mf.format = "GGUF v" + std::to_string(version);
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Each key/value takes at least 8+1+4+1 bytes, each tensor info at least 8+1+4+8+4+8.
  if (n_kv > c.remaining() / 13) fail(path, ": metadata count ", n_kv, " is impossible for a file of ", map->size(), " bytes");
  if (n_tensors > c.remaining() / 24) fail(path, ": tensor count ", n_tensors, " is impossible for a file of ", map->size(), " bytes");

  GgufParser p(c);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = p.read_string("metadata key");
    if (key.empty()) fail(path, ": metadata entry ", k, " has an empty key");
    if (mf.meta.has(key)) fail(path, ": metadata key '", key, "' appears twice");
    const uint32_t t = c.read<uint32_t>("metadata value type");
    if (!valid_meta_type(t)) fail(path, ": metadata '", key, "': unknown value type ", t);
    mf.meta.set(key, p.read_value(MetaType(t), key, 0));
  }

  uint64_t alignment = 32;
  if (const MetaValue* a = mf.meta.find("general.alignment")) {
    if (a->type != MetaType::U32) fail(path, ": general.alignment must be u32, found ", meta_type_name(a->type));
    alignment = a->u;
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
      fail(path, ": general.alignment ", alignment, " is not a power of two");
  }

  std::set<std::string> names;
  mf.tensors.reserve(size_t(n_tensors));
  std::vector<uint64_t> rel_offsets;
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.name = p.read_string("tensor name");
    if (t.name.empty()) fail(path, ": tensor ", k, " has an empty name");
    if (t.name.size() > kMaxTensorNameBytes) fail(path, ": tensor name '", t.name.substr(0, 80), "...' is longer than ", kMaxTensorNameBytes, " bytes");
    if (!names.insert(t.name).second) fail(path, ": tensor '", t.name, "' appears twice");
    const uint32_t n_dims = c.read<uint32_t>("tensor dimension count");
    if (n_dims < 1 || n_dims > kMaxTensorDims) fail(path, ": tensor '", t.name, "' has ", n_dims, " dimensions (need 1..", kMaxTensorDims, ")");
    int64_t n = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne = c.read<uint64_t>("tensor dimension");
      if (ne == 0 || ne > uint64_t(INT64_MAX)) fail(path, ": tensor '", t.name, "' dimension ", d, " is ", ne);
      t.ne.push_back(int64_t(ne));
      if (!checked_mul(n, int64_t(ne), &n)) fail(path, ": tensor '", t.name, "' element count overflows (shape ", t.shape_string(), "...)");
    }
    t.n_elements = n;
    const uint32_t type_id = c.read<uint32_t>("tensor type");
    const auto tr = ggml_type_traits(type_id);
    if (!tr) fail(path, ": tensor '", t.name, "' has type ", ggml_type_name(type_id), ", which pocketlm does not support (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
    t.type = GgmlType(type_id);
    if (t.ne[0] % tr->block_elems != 0)
      fail(path, ": tensor '", t.name, "' row length ", t.ne[0], " is not a multiple of the ", tr->name, " block size ", tr->block_elems);
    uint64_t nbytes = 0;
    if (!checked_mul(uint64_t(n / tr->block_elems), uint64_t(tr->block_bytes), &nbytes)) fail(path, ": tensor '", t.name, "' byte size overflows");
    t.n_bytes = size_t(nbytes);
    const uint64_t off = c.read<uint64_t>("tensor data offset");
    if (off % alignment != 0) fail(path, ": tensor '", t.name, "' data offset ", off, " is not aligned to ", alignment);
    rel_offsets.push_back(off);
    mf.tensors.push_back(std::move(t));
  }

  const uint64_t data_start = align_up(c.offset(), alignment);
  if (!mf.tensors.empty() && data_start > map->size()) fail(path, ": truncated: data section would start at ", data_start, " but the file has ", map->size(), " bytes");
  for (size_t k = 0; k < mf.tensors.size(); ++k) {
    TensorInfo& t = mf.tensors[k];
    uint64_t begin = 0, end = 0;
    if (!checked_add(data_start, rel_offsets[k], &begin) || !checked_add(begin, uint64_t(t.n_bytes), &end) || end > map->size())
      fail(path, ": tensor '", t.name, "' data (", t.n_bytes, " bytes at offset ", rel_offsets[k], " in the data section) runs past the end of the file (", map->size(), " bytes)");
    t.file_offset = begin;
    t.data = map->data() + begin;
  }
  return mf;
}

}  // namespace plm
