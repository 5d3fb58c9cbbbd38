// What a JSON library (nlohmann-json) exception says, in the user's words: its message without
// the library's "[json.exception.type_error.302] " tag. Users read what is wrong with their
// file or reply, never the library's internals. Kept in `kinds` (the bottom of the dependency
// order) because the tuning driver, the model client and the command line all need it.
#pragma once

#include <string>
#include <string_view>

namespace mage::kinds {

inline std::string without_json_tag(std::string_view what) {
  if (size_t close = what.find("] "); what.starts_with("[json.exception") && close != std::string_view::npos)
    what.remove_prefix(close + 2);
  return std::string(what);
}

}  // namespace mage::kinds
