#include "cli/search_options.h"

#include <fmt/format.h>

#include "cli/io.h"

namespace mage::cli {

void add_search_options(CLI::App& command, SearchOptions& o, const SearchHelp& help) {
  add_program_options(command, o.program, false);
  command.add_option("--budget", o.budget, help.budget + " (default 10)");
  command.add_option("--start", o.start, help.start);
  command.add_option("--out", o.out, help.out);
  add_time_limit(command, o.time_limit_s);
  add_memory_limit(command, o.memory_limit_gib);
  command.add_option_function<std::string>(
      "--llm-url", [&o](const std::string& v) { o.llm_url = v; },
      help.llm +
          ": base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1 (default: MAGE_LLM_BASE_URL; the "
          "key comes from MAGE_LLM_API_KEY only; see docs/llm.md)");
  command.add_option_function<std::string>(
      "--llm-model", [&o](const std::string& v) { o.llm_model = v; },
      help.llm + ": the model's name (default: MAGE_LLM_MODEL)");
}

bool check_search_options(const SearchOptions& o) {
  if (o.budget < 1) {
    fail("--budget must be at least 1");
    return false;
  }
  return true;
}

std::map<std::string, std::string> llm_settings(const SearchOptions& o) {
  std::map<std::string, std::string> settings;
  if (o.llm_url) settings["llm-url"] = *o.llm_url;
  if (o.llm_model) settings["llm-model"] = *o.llm_model;
  return settings;
}

}  // namespace mage::cli
