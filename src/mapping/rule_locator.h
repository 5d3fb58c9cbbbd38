// Where the Task and Region rules of a mapper are written (internal to the mapping module).
//
// dsl::Mapper answers which processor kinds and memories apply to a task, but not which
// statement said so; MappingError messages and the Plan's *_rule_line fields need the
// line. RuleLocator reads the Task and Region statements again from the mapper's source
// text (which compiled without errors) and resolves them as DSL.md's "Which rule applies"
// says. dsl::Mapper stays the authority on the decision: callers compare the kinds found
// here with its answer and report no line (0) if they ever differ.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dsl/dsl.h"

namespace mage::mapping::detail {

class RuleLocator {
 public:
  explicit RuleLocator(const dsl::SourceFile& source);

  // The Task rule that applies to `task`: the first naming it, else the first `*` rule;
  // line 0 if none does.
  dsl::SourceLoc task_rule(std::string_view task) const;

  // The memory priority list of (task, argument, processor kind), each memory with the
  // Region rule that first contributed it.
  std::vector<std::pair<dsl::MemKind, dsl::SourceLoc>> memory_priority(std::string_view task,
                                                                       const dsl::ArgumentView& arg,
                                                                       dsl::ProcKind proc) const;

 private:
  // A rule key: `*`, a name, or (regions only) an argument index.
  struct Key {
    enum class Kind { Star, Name, Index } kind = Kind::Star;
    std::string text;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct TaskRule {
    std::vector<std::string> names;  // "*" included
    dsl::SourceLoc loc;
  };
  struct RegionRule {
    Key task, region, proc;
    std::vector<dsl::MemKind> memories;
    dsl::SourceLoc loc;
  };
  static bool region_matches(const Key& k, const dsl::ArgumentView& arg);
  static int level(const RegionRule& r, std::string_view task, const dsl::ArgumentView& arg);

  std::vector<TaskRule> task_rules_;
  std::vector<RegionRule> region_rules_;  // later duplicates of a key dropped
};

}  // namespace mage::mapping::detail
