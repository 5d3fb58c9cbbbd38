// A parsed and checked mapper (internal to the dsl module): the tree, the name
// resolution, and the rule tables in the order DSL.md's "Which rule applies" needs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dsl/ast.h"
#include "dsl/checker.h"
#include "dsl/dsl.h"

namespace mage::dsl {

struct MemoryRule {
  Key task, region, proc;
  std::vector<MemWord> memories;
  SourceLoc loc;
};

struct LayoutRule {
  Key task, region, kind;
  LayoutChoice layout;
};

struct CollectRule {
  Key task, region;
};

struct MapRule {
  std::string function;
  int line = 0;
};

class Unit {
 public:
  SourceFile source;
  Module module;
  Resolution resolution;

  // Rule tables (later duplicates already dropped: the first rule with a key wins).
  std::map<std::string, std::pair<std::vector<ProcWord>, SourceLoc>, std::less<>> task_rules;  // "*" included
  std::vector<MemoryRule> memory_rules;
  std::vector<LayoutRule> layout_rules;
  std::map<std::string, int64_t, std::less<>> instance_limits;  // "*" included
  std::vector<CollectRule> collect_rules;
  std::set<std::string, std::less<>> control_replicated;   // "*" included
  std::map<std::string, MapRule, std::less<>> index_maps;  // task name, kind name or "*"
  std::map<std::string, MapRule, std::less<>> single_maps;

  void build_rule_tables();
};

}  // namespace mage::dsl
