// Helpers for the guide's tests: evaluate a mapper as `mage explain` does and explain it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../test_support.h"
#include "apps/apps.h"
#include "eval/eval.h"
#include "guide/guide.h"
#include "machine/machine.h"

namespace mage::guide::test {

using mage::test::read_text;

// The text of a mapper of tests/guide/mappers.
inline std::string test_mapper_text(const std::string& name) {
  return read_text(std::filesystem::path(MAGE_SOURCE_DIR) / "tests/guide/mappers" / name);
}

// A mapper of tests/guide/mappers, named by its file name in diagnostics.
inline eval::MapperSpec test_mapper(const std::string& name) { return eval::mapper_text(test_mapper_text(name), name); }

struct Explained {
  eval::Request request;
  eval::Result result;
  Feedback feedback;
};

inline eval::Request request_for(const std::string& app, eval::MapperSpec mapper,
                                 apps::Scale scale = apps::Scale::Small, const std::string& machine = "p100x4") {
  eval::Request r;
  r.app = app;
  r.machine = machine;
  r.scale = scale;
  r.mapper = std::move(mapper);
  return r;
}

inline Explained explain_run(const eval::Request& request) {
  Explained e{request, eval::evaluate(request), {}};
  e.feedback = explain(request, e.result);
  return e;
}

inline Explained explain_run(const std::string& app, eval::MapperSpec mapper, apps::Scale scale = apps::Scale::Small,
                             const std::string& machine = "p100x4") {
  return explain_run(request_for(app, std::move(mapper), scale, machine));
}

// The mapper text with an Edit hint applied (its `from` line replaced by its `to`).
inline std::string apply_edit(const std::string& text, const Hint& h) {
  const size_t at = text.find(h.from);
  if (h.action != Action::Edit || h.from.empty() || at == std::string::npos)
    throw std::runtime_error("cannot apply hint: " + h.to_json().dump());
  std::string out = text;
  out.replace(at, h.from.size(), h.to);
  return out;
}

inline const Hint* find_hint(const Feedback& f, Action action, const std::string& task, const std::string& argument) {
  for (const Hint& h : f.hints)
    if (h.action == action && h.task == task && h.argument == argument) return &h;
  return nullptr;
}

// The first hint is this change.
inline void expect_first_hint(const Feedback& f, Action action, const std::string& task, const std::string& from,
                              const std::string& to) {
  ASSERT_FALSE(f.hints.empty()) << f.to_json().dump(2);
  const Hint& h = f.hints.front();
  EXPECT_EQ(h.action, action) << h.to_json().dump();
  EXPECT_EQ(h.task, task) << h.to_json().dump();
  EXPECT_EQ(h.from, from) << h.to_json().dump();
  EXPECT_EQ(h.to, to) << h.to_json().dump();
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every suggestion, one per line (for messages and searches).
inline std::string suggestions(const Feedback& f) {
  std::string out;
  for (const std::string& s : f.suggestions) out += s + "\n";
  return out;
}

}  // namespace mage::guide::test
