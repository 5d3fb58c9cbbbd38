// Data in the runtime model: instances, the validity of each (block, field), the copies a
// task needs before it runs, reduction instances and their folding, collection, memory
// accounting and out-of-memory errors.
#include <fmt/format.h>
#include <algorithm>

#include "sim/runtime.h"

namespace mage::sim::detail {

using program::FieldMask;
using program::Span;

namespace {

bool has(FieldMask m, int f) { return (m >> f) & 1U; }

template <typename F>
void for_fields(FieldMask m, F&& f) {
  while (m) {
    const int i = __builtin_ctzll(m);
    f(i);
    m &= m - 1;
  }
}

std::string bytes_text(double b) {
  const double kib = 1024.0, mib = kib * 1024, gib = mib * 1024;
  if (b >= gib) return fmt::format("{:.1f} GiB", b / gib);
  if (b >= mib) return fmt::format("{:.1f} MiB", b / mib);
  if (b >= kib) return fmt::format("{:.1f} KiB", b / kib);
  return fmt::format("{:.0f} B", b);
}

}  // namespace

std::string Runtime::data_name(InstId i) const {
  const Instance& inst = instances_[static_cast<size_t>(i)];
  if (inst.partition.valid()) return p_.partitions[inst.partition.index()].name;
  return p_.regions[inst.region.index()].name;
}

std::string Runtime::data_label(InstId i) const {
  const Instance& inst = instances_[static_cast<size_t>(i)];
  std::string s = data_name(i);
  if (inst.partition.valid() && inst.piece >= 0) {
    const program::Partition& part = p_.partitions[inst.partition.index()];
    s += fmt::format("[{}]", program::to_string(part.colors.point(inst.piece)));
  }
  std::string fields;
  for (const std::string& f : p_.field_names(inst.region, inst.fields)) fields += (fields.empty() ? "" : ",") + f;
  const bool many = p_.field_names(inst.region, inst.fields).size() > 1;
  s += many ? fmt::format(".{{{}}}", fields) : fmt::format(".{}", fields);
  if (inst.redop != program::RedOp::None) s += fmt::format(" (reduction {})", program::to_string(inst.redop));
  return s;
}

// ---------------------------------------------------------------- mapping one argument

void Runtime::map_argument(PointTaskId t, size_t arg, double now) {
  const program::Launch& l = launch_of(t);
  const ArgInfo& ai = arg_info(t, arg);
  const mapping::ArgPlacement& ap = placement(t).args[arg];
  if (ap.is_virtual || (ai.normal == 0 && ai.reduced == 0)) return;
  const program::RegionArg& ra = l.args[arg];
  const std::vector<Span>& spans = p_.spans_of(ra, g_.piece(t, arg));
  std::vector<std::pair<InstId, FieldMask>>& parts = scratch_parts_;
  parts.clear();
  if (ai.normal) {
    if (!find_or_create(t, arg, spans, ai.normal, program::RedOp::None, parts)) return;
    for (const auto& [i, fields] : parts) {
      map_part(t, arg, i, fields, now);
      if (failed()) return;
    }
  }
  if (ai.reduced) {
    parts.clear();
    if (!find_or_create(t, arg, spans, ai.reduced, ai.redop, parts)) return;
    for (const auto& [i, fields] : parts) {
      ++instances_[static_cast<size_t>(i)].pins;
      uses_.push_back(Use{i, static_cast<int32_t>(arg), false, false});
      add_writer(i, t);
      for (CopyId c : instances_[static_cast<size_t>(i)].inflight) wait_for(t, c);
      // A reduction instance accumulates one operation's contributions (its points on this
      // memory); before another operation reuses it, Legion applies what it holds to a
      // valid instance (and refills it with the identity).
      const program::LaunchId by = instances_[static_cast<size_t>(i)].reduced_by;
      if (by.valid() && by != l.id) apply_pending(t, i, spans, fields, now);
      instances_[static_cast<size_t>(i)].reduced_by = l.id;
      for (const Span& s : spans) add_pending(i, s.block, fields);
    }
  }
}

// Makes `fields` of the argument valid in instance i for task t.
void Runtime::map_part(PointTaskId t, size_t arg, InstId i, FieldMask fields, double now) {
  const program::Launch& l = launch_of(t);
  const ArgInfo& ai = arg_info(t, arg);
  const mapping::ArgPlacement& ap = placement(t).args[arg];
  const program::RegionArg& ra = l.args[arg];
  const program::RegionId r = ra.region;
  const program::Region& region = p_.regions[r.index()];
  const std::vector<Span>& spans = p_.spans_of(ra, g_.piece(t, arg));
  const FieldMask read = ai.read & fields, written = ai.written & fields;

  ++instances_[static_cast<size_t>(i)].pins;
  uses_.push_back(Use{i, static_cast<int32_t>(arg), ap.collect, ai.read_only()});
  if (written) add_writer(i, t);
  // Copies already on their way into the instance: the task waits for them too.
  scratch_copies_.assign(instances_[static_cast<size_t>(i)].inflight.begin(),
                         instances_[static_cast<size_t>(i)].inflight.end());
  const machine::MemId mem = instances_[static_cast<size_t>(i)].mem;

  // 1. The (block, field) data it reads and lacks, from the best valid copy, one copy per source.
  auto& sources = scratch_sources_;
  sources.clear();
  if (read) {
    for (const Span& s : spans) {
      FieldMask here = 0;
      for (const Holder& h : block(r, s.block).holders)
        if (h.inst == i) here = h.valid;
      for_fields(read & ~here, [&](int f) {
        const InstId src = best_source(r, s.block, f, s.count, mem, i);
        if (src < 0) return;  // never written: nothing to copy
        const int64_t count = std::min(s.count, instances_[static_cast<size_t>(src)].count(s.block));
        const int64_t bytes = count * region.fields[static_cast<size_t>(f)].bytes;
        auto it = std::find_if(sources.begin(), sources.end(), [&](const auto& p) { return p.first == src; });
        if (it == sources.end())
          sources.emplace_back(src, bytes);
        else
          it->second += bytes;
      });
    }
    if (failed()) return;
    std::sort(sources.begin(), sources.end());
    for (const auto& [src, bytes] : sources)
      if (!instant(src, i)) wait_for(t, new_copy(src, i, bytes, false, t, now));
  }

  // 2. Reductions not yet applied: folded into this instance if it reads them, dropped
  //    if it overwrites them.
  auto& folds = scratch_folds_;
  auto& folded_blocks = scratch_blocks_;
  folds.clear();
  folded_blocks.clear();
  const FieldMask overwritten = written & ~read;
  for (const Span& s : spans) {
    const BlockState& bs = block(r, s.block);
    if (bs.pending.empty()) continue;
    FieldMask folded = 0;
    for (const Holder& h : bs.pending) {
      const FieldMask m = h.valid & read;
      if (!m) continue;
      folded |= m;
      const int64_t bytes = instances_[static_cast<size_t>(h.inst)].count(s.block) * region.bytes(m);
      auto it = std::find_if(folds.begin(), folds.end(), [&](const auto& p) { return p.first == h.inst; });
      if (it == folds.end())
        folds.emplace_back(h.inst, bytes);
      else
        it->second += bytes;
    }
    folded_blocks.emplace_back(s.block, folded);
  }
  std::sort(folds.begin(), folds.end());
  // The fold copies pin the reduction instances, so they survive until applied.
  for (const auto& [red, bytes] : folds)
    if (!instant(red, i)) wait_for(t, new_copy(red, i, bytes, true, t, now));
  for (const auto& [b, folded] : folded_blocks) {
    drop_pending(r, b, folded | overwritten);
    if (folded) {
      set_valid(i, b, folded);
      invalidate_others(i, b, folded);
    }
  }
  for (CopyId c : scratch_copies_) wait_for(t, c);

  // 3. Validity once the task has run: what it reads is here, what it writes is only here.
  for (const Span& s : spans) {
    set_valid(i, s.block, read | written);
    if (written) invalidate_others(i, s.block, written);
  }
}

bool Runtime::find_or_create(PointTaskId t, size_t arg, const std::vector<Span>& spans, FieldMask fields,
                             program::RedOp redop, std::vector<std::pair<InstId, FieldMask>>& parts) {
  const program::Launch& l = launch_of(t);
  const program::RegionArg& ra = l.args[arg];
  const mapping::ArgPlacement& ap = placement(t).args[arg];
  const machine::MemId mem = ap.memory;
  FieldMask missing = fields;
  {
    const std::vector<InstId>& list = instances_in(mem, ra.region);
    for (InstId id : list) {
      const Instance& inst = instances_[static_cast<size_t>(id)];
      const FieldMask have = inst.fields & missing;
      if (!have || !inst.alive || inst.redop != redop) continue;
      if (inst.layout.fields != ap.layout.fields || inst.layout.order != ap.layout.order) continue;
      if (ap.layout.exact && inst.spans.size() != spans.size()) continue;
      bool covers = true;
      for (const Span& s : spans)
        if (inst.count(s.block) < s.count) {
          covers = false;
          break;
        }
      if (!covers) continue;
      parts.emplace_back(id, have);
      missing &= ~have;
      if (!missing) return true;
    }
  }
  const program::Region& region = p_.regions[ra.region.index()];
  uint64_t bytes = 0;
  for (const Span& s : spans) bytes += static_cast<uint64_t>(s.count) * static_cast<uint64_t>(region.bytes(missing));
  const machine::Memory& memory = m_.memory(mem);
  const auto m = mem.index();
  if (used_[m] + bytes > memory.capacity_bytes) collect_redundant(mem, used_[m] + bytes - memory.capacity_bytes, parts);
  if (used_[m] + bytes > memory.capacity_bytes) {
    fail(Status::ExecutionError, record_out_of_memory(mem, bytes, t, arg));
    return false;
  }
  Instance inst;
  inst.region = ra.region;
  inst.mem = mem;
  inst.layout = ap.layout;
  inst.fields = missing;
  inst.redop = redop;
  inst.spans = spans;
  inst.bytes = bytes;
  if (ra.partition) {
    inst.partition = *ra.partition;
    inst.piece = g_.piece(t, arg);
  }
  inst.first_task = t;
  const auto id = static_cast<InstId>(instances_.size());
  instances_.push_back(std::move(inst));
  instances_in(mem, ra.region).push_back(id);
  used_[m] += bytes;
  peak_[m] = std::max(peak_[m], used_[m]);
  parts.emplace_back(id, missing);
  return true;
}

// Legion collects instances when an allocation does not fit: an instance no mapped task or
// copy uses whose data is all valid in another instance too (a read-only copy) can go, as
// Legion's garbage collector frees instances under memory pressure. Oldest first, until
// `need` bytes are free or no such instance is left.
void Runtime::collect_redundant(machine::MemId mem, uint64_t need,
                                const std::vector<std::pair<InstId, FieldMask>>& keep) {
  std::vector<InstId> candidates;
  for (size_t r = 0; r < p_.regions.size(); ++r)
    for (InstId id : instances_in(mem, program::RegionId::at(r))) {
      const Instance& inst = instances_[static_cast<size_t>(id)];
      if (inst.pins > 0 || inst.redop != program::RedOp::None || !inst.inflight.empty()) continue;
      if (std::any_of(keep.begin(), keep.end(), [&](const auto& k) { return k.first == id; })) continue;
      candidates.push_back(id);
    }
  std::sort(candidates.begin(), candidates.end());
  uint64_t freed = 0;
  for (InstId id : candidates) {
    if (freed >= need) return;
    Instance& inst = instances_[static_cast<size_t>(id)];
    bool redundant = true;
    for (const Span& s : inst.spans) {
      FieldMask mine = 0, elsewhere = 0;
      const int64_t count = inst.count(s.block);
      for (const Holder& h : block(inst.region, s.block).holders) {
        if (h.inst == id)
          mine = h.valid;
        else if (instances_[static_cast<size_t>(h.inst)].count(s.block) >= count)
          elsewhere |= h.valid;
      }
      if (mine & ~elsewhere) {
        redundant = false;
        break;
      }
    }
    if (!redundant) continue;
    const uint64_t bytes = inst.bytes;
    const std::vector<Span> spans = inst.spans;
    for (const Span& s : spans) clear_valid(id, s.block, ~FieldMask{0});
    if (!instances_[static_cast<size_t>(id)].alive) freed += bytes;
  }
}

InstId Runtime::best_source(program::RegionId r, int32_t b, int field, int64_t need, machine::MemId dst,
                            InstId exclude) {
  InstId best = -1;
  bool best_covers = false;
  RouteInfo best_route;
  bool unreachable = false;
  for (const Holder& h : block(r, b).holders) {
    if (h.inst == exclude || !has(h.valid, field)) continue;
    const Instance& inst = instances_[static_cast<size_t>(h.inst)];
    const RouteInfo route = topo_.route(inst.mem, dst);
    if (!route.reachable) {
      unreachable = true;
      continue;
    }
    const bool covers = inst.count(b) >= need;
    bool better = best < 0;
    if (!better && covers != best_covers)
      better = covers;
    else if (!better && route.bandwidth != best_route.bandwidth)
      better = route.bandwidth > best_route.bandwidth;
    else if (!better && route.latency != best_route.latency)
      better = route.latency < best_route.latency;
    else if (!better)
      better = h.inst < best;
    if (better) {
      best = h.inst;
      best_covers = covers;
      best_route = route;
    }
  }
  if (best < 0 && unreachable)
    fail(Status::SimulatorFailure, fmt::format("no route to {} from any memory holding {} block {}", m_.name(dst),
                                               p_.regions[r.index()].name, b));
  return best;
}

// A copy between two instances of one memory whose source holds its data already is a
// local memcpy: it takes no simulated time and is not recorded.
bool Runtime::instant(InstId src, InstId dst) const {
  const Instance& s = instances_[static_cast<size_t>(src)];
  return s.mem == instances_[static_cast<size_t>(dst)].mem && s.inflight.empty();
}

CopyId Runtime::new_copy(InstId src, InstId dst, int64_t bytes, bool fold, PointTaskId t, double now) {
  const auto c = static_cast<CopyId>(copies_.size());
  Copy cp;
  cp.src = src;
  cp.dst = dst;
  cp.src_mem = instances_[static_cast<size_t>(src)].mem;
  cp.dst_mem = instances_[static_cast<size_t>(dst)].mem;
  cp.bytes = bytes;
  cp.fold = fold;
  cp.for_task = t;
  cp.issued_s = now;
  copies_.push_back(std::move(cp));
  // A copy reads its source only after the data on its way into the source arrived; a
  // fold applies to the destination only after the destination's own data arrived.
  int32_t deps = 0;
  for (CopyId d : instances_[static_cast<size_t>(src)].inflight) {
    copies_[static_cast<size_t>(d)].dependents.push_back(c);
    ++deps;
  }
  // Tasks map ahead: the source's data is there once the tasks writing it completed. A fold
  // waits for every earlier reducer into its reduction instance; a copy for task t for those
  // t depends on (the writers of what it reads; others write other blocks or fields).
  for (PointTaskId w : instances_[static_cast<size_t>(src)].writers) {
    if (w == t || tasks_[w.index()].phase == Phase::Complete) continue;
    if (!fold && !depends_on(t, w)) continue;
    copies_after_[w.index()].push_back(c);
    ++deps;
  }
  if (fold && dst != src)
    for (CopyId d : instances_[static_cast<size_t>(dst)].inflight) {
      copies_[static_cast<size_t>(d)].dependents.push_back(c);
      ++deps;
    }
  copies_[static_cast<size_t>(c)].deps_left = deps;
  ++instances_[static_cast<size_t>(src)].pins;
  ++instances_[static_cast<size_t>(dst)].pins;
  instances_[static_cast<size_t>(dst)].inflight.push_back(c);
  ++copies_pending_;
  if (deps == 0) ready_copies_.push_back(c);
  return c;
}

void Runtime::add_writer(InstId i, PointTaskId t) {
  auto& writers = instances_[static_cast<size_t>(i)].writers;
  if (std::find(writers.begin(), writers.end(), t) == writers.end()) writers.push_back(t);
}

bool Runtime::depends_on(PointTaskId t, PointTaskId w) const {
  if (!t.valid()) return true;
  const auto* begin = g_.pred_ids.data() + g_.pred_start[t.index()];
  const auto* end = g_.pred_ids.data() + g_.pred_start[t.index() + 1];
  return std::find(begin, end, w) != end;
}

void Runtime::wait_for(PointTaskId t, CopyId c) {
  copies_[static_cast<size_t>(c)].waiters.push_back(t);
  ++tasks_[t.index()].copies_left;
}

// ---------------------------------------------------------------- validity

void Runtime::set_valid(InstId i, int32_t b, FieldMask f) {
  if (!f) return;
  Instance& inst = instances_[static_cast<size_t>(i)];
  BlockState& bs = block(inst.region, b);
  for (Holder& h : bs.holders)
    if (h.inst == i) {
      h.valid |= f;
      return;
    }
  bs.holders.push_back(Holder{i, f});
  ++inst.entries;
}

void Runtime::clear_valid(InstId i, int32_t b, FieldMask f) {
  Instance& inst = instances_[static_cast<size_t>(i)];
  BlockState& bs = block(inst.region, b);
  for (size_t k = 0; k < bs.holders.size(); ++k)
    if (bs.holders[k].inst == i) {
      bs.holders[k].valid &= ~f;
      if (bs.holders[k].valid == 0) {
        bs.holders.erase(bs.holders.begin() + static_cast<std::ptrdiff_t>(k));
        --inst.entries;
        maybe_free(i);
      }
      return;
    }
}

void Runtime::invalidate_others(InstId keep, int32_t b, FieldMask f) {
  BlockState& bs = block(instances_[static_cast<size_t>(keep)].region, b);
  std::vector<InstId> emptied;
  for (Holder& h : bs.holders)
    if (h.inst != keep && (h.valid & f)) {
      h.valid &= ~f;
      if (h.valid == 0) emptied.push_back(h.inst);
    }
  if (emptied.empty()) return;
  bs.holders.erase(std::remove_if(bs.holders.begin(), bs.holders.end(), [](const Holder& h) { return h.valid == 0; }),
                   bs.holders.end());
  for (InstId i : emptied) {
    --instances_[static_cast<size_t>(i)].entries;
    maybe_free(i);
  }
}

void Runtime::add_pending(InstId i, int32_t b, FieldMask f) {
  Instance& inst = instances_[static_cast<size_t>(i)];
  BlockState& bs = block(inst.region, b);
  for (Holder& h : bs.pending)
    if (h.inst == i) {
      h.valid |= f;
      return;
    }
  bs.pending.push_back(Holder{i, f});
  ++inst.entries;
}

void Runtime::drop_pending(program::RegionId r, int32_t b, FieldMask f) {
  if (!f) return;
  BlockState& bs = block(r, b);
  std::vector<InstId> emptied;
  for (Holder& h : bs.pending)
    if (h.valid & f) {
      h.valid &= ~f;
      if (h.valid == 0) emptied.push_back(h.inst);
    }
  if (emptied.empty()) return;
  bs.pending.erase(std::remove_if(bs.pending.begin(), bs.pending.end(), [](const Holder& h) { return h.valid == 0; }),
                   bs.pending.end());
  for (InstId i : emptied) {
    --instances_[static_cast<size_t>(i)].entries;
    maybe_free(i);
  }
}

void Runtime::apply_pending(PointTaskId t, InstId red, const std::vector<Span>& spans, FieldMask fields, double now) {
  const program::RegionId r = instances_[static_cast<size_t>(red)].region;
  const program::Region& region = p_.regions[r.index()];
  const machine::MemId mem = instances_[static_cast<size_t>(red)].mem;
  std::vector<std::pair<InstId, int64_t>> targets;  // valid instance, bytes
  for (const Span& s : spans) {
    BlockState& bs = block(r, s.block);
    FieldMask mine = 0;
    for (const Holder& h : bs.pending)
      if (h.inst == red) mine = h.valid & fields;
    if (!mine) continue;
    // Into the nearest valid instance; when nobody holds the data any more (nothing reads
    // it), into the oldest reduction instance still holding contributions to it, which plays
    // the home (the first reducer: e.g. the k = 0 face of a 3-D matrix multiplication). The
    // oldest one keeps its own.
    InstId dst = best_source(r, s.block, __builtin_ctzll(mine), s.count, mem, red);
    if (failed()) return;
    const bool into_valid = dst >= 0;
    if (!into_valid)
      for (const Holder& h : bs.pending)
        if (h.inst < red && (h.valid & mine) == mine && (dst < 0 || h.inst < dst)) dst = h.inst;
    if (dst < 0) continue;
    const int64_t bytes = instances_[static_cast<size_t>(red)].count(s.block) * region.bytes(mine);
    auto it = std::find_if(targets.begin(), targets.end(), [&](const auto& p) { return p.first == dst; });
    if (it == targets.end())
      targets.emplace_back(dst, bytes);
    else
      it->second += bytes;
    for (Holder& h : bs.pending)
      if (h.inst == red) h.valid &= ~mine;
    if (into_valid) invalidate_others(dst, s.block, mine);
  }
  std::sort(targets.begin(), targets.end());
  for (const auto& [dst, bytes] : targets)
    if (!instant(red, dst)) wait_for(t, new_copy(red, dst, bytes, true, t, now));
  // The emptied pending entries (the instance stays: t is about to reduce into it).
  for (const Span& s : spans) {
    BlockState& bs = block(r, s.block);
    const auto before = bs.pending.size();
    bs.pending.erase(std::remove_if(bs.pending.begin(), bs.pending.end(),
                                    [&](const Holder& h) { return h.inst == red && !h.valid; }),
                     bs.pending.end());
    instances_[static_cast<size_t>(red)].entries -= static_cast<int32_t>(before - bs.pending.size());
  }
}

// Data no task will read or reduce into again: every copy of it and its pending reductions
// can go. Data that later tasks still reduce into keeps its valid instances even when nobody
// reads it again (the runtime cannot know that nobody will, and folds the reductions into
// them): e.g. A's starting tiles of the 3-D matrix multiplications.
void Runtime::kill_dead(program::RegionId r, int32_t b, FieldMask f) {
  if (!f) return;
  BlockState& bs = block(r, b);
  std::vector<InstId> emptied;
  for (Holder& h : bs.holders)
    if (h.valid & f) {
      h.valid &= ~f;
      if (h.valid == 0) emptied.push_back(h.inst);
    }
  bs.holders.erase(std::remove_if(bs.holders.begin(), bs.holders.end(), [](const Holder& h) { return h.valid == 0; }),
                   bs.holders.end());
  for (InstId i : emptied) {
    --instances_[static_cast<size_t>(i)].entries;
    maybe_free(i);
  }
  drop_pending(r, b, f);
}

void Runtime::unpin(InstId i) {
  --instances_[static_cast<size_t>(i)].pins;
  maybe_free(i);
}

void Runtime::maybe_free(InstId i) {
  Instance& inst = instances_[static_cast<size_t>(i)];
  if (!inst.alive || inst.pins > 0 || inst.entries > 0) return;
  inst.alive = false;
  used_[inst.mem.index()] -= inst.bytes;
  auto& list = instances_in(inst.mem, inst.region);
  list.erase(std::remove(list.begin(), list.end(), i), list.end());
}

// After a task completed: its instances are released; read-only copies of CollectMemory
// arguments are dropped when nobody else uses them and another valid copy exists; data
// nobody will read again is dropped.
void Runtime::release_uses(PointTaskId t) {
  for (int32_t k = uses_begin_[t.index()]; k < uses_end_[t.index()]; ++k) {
    const Use u = uses_[static_cast<size_t>(k)];
    Instance& inst = instances_[static_cast<size_t>(u.inst)];
    --inst.pins;
    if (u.collect && u.read_only && inst.pins == 0 && inst.alive) {
      const std::vector<Span> spans = inst.spans;
      for (const Span& s : spans) {
        FieldMask mine = 0, elsewhere = 0;
        for (const Holder& h : block(inst.region, s.block).holders) {
          if (h.inst == u.inst)
            mine = h.valid;
          else
            elsewhere |= h.valid;
        }
        if (mine & elsewhere) clear_valid(u.inst, s.block, mine & elsewhere);
      }
    }
    maybe_free(u.inst);
  }
  const program::Launch& l = launch_of(t);
  const mapping::TaskPlacement& tp = placement(t);
  for (size_t a = 0; a < l.args.size(); ++a) {
    const ArgInfo& ai = args_[l.id.index()][a];
    if (tp.args[a].is_virtual || (ai.normal == 0 && ai.reduced == 0)) continue;
    const program::RegionId r = l.args[a].region;
    for (const Span& s : p_.spans_of(l.args[a], g_.piece(t, a))) {
      FieldMask dead = 0;
      for_fields(ai.read, [&](int f) { --reads_left(r, s.block, f); });
      for_fields(ai.reduced, [&](int f) { --reductions_left(r, s.block, f); });
      for_fields(ai.normal | ai.reduced, [&](int f) {
        if (reads_left(r, s.block, f) == 0 && reductions_left(r, s.block, f) == 0) dead |= FieldMask{1} << f;
      });
      kill_dead(r, s.block, dead);
    }
  }
}

std::string Runtime::record_out_of_memory(machine::MemId mem, uint64_t bytes, PointTaskId t, size_t arg) {
  const machine::Memory& memory = m_.memory(mem);
  std::vector<InstId> here;
  for (size_t i = 0; i < instances_.size(); ++i)
    if (instances_[i].alive && instances_[i].mem == mem) here.push_back(static_cast<InstId>(i));
  std::stable_sort(here.begin(), here.end(), [&](InstId a, InstId b) {
    return instances_[static_cast<size_t>(a)].bytes > instances_[static_cast<size_t>(b)].bytes;
  });
  std::string largest;
  for (size_t k = 0; k < here.size() && k < 3; ++k)
    largest += fmt::format("{}{} {}", k ? ", " : "", data_label(here[k]),
                           bytes_text(static_cast<double>(instances_[static_cast<size_t>(here[k])].bytes)));
  if (here.size() > 3) largest += fmt::format(" and {} more", here.size() - 3);
  if (largest.empty()) largest = "none";
  const program::Launch& l = launch_of(t);
  const machine::ProcId proc = placement(t).processor;

  OutOfMemory oom;
  oom.memory = m_.name(mem);
  oom.memory_kind = std::string(kinds::to_string(memory.kind));
  oom.requested_bytes = bytes;
  oom.capacity_bytes = memory.capacity_bytes;
  oom.used_bytes = used_[static_cast<size_t>(mem.value)];
  for (const InstId i : here) {  // largest first, so a data name first seen holds the most
    const std::string name = data_name(i);
    auto it = std::find_if(oom.held.begin(), oom.held.end(), [&](const HeldData& h) { return h.data == name; });
    if (it == oom.held.end()) it = oom.held.insert(oom.held.end(), HeldData{name, 0, 0});
    ++it->instances;
    it->bytes += instances_[static_cast<size_t>(i)].bytes;
  }
  std::stable_sort(oom.held.begin(), oom.held.end(),
                   [](const HeldData& a, const HeldData& b) { return a.bytes > b.bytes; });
  oom.task = p_.task_of(l).name;
  oom.point = task_label(t);
  oom.argument = static_cast<int64_t>(arg);
  oom.data = p_.arg_names(l.args[arg]).front();
  oom.processor = m_.name(proc);
  for (size_t u = 0; u < tasks_.size(); ++u) {
    const Phase ph = tasks_[u].phase;
    const auto other = PointTaskId::at(u);
    if ((ph == Phase::Mapped || ph == Phase::Runnable || ph == Phase::Running) && placement(other).processor == proc &&
        launch_of(other).task == l.task)
      ++oom.in_flight;
  }
  if (!failed()) out_of_memory_ = std::move(oom);  // only the failure that stops the run

  return fmt::format(
      "out of memory in {}: {} requested, {} capacity, {} in use; largest instances: {}; while mapping "
      "argument {} ({}) of {} on {}",
      m_.name(mem), bytes_text(static_cast<double>(bytes)), bytes_text(static_cast<double>(memory.capacity_bytes)),
      bytes_text(static_cast<double>(used_[mem.index()])), largest, arg, p_.arg_names(l.args[arg]).front(),
      task_label(t), m_.name(proc));
}

}  // namespace mage::sim::detail
