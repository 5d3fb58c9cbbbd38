// Pennant: unstructured-mesh Lagrangian hydrodynamics (BENCHMARKS.md, "Pennant").
#include <fmt/format.h>

#include "apps/common.h"

namespace mage::apps::detail {

Program build_pennant(const Params& params) {
  const int pieces = check_params("pennant", params);
  const bool small = params.scale == Scale::Small;
  const int iters = iterations("pennant", params, 30, 2);
  // Each piece is a strip of zone_cols x zone_rows quads; neighbouring strips share a
  // boundary line of zone_rows + 1 points, owned by the piece on its left.
  const int64_t zone_rows = small ? 8 : 320;
  const int64_t zone_cols = small ? 40 : 23'125;
  const int64_t zones = zone_rows * zone_cols;  // 7.4 M
  const int64_t sides = 4 * zones;
  const int64_t line = zone_rows + 1;  // points on a boundary line

  Program p;
  p.name = "pennant";
  p.iterations = iters;

  RegionId rz =
      p.add_region("rz_all", Domain(pieces * zones),
                   {{"zx", 16},   {"zxp", 16},   {"zuc", 16}, {"zarea", 8}, {"zvol", 8}, {"zareap", 8}, {"zvolp", 8},
                    {"zvol0", 8}, {"zdl", 8},    {"zm", 8},   {"zr", 8},    {"zrp", 8},  {"ze", 8},     {"zetot", 8},
                    {"zw", 8},    {"zwrate", 8}, {"zp", 8},   {"zss", 8},   {"zdu", 8},  {"ztmp", 8},   {"znump", 4}});
  RegionId rp = p.add_region("rp_all", Domain(pieces * (zone_cols + 1) * line - (pieces - 1) * line),
                             {{"px0", 16},
                              {"px", 16},
                              {"pxp", 16},
                              {"pu", 16},
                              {"pu0", 16},
                              {"pap", 16},
                              {"pf", 16},
                              {"pmaswt", 8},
                              {"has_bcx", 1},
                              {"has_bcy", 1}});
  RegionId rs = p.add_region(
      "rs_all", Domain(pieces * sides),
      {{"mapsz", 8},  {"mapsp1", 8}, {"mapsp1_r", 1}, {"mapsp2", 8}, {"mapsp2_r", 1}, {"mapss3", 8}, {"mapss4", 8},
       {"sareap", 8}, {"sarea", 8},  {"svolp", 8},    {"svol", 8},   {"ssurfp", 16},  {"smf", 8},    {"sfp", 16},
       {"sft", 16},   {"sfq", 16},   {"exp", 16},     {"ex", 16},    {"elen", 8},     {"carea", 8},  {"cevol", 8},
       {"cdu", 8},    {"cdiv", 8},   {"ccos", 8},     {"cqe1", 16},  {"cqe2", 16}});
  p.set_blocks(rz, std::vector<int64_t>(static_cast<size_t>(pieces), zones));
  p.set_blocks(rs, std::vector<int64_t>(static_cast<size_t>(pieces), sides));
  // rp_all: blocks 0..P-1 private points of each piece, P..2P-1 the shared points it owns
  // (its right boundary line; none for the last piece).
  std::vector<int64_t> pblocks;
  for (int i = 0; i < pieces; ++i) {
    int64_t priv = (zone_cols - 1) * line + (i == 0 ? line : 0) + (i == pieces - 1 ? line : 0);
    pblocks.push_back(priv);
  }
  for (int i = 0; i < pieces; ++i) pblocks.push_back(i < pieces - 1 ? line : 0);
  p.set_blocks(rp, pblocks);

  std::vector<std::vector<int32_t>> own(static_cast<size_t>(pieces)), shared(static_cast<size_t>(pieces));
  std::vector<std::vector<Overlap>> ghost(static_cast<size_t>(pieces));
  for (int i = 0; i < pieces; ++i) {
    own[static_cast<size_t>(i)] = {i};
    shared[static_cast<size_t>(i)] = {pieces + i};
    // Ghost points: every shared point the piece's sides touch: the line it shares with its
    // left neighbour (owned there) and its own right line. At most 2 x 321 = 642.
    if (i > 0) ghost[static_cast<size_t>(i)].push_back({i - 1, line});
    if (i < pieces - 1) ghost[static_cast<size_t>(i)].push_back({i, line});
  }
  const Domain launch(pieces);
  PartitionId rz_p = p.add_block_partition("rz_all_p", rz, launch, own);
  PartitionId rs_p = p.add_block_partition("rs_all_p", rs, launch, own);
  PartitionId rpp = p.add_block_partition("rp_all_private_p", rp, launch, own, "rp_all_private");
  PartitionId rps = p.add_block_partition("rp_all_shared_p", rp, launch, shared, "rp_all_shared");
  PartitionId rpg = p.add_aliased_partition("rp_all_ghost_p", rps, launch, ghost, "rp_all_shared");

  p.notes = {{"pieces", fmt::format("{} strips of the mesh (one per GPU)", pieces)},
             {"per piece", fmt::format("{} zones, {} sides, {} points, {} ghost points at most", thousands(zones),
                                       thousands(sides), thousands((zone_cols + 1) * line), thousands(2 * line))},
             {"loop", fmt::format("{} cycles (timed); each cycle waits for the previous cycle's "
                                  "continue_simulation before it is issued",
                                  iters)}};

  const std::vector<ProcKind> procs{ProcKind::GPU, ProcKind::OMP, ProcKind::CPU};
  const std::vector<ProcKind> cpu_only{ProcKind::CPU};
  auto mk = [&](const char* name, std::vector<ArgCost> args, const char* what) {
    return p.add_task(task(name, true, procs, cost(Precision::FP64, std::move(args)), what));
  };
  const ArgCost none{};
  // Point loops (launched twice: on private points, then on shared points).
  TaskKindId init_step_points =
      mk("init_step_points", {flops_per(2)}, "save positions and velocities; clear masses and forces");
  TaskKindId adv_pos_half = mk("adv_pos_half", {flops_per(8)}, "advance point positions half a step");
  TaskKindId apply_bc =
      mk("apply_boundary_conditions", {flops_per(6)}, "reflect velocities and forces at the mesh boundary");
  TaskKindId adv_pos_full = mk("adv_pos_full", {flops_per(14)}, "advance point velocities and positions a full step");
  // Zone loops.
  TaskKindId init_step_zones = mk("init_step_zones", {flops_per(1)}, "save zone volumes");
  TaskKindId calc_rho_half = mk("calc_rho_half", {flops_per(2)}, "zone densities at the half step");
  TaskKindId calc_state_at_half =
      mk("calc_state_at_half", {flops_per(30)}, "equation of state: pressure and sound speed at the half step");
  TaskKindId calc_wre =
      mk("calc_work_rate_energy_rho_full", {flops_per(12)}, "zone work rate, energy and density at the full step");
  TaskKindId calc_dt_hydro =
      mk("calc_dt_hydro", {flops_per(20)}, "Courant and volume limits on the next time step (min over zones)");
  // Side loops: they gather point data through the side→point maps.
  TaskKindId calc_centers = mk("calc_centers", {flops_per(6), gather(), gather(), flops_per(8)},
                               "zone centres and edge midpoints at the half step");
  TaskKindId calc_volumes = mk("calc_volumes", {flops_per(4), gather(), gather(), flops_per(14)},
                               "zone and side areas and volumes at the half step");
  TaskKindId calc_char_len =
      mk("calc_char_len", {flops_per(4), gather(), gather(), flops_per(10)}, "characteristic zone lengths");
  TaskKindId sum_point_mass = mk("sum_point_mass", {none, flops_per(0, Access::Gather), gather(), flops_per(4)},
                                 "accumulate corner masses into points (reduces into ghost pmaswt)");
  TaskKindId calc_force_pgas_tts =
      mk("calc_force_pgas_tts", {flops_per(6), flops_per(16)}, "pressure and artificial-viscosity (TTS) side forces");
  TaskKindId qcs_zcv = mk("qcs_zone_center_velocity", {flops_per(4), gather(), gather(), flops_per(6)},
                          "zone-centre velocities for the Q correction");
  TaskKindId qcs_cd = mk("qcs_corner_divergence", {flops_per(2), gather(), gather(), flops_per(110)},
                         "corner velocity divergence: the heaviest side loop");
  TaskKindId qcs_qcn = mk("qcs_qcn_force", {flops_per(4), flops_per(40)}, "Q correction forces per corner");
  TaskKindId qcs_force = mk("qcs_force", {flops_per(30)}, "Q correction forces per side");
  TaskKindId qcs_vel_diff =
      mk("qcs_vel_diff", {flops_per(6), gather(), gather(), flops_per(24)}, "velocity differences across zones");
  TaskKindId sum_point_force = mk("sum_point_force", {none, gather(), gather(), flops_per(8)},
                                  "accumulate side forces into points (reduces into ghost pf)");
  TaskKindId calc_centers_full = mk("calc_centers_full", {flops_per(6), gather(), gather(), flops_per(8)},
                                    "zone centres and edge midpoints at the full step");
  TaskKindId calc_volumes_full = mk("calc_volumes_full", {flops_per(4), gather(), gather(), flops_per(14)},
                                    "zone and side areas and volumes at the full step");
  TaskKindId calc_work =
      mk("calc_work", {flops_per(4), gather(), gather(), flops_per(16)}, "work done by the side forces on each zone");
  TaskKindId calc_global_dt = p.add_task(task("calc_global_dt", true, cpu_only, cost(Precision::FP64, {}, 20),
                                              "the next time step from last cycle's dt and the hydro limit (CPU)"));
  TaskKindId continue_simulation =
      p.add_task(task("continue_simulation", true, cpu_only, cost(Precision::FP64, {}, 4),
                      "loop condition: another cycle? (CPU; the top-level task waits for it)"));

  const Projection id = Projection::identity();
  auto Z = [&](Privilege pr, std::initializer_list<std::string_view> f) { return acc(p, rz, pr, f); };
  auto P = [&](Privilege pr, std::initializer_list<std::string_view> f) { return acc(p, rp, pr, f); };
  auto S = [&](Privilege pr, std::initializer_list<std::string_view> f) { return acc(p, rs, pr, f); };
  const auto RO = Privilege::RO, RW = Privilege::RW, WO = Privilege::WO, RED = Privilege::RED;

  FutureId dthydro_prev, cont_prev;
  for (int it = 0; it < iters; ++it) {
    FutureId dt = p.add_future("dt");
    FutureId dthydro = p.add_future("dthydro", RedOp::Min);
    FutureId cont = p.add_future("continue", RedOp::None, 1);
    bool first = true;
    // Adds one launch of this cycle: issued after the last cycle's loop condition resolved.
    auto L = [&](TaskKindId t, std::vector<RegionArg> args, std::vector<FutureId> uses = {},
                 std::optional<FutureId> makes = std::nullopt, bool single = false) {
      Launch l;
      l.task = t;
      l.kind = single ? LaunchKind::Single : LaunchKind::Index;
      l.domain = single ? Domain() : launch;
      l.args = std::move(args);
      l.consumes = std::move(uses);
      if (cont_prev.valid()) l.consumes.push_back(cont_prev);
      l.produces = makes;
      l.iteration = it;
      l.timed = true;
      l.fence = it == 0 && first;
      first = false;
      p.add_launch(std::move(l));
    };
    auto zone = [&](std::vector<FieldAccess> a) { return piece(p, rz_p, id, std::move(a)); };
    auto side = [&](std::vector<FieldAccess> a) { return piece(p, rs_p, id, std::move(a)); };
    auto priv = [&](std::vector<FieldAccess> a) { return piece(p, rpp, id, std::move(a)); };
    auto ghst = [&](std::vector<FieldAccess> a) { return piece(p, rpg, id, std::move(a)); };
    auto both = [&](TaskKindId t, std::vector<FieldAccess> a, std::vector<FutureId> uses = {}) {
      L(t, {priv(a)}, uses);
      L(t, {piece(p, rps, id, a)}, uses);
    };
    // RO on the side→zone/point maps plus `extra` side fields.
    auto maps = [&](std::initializer_list<std::string_view> extra) {
      FieldMask m = p.fields(rs, {"mapsz", "mapsp1", "mapsp1_r", "mapsp2", "mapsp2_r"});
      for (std::string_view f : extra) m |= FieldMask{1} << *p.regions[rs.index()].field_index(f);
      return acc_mask(m, RO);
    };

    both(init_step_points, {P(RO, {"px", "pu"}), P(WO, {"px0", "pu0", "pmaswt", "pf"})});
    L(init_step_zones, {zone({Z(RO, {"zvol"}), Z(WO, {"zvol0"})})});
    {
      std::vector<FutureId> uses;
      if (dthydro_prev.valid()) uses.push_back(dthydro_prev);
      L(calc_global_dt, {}, uses, dt, true);
    }
    both(adv_pos_half, {P(RO, {"px0", "pu0"}), P(WO, {"pxp"})}, {dt});
    L(calc_centers, {zone({Z(RO, {"znump"}), Z(WO, {"zxp"})}), priv({P(RO, {"pxp"})}), ghst({P(RO, {"pxp"})}),
                     side({maps({}), S(WO, {"exp"})})});
    L(calc_volumes, {zone({Z(RO, {"znump", "zxp"}), Z(WO, {"zareap", "zvolp"})}), priv({P(RO, {"pxp"})}),
                     ghst({P(RO, {"pxp"})}), side({maps({}), S(WO, {"sareap", "svolp", "ssurfp"})})});
    L(calc_char_len, {zone({Z(RO, {"znump"}), Z(WO, {"zdl"})}), priv({P(RO, {"pxp"})}), ghst({P(RO, {"pxp"})}),
                      side({maps({"sareap"}), S(WO, {"elen"})})});
    L(calc_rho_half, {zone({Z(RO, {"zvolp", "zm"}), Z(WO, {"zrp"})})});
    L(sum_point_mass, {zone({Z(RO, {"zareap", "zrp"})}), priv({P(RW, {"pmaswt"})}),
                       ghst({acc(p, rp, RED, {"pmaswt"}, RedOp::Sum)}), side({maps({"mapss3", "smf", "sareap"})})});
    L(calc_state_at_half, {zone({Z(RO, {"zvol0", "zvolp", "zm", "zr", "ze", "zwrate"}), Z(WO, {"zp", "zss"})})}, {dt});
    L(calc_force_pgas_tts, {zone({Z(RO, {"zxp", "zareap", "zrp", "zss", "zp"})}),
                            side({S(RO, {"mapsz", "ssurfp", "sareap", "smf", "exp"}), S(WO, {"sfp", "sft"})})});
    L(qcs_zcv,
      {zone({Z(RO, {"znump"}), Z(WO, {"zuc"})}), priv({P(RO, {"pu"})}), ghst({P(RO, {"pu"})}), side({maps({})})});
    L(qcs_cd, {zone({Z(RO, {"zxp", "zuc"})}), priv({P(RO, {"pxp", "pu"})}), ghst({P(RO, {"pxp", "pu"})}),
               side({maps({"mapss3", "exp"}), S(WO, {"carea", "ccos", "cdiv", "cevol", "cdu"})})});
    L(qcs_qcn, {zone({Z(RO, {"zrp", "zss"})}),
                side({S(RO, {"mapsz", "mapss3", "cdu", "carea", "cdiv", "cevol"}), S(WO, {"cqe1", "cqe2"})})});
    L(qcs_force, {side({S(RO, {"mapss4", "elen", "ccos", "cqe1", "cqe2"}), S(WO, {"sfq"})})});
    L(qcs_vel_diff, {zone({Z(RO, {"zss"}), Z(WO, {"zdu"})}), priv({P(RO, {"pxp", "pu"})}), ghst({P(RO, {"pxp", "pu"})}),
                     side({maps({"elen"})})});
    L(sum_point_force, {zone({Z(RO, {"znump"})}), priv({P(RW, {"pf"})}), ghst({acc(p, rp, RED, {"pf"}, RedOp::Sum)}),
                        side({maps({"mapss3", "sfp", "sfq", "sft"})})});
    both(apply_bc, {P(RO, {"has_bcx", "has_bcy"}), P(RW, {"pu0", "pf"})});
    both(adv_pos_full, {P(RO, {"px0", "pu0", "pf", "pmaswt"}), P(WO, {"px", "pu"})}, {dt});
    L(calc_centers_full, {zone({Z(RO, {"znump"}), Z(WO, {"zx"})}), priv({P(RO, {"px"})}), ghst({P(RO, {"px"})}),
                          side({maps({}), S(WO, {"ex"})})});
    L(calc_volumes_full, {zone({Z(RO, {"znump", "zx"}), Z(WO, {"zarea", "zvol"})}), priv({P(RO, {"px"})}),
                          ghst({P(RO, {"px"})}), side({maps({}), S(WO, {"sarea", "svol"})})});
    L(calc_work,
      {zone({Z(RW, {"zw", "zetot"})}), priv({P(RO, {"pxp", "pu0", "pu"})}), ghst({P(RO, {"pxp", "pu0", "pu"})}),
       side({maps({"sfp", "sfq"})})},
      {dt});
    L(calc_wre, {zone({Z(RO, {"zvol0", "zvol", "zm", "zw", "zp"}), Z(RW, {"zetot"}), Z(WO, {"zwrate", "ze", "zr"})})},
      {dt});
    L(calc_dt_hydro, {zone({Z(RO, {"zdl", "zvol", "zvol0", "zss", "zdu"})})}, {dt}, dthydro);
    L(continue_simulation, {}, {dt}, cont, true);
    dthydro_prev = dthydro;
    cont_prev = cont;
  }
  return p;
}

}  // namespace mage::apps::detail
