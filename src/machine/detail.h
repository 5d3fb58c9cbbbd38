// Internals of the machine module shared by its source files (not for other modules).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "machine/machine.h"

namespace mage::machine {

// Builds the machine a validated spec describes (load_text validates).
Machine build_machine(MachineSpec spec);

namespace detail {

// How a node's processors of one kind are shared among its ranks.
struct RankShare {
  int per_rank = 0;  // processors each rank owns
  int split = 1;     // >1: that many ranks share one processor group of the node, each
                     // owning a processor with cores / split cores and rates / split
  int cores = 1;     // cores of each rank's processor
};
// Processors of this kind in one node, before splitting among ranks.
int node_count(const ProcessorSpec& p, int sockets, int ranks_per_node);
// nullopt when the node's processors of this kind cannot be shared equally.
std::optional<RankShare> rank_share(const ProcessorSpec& p, int sockets, int ranks_per_node);

struct EmbeddedPreset {
  std::string_view name;
  std::string_view text;
};
// Generated at build time from machines/*.toml (see CMakeLists.txt), sorted by name.
std::span<const EmbeddedPreset> embedded_presets();

}  // namespace detail
}  // namespace mage::machine
