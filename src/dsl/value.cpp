#include "dsl/value.h"

#include <fmt/format.h>

namespace mage::dsl {

std::string_view type_phrase(const Value& v) {
  switch (v.v.index()) {
    case 1:
      return "an int";
    case 2:
      return "a bool";
    case 3:
      return "a tuple";
    case 4:
      return "a machine space";
    case 5:
      return v.as_procs().is_set ? "a set of processors" : "a processor";
    case 6:
      return "a task";
    default:
      return "an unassigned value";
  }
}

std::string show(const Value& v) {
  switch (v.v.index()) {
    case 1:
      return std::to_string(v.as_int());
    case 2:
      return v.as_bool() ? "True" : "False";
    case 3: {
      const Tuple& t = v.as_tuple();
      std::string out = "(";
      for (size_t i = 0; i < t.size(); ++i) out += (i ? ", " : "") + show(t[i]);
      if (t.size() == 1) out += ",";
      return out + ")";
    }
    case 4: {
      const SpaceValue& s = v.as_space();
      std::string out = fmt::format("Machine({}) of size (", to_string(s.kind));
      for (size_t i = 0; i < s.space.size().size(); ++i) out += (i ? ", " : "") + std::to_string(s.space.size()[i]);
      return out + ")";
    }
    case 5: {
      const ProcessorsValue& p = v.as_procs();
      std::string out;
      for (size_t i = 0; i < p.procs.size(); ++i)
        out += fmt::format("{}node {} {} {}", i ? ", " : "", p.procs[i].node, to_string(p.kind), p.procs[i].proc);
      return p.is_set ? "{" + out + "}" : out;
    }
    case 6:
      return "task " + v.as_task().name;
    default:
      return "<unassigned>";
  }
}

bool values_equal(const Value& a, const Value& b) {
  if (a.v.index() != b.v.index()) return false;
  switch (a.v.index()) {
    case 1:
      return a.as_int() == b.as_int();
    case 2:
      return a.as_bool() == b.as_bool();
    case 3: {
      const Tuple& x = a.as_tuple();
      const Tuple& y = b.as_tuple();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!values_equal(x[i], y[i])) return false;
      return true;
    }
    case 4:
      return a.as_space().kind == b.as_space().kind && a.as_space().space == b.as_space().space;
    case 5:
      return a.as_procs().kind == b.as_procs().kind && a.as_procs().procs == b.as_procs().procs;
    case 6:
      return &a.as_task() == &b.as_task();
    default:
      return true;
  }
}

}  // namespace mage::dsl
