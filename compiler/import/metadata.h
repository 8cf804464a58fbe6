// Typed key/value metadata as GGUF defines it (also synthesised for llama2.c files),
// with accessors whose errors name the key and the file.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace plm {

// Ids as written in GGUF.
enum class MetaType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* meta_type_name(MetaType t);

struct MetaValue {
  MetaType type = MetaType::U32;
  uint64_t u = 0;       // unsigned integers and bool
  int64_t i = 0;        // signed integers
  double f = 0;         // floats
  std::string str;      // STRING
  MetaType elem_type = MetaType::U8;  // ARRAY
  std::vector<MetaValue> array;

  static MetaValue of_u32(uint32_t v);
  static MetaValue of_i32(int32_t v);
  static MetaValue of_f32(float v);
  static MetaValue of_string(std::string v);
  static MetaValue of_bool(bool v);
  static MetaValue of_array(MetaType elem, std::vector<MetaValue> items);
  static MetaValue of_strings(const std::vector<std::string>& items);  // an array of strings

  bool is_integer() const;
  bool is_float() const { return type == MetaType::F32 || type == MetaType::F64; }
  std::string to_string(size_t max_items = 8) const;  // for `inspect`
};

class Metadata {
 public:
  explicit Metadata(std::string source = {}) : source_(std::move(source)) {}

  void set(const std::string& key, MetaValue v);
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const MetaValue* find(const std::string& key) const;
  const std::vector<std::string>& keys() const { return order_; }  // file order

  // Required values: throw an Error naming the source file and key when missing or mistyped.
  uint64_t get_uint(const std::string& key) const;
  double get_float(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<float> get_float_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;

  std::optional<uint64_t> opt_uint(const std::string& key) const;
  std::optional<double> opt_float(const std::string& key) const;
  std::optional<std::string> opt_string(const std::string& key) const;
  std::optional<bool> opt_bool(const std::string& key) const;

 private:
  const MetaValue& require(const std::string& key) const;
  [[noreturn]] void mistyped(const std::string& key, const char* wanted) const;
  std::string source_;
  std::map<std::string, MetaValue> values_;
  std::vector<std::string> order_;
};

}  // namespace plm
