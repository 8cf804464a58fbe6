#include "import/metadata.h"

#include <sstream>

#include "error.h"

namespace plm {

const char* meta_type_name(MetaType t) {
  switch (t) {
    case MetaType::U8: return "u8";
    case MetaType::I8: return "i8";
    case MetaType::U16: return "u16";
    case MetaType::I16: return "i16";
    case MetaType::U32: return "u32";
    case MetaType::I32: return "i32";
    case MetaType::F32: return "f32";
    case MetaType::BOOL: return "bool";
    case MetaType::STRING: return "string";
    case MetaType::ARRAY: return "array";
    case MetaType::U64: return "u64";
    case MetaType::I64: return "i64";
    case MetaType::F64: return "f64";
  }
  return "?";
}

MetaValue MetaValue::of_u32(uint32_t v) { MetaValue m; m.type = MetaType::U32; m.u = v; return m; }
MetaValue MetaValue::of_i32(int32_t v) { MetaValue m; m.type = MetaType::I32; m.i = v; return m; }
MetaValue MetaValue::of_f32(float v) { MetaValue m; m.type = MetaType::F32; m.f = v; return m; }
MetaValue MetaValue::of_string(std::string v) { MetaValue m; m.type = MetaType::STRING; m.str = std::move(v); return m; }
MetaValue MetaValue::of_bool(bool v) { MetaValue m; m.type = MetaType::BOOL; m.u = v; return m; }
MetaValue MetaValue::of_array(MetaType elem, std::vector<MetaValue> items) {
  MetaValue m;
  m.type = MetaType::ARRAY;
  m.elem_type = elem;
  m.array = std::move(items);
  return m;
}

MetaValue MetaValue::of_strings(const std::vector<std::string>& items) {
  std::vector<MetaValue> v;
  v.reserve(items.size());
  for (const std::string& s : items) v.push_back(of_string(s));
  return of_array(MetaType::STRING, std::move(v));
}

bool MetaValue::is_integer() const {
  switch (type) {
    case MetaType::U8: case MetaType::I8: case MetaType::U16: case MetaType::I16:
    case MetaType::U32: case MetaType::I32: case MetaType::U64: case MetaType::I64: return true;
    default: return false;
  }
}

static bool is_signed(MetaType t) {
  return t == MetaType::I8 || t == MetaType::I16 || t == MetaType::I32 || t == MetaType::I64;
}

std::string MetaValue::to_string(size_t max_items) const {
  std::ostringstream os;
  if (type == MetaType::ARRAY) {
    os << "[" << meta_type_name(elem_type) << " x " << array.size() << "]";
    if (!array.empty()) {
      os << " ";
      for (size_t k = 0; k < array.size() && k < max_items; ++k) os << (k ? ", " : "") << array[k].to_string(max_items);
      if (array.size() > max_items) os << ", ...";
    }
  } else if (type == MetaType::STRING) {
    std::string s = str.size() > 80 ? str.substr(0, 77) + "..." : str;
    for (char& c : s) if (c == '\n') c = ' ';
    os << '"' << s << '"';
  } else if (type == MetaType::BOOL) {
    os << (u ? "true" : "false");
  } else if (is_float()) {
    os << f;
  } else if (is_signed(type)) {
    os << i;
  } else {
    os << u;
  }
  return os.str();
}

void Metadata::set(const std::string& key, MetaValue v) {
  if (!values_.count(key)) order_.push_back(key);
  values_[key] = std::move(v);
}

const MetaValue* Metadata::find(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

const MetaValue& Metadata::require(const std::string& key) const {
  const MetaValue* v = find(key);
  if (!v) fail(source_, ": missing metadata key '", key, "'");
  return *v;
}

void Metadata::mistyped(const std::string& key, const char* wanted) const {
  fail(source_, ": metadata key '", key, "' is ", meta_type_name(require(key).type), ", expected ", wanted);
}

static std::optional<uint64_t> as_uint(const MetaValue& v) {
  if (!v.is_integer()) return std::nullopt;
  if (is_signed(v.type)) {
    if (v.i < 0) return std::nullopt;
    return uint64_t(v.i);
  }
  return v.u;
}

uint64_t Metadata::get_uint(const std::string& key) const {
  auto u = as_uint(require(key));
  if (!u) mistyped(key, "a non-negative integer");
  return *u;
}

double Metadata::get_float(const std::string& key) const {
  const MetaValue& v = require(key);
  if (v.is_float()) return v.f;
  if (v.is_integer()) return is_signed(v.type) ? double(v.i) : double(v.u);
  mistyped(key, "a number");
}

const std::string& Metadata::get_string(const std::string& key) const {
  const MetaValue& v = require(key);
  if (v.type != MetaType::STRING) mistyped(key, "a string");
  return v.str;
}

std::vector<std::string> Metadata::get_string_array(const std::string& key) const {
  const MetaValue& v = require(key);
  if (v.type != MetaType::ARRAY || v.elem_type != MetaType::STRING) mistyped(key, "an array of strings");
  std::vector<std::string> out;
  out.reserve(v.array.size());
  for (const auto& e : v.array) out.push_back(e.str);
  return out;
}

std::vector<float> Metadata::get_float_array(const std::string& key) const {
  const MetaValue& v = require(key);
  if (v.type != MetaType::ARRAY || !(v.elem_type == MetaType::F32 || v.elem_type == MetaType::F64))
    mistyped(key, "an array of floats");
  std::vector<float> out;
  out.reserve(v.array.size());
  for (const auto& e : v.array) out.push_back(float(e.f));
  return out;
}

std::vector<int64_t> Metadata::get_int_array(const std::string& key) const {
  const MetaValue& v = require(key);
  if (v.type != MetaType::ARRAY) mistyped(key, "an array of integers");
  std::vector<int64_t> out;
  out.reserve(v.array.size());
  for (const auto& e : v.array) {
    if (!e.is_integer()) mistyped(key, "an array of integers");
    out.push_back(is_signed(e.type) ? e.i : int64_t(e.u));
  }
  return out;
}

std::optional<uint64_t> Metadata::opt_uint(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_uint(key);
}
std::optional<double> Metadata::opt_float(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_float(key);
}
std::optional<std::string> Metadata::opt_string(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_string(key);
}
std::optional<bool> Metadata::opt_bool(const std::string& key) const {
  const MetaValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != MetaType::BOOL) mistyped(key, "a bool");
  return v->u != 0;
}

}  // namespace plm
