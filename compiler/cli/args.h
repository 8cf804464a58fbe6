// Command-line parsing shared by the pocketlm subcommands: flags with values,
// switches, positionals, and errors that name the flag at fault.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace plm {

class Args {
 public:
  // value_flags take a value ("-o OUT", "--tokens=1,2"); switches take none.
  Args(const std::string& command, const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
       const std::set<std::string>& switches);

  const std::string& command() const { return command_; }
  bool has(const std::string& flag) const { return values_.count(flag) || switches_on_.count(flag); }
  std::optional<std::string> value(const std::string& flag) const;
  std::string required(const std::string& flag, const char* what) const;
  int64_t integer(const std::string& flag, int64_t def, int64_t lo, int64_t hi) const;
  double real(const std::string& flag, double def, double lo, double hi) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  std::string positional(size_t i, const char* what) const;
  void expect_positionals(size_t n, const char* usage) const;

 private:
  std::string command_;
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_on_;
  std::vector<std::string> positionals_;
};

// The text of -p/--prompt TEXT or -f/--file FILE (exactly one of them), the file's
// bytes read as they are.
std::string read_prompt(const Args& a);

// "1,2,3" or "1 2 3" -> ids; errors name the flag.
std::vector<int32_t> parse_token_list(const std::string& text, const std::string& flag);

}  // namespace plm
