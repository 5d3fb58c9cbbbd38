// Circuit: electrical circuit simulation (BENCHMARKS.md, "Circuit").
#include <fmt/format.h>
#include <algorithm>

#include "apps/common.h"

namespace mage::apps::detail {

Program build_circuit(const Params& params) {
  const int pieces = check_params("circuit", params);
  const bool small = params.scale == Scale::Small;
  const int iters = iterations("circuit", params, 50, 2);
  const int64_t private_nodes = small ? 90 : 49'500;
  const int64_t shared_nodes = small ? 10 : 500;
  const int64_t wires = small ? 400 : 200'000;
  const int64_t nodes = private_nodes + shared_nodes;

  Program p;
  p.name = "circuit";
  p.iterations = iters;
  p.notes = {
      {"pieces", fmt::format("{} (one per GPU: {} node(s) x {} GPUs)", pieces, params.nodes, params.gpus_per_node)},
      {"per piece", fmt::format("{} circuit nodes ({} private, {} shared), {} wires", thousands(nodes),
                                thousands(private_nodes), thousands(shared_nodes), thousands(wires))},
      {"wires", "80% connect nodes of their own piece, the rest shared nodes of pieces within +-3"},
      {"loop", fmt::format("{} iterations (timed) of calculate_new_currents, distribute_charge, "
                           "update_voltages",
                           iters)}};

  // all_nodes: blocks 0..P-1 are the private nodes of each piece, P..2P-1 the shared ones.
  RegionId all_nodes = p.add_region("all_nodes", Domain(pieces * nodes),
                                    {{"node_cap", 4}, {"leakage", 4}, {"charge", 4}, {"node_voltage", 4}});
  std::vector<int64_t> blocks(static_cast<size_t>(pieces), private_nodes);
  blocks.insert(blocks.end(), static_cast<size_t>(pieces), shared_nodes);
  p.set_blocks(all_nodes, blocks);
  std::vector<Field> wire_fields = {
      {"in_ptr", 8}, {"out_ptr", 8}, {"inductance", 4}, {"resistance", 4}, {"wire_cap", 4}};
  for (int i = 0; i < 10; ++i) wire_fields.push_back({fmt::format("current_{}", i), 4});
  for (int i = 0; i < 9; ++i) wire_fields.push_back({fmt::format("voltage_{}", i), 4});
  RegionId all_wires = p.add_region("all_wires", Domain(pieces * wires), wire_fields);
  p.set_blocks(all_wires, std::vector<int64_t>(static_cast<size_t>(pieces), wires));

  std::vector<std::vector<int32_t>> own(static_cast<size_t>(pieces)), shared(static_cast<size_t>(pieces));
  for (int i = 0; i < pieces; ++i) {
    own[static_cast<size_t>(i)] = {i};
    shared[static_cast<size_t>(i)] = {pieces + i};
  }
  PartitionId rp_private = p.add_block_partition("rp_private", all_nodes, Domain(pieces), own, "all_private");
  PartitionId rp_shared = p.add_block_partition("rp_shared", all_nodes, Domain(pieces), shared, "all_shared");
  // rp_ghost[i]: the shared nodes of other pieces that piece i's wires reach: 650-800 nodes
  // (13-16 at small scale) spread over the distinct pieces within +-3, at most all of them.
  std::vector<std::vector<Overlap>> ghost(static_cast<size_t>(pieces));
  for (int i = 0; i < pieces; ++i) {
    std::vector<int64_t> nbrs;
    for (int d : {1, -1, 2, -2, 3, -3}) {
      int64_t j = ((i + d) % pieces + pieces) % pieces;
      if (j != i && std::find(nbrs.begin(), nbrs.end(), j) == nbrs.end()) nbrs.push_back(j);
    }
    if (nbrs.empty()) continue;
    int64_t target = small ? 13 + i % 4 : 650 + (i * 53) % 151;
    std::vector<int64_t> counts = split_even(target, static_cast<int64_t>(nbrs.size()));
    for (size_t k = 0; k < nbrs.size(); ++k)
      ghost[static_cast<size_t>(i)].push_back({nbrs[k], std::min(counts[k], shared_nodes)});
  }
  PartitionId rp_ghost = p.add_aliased_partition("rp_ghost", rp_shared, Domain(pieces), ghost, "all_shared");
  PartitionId rp_wires = p.add_block_partition("rp_wires", all_wires, Domain(pieces), own, "all_wires");

  const std::vector<ProcKind> cpu_only{ProcKind::CPU};
  const std::vector<ProcKind> loop_procs{ProcKind::GPU, ProcKind::CPU};
  FieldMask node_all = p.regions[all_nodes.index()].all_fields();
  FieldMask wire_all = p.regions[all_wires.index()].all_fields();
  FieldMask wire_consts = p.fields(all_wires, {"in_ptr", "out_ptr", "inductance", "resistance", "wire_cap"});
  FieldMask wire_state = wire_all & ~wire_consts;

  TaskKindId init_piece = p.add_task(task("init_piece", true, cpu_only, cost(Precision::FP32, {}),
                                          "set up the nodes and wires of one piece (setup, CPU only)"));
  TaskKindId init_pointers =
      p.add_task(task("init_pointers", true, cpu_only, cost(Precision::FP32, {{}, {}, {}, gather()}),
                      "point each wire at its two nodes (setup, CPU only)"));
  TaskKindId print_summary = p.add_task(task("print_summary", true, cpu_only, cost(Precision::FP32, {}),
                                             "print the final node voltages (after the loop, CPU only)"));
  // Fan-in of the node regions: every wire reads (calculate_new_currents) and reduces into
  // (distribute_charge) its two end nodes. In-pointers are uniform over the piece's nodes,
  // out-pointers too for the 80% internal wires; the other 20% land on ghost nodes.
  const double cross_wires = 0.2 * static_cast<double>(wires);
  const double shared_share = static_cast<double>(shared_nodes) / static_cast<double>(nodes);
  const double private_fan_in =
      (1.0 + 0.8) * static_cast<double>(wires) * (1 - shared_share) / static_cast<double>(private_nodes);
  const double shared_fan_in =
      (1.0 + 0.8) * static_cast<double>(wires) * shared_share / static_cast<double>(shared_nodes);
  const double ghost_fan_in = cross_wires / (small ? 14.5 : 725.0);  // the mean ghost size below
  auto node_gathers = [&](double flops) {
    return std::vector<ArgCost>{gather(flops, private_fan_in), gather(flops, shared_fan_in),
                                gather(flops, ghost_fan_in)};
  };
  std::vector<ArgCost> cnc_args = node_gathers(0);
  cnc_args.push_back(flops_per(96.0 * 10'000));
  Cost cnc_cost = cost(Precision::FP32, cnc_args);
  // Calibrated: Lassen's all-framebuffer run (1.04-1.15 s for 50 iterations, BENCHMARKS.md)
  // implies the V100 sustains about 55% of its fp32 peak on this kernel.
  cnc_cost.peak_fraction = 0.55;
  std::vector<ArgCost> dc_args = node_gathers(0);
  dc_args.push_back(flops_per(4));
  TaskKindId cnc = p.add_task(task("calculate_new_currents", true, loop_procs, cnc_cost,
                                   "10,000 time steps of the wire equations: compute-bound"));
  TaskKindId dc = p.add_task(task("distribute_charge", true, loop_procs, cost(Precision::FP32, dc_args),
                                  "scatter each wire's current into the charge of its two nodes"));
  TaskKindId uv =
      p.add_task(task("update_voltages", true, loop_procs, cost(Precision::FP32, {flops_per(4), flops_per(4)}),
                      "new node voltages from charge, capacitance and leakage"));

  const Domain launch(pieces);
  const Projection id = Projection::identity();
  index_launch(p, init_piece, launch,
               {piece(p, rp_private, id, {acc_mask(node_all, Privilege::WO)}),
                piece(p, rp_shared, id, {acc_mask(node_all, Privilege::WO)}),
                piece(p, rp_wires, id, {acc_mask(wire_all, Privilege::WO)})},
               {});
  index_launch(p, init_pointers, launch,
               {piece(p, rp_private, id, {acc_mask(node_all, Privilege::NA)}),
                piece(p, rp_shared, id, {acc_mask(node_all, Privilege::NA)}),
                piece(p, rp_ghost, id, {acc_mask(node_all, Privilege::NA)}),
                piece(p, rp_wires, id, {acc(p, all_wires, Privilege::RW, {"in_ptr", "out_ptr"})})},
               {});
  for (int it = 0; it < iters; ++it) {
    LaunchOpts o{it, true, it == 0};
    index_launch(p, cnc, launch,
                 {piece(p, rp_private, id, {acc(p, all_nodes, Privilege::RO, {"node_voltage"})}),
                  piece(p, rp_shared, id, {acc(p, all_nodes, Privilege::RO, {"node_voltage"})}),
                  piece(p, rp_ghost, id, {acc(p, all_nodes, Privilege::RO, {"node_voltage"})}),
                  piece(p, rp_wires, id, {acc_mask(wire_consts, Privilege::RO), acc_mask(wire_state, Privilege::RW)})},
                 o);
    o.fence = false;
    index_launch(
        p, dc, launch,
        {piece(p, rp_private, id, {acc(p, all_nodes, Privilege::RW, {"charge"})}),
         piece(p, rp_shared, id, {acc(p, all_nodes, Privilege::RED, {"charge"}, RedOp::Sum)}),
         piece(p, rp_ghost, id, {acc(p, all_nodes, Privilege::RED, {"charge"}, RedOp::Sum)}),
         piece(p, rp_wires, id, {acc(p, all_wires, Privilege::RO, {"in_ptr", "out_ptr", "current_0", "current_9"})})},
        o);
    auto uv_access = [&] {
      return std::vector<FieldAccess>{acc(p, all_nodes, Privilege::RO, {"node_cap", "leakage"}),
                                      acc(p, all_nodes, Privilege::RW, {"node_voltage", "charge"})};
    };
    index_launch(p, uv, launch, {piece(p, rp_private, id, uv_access()), piece(p, rp_shared, id, uv_access())}, o);
  }
  single_launch(p, print_summary, {whole(all_nodes, {acc(p, all_nodes, Privilege::RO, {"node_voltage"})})},
                LaunchOpts{-1, false, true});
  return p;
}

}  // namespace mage::apps::detail
