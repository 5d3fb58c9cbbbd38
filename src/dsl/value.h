// Runtime values of the mapping language.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "dsl/dsl.h"
#include "dsl/machine_space.h"

namespace mage::dsl {

struct Value;
using Tuple = std::vector<Value>;

struct SpaceValue {
  kinds::ProcKind kind;
  MachineSpace space;
};

struct ProcessorsValue {
  kinds::ProcKind kind;
  std::vector<ProcessorId> procs;
  bool is_set = false;  // produced with `*`
};

struct Unassigned {};

struct Value {
  std::variant<Unassigned, int64_t, bool, std::shared_ptr<const Tuple>, std::shared_ptr<const SpaceValue>,
               std::shared_ptr<const ProcessorsValue>, const TaskView*>
      v;

  Value() = default;
  static Value of_int(int64_t i) {
    Value x;
    x.v = i;
    return x;
  }
  static Value of_bool(bool b) {
    Value x;
    x.v = b;
    return x;
  }
  static Value of_tuple(Tuple t) {
    Value x;
    x.v = std::make_shared<const Tuple>(std::move(t));
    return x;
  }
  static Value of_space(SpaceValue s) {
    Value x;
    x.v = std::make_shared<const SpaceValue>(std::move(s));
    return x;
  }
  static Value of_procs(ProcessorsValue p) {
    Value x;
    x.v = std::make_shared<const ProcessorsValue>(std::move(p));
    return x;
  }
  static Value of_task(const TaskView* t) {
    Value x;
    x.v = t;
    return x;
  }

  bool assigned() const { return v.index() != 0; }
  bool is_int() const { return v.index() == 1; }
  bool is_bool() const { return v.index() == 2; }
  bool is_tuple() const { return v.index() == 3; }
  bool is_space() const { return v.index() == 4; }
  bool is_procs() const { return v.index() == 5; }
  bool is_task() const { return v.index() == 6; }
  int64_t as_int() const { return std::get<1>(v); }
  bool as_bool() const { return std::get<2>(v); }
  const Tuple& as_tuple() const { return *std::get<3>(v); }
  const SpaceValue& as_space() const { return *std::get<4>(v); }
  const ProcessorsValue& as_procs() const { return *std::get<5>(v); }
  const TaskView& as_task() const { return *std::get<6>(v); }
};

// "an int", "a tuple", ... for messages.
std::string_view type_phrase(const Value& v);
// How a value prints: 5, True, (1, 2), Machine(GPU) of size (2, 4), node 0 GPU 1, task t.
std::string show(const Value& v);
bool values_equal(const Value& a, const Value& b);

}  // namespace mage::dsl
