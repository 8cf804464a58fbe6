#include "cli/args.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "error.h"

namespace plm {

Args::Args(const std::string& command, const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
           const std::set<std::string>& switches)
    : command_(command) {
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && std::isdigit(static_cast<unsigned char>(a[1])))) {
      std::string v;
      bool inline_value = false;
      if (size_t eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
        v = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      if (value_flags.count(a)) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) fail("pocketlm ", command_, ": flag ", a, " needs a value");
          v = argv[++i];
        }
        if (values_.count(a)) fail("pocketlm ", command_, ": flag ", a, " given twice");
        values_[a] = v;
      } else if (switches.count(a)) {
        if (inline_value) fail("pocketlm ", command_, ": flag ", a, " takes no value");
        switches_on_.insert(a);
      } else {
        fail("pocketlm ", command_, ": unknown flag ", a, " (see pocketlm ", command_, " --help)");
      }
    } else {
      positionals_.push_back(a);
    }
  }
}

std::optional<std::string> Args::value(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::required(const std::string& flag, const char* what) const {
  auto v = value(flag);
  if (!v) fail("pocketlm ", command_, ": missing ", flag, " ", what);
  return *v;
}

int64_t Args::integer(const std::string& flag, int64_t def, int64_t lo, int64_t hi) const {
  auto v = value(flag);
  if (!v) return def;
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE) fail("pocketlm ", command_, ": ", flag, " '", *v, "' is not an integer");
  if (x < lo || x > hi) fail("pocketlm ", command_, ": ", flag, " ", x, " is out of range (", lo, "..", hi, ")");
  return x;
}

double Args::real(const std::string& flag, double def, double lo, double hi) const {
  auto v = value(flag);
  if (!v) return def;
  char* end = nullptr;
  const double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(x)) fail("pocketlm ", command_, ": ", flag, " '", *v, "' is not a number");
  if (x < lo || x > hi) fail("pocketlm ", command_, ": ", flag, " ", x, " is out of range (", lo, "..", hi, ")");
  return x;
}

std::string Args::positional(size_t i, const char* what) const {
  if (i >= positionals_.size()) fail("pocketlm ", command_, ": missing ", what, " (see pocketlm ", command_, " --help)");
  return positionals_[i];
}

void Args::expect_positionals(size_t n, const char* usage) const {
  if (positionals_.size() < n) fail("pocketlm ", command_, ": missing arguments; usage: ", usage);
  if (positionals_.size() > n) fail("pocketlm ", command_, ": unexpected argument '", positionals_[n], "'; usage: ", usage);
}

std::string read_prompt(const Args& a) {
  auto either = [&](const char* s, const char* l) -> std::optional<std::string> {
    if (a.has(s) && a.has(l)) fail("pocketlm ", a.command(), ": give ", s, " or ", l, ", not both");
    return a.value(s) ? a.value(s) : a.value(l);
  };
  const auto text = either("-p", "--prompt");
  const auto file = either("-f", "--file");
  if (bool(text) == bool(file)) fail("pocketlm ", a.command(), ": give exactly one of -p TEXT or -f FILE");
  if (text) return *text;
  std::ifstream in(*file, std::ios::binary);
  if (!in) fail(*file, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int32_t> parse_token_list(const std::string& text, const std::string& flag) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ' || text[i] == '\n' || text[i] == '\t') { ++i; continue; }
    size_t j = i;
    while (j < text.size() && text[j] != ',' && text[j] != ' ' && text[j] != '\n' && text[j] != '\t') ++j;
    const std::string tok = text.substr(i, j - i);
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(tok.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE || v < 0 || v > INT32_MAX)
      fail(flag, ": '", tok, "' is not a token id (expected non-negative integers separated by commas)");
    ids.push_back(int32_t(v));
    i = j;
  }
  if (ids.empty()) fail(flag, ": no token ids given");
  return ids;
}

}  // namespace plm
