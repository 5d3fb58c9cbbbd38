// mage check, mage fmt, mage place: the mapping-language commands.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/apps.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/program_choice.h"
#include "dsl/dsl.h"
#include "machine/machine.h"
#include "mapping/mapping.h"

namespace mage::cli {

namespace {

void print_diagnostics(const std::vector<dsl::Diagnostic>& ds, const dsl::SourceFile& src, size_t limit) {
  std::fputs(diagnostics_text(ds, src, limit).c_str(), stderr);
}

nlohmann::ordered_json to_json(const dsl::Diagnostic& d) {
  return {{"file", d.file},
          {"line", d.loc.line},
          {"col", d.loc.col},
          {"severity", std::string(dsl::to_string(d.severity))},
          {"id", std::string(dsl::diag_name(d.id))},
          {"message", d.message}};
}

std::string point_text(const std::vector<int64_t>& p) {
  std::string out = "(";
  for (size_t i = 0; i < p.size(); ++i) out += (i ? "," : "") + std::to_string(p[i]);
  return out + ")";
}

// "node N proc P", "node N proc *" (every processor of a node), or a list.
std::string placement_text(const dsl::Placement& p, int64_t procs_per_rank) {
  const auto& ps = p.processors;
  if (ps.size() == 1 && !p.is_set) return fmt::format("node {} proc {}", ps[0].node, ps[0].proc);
  bool one_node = std::all_of(ps.begin(), ps.end(), [&](const dsl::ProcessorId& x) { return x.node == ps[0].node; });
  if (one_node && static_cast<int64_t>(ps.size()) == procs_per_rank) return fmt::format("node {} proc *", ps[0].node);
  std::string out = "{";
  for (size_t i = 0; i < ps.size(); ++i) out += fmt::format("{}node {} proc {}", i ? ", " : "", ps[i].node, ps[i].proc);
  return out + "}";
}

std::vector<std::string> proc_kind_names() {
  std::vector<std::string> names;
  for (kinds::ProcKind k : kinds::kProcKinds) names.emplace_back(kinds::to_string(k));
  return names;
}

struct CheckOptions {
  std::vector<std::string> files;
  bool json = false;
  size_t error_limit = dsl::kDefaultDiagnosticLimit;
  std::string app;
  std::string machine;  // --machine: also evaluate the top level against it, as `mage run` does
};

// The names a mapper may use for `app` (the same at every scale).
program::Program::MapperNames names_of(const std::string& app) {
  apps::Params params;
  params.scale = apps::Scale::Small;
  return apps::build(app, params).mapper_names();
}

int run_check(const CheckOptions& o) {
  std::optional<program::Program::MapperNames> names;
  if (!o.app.empty()) {
    try {
      names = names_of(o.app);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mage: error: %s\n", e.what());
      return 1;
    }
  }
  if (std::count(o.files.begin(), o.files.end(), "-") > 1)
    return fail("standard input (-) can be read once: name it once among the files");
  std::optional<dsl::MachineShape> shape;
  if (!o.machine.empty()) {
    try {
      shape = mapping::shape_of(machine::load(o.machine));
    } catch (const machine::LoadError& e) {
      std::fprintf(stderr, "mage: error: %s\n", e.what());
      return 1;
    }
  }
  bool errors = false;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const auto& path : o.files) {
    auto text = read_file(path);
    if (!text) {
      errors = true;
      continue;
    }
    dsl::SourceFile src{source_name(path), *text};
    dsl::CompileResult r = dsl::compile(src);
    if (!r.unit) errors = true;
    if (r.unit && names) {
      auto warnings = dsl::check_names(*r.unit, names->tasks, names->data);
      r.diagnostics.insert(r.diagnostics.end(), warnings.begin(), warnings.end());
    }
    if (r.unit && shape) {
      // The top-level statements run against the machine, as every evaluation runs them.
      dsl::BindResult b = dsl::Mapper::bind(r.unit, *shape);
      r.diagnostics.insert(r.diagnostics.end(), b.diagnostics.begin(), b.diagnostics.end());
      if (!b.mapper) errors = true;
    }
    if (o.json) {
      for (const auto& d : r.diagnostics) all.push_back(to_json(d));
    } else {
      print_diagnostics(r.diagnostics, src, o.error_limit);
    }
  }
  if (o.json) print_json(all);
  return errors ? 1 : 0;
}

struct FmtOptions {
  std::string file;
  bool in_place = false;
  size_t error_limit = dsl::kDefaultDiagnosticLimit;
};

int run_fmt(const FmtOptions& o) {
  if (o.in_place && o.file == "-") return fail("--in-place rewrites a file, not standard input (-)");
  auto text = read_file(o.file);
  if (!text) return 1;
  dsl::SourceFile src{source_name(o.file), *text};
  dsl::CompileResult r = dsl::compile(src);
  print_diagnostics(r.diagnostics, src, o.error_limit);
  if (!r.unit) return 1;
  std::string canonical = dsl::canonical_text(*r.unit);
  if (!o.in_place) {
    std::fputs(canonical.c_str(), stdout);
    return 0;
  }
  if (canonical == *text) return 0;
  return write_file(o.file, canonical) ? 0 : 1;
}

struct PlaceOptions {
  std::string file;
  int64_t ranks = 1;
  int64_t procs = 1;
  std::string kind;
  std::string task;
  std::vector<int64_t> domain;
  bool single = false;
  std::vector<int64_t> parent_proc{0, 0};
  size_t error_limit = dsl::kDefaultDiagnosticLimit;
};

int run_place(const PlaceOptions& o) {
  auto text = read_file(o.file);
  if (!text) return 1;
  dsl::SourceFile src{source_name(o.file), *text};
  dsl::MachineShape shape;
  shape.ranks = o.ranks;
  // Every kind gets --procs processors per rank, so any Machine(KIND) evaluates.
  for (kinds::ProcKind k : kinds::kProcKinds) shape.procs_per_rank[k] = o.procs;
  dsl::BindResult b = dsl::load_mapper(src, shape);
  print_diagnostics(b.diagnostics, src, o.error_limit);
  if (!b.mapper) return 1;
  const dsl::Mapper& m = *b.mapper;

  // As the mapping does, a Task rule's PROC (a kind no machine has) is passed over.
  kinds::ProcKind kind = kinds::ProcKind::GPU;
  if (!o.kind.empty()) {
    kind = *kinds::parse_proc_kind(o.kind);
  } else {
    for (const dsl::ProcWord& w : m.processor_kinds(o.task))
      if (w.kind) {
        kind = *w.kind;
        break;
      }
  }
  if (o.parent_proc.size() != 2 || o.parent_proc[0] < 0 || o.parent_proc[0] >= o.ranks || o.parent_proc[1] < 0 ||
      o.parent_proc[1] >= o.procs) {
    std::fprintf(stderr, "mage: error: --parent-proc must be NODE,PROC within --nodes %lld and --procs-per-node %lld\n",
                 static_cast<long long>(o.ranks), static_cast<long long>(o.procs));
    return 1;
  }
  dsl::TaskView parent;
  parent.name = "parent";
  parent.kind = kind;
  parent.processor = dsl::ProcessorId{o.parent_proc[0], o.parent_proc[1]};

  std::vector<std::vector<int64_t>> points;
  if (o.single) {
    points.push_back({});
  } else {
    std::vector<int64_t> p(o.domain.size(), 0);
    for (;;) {
      points.push_back(p);
      size_t d = p.size();
      while (d > 0 && ++p[d - 1] == o.domain[d - 1]) p[--d] = 0;
      if (d == 0) break;
    }
  }
  for (const auto& point : points) {
    dsl::TaskView t;
    t.name = o.task;
    t.ipoint = point;
    t.ispace = o.single ? std::vector<int64_t>{} : o.domain;
    t.parent = &parent;
    dsl::PlacementResult r = m.place(t, kind, !o.single);
    if (!r.has_rule) {
      std::fprintf(stderr, "mage: error: no %s rule applies to task %s on %s\n",
                   o.single ? "SingleTaskMap" : "IndexTaskMap", o.task.c_str(),
                   std::string(dsl::to_string(kind)).c_str());
      return 1;
    }
    if (r.error) {
      print_diagnostics({*r.error}, src, 0);
      return 1;
    }
    std::printf("%s -> %s\n", o.single ? "()" : point_text(point).c_str(),
                placement_text(*r.placement, o.procs).c_str());
  }
  for (const auto& line : m.log()) std::fprintf(stderr, "mapper log: %s\n", line.c_str());
  return 0;
}

}  // namespace

void register_check(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CheckOptions>();
  auto* sub = app.add_subcommand("check", "Check mapper files and print diagnostics (exit 1 on errors)");
  sub->add_option("files", o->files, "Mapper files (.map; - reads one from standard input)")->required();
  sub->add_flag("--json", o->json, "Print the diagnostics as a JSON array (all of them, whatever --error-limit)");
  add_error_limit(*sub, o->error_limit);
  sub->add_option("--app", o->app, "Also warn about task and region names this program does not have")
      ->check(program_name());
  sub->add_option("--machine", o->machine,
                  "Also run the top-level statements against this machine (a preset or a .toml file), as `mage run` "
                  "does");
  sub->callback([o, &exit_code] { exit_code = run_check(*o); });
}

void register_fmt(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<FmtOptions>();
  auto* sub = app.add_subcommand("fmt", "Print a mapper in canonical form");
  sub->add_option("file", o->file, "Mapper file (.map; - reads it from standard input)")->required();
  sub->add_flag("--in-place,-i", o->in_place, "Rewrite the file instead of printing");
  add_error_limit(*sub, o->error_limit);
  sub->callback([o, &exit_code] { exit_code = run_fmt(*o); });
}

void register_place(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<PlaceOptions>();
  auto* sub = app.add_subcommand("place", "Evaluate the placement of every point of a launch");
  sub->add_option("file", o->file, "Mapper file (.map; - reads it from standard input)")->required();
  // As `mage run` names them; --ranks and --procs, the names of earlier versions, still work.
  auto* nodes = sub->add_option("--nodes", o->ranks, "Nodes of the machine (dimension 0 of Machine(KIND))")
                    ->check(CLI::Range(1, 4096));
  auto* procs =
      sub->add_option("--procs-per-node", o->procs, "Processors of each kind per node")->check(CLI::Range(1, 4096));
  auto* old_nodes = sub->add_option("--ranks", o->ranks)->check(CLI::Range(1, 4096))->group("")->excludes(nodes);
  auto* old_procs = sub->add_option("--procs", o->procs)->check(CLI::Range(1, 4096))->group("")->excludes(procs);
  sub->add_option("--kind", o->kind, "Processor kind the task is mapped to (default: first kind of its Task rule)")
      ->check(one_of("processor kind", "kinds", proc_kind_names()));
  sub->add_option("--task", o->task, "Task name")->required();
  auto* domain = sub->add_option("--domain", o->domain, "Launch domain, e.g. 4,4")
                     ->delimiter(',')
                     ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  auto* single = sub->add_flag("--single", o->single, "A single launch (SingleTaskMap) instead of an index launch");
  domain->excludes(single);
  sub->add_option("--parent-proc", o->parent_proc, "Processor NODE,PROC of the parent task (default 0,0)")
      ->delimiter(',')
      ->expected(2);
  add_error_limit(*sub, o->error_limit);
  sub->callback([o, domain, single, nodes, procs, old_nodes, old_procs, &exit_code] {
    if (nodes->count() + old_nodes->count() == 0) throw CLI::RequiredError("--nodes");
    if (procs->count() + old_procs->count() == 0) throw CLI::RequiredError("--procs-per-node");
    if (!o->single && o->domain.empty()) throw CLI::RequiredError("--domain (or --single)");
    if (o->domain.size() > 3) throw CLI::ValidationError("--domain", "a launch domain has 1 to 3 dimensions");
    int64_t volume = 1;
    for (int64_t d : o->domain) volume *= d;
    if (volume > 1'000'000) throw CLI::ValidationError("--domain", "at most 1,000,000 points");
    (void)domain;
    (void)single;
    exit_code = run_place(*o);
  });
}

}  // namespace mage::cli
