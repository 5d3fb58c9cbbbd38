// Small helpers shared by the subcommands.
#pragma once

#include <optional>
#include <string>

namespace mage::cli {

// Reads a whole file; on failure prints "mage: error: cannot read FILE: reason" and
// returns nullopt.
std::optional<std::string> read_file(const std::string& path);
// Writes a whole file atomically (temp file + rename); prints an error and returns false on failure.
bool write_file(const std::string& path, const std::string& text);

}  // namespace mage::cli
