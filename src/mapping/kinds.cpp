// Kind conversions by name, and shape_of: what a mapper sees of a machine.
#include "mapping/kinds.h"

#include "mapping/mapping.h"

namespace mage::mapping {
namespace detail {

std::optional<machine::ProcKind> to_machine(dsl::ProcKind k) { return machine::parse_proc_kind(dsl::to_string(k)); }

machine::ProcKind to_machine(program::ProcKind k) { return *machine::parse_proc_kind(program::to_string(k)); }

dsl::ProcKind to_dsl(machine::ProcKind k) { return *dsl::parse_proc_kind(machine::to_string(k)); }

dsl::ProcKind to_dsl(program::ProcKind k) { return *dsl::parse_proc_kind(program::to_string(k)); }

program::ProcKind to_program(machine::ProcKind k) { return *program::parse_proc_kind(machine::to_string(k)); }

std::optional<machine::MemKind> to_machine(dsl::MemKind k) { return machine::parse_mem_kind(dsl::to_string(k)); }

dsl::MemKind to_dsl(machine::MemKind k) { return *dsl::parse_mem_kind(machine::to_string(k)); }

}  // namespace detail

dsl::MachineShape shape_of(const machine::Machine& m) {
  dsl::MachineShape shape;
  shape.ranks = m.ranks();
  for (machine::ProcKind k : machine::kProcKinds)
    if (int n = m.procs_per_rank(k); n > 0) shape.procs_per_rank[detail::to_dsl(k)] = n;
  return shape;
}

}  // namespace mage::mapping
