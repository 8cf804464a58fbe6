// The pocketlm subcommands. Each takes the arguments after its name and returns the
// process exit code; user errors are thrown as plm::Error and reported by main.
#pragma once
#include <string>
#include <vector>

namespace plm {

struct Command {
  const char* name;
  const char* summary;
  const char* help;  // full --help text
  int (*run)(const std::vector<std::string>& args);
};

int run_inspect(const std::vector<std::string>& args);
int run_logits(const std::vector<std::string>& args);
int run_run(const std::vector<std::string>& args);
int run_tokenize(const std::vector<std::string>& args);
int run_socs(const std::vector<std::string>& args);
int run_compile(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_synth(const std::vector<std::string>& args);

extern const char kInspectHelp[];
extern const char kLogitsHelp[];
extern const char kRunHelp[];
extern const char kTokenizeHelp[];
extern const char kSocsHelp[];
extern const char kCompileHelp[];
extern const char kBenchHelp[];
extern const char kSynthHelp[];

}  // namespace plm
