// Shared by the generators: parameter checks that stop the build with a message.
#pragma once
#include <cstdlib>
#include <iostream>
#include <string>

#include "Halide.h"
#include "schedule_class.h"

namespace plm {

inline void require(bool ok, const std::string& msg) {
  if (!ok) {
    std::cerr << "pocketlm generator: " << msg << "\n";
    std::exit(1);
  }
}

inline ScheduleClass parse_schedule_class(const std::string& name) {
  const auto c = schedule_class_from_name(name);
  require(c.has_value(), "unknown schedule_class '" + name + "'");
  return *c;
}

}  // namespace plm
