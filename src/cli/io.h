// Small helpers shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dsl/dsl.h"

namespace mage::cli {

// Reads a whole file, or standard input for "-"; on failure prints
// "mage: error: cannot read FILE: reason" and returns nullopt.
std::optional<std::string> read_file(const std::string& path);
// The name diagnostics give a file read with read_file: "<stdin>" for "-".
std::string source_name(const std::string& path);

// "a, b, c".
std::string join(const std::vector<std::string>& words);
// "did you mean 'X'? " when one of `names` is clearly what `word` misspells, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& names);
// A check that a value is one of `names`: "unknown NOUN 'x' (did you mean 'y'? PLURAL: a, b, c[; MORE])".
CLI::Validator one_of(const std::string& noun, const std::string& plural, std::vector<std::string> names,
                      const std::string& more = "");
// one_of the nine programs ("see `mage apps`").
CLI::Validator program_name();
// Writes a whole file atomically (temp file + rename); prints an error and returns false on failure.
bool write_file(const std::string& path, const std::string& text);

// --error-limit N: how many diagnostics a command prints as text (default 20, 0: all), as
// clang's -ferror-limit; the rest are counted on one line that says how to see them.
void add_error_limit(CLI::App& command, size_t& limit);
// Prints JSON as every command's --json does: two-space indentation, keys in the order the
// producer inserted them (nlohmann::ordered_json: README "JSON output"), bytes that are not
// UTF-8 replaced, a newline at the end.
void print_json(const nlohmann::ordered_json& j);

// --time-limit S: seconds an evaluation may take (default 30; 0: none); a negative value is a
// usage error.
void add_time_limit(CLI::App& command, double& seconds);

// --memory-limit GIB: the address space an evaluation (and, in tune and experiment, the
// building of the search space) may use, in GiB (default 8; 0: none); a negative value is a
// usage error. memory_limit_bytes converts it for eval::Limits.
inline constexpr double kDefaultMemoryLimitGiB = 8;
void add_memory_limit(CLI::App& command, double& gib);
uint64_t memory_limit_bytes(double gib);

std::string diagnostics_text(const std::vector<dsl::Diagnostic>& ds, const dsl::SourceFile& source, size_t limit);

// Ctrl-C and SIGTERM end a long command (mage tune, mage experiment) cleanly: while a
// StopSignals lives they only set the flag stop_requested() reads, which the command's loop
// asks. The handlers are installed without SA_RESTART, so a wait for children is interrupted
// at once; the previous ones are put back at the end. Children forked meanwhile inherit them.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};
bool stop_requested();

}  // namespace mage::cli
