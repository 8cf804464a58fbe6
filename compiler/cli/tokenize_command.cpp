// `pocketlm tokenize MODEL (-p TEXT | -f FILE) [--ids | --pieces] [--bos]`
#include <cstdio>

#include "cli/args.h"
#include "bundle.h"
#include "cli/commands.h"
#include "error.h"
#include "import/hf_tokenizer.h"
#include "import/model_file.h"
#include "import/vocab_import.h"

namespace plm {

const char kTokenizeHelp[] =
    "usage: pocketlm tokenize MODEL|BUNDLE.plm (-p TEXT | -f FILE) [--ids | --pieces] [--bos] [--parse-special]\n"
    "\n"
    "Tokenizes the text (the file's bytes exactly, with -f) with the model's tokenizer.\n"
    "  --ids              print only the ids, space-separated on one line (default prints id and piece per line)\n"
    "  --pieces           print only the pieces, one per line\n"
    "  --bos              prepend the BOS token (off by default)\n"
    "  --parse-special    treat control-token text such as </s> as those tokens\n"
    "  --tokenizer FILE   a Hugging Face tokenizer.json to use instead of the model's own\n"
    "                     vocabulary, or a llama2.c tokenizer.bin (llama2.c checkpoints)\n"
    "MODEL may also be a tokenizer.json by itself.\n"
    "\n"
    "example: pocketlm tokenize ../shared/testdata/models/synth-llama-Q4_0.gguf -p \"Hello world\" --ids\n";

int run_tokenize(const std::vector<std::string>& argv) {
  Args a("tokenize", argv, {"-p", "--prompt", "-f", "--file", "--tokenizer"}, {"--ids", "--pieces", "--bos", "--parse-special"});
  a.expect_positionals(1, "pocketlm tokenize MODEL -p TEXT");
  const std::string model = a.positional(0, "MODEL");
  if (a.has("--ids") && a.has("--pieces")) fail("pocketlm tokenize: give --ids or --pieces, not both");
  const std::string text = read_prompt(a);
  // A bundle carries its vocabulary; a model file has it in its metadata.
  std::unique_ptr<Tokenizer> tokp;
  if (looks_like_bundle(model)) {
    tokp = std::make_unique<Tokenizer>(Bundle::open(model)->vocab());
  } else if (is_hf_tokenizer_path(model)) {
    if (a.has("--tokenizer")) fail("pocketlm tokenize: ", model, " is a tokenizer already; drop --tokenizer");
    Metadata meta(model);
    import_hf_tokenizer(model, meta);
    tokp = std::make_unique<Tokenizer>(vocab_from_metadata(meta, model));
  } else {
    const ModelFile mf = open_model_file(model, a.value("--tokenizer").value_or(""));
    tokp = std::make_unique<Tokenizer>(vocab_from_metadata(mf.meta, model));
  }
  const Tokenizer& tok = *tokp;
  const std::vector<int32_t> ids = tok.encode(text, a.has("--bos"), a.has("--parse-special"));
  if (a.has("--ids")) {
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
    std::printf("\n");
  } else {
    for (int32_t id : ids) {
      if (a.has("--pieces")) std::printf("%s\n", tok.vocab().pieces[size_t(id)].c_str());
      else std::printf("%6d  %s\n", id, tok.vocab().pieces[size_t(id)].c_str());
    }
  }
  return 0;
}

}  // namespace plm
