// Conversions between the processor and memory kinds of the three modules mapping joins
// (internal to the mapping module). The kinds are matched by name ("GPU", "FBMEM").
#pragma once

#include <optional>

#include "dsl/dsl.h"
#include "machine/machine.h"
#include "program/program.h"

namespace mage::mapping::detail {

// PROC has no machine counterpart.
std::optional<machine::ProcKind> to_machine(dsl::ProcKind k);
machine::ProcKind to_machine(program::ProcKind k);
dsl::ProcKind to_dsl(machine::ProcKind k);
dsl::ProcKind to_dsl(program::ProcKind k);
program::ProcKind to_program(machine::ProcKind k);
// VIRTUAL has no machine counterpart.
std::optional<machine::MemKind> to_machine(dsl::MemKind k);
dsl::MemKind to_dsl(machine::MemKind k);

inline size_t index(machine::ProcKind k) { return static_cast<size_t>(k); }
inline size_t index(machine::MemKind k) { return static_cast<size_t>(k); }

}  // namespace mage::mapping::detail
