// libFuzzer target: arbitrary bytes as a machine file (TOML) through machine::load_text,
// then what the rest of mage asks of a machine that loaded: its description, its JSON,
// accesses, channels and routes. A bad file must end in machine::LoadError (the
// "FILE:LINE: KEY: REASON" message a user sees); any other exception, a crash, a hang, a
// leak or a sanitizer report is a failure.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "machine/machine.h"

using namespace mage::machine;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "machine fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// What mapping and the simulator ask of a machine, over the first nodes only: a valid file
// may describe thousands of processors, and every pair would make the fuzzer slow, not wiser.
void exercise(const Machine& m) {
  (void)describe(m);
  (void)as_json(m).dump();
  const int nodes = m.nodes() < 2 ? m.nodes() : 2;
  for (int node = 0; node < nodes; ++node) {
    for (auto kind : mage::kinds::kProcKinds) {
      for (ProcId p : m.processors_of(kind, node)) {
        for (const Access& a : m.accessible(p)) (void)m.access(p, a.mem);
        for (auto mem_kind : mage::kinds::kMemKinds) (void)m.best_memory(p, mem_kind);
        (void)m.name(p);
      }
      for (int rank = 0; rank < m.ranks() && rank < 2; ++rank)
        for (int i = 0; i < m.procs_per_rank(kind) && i < 4; ++i) (void)m.processor_at(kind, rank, i);
    }
    (void)m.channels(node);
  }
  // Routes between the memories of node 0 and from them to the first memories of the last node.
  std::vector<MemId> from, to;
  for (auto kind : mage::kinds::kMemKinds) {
    for (MemId id : m.memories_of(kind, 0)) from.push_back(id);
    for (MemId id : m.memories_of(kind, m.nodes() - 1)) to.push_back(id);
  }
  if (from.size() > 16) from.resize(16);
  if (to.size() > 16) to.resize(16);
  for (MemId a : from) {
    (void)m.accessors(a);
    for (MemId b : from) (void)m.route(a, b);
    for (MemId b : to) (void)m.route(a, b);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // As the file says; when that loads, also with the overrides `mage run` accepts (most
  // inputs do not load, and parsing them three times would only slow the fuzzer).
  for (const Overrides& o : {Overrides{}, Overrides{2, std::nullopt}, Overrides{std::nullopt, 2}}) {
    try {
      exercise(load_text(text, "fuzz.toml", o));
    } catch (const LoadError& e) {
      if (std::string_view(e.what()).substr(0, 9) != "fuzz.toml")
        fail("a LoadError that does not name the file", e.what());
      if (!o.nodes && !o.ranks_per_node) return 0;
    } catch (const std::exception& e) {
      fail("an exception other than LoadError", e.what());
    }
  }
  return 0;
}
