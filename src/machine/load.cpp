// Reading a machine from TOML (format: docs/machines.md), with every check a user can trip
// reported as a LoadError that names the file, the line and the key.
#include <fmt/format.h>
#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kinds/kinds.h"
#include "machine/detail.h"
#include "machine/machine.h"

namespace mage::machine {

using kinds::kMemKinds;
using kinds::kProcKinds;
using kinds::MemKind;
using kinds::ProcKind;

namespace {

constexpr int kMaxNodes = 4096;
constexpr int kMaxCount = 65536;
constexpr int kMaxSockets = 64;
constexpr double kMaxCapacityGib = 1 << 20;  // 1 PiB per memory instance
// 1 MiB: a smaller memory holds no instance of any program (and 1e-300 GiB rounds to 0 bytes).
constexpr double kMinCapacityGib = 1.0 / 1024;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kGB = 1e9;
constexpr double kGflop = 1e9;
constexpr double kUsPerS = 1e6;  // divide (not multiply by 1e-6) so that 10 us is exactly 1e-5 s

std::string format_error(const std::string& file, int line, const std::string& key, const std::string& reason) {
  std::string out;
  if (!file.empty()) out += line > 0 ? fmt::format("{}:{}: ", file, line) : file + ": ";
  if (!key.empty()) out += key + ": ";
  return out + reason;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i ? ", " : "") + std::string(words[i]);
  return out;
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    default:
      return "a date or time";
  }
}

// Reads one TOML table, remembering where it is for messages.
class Reader {
 public:
  Reader(const std::string& file, const toml::table& table, std::string path)
      : file_(file), table_(table), path_(std::move(path)) {}

  [[noreturn]] void fail(int line, std::string_view key, const std::string& reason) const {
    throw LoadError(file_, line, key_path(key), reason);
  }
  [[noreturn]] void fail_at(std::string_view key, const std::string& reason) const {
    const toml::node* n = table_.get(key);
    fail(n ? line_of(*n) : line(), key, reason);
  }
  std::string key_path(std::string_view key) const {
    if (key.empty()) return path_;
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  int line() const { return line_of(table_); }
  int line_of_key(std::string_view key) const {
    const toml::node* n = table_.get(key);
    return n ? line_of(*n) : line();
  }
  bool has(std::string_view key) const { return table_.contains(key); }
  const toml::node* get(std::string_view key) const { return table_.get(key); }

  // Every key must be one of `allowed`; the first unknown one (in file order) is reported.
  void only(const std::vector<std::string_view>& allowed) const {
    const toml::key* bad = nullptr;
    for (auto&& [k, v] : table_) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      if (!bad || k.source().begin.line < bad->source().begin.line) bad = &k;
    }
    if (!bad) return;
    std::string hint = kinds::closest_word(bad->str(), allowed);
    std::string reason = hint.empty() ? fmt::format("unknown key (expected one of: {})", join(allowed))
                                      : fmt::format("unknown key (did you mean '{}'?)", hint);
    const int line = bad->source().begin.line ? static_cast<int>(bad->source().begin.line) : this->line();
    throw LoadError(file_, line, key_path(bad->str()), reason);
  }

  const toml::node& required(std::string_view key, std::string_view what) const {
    const toml::node* n = table_.get(key);
    if (!n) fail(line(), key, fmt::format("missing key (the {} it gives is required)", what));
    return *n;
  }

  double number(const toml::node& n, std::string_view key) const {
    if (auto i = n.value_exact<int64_t>()) return static_cast<double>(*i);
    if (auto d = n.value_exact<double>()) {
      if (!std::isfinite(*d)) fail(line_of(n), key, fmt::format("must be a finite number (got {})", *d));
      return *d;
    }
    fail(line_of(n), key, fmt::format("must be a number, not {}", type_name(n)));
  }
  // A number > 0 (rates, bandwidths, capacities).
  double positive(std::string_view key, std::string_view what) const {
    const toml::node& n = required(key, what);
    double v = number(n, key);
    if (v <= 0) fail(line_of(n), key, fmt::format("must be greater than zero (got {})", v));
    return v;
  }
  // A number >= 0 (latencies, overheads).
  double non_negative(std::string_view key, std::string_view what) const {
    const toml::node& n = required(key, what);
    double v = number(n, key);
    if (v < 0) fail(line_of(n), key, fmt::format("must not be negative (got {})", v));
    return v;
  }
  int integer(std::string_view key, int fallback, int lo, int hi, std::string_view what, bool is_required) const {
    const toml::node* n = table_.get(key);
    if (!n) {
      if (is_required) required(key, what);
      return fallback;
    }
    auto i = n->value_exact<int64_t>();
    if (!i) fail(line_of(*n), key, fmt::format("must be an integer, not {}", type_name(*n)));
    if (*i < lo || *i > hi) {
      if (*i < 1 && lo == 1) fail(line_of(*n), key, fmt::format("must be at least 1 (got {})", *i));
      fail(line_of(*n), key, fmt::format("must be between {} and {} (got {})", lo, hi, *i));
    }
    return static_cast<int>(*i);
  }
  std::string string(const toml::node& n, std::string_view key) const {
    auto s = n.value_exact<std::string>();
    if (!s) fail(line_of(n), key, fmt::format("must be a string, not {}", type_name(n)));
    return *s;
  }
  bool boolean(std::string_view key, bool fallback) const {
    const toml::node* n = table_.get(key);
    if (!n) return fallback;
    auto b = n->value_exact<bool>();
    if (!b) fail(line_of(*n), key, fmt::format("must be true or false, not {}", type_name(*n)));
    return *b;
  }
  template <typename Kind>
  Kind kind(const toml::node& n, std::string_view key, std::optional<Kind> (*parse)(std::string_view),
            std::span<const Kind> all, std::string_view noun) const {
    std::string s = string(n, key);
    if (auto k = parse(s)) return *k;
    std::vector<std::string_view> names;
    for (Kind k : all) names.push_back(to_string(k));
    std::string hint = kinds::closest_word(s, names);
    fail(line_of(n), key,
         fmt::format("unknown {} kind '{}' ({}one of {})", noun, s, hint.empty() ? "" : "did you mean '" + hint + "'? ",
                     join(names)));
  }
  ProcKind proc_kind(const toml::node& n, std::string_view key) const {
    return kind<ProcKind>(n, key, kinds::parse_proc_kind, kProcKinds, "processor");
  }
  MemKind mem_kind(const toml::node& n, std::string_view key) const {
    return kind<MemKind>(n, key, kinds::parse_mem_kind, kMemKinds, "memory");
  }
  // A word from a fixed list, or the fallback when the key is absent.
  template <typename T>
  T choice(std::string_view key, T fallback, const std::vector<std::pair<std::string_view, T>>& words) const {
    const toml::node* n = table_.get(key);
    if (!n) return fallback;
    std::string s = string(*n, key);
    std::vector<std::string_view> names;
    for (auto& [w, v] : words) {
      if (w == s) return v;
      names.push_back(w);
    }
    fail(line_of(*n), key, fmt::format("must be one of {} (got \"{}\")", join(names), s));
  }

  // The tables of an array of tables `[[path.key]]`.
  std::vector<Reader> entries(std::string_view key) const {
    std::vector<Reader> out;
    const toml::node* n = table_.get(key);
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr)
      fail(line_of(*n), key, fmt::format("must be an array of tables: write each entry as [[{}]]", key_path(key)));
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table* t = (*arr)[i].as_table();
      std::string p = fmt::format("{}[{}]", key_path(key), i);
      if (!t)
        fail(line_of((*arr)[i]), fmt::format("{}[{}]", key, i),
             fmt::format("must be a table, not {}", type_name((*arr)[i])));
      out.emplace_back(file_, *t, p);
    }
    return out;
  }
  std::optional<Reader> table(std::string_view key) const {
    const toml::node* n = table_.get(key);
    if (!n) return std::nullopt;
    const toml::table* t = n->as_table();
    if (!t) fail(line_of(*n), key, fmt::format("must be a table [{}], not {}", key_path(key), type_name(*n)));
    return Reader(file_, *t, key_path(key));
  }

 private:
  const std::string& file_;
  const toml::table& table_;
  std::string path_;
};

const std::vector<std::pair<std::string_view, Per>> kProcPer{
    {"node", Per::Node}, {"socket", Per::Socket}, {"rank", Per::Rank}};
const std::vector<std::pair<std::string_view, Per>> kMemPer{
    {"node", Per::Node}, {"socket", Per::Socket}, {"gpu", Per::Gpu}};
const std::vector<std::pair<std::string_view, Reach>> kReach{
    {"own", Reach::Own}, {"other", Reach::Other}, {"all", Reach::All}};

// Where each processor entry's count was written, for rank errors.
struct Places {
  std::vector<int> processor_count_line;
  std::vector<std::string> processor_key;
  int nodes_line = 0;
  int ranks_line = 0;
  int node_line = 0;
};

std::vector<MemKind> kind_list(const Reader& r, std::string_view key) {
  const toml::node& n = r.required(key, "memory kinds the channel connects");
  std::vector<MemKind> out;
  if (const toml::array* arr = n.as_array()) {
    if (arr->empty()) r.fail(line_of(n), key, "must name at least one memory kind");
    for (const toml::node& e : *arr) {
      MemKind k = r.mem_kind(e, key);
      if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
    }
  } else {
    out.push_back(r.mem_kind(n, key));
  }
  return out;
}

MachineSpec read_spec(const std::string& file, const toml::table& root, Places& at) {
  MachineSpec spec;
  spec.source = file;
  spec.name = std::filesystem::path(file).stem().string();
  Reader top(file, root, "");
  top.only({"description", "nodes", "ranks_per_node", "node", "network"});
  if (const toml::node* d = top.get("description")) spec.description = top.string(*d, "description");
  spec.nodes = top.integer("nodes", 1, 1, kMaxNodes, "", false);
  spec.ranks_per_node = top.integer("ranks_per_node", 1, 1, kMaxCount, "", false);
  at.nodes_line = top.line_of_key("nodes");
  at.ranks_line = top.line_of_key("ranks_per_node");

  std::optional<Reader> node = top.table("node");
  if (!node) top.fail(1, "node", "missing table [node] (the processors and memories of one node)");
  at.node_line = node->line();
  node->only({"sockets", "processor", "memory", "affinity", "channel"});
  spec.sockets = node->integer("sockets", 1, 1, kMaxSockets, "", false);

  // Processors.
  if (!node->has("processor"))
    node->fail(node->line(), "processor", "missing: a node needs at least one [[node.processor]]");
  for (const Reader& r : node->entries("processor")) {
    r.only({"kind", "per", "count", "cores", "fp64_gflops", "fp32_gflops", "launch_overhead_us",
            "remote_accesses_in_flight"});
    ProcessorSpec p;
    p.line = r.line();
    p.kind = r.proc_kind(r.required("kind", "processor kind"), "kind");
    for (size_t i = 0; i < spec.processors.size(); ++i)
      if (spec.processors[i].kind == p.kind)
        r.fail_at("kind",
                  fmt::format("a second entry for {} processors (the first is at line {}); give one entry per kind",
                              to_string(p.kind), spec.processors[i].line));
    p.per = r.choice("per", Per::Node, kProcPer);
    p.count = r.integer("count", 0, 1, kMaxCount, "number of processors", true);
    p.cores = r.integer("cores", 1, 1, kMaxCount, "", false);
    if (p.kind == ProcKind::GPU && r.has("cores"))
      r.fail_at("cores", "a GPU is not a group of cores; only CPU, OMP, IO and PY processors take 'cores'");
    p.fp64_flops = r.positive("fp64_gflops", "double-precision rate") * kGflop;
    p.fp32_flops = r.positive("fp32_gflops", "single-precision rate") * kGflop;
    p.launch_overhead_s = r.non_negative("launch_overhead_us", "per-task launch overhead") / kUsPerS;
    p.remote_accesses_in_flight = static_cast<int>(r.integer("remote_accesses_in_flight", 1, 1, 1024, "", false));
    spec.processors.push_back(p);
    at.processor_count_line.push_back(r.line_of_key("count"));
    at.processor_key.push_back(r.key_path("count"));
  }
  auto find_proc = [&](ProcKind k) -> const ProcessorSpec* {
    for (const auto& p : spec.processors)
      if (p.kind == k) return &p;
    return nullptr;
  };

  // Memories.
  if (!node->has("memory")) node->fail(node->line(), "memory", "missing: a node needs at least one [[node.memory]]");
  for (const Reader& r : node->entries("memory")) {
    r.only({"kind", "per", "capacity_gib", "bandwidth_gb_per_s", "multi_node_only"});
    MemorySpec m;
    m.line = r.line();
    m.kind = r.mem_kind(r.required("kind", "memory kind"), "kind");
    for (const MemorySpec& other : spec.memories)
      if (other.kind == m.kind)
        r.fail_at("kind", fmt::format("a second entry for {} (the first is at line {}); give one entry per kind",
                                      to_string(m.kind), other.line));
    m.per = r.choice("per", Per::Node, kMemPer);
    if (m.kind == MemKind::FBMEM && m.per != Per::Gpu)
      r.fail_at(r.has("per") ? "per" : "kind", "FBMEM is a GPU's framebuffer: it must have per = \"gpu\"");
    if (m.per == Per::Gpu && !find_proc(ProcKind::GPU))
      r.fail_at("per", fmt::format("{} is per GPU but the node declares no GPU processor", to_string(m.kind)));
    double gib = r.positive("capacity_gib", "capacity");
    if (gib > kMaxCapacityGib)
      r.fail_at("capacity_gib", fmt::format("must be at most {} GiB (got {})", kMaxCapacityGib, gib));
    if (gib < kMinCapacityGib)
      r.fail_at("capacity_gib", fmt::format("must be at least 1 MiB, {} GiB (got {})", kMinCapacityGib, gib));
    m.capacity_bytes = static_cast<uint64_t>(std::llround(gib * kGiB));
    m.bandwidth = r.positive("bandwidth_gb_per_s", "bandwidth the memory sustains") * kGB;
    m.multi_node_only = r.boolean("multi_node_only", false);
    spec.memories.push_back(m);
  }
  auto find_mem = [&](MemKind k) -> const MemorySpec* {
    for (const auto& m : spec.memories)
      if (m.kind == k) return &m;
    return nullptr;
  };
  if (!find_mem(MemKind::SYSMEM))
    node->fail(node->line(), "memory", "every node needs a SYSMEM (add a [[node.memory]] with kind = \"SYSMEM\")");
  for (size_t i = 0; i < spec.processors.size(); ++i)
    if (spec.processors[i].kind == ProcKind::GPU && !find_mem(MemKind::FBMEM))
      throw LoadError(file, spec.processors[i].line, fmt::format("node.processor[{}].kind", i),
                      "a GPU has no FBMEM: add a [[node.memory]] with kind = \"FBMEM\" and per = \"gpu\"");

  // Affinities.
  for (const Reader& r : node->entries("affinity")) {
    r.only({"proc", "mem", "reach", "bandwidth_gb_per_s", "latency_us"});
    AffinitySpec a;
    a.line = r.line();
    a.proc = r.proc_kind(r.required("proc", "processor kind"), "proc");
    if (!find_proc(a.proc))
      r.fail_at("proc", fmt::format("the node declares no {} processor (no [[node.processor]] with kind = \"{}\")",
                                    to_string(a.proc), to_string(a.proc)));
    a.mem = r.mem_kind(r.required("mem", "memory kind"), "mem");
    const MemorySpec* mem = find_mem(a.mem);
    if (!mem)
      r.fail_at("mem", fmt::format("the node declares no {} memory (no [[node.memory]] with kind = \"{}\")",
                                   to_string(a.mem), to_string(a.mem)));
    a.reach = r.choice("reach", Reach::Own, kReach);
    if (a.reach == Reach::Own && mem->per == Per::Gpu && a.proc != ProcKind::GPU)
      r.fail_at(r.has("reach") ? "reach" : "mem",
                fmt::format("a {} processor has no {} of its own ({} is per GPU): use reach = \"all\" or \"other\"",
                            to_string(a.proc), to_string(a.mem), to_string(a.mem)));
    if (a.reach == Reach::Other && mem->per == Per::Node)
      r.fail_at("reach",
                fmt::format("{} has one instance per node, so there is no other one to reach", to_string(a.mem)));
    for (const AffinitySpec& b : spec.affinities)
      if (b.proc == a.proc && b.mem == a.mem && (a.reach == b.reach || a.reach == Reach::All || b.reach == Reach::All))
        r.fail_at("mem", fmt::format("{} -> {} is already given at line {} (reach \"{}\")", to_string(a.proc),
                                     to_string(a.mem), b.line, to_string(b.reach)));
    a.bandwidth = r.positive("bandwidth_gb_per_s", "access bandwidth") * kGB;
    a.latency = r.non_negative("latency_us", "access latency") / kUsPerS;
    spec.affinities.push_back(a);
  }
  for (size_t i = 0; i < spec.processors.size(); ++i) {
    const ProcessorSpec& p = spec.processors[i];
    bool any = false, own_fb = false;
    for (const AffinitySpec& a : spec.affinities) {
      if (a.proc != p.kind) continue;
      any = true;
      own_fb = own_fb || (a.mem == MemKind::FBMEM && a.reach != Reach::Other);
    }
    const std::string key = fmt::format("node.processor[{}]", i);
    if (!any)
      throw LoadError(file, p.line, key,
                      fmt::format("{} processors can access no memory: add a [[node.affinity]] with proc = \"{}\"",
                                  to_string(p.kind), to_string(p.kind)));
    if (p.kind == ProcKind::GPU && !own_fb)
      throw LoadError(
          file, p.line, key,
          "a GPU cannot access its own FBMEM: add a [[node.affinity]] with proc = \"GPU\", mem = \"FBMEM\"");
  }

  // Channels.
  struct PairSeen {
    MemKind a, b;
    int line;
  };
  std::vector<PairSeen> seen;
  for (const Reader& r : node->entries("channel")) {
    r.only({"between", "and", "bandwidth_gb_per_s", "latency_us"});
    ChannelSpec c;
    c.line = r.line();
    c.between = kind_list(r, "between");
    c.and_ = kind_list(r, "and");
    for (const auto& [key, kinds] : {std::pair{"between", &c.between}, std::pair{"and", &c.and_}})
      for (MemKind k : *kinds)
        if (!find_mem(k))
          r.fail_at(key, fmt::format("the node declares no {} memory (no [[node.memory]] with kind = \"{}\")",
                                     to_string(k), to_string(k)));
    std::vector<PairSeen> mine;
    for (MemKind a : c.between)
      for (MemKind b : c.and_) {
        MemKind lo = std::min(a, b), hi = std::max(a, b);
        for (const PairSeen& s : seen)
          if (s.a == lo && s.b == hi)
            r.fail_at("and", fmt::format("a channel between {} and {} is already given at line {}", to_string(lo),
                                         to_string(hi), s.line));
        mine.push_back({lo, hi, c.line});
      }
    seen.insert(seen.end(), mine.begin(), mine.end());
    c.bandwidth = r.positive("bandwidth_gb_per_s", "bandwidth of each direction") * kGB;
    c.latency = r.non_negative("latency_us", "latency") / kUsPerS;
    spec.channels.push_back(std::move(c));
  }

  // Network.
  if (std::optional<Reader> net = top.table("network")) {
    net->only({"bandwidth_gb_per_s", "latency_us", "endpoint"});
    spec.network.present = true;
    spec.network.bandwidth = net->positive("bandwidth_gb_per_s", "injection bandwidth per node") * kGB;
    spec.network.latency = net->non_negative("latency_us", "latency") / kUsPerS;
    if (const toml::node* e = net->get("endpoint")) {
      spec.network.endpoint = net->mem_kind(*e, "endpoint");
      const MemorySpec* m = find_mem(spec.network.endpoint);
      if (!m) net->fail_at("endpoint", fmt::format("the node declares no {} memory", to_string(spec.network.endpoint)));
      if (m->per != Per::Node)
        net->fail_at("endpoint", fmt::format("the endpoint must have one instance per node ({} is per {})",
                                             to_string(m->kind), to_string(m->per)));
    }
  }
  return spec;
}

// Checks what depends on the node and rank counts (the file's or the overrides').
void check_counts(const MachineSpec& spec, const Places& at, const Overrides& o) {
  const std::string& file = spec.source;
  auto origin = [](bool overridden) { return overridden ? " (as overridden)" : ""; };
  if (o.nodes && (*o.nodes < 1 || *o.nodes > kMaxNodes))
    throw LoadError(file, 0, "nodes", fmt::format("override must be between 1 and {} (got {})", kMaxNodes, *o.nodes));
  if (o.ranks_per_node && (*o.ranks_per_node < 1 || *o.ranks_per_node > kMaxCount))
    throw LoadError(file, 0, "ranks_per_node",
                    fmt::format("override must be between 1 and {} (got {})", kMaxCount, *o.ranks_per_node));
  for (size_t i = 0; i < spec.processors.size(); ++i) {
    const ProcessorSpec& p = spec.processors[i];
    if (detail::rank_share(p, spec.sockets, spec.ranks_per_node)) continue;
    const int total = detail::node_count(p, spec.sockets, spec.ranks_per_node);
    std::string reason =
        fmt::format("ranks_per_node = {}{} does not divide the node's {} {} processors", spec.ranks_per_node,
                    origin(o.ranks_per_node.has_value()), total, to_string(p.kind));
    if (p.cores > 1)
      reason +=
          fmt::format(", nor do {} ranks share each {}-core processor equally",
                      spec.ranks_per_node % total == 0 ? spec.ranks_per_node / total : spec.ranks_per_node, p.cores);
    throw LoadError(file, at.processor_count_line[i], at.processor_key[i], reason);
  }
  if (spec.nodes > 1 && !spec.network.present)
    throw LoadError(
        file, at.nodes_line, "network",
        fmt::format("missing table [network]: needed when nodes = {}{}", spec.nodes, origin(o.nodes.has_value())));
}

std::vector<std::string_view> preset_names() {
  std::vector<std::string_view> names;
  for (const auto& p : detail::embedded_presets()) names.push_back(p.name);
  return names;
}

bool is_path(std::string_view s) {
  return s.find('/') != std::string_view::npos || (s.size() >= 5 && s.substr(s.size() - 5) == ".toml");
}

}  // namespace

LoadError::LoadError(std::string file, int line, std::string key, std::string reason)
    : std::runtime_error(format_error(file, line, key, reason)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      reason_(std::move(reason)) {}

Machine load_text(std::string_view toml_text, std::string_view source, const Overrides& overrides) {
  const std::string file(source);
  toml::table root;
  try {
    root = toml::parse(toml_text, file);
  } catch (const toml::parse_error& e) {
    throw LoadError(file, static_cast<int>(e.source().begin.line), "",
                    fmt::format("not valid TOML: {}", e.description()));
  }
  Places at;
  MachineSpec spec = read_spec(file, root, at);
  if (overrides.nodes) spec.nodes = *overrides.nodes;
  if (overrides.ranks_per_node) spec.ranks_per_node = *overrides.ranks_per_node;
  check_counts(spec, at, overrides);
  return build_machine(std::move(spec));
}

Machine load(std::string_view preset_or_path, const Overrides& overrides) {
  if (!is_path(preset_or_path)) {
    if (auto text = preset_text(preset_or_path))
      return load_text(*text, fmt::format("machines/{}.toml", preset_or_path), overrides);
    auto names = preset_names();
    std::string hint = kinds::closest_word(preset_or_path, names);
    throw LoadError("", 0, "",
                    fmt::format("unknown machine preset '{}' ({}presets: {}; or give a path to a .toml file)",
                                preset_or_path, hint.empty() ? "" : "did you mean '" + hint + "'? ", join(names)));
  }
  const std::string path(preset_or_path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw LoadError(path, 0, "", "is a directory, not a machine file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(path, 0, "", fmt::format("cannot read the machine file: {}", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str(), path, overrides);
}

std::optional<std::string_view> preset_text(std::string_view name) {
  for (const auto& p : detail::embedded_presets())
    if (p.name == name) return p.text;
  return std::nullopt;
}

std::vector<Preset> presets() {
  std::vector<Preset> out;
  for (const auto& p : detail::embedded_presets()) {
    Preset preset{std::string(p.name), ""};
    try {
      toml::table t = toml::parse(p.text);
      preset.description = t["description"].value_or(std::string{});
    } catch (const toml::parse_error&) {
      preset.description = "(not valid TOML: run `mage machine show` on it for details)";
    }
    out.push_back(std::move(preset));
  }
  return out;
}

}  // namespace mage::machine
