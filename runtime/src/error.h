// pocketlm error type, shared by the runtime and the compiler: every failure the user
// can cause (bad file, bad flag, missing tensor) is an Error naming the thing at fault.
// The C API turns it into an error code plus this message.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace plm {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(Args&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(parts));
  throw Error(os.str());
}

}  // namespace plm
