// The description of a program that people and language models read before writing a
// mapper: compact text, and the same facts as JSON.
#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/apps.h"
#include "apps/common.h"

namespace mage::apps {

using namespace mage::program;
using detail::thousands;

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.3g} {}", b, units[u]);
}

std::string range(double lo, double hi, const std::function<std::string(double)>& f) {
  std::string a = f(lo), b = f(hi);
  return a == b ? a : a + "-" + b;
}

// A colour: "3" in one dimension, "(1,2)" in more.
std::string color_text(const Point& c) { return c.dim == 1 ? std::to_string(c[0]) : to_string(c); }

std::string plural(int64_t n, const std::string& one, const std::string& many = "") {
  return thousands(n) + " " + (n == 1 ? one : many.empty() ? one + "s" : many);
}

std::string flops_text(double f) {
  return f == 0 ? "0" : f < 1e6 ? fmt::format("{:.0f}", f) : fmt::format("{:.3g}", f);
}

// Field names with runs of name_0, name_1, ... folded into name_0..k.
std::string field_list(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (size_t i = 0; i < names.size();) {
    auto us = names[i].rfind('_');
    size_t j = i + 1;
    if (us != std::string::npos && names[i].substr(us + 1) == "0") {
      std::string stem = names[i].substr(0, us + 1);
      while (j < names.size() && names[j] == stem + std::to_string(j - i)) ++j;
      if (j - i > 2) {
        out.push_back(fmt::format("{}0..{}", stem, j - i - 1));
        i = j;
        continue;
      }
      j = i + 1;
    }
    out.push_back(names[i]);
    i = j;
  }
  std::string s;
  for (const auto& n : out) s += (s.empty() ? "" : ",") + n;
  return s;
}

std::string access_text(const Program& p, const RegionArg& a) {
  std::string s;
  for (const FieldAccess& fa : a.access) {
    if (!s.empty()) s += "; ";
    s += std::string(to_string(fa.privilege));
    if (fa.privilege == Privilege::RED) s += fmt::format("({})", to_string(fa.redop));
    s += " " + field_list(p.field_names(a.region, fa.fields));
  }
  return s;
}

std::string arg_name(const Program& p, const RegionArg& a) {
  if (!a.partition) return p.regions[a.region.index()].name + " (whole)";
  const Partition& part = p.partitions[a.partition->index()];
  const char* ids[] = {"", "i", "(i,j)", "(i,j,k)"};
  std::string proj = a.projection.kind == Projection::Kind::Identity ? ids[part.colors.dim] : a.projection.text;
  return fmt::format("{}[{}]", part.name, proj);
}

// A launch "form": the same task launched the same way (pennant launches some tasks twice
// per cycle, on private and on shared points, which are two forms).
std::string form_key(const Program& p, const Launch& l) {
  std::string k = fmt::format("{}|{}|{}|{}|{}|", l.task.value, static_cast<int>(l.kind), to_string(l.domain), l.steps,
                              l.parent.valid() ? p.launches[l.parent.index()].task.value : -1);
  k += l.same_address_space ? "sas|" : "|";
  for (const RegionArg& a : l.args) k += arg_name(p, a) + ":" + access_text(p, a) + (a.virtual_tag ? ":v|" : "|");
  return k;
}

struct ArgStats {
  double lo = 1e300, hi = 0;    // bytes per point (read + written)
  double elo = 1e300, ehi = 0;  // elements per point
};

struct Form {
  LaunchId first;
  int count = 0;  // launches of this form
  int timed = 0;  // of which timed
  std::vector<ArgStats> args;
  double flo = 1e300, fhi = 0;  // flops per point
};

// Point costs of a launch's points (ancestors fixed at their first point and step).
void measure(const Program& p, const Launch& l, Form& f) {
  std::vector<const Launch*> chain;
  for (LaunchId a = l.parent; a.valid(); a = p.launches[a.index()].parent) chain.push_back(&p.launches[a.index()]);
  std::vector<PointRef> refs(chain.size() + 1);
  const PointRef* parent = nullptr;
  for (size_t k = chain.size(); k-- > 0;) {
    refs[k] = PointRef{chain[k]->domain.point(0), 0, parent};
    parent = &refs[k];
  }
  f.args.assign(l.args.size(), ArgStats{});
  const TaskKind& t = p.task_of(l);
  for (int64_t s = 0; s < l.steps; ++s)
    for (int64_t i = 0; i < l.domain.volume(); ++i) {
      PointRef ref{l.domain.point(i), s, parent};
      std::vector<int64_t> pieces;
      for (const RegionArg& a : l.args) pieces.push_back(p.piece_of(a, ref));
      auto c = p.point_cost(l, detail::cost_variant(t), pieces);
      f.flo = std::min(f.flo, c.flops);
      f.fhi = std::max(f.fhi, c.flops);
      for (size_t a = 0; a < l.args.size(); ++a) {
        double b = c.read_bytes[a] + c.write_bytes[a];
        auto e = static_cast<double>(p.elements_of(l.args[a], pieces[a]));
        ArgStats& st = f.args[a];
        st.lo = std::min(st.lo, b);
        st.hi = std::max(st.hi, b);
        st.elo = std::min(st.elo, e);
        st.ehi = std::max(st.ehi, e);
      }
    }
}

std::string launch_text(const Program& p, const Launch& l) {
  std::string s = l.kind == LaunchKind::Index ? "index launch over " + to_string(l.domain) : "single launch";
  if (l.parent.valid()) {
    const Launch& par = p.launches[l.parent.index()];
    s += fmt::format(" by each {} point", p.task_of(par).name);
    if (l.steps > 1) s += fmt::format(", {} steps per point", l.steps);
  }
  if (l.same_address_space) s += ", tagged same address space";
  return s;
}

std::string variants_text(const TaskKind& t) {
  std::string s;
  for (const Variant& v : t.variants) s += (s.empty() ? "" : ",") + std::string(to_string(v.proc));
  return s;
}

std::string order_text(const Program& p, const Launch& l) {
  const TaskKind& t = p.task_of(l);
  std::string s = t.name;
  // Distinguish forms of the same task by their first argument.
  std::vector<std::string> seen;
  for (const Launch& o : p.launches)
    if (o.task == l.task) {
      std::string k = form_key(p, o);
      if (std::find(seen.begin(), seen.end(), k) == seen.end()) seen.push_back(k);
    }
  const auto forms = seen.size();
  if (forms > 1 && !l.args.empty() && l.args[0].partition)
    s += "(" + p.partitions[l.args[0].partition->index()].name + ")";
  if (l.kind == LaunchKind::Index) s += "[" + to_string(l.domain) + "]";
  if (l.steps > 1) s += fmt::format(" x{}", l.steps);
  if (!l.children.empty()) {
    s += " { ";
    for (size_t i = 0; i < l.children.size(); ++i)
      s += (i ? ", " : "") + order_text(p, p.launches[l.children[i].index()]);
    s += " }";
  }
  return s;
}

std::string summary_of(const std::string& name) {
  for (const AppInfo& a : list())
    if (a.name == name) return a.summary;
  return "";
}

struct Collected {
  std::vector<std::pair<TaskKindId, std::vector<std::pair<std::string, Form>>>> tasks;  // in first-launch order
  std::vector<LaunchId> setup, iteration, after;
};

Collected collect(const Program& p) {
  Collected c;
  std::map<TaskKindId, size_t> index;
  for (const Launch& l : p.launches) {
    auto it = index.find(l.task);
    if (it == index.end()) {
      it = index.emplace(l.task, c.tasks.size()).first;
      c.tasks.push_back({l.task, {}});
    }
    auto& forms = c.tasks[it->second].second;
    std::string key = form_key(p, l);
    auto f = std::find_if(forms.begin(), forms.end(), [&](const auto& e) { return e.first == key; });
    if (f == forms.end()) {
      forms.push_back({key, Form{}});
      f = forms.end() - 1;
      f->second.first = l.id;
      measure(p, l, f->second);
    }
    ++f->second.count;
    // A child launch is issued once per parent point task and step; count launches as issued.
    if (l.timed) ++f->second.timed;
  }
  int first_timed = -1;
  bool seen_timed = false;
  for (LaunchId id : p.top) {
    const Launch& l = p.launches[id.index()];
    if (l.timed) {
      if (first_timed < 0) first_timed = l.iteration;
      seen_timed = true;
      if (l.iteration == first_timed) c.iteration.push_back(id);
    } else if (l.iteration >= 0) {
      continue;  // warm-up
    } else if (!seen_timed) {
      c.setup.push_back(id);
    } else {
      c.after.push_back(id);
    }
  }
  return c;
}

}  // namespace

std::string describe(const Program& p) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  Collected c = collect(p);
  Totals tot = totals(p);

  line(fmt::format("program {}: {}", p.name, summary_of(p.name)));
  for (const auto& [k, v] : p.notes) line(fmt::format("  {}: {}", k, v));
  line(fmt::format("  per timed iteration: {}, {}, {} flops, {} read+written",
                   plural(tot.launches_per_iteration, "top-level launch", "top-level launches"),
                   plural(tot.point_tasks_per_iteration, "point task"), flops_text(tot.flops_per_iteration),
                   human_bytes(tot.bytes_accessed_per_iteration)));

  line("");
  line(fmt::format("data ({} in all fields of all regions):", human_bytes(static_cast<double>(tot.region_bytes))));
  for (size_t r = 0; r < p.regions.size(); ++r) {
    const Region& reg = p.regions[r];
    std::string fields;
    for (const Field& f : reg.fields) fields += (fields.empty() ? "" : " ") + fmt::format("{}:{}", f.name, f.bytes);
    line(fmt::format("  region {} [{}] {} elements x {} B ({}): {}", reg.name, to_string(reg.space),
                     thousands(reg.volume()), reg.bytes_per_element(),
                     human_bytes(static_cast<double>(reg.total_bytes())), fields));
    for (const Partition& part : p.partitions) {
      if (part.region != RegionId::at(r)) continue;
      int64_t lo = INT64_MAX, hi = 0;
      for (const Piece& pc : part.pieces) {
        lo = std::min(lo, pc.elements);
        hi = std::max(hi, pc.elements);
      }
      std::string of = part.parent_name != reg.name ? " of " + part.parent_name : "";
      std::string s =
          fmt::format("    partition {}{}: {}, {} [{}] of {} elements", part.name, of,
                      part.disjoint ? "disjoint" : "aliased", plural(static_cast<int64_t>(part.pieces.size()), "piece"),
                      to_string(part.colors), lo == hi ? thousands(lo) : thousands(lo) + "-" + thousands(hi));
      if (part.reference) {
        const Partition& ref = p.partitions[part.reference->index()];
        std::string ov;
        for (const Overlap& o : part.pieces[0].overlaps)
          ov += (ov.empty() ? "" : ", ") +
                fmt::format("{}[{}] {}", ref.name, color_text(ref.colors.point(o.piece)), thousands(o.count));
        s += fmt::format("; overlaps pieces of {} (piece 0: {})", ref.name, ov.empty() ? "none" : ov);
      }
      line(s);
    }
  }

  line("");
  line("tasks (bytes are read + written per point task; costs on the GPU variant when there is one):");
  for (const auto& [tid, forms] : c.tasks) {
    const TaskKind& t = p.tasks[tid.index()];
    const Variant& v = *t.variant(detail::cost_variant(t));
    std::string layout = !v.layout ? "" : *v.layout == kinds::DimOrder::C ? ", requires C order" : ", requires F order";
    line(fmt::format("  {} ({}; variants {}; {}{}): {}", t.name, t.leaf ? "leaf" : "inner", variants_text(t),
                     to_string(v.cost.precision), layout, t.description));
    for (const auto& [key, f] : forms) {
      const Launch& l = p.launches[f.first.index()];
      std::string when = f.timed == f.count ? "timed" : f.timed == 0 ? "untimed" : fmt::format("{} timed", f.timed);
      if (l.parent.valid())
        line(fmt::format("    {} (in {} iteration{}, {})", launch_text(p, l), f.count, f.count == 1 ? "" : "s", when));
      else
        line(fmt::format("    {} ({} launch{}, {})", launch_text(p, l), f.count, f.count == 1 ? "" : "es", when));
      for (size_t a = 0; a < l.args.size(); ++a) {
        const RegionArg& arg = l.args[a];
        const ArgStats& st = f.args[a];
        std::string bytes = arg.only(Privilege::NA) ? ", no data"
                            : t.leaf                ? ", " + range(st.lo, st.hi, human_bytes)
                                                    : "";
        std::string pattern;
        if (t.leaf && !arg.only(Privilege::NA)) {
          Access acc = a < v.cost.args.size() ? v.cost.args[a].access : Access::Streaming;
          if (acc == Access::Gather) pattern = ", gather";
        }
        line(fmt::format("      {} {}: {} ({} elements{}{}){}", a, arg_name(p, arg), access_text(p, arg),
                         range(st.elo, st.ehi, [](double e) { return thousands(static_cast<int64_t>(e)); }), bytes,
                         pattern, arg.virtual_tag ? ", tagged virtual" : ""));
      }
      for (FutureId fu : l.consumes) line(fmt::format("      uses future {}", p.futures[fu.index()].name));
      if (l.produces) {
        const Future& fu = p.futures[l.produces->index()];
        line(fmt::format(
            "      produces future {}{}", fu.name,
            fu.reduction != RedOp::None ? fmt::format(" ({}-reduced over points)", to_string(fu.reduction)) : ""));
      }
      if (l.fence) line("      after an execution fence");
      if (t.leaf) line(fmt::format("      cost: {} flops per point", range(f.flo, f.fhi, flops_text)));
    }
  }

  line("");
  auto seq = [&](const std::vector<LaunchId>& ids) {
    std::string s;
    for (LaunchId id : ids) s += (s.empty() ? "" : ", ") + order_text(p, p.launches[id.index()]);
    return s;
  };
  line("program order:");
  if (!c.setup.empty()) line("  before the loop: " + seq(c.setup));
  if (p.warmup_iterations) line(fmt::format("  {} warm-up iteration(s), then", p.warmup_iterations));
  line(fmt::format("  each of {} timed iterations: {}", p.iterations, seq(c.iteration)));
  if (!c.after.empty()) line("  after the loop: " + seq(c.after));
  const bool sas =
      std::any_of(p.launches.begin(), p.launches.end(), [](const Launch& l) { return l.same_address_space; });
  const bool virt = std::any_of(p.launches.begin(), p.launches.end(), [](const Launch& l) {
    return std::any_of(l.args.begin(), l.args.end(), [](const RegionArg& a) { return a.virtual_tag; });
  });
  if (sas || virt) {
    line("");
    line("tags (set by the program, as in the published code):");
    if (sas)
      line(
          "  same address space: without an IndexTaskMap rule, the launch's points go to the processors of the "
          "launching node only");
    if (virt) line("  virtual: the argument is mapped without an instance (an inner task never touches its data)");
  }
  return out;
}

nlohmann::ordered_json describe_json(const Program& p) {
  using json = nlohmann::ordered_json;  // keys in the order written here (README "JSON output")
  Collected c = collect(p);
  Totals tot = totals(p);
  auto dims = [](const Domain& d) {
    json a = json::array();
    for (int i = 0; i < d.dim; ++i) a.push_back(d.extent[static_cast<size_t>(i)]);
    return a;
  };
  json j;
  j["name"] = p.name;
  j["summary"] = summary_of(p.name);
  j["notes"] = json::object();
  for (const auto& [k, v] : p.notes) j["notes"][k] = v;
  j["iterations"] = p.iterations;
  j["warmup_iterations"] = p.warmup_iterations;
  j["per_iteration"] = {{"launches", tot.launches_per_iteration},
                        {"point_tasks", tot.point_tasks_per_iteration},
                        {"flops", tot.flops_per_iteration},
                        {"bytes_accessed", tot.bytes_accessed_per_iteration}};
  j["region_bytes"] = tot.region_bytes;
  j["regions"] = json::array();
  for (size_t r = 0; r < p.regions.size(); ++r) {
    const Region& reg = p.regions[r];
    json jr = {
        {"name", reg.name}, {"extent", dims(reg.space)}, {"elements", reg.volume()}, {"bytes", reg.total_bytes()}};
    jr["fields"] = json::array();
    for (const Field& f : reg.fields) jr["fields"].push_back({{"name", f.name}, {"bytes", f.bytes}});
    jr["partitions"] = json::array();
    for (const Partition& part : p.partitions) {
      if (part.region != RegionId::at(r)) continue;
      json jp = {{"name", part.name},
                 {"parent", part.parent_name},
                 {"disjoint", part.disjoint},
                 {"colors", dims(part.colors)}};
      json elems = json::array();
      for (const Piece& pc : part.pieces) elems.push_back(pc.elements);
      jp["piece_elements"] = elems;
      if (part.reference) {
        jp["reference"] = p.partitions[part.reference->index()].name;
        json ovs = json::array();
        for (const Piece& pc : part.pieces) {
          json o = json::array();
          for (const Overlap& ov : pc.overlaps) o.push_back({{"piece", ov.piece}, {"count", ov.count}});
          ovs.push_back(o);
        }
        jp["overlaps"] = ovs;
      }
      jr["partitions"].push_back(jp);
    }
    j["regions"].push_back(jr);
  }
  j["tasks"] = json::array();
  for (const auto& [tid, forms] : c.tasks) {
    const TaskKind& t = p.tasks[tid.index()];
    const Variant& v = *t.variant(detail::cost_variant(t));
    json jt = {{"name", t.name},
               {"leaf", t.leaf},
               {"description", t.description},
               {"precision", std::string(to_string(v.cost.precision))}};
    jt["variants"] = json::array();
    for (const Variant& var : t.variants) jt["variants"].push_back(std::string(to_string(var.proc)));
    jt["layout"] = v.layout ? kinds::to_string(*v.layout) : "any";
    jt["launches"] = json::array();
    for (const auto& [key, f] : forms) {
      const Launch& l = p.launches[f.first.index()];
      json jl = {{"kind", l.kind == LaunchKind::Index ? "index" : "single"},
                 {"domain", dims(l.domain)},
                 {"count", f.count},
                 {"timed", f.timed},
                 {"steps", l.steps},
                 {"fence", l.fence},
                 {"same_address_space", l.same_address_space}};
      if (l.parent.valid()) jl["parent_task"] = p.task_of(p.launches[l.parent.index()]).name;
      if (t.leaf) jl["flops_per_point"] = {f.flo, f.fhi};
      jl["args"] = json::array();
      for (size_t a = 0; a < l.args.size(); ++a) {
        const RegionArg& arg = l.args[a];
        json ja = {{"index", a}, {"names", p.arg_names(arg)}, {"region", p.regions[arg.region.index()].name}};
        if (arg.partition) {
          ja["partition"] = p.partitions[arg.partition->index()].name;
          ja["projection"] = arg.projection.kind == Projection::Kind::Identity ? "i" : arg.projection.text;
        }
        ja["access"] = json::array();
        for (const FieldAccess& fa : arg.access) {
          json jf = {{"privilege", std::string(to_string(fa.privilege))},
                     {"fields", p.field_names(arg.region, fa.fields)}};
          if (fa.privilege == Privilege::RED) jf["redop"] = std::string(to_string(fa.redop));
          ja["access"].push_back(jf);
        }
        ja["elements_per_point"] = {f.args[a].elo, f.args[a].ehi};
        ja["bytes_per_point"] = {f.args[a].lo, f.args[a].hi};
        Access acc = a < v.cost.args.size() ? v.cost.args[a].access : Access::Streaming;
        ja["pattern"] = std::string(to_string(acc));
        ja["virtual_tag"] = arg.virtual_tag;
        jl["args"].push_back(ja);
      }
      json uses = json::array();
      for (FutureId fu : l.consumes) uses.push_back(p.futures[fu.index()].name);
      jl["uses_futures"] = uses;
      if (l.produces) jl["produces_future"] = p.futures[l.produces->index()].name;
      jt["launches"].push_back(jl);
    }
    j["tasks"].push_back(jt);
  }
  auto seq = [&](const std::vector<LaunchId>& ids) {
    json a = json::array();
    for (LaunchId id : ids) a.push_back(order_text(p, p.launches[id.index()]));
    return a;
  };
  j["order"] = {{"setup", seq(c.setup)}, {"iteration", seq(c.iteration)}, {"after", seq(c.after)}};
  return j;
}

}  // namespace mage::apps
