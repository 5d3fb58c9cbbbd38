// Every mistake a machine file or an override can contain is reported with the file, the
// line and the key. Each test writes a small machine, with one mistake, into a temp dir.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "machine/machine.h"

namespace mage::machine {

using kinds::kMemKinds;
using kinds::kProcKinds;
using kinds::MemKind;
using kinds::ProcKind;
namespace {

// A small valid machine, block by block, so that tests can swap one block.
const std::string kTop = "description = \"tiny\"\nnodes = 1\n\n[node]\nsockets = 1\n";
const std::string kCpu =
    "\n[[node.processor]]\nkind = \"CPU\"\ncount = 2\nfp64_gflops = 10\nfp32_gflops = 20\nlaunch_overhead_us = 10\n";
const std::string kGpu =
    "\n[[node.processor]]\nkind = \"GPU\"\ncount = 2\nfp64_gflops = 1000\nfp32_gflops = 2000\nlaunch_overhead_us = "
    "10\n";
const std::string kSys = "\n[[node.memory]]\nkind = \"SYSMEM\"\ncapacity_gib = 8\nbandwidth_gb_per_s = 50\n";
const std::string kFb =
    "\n[[node.memory]]\nkind = \"FBMEM\"\nper = \"gpu\"\ncapacity_gib = 4\nbandwidth_gb_per_s = 500\n";
const std::string kCpuSys =
    "\n[[node.affinity]]\nproc = \"CPU\"\nmem = \"SYSMEM\"\nbandwidth_gb_per_s = 10\nlatency_us = 0.1\n";
const std::string kGpuFb =
    "\n[[node.affinity]]\nproc = \"GPU\"\nmem = \"FBMEM\"\nbandwidth_gb_per_s = 500\nlatency_us = 0.5\n";
const std::string kChan =
    "\n[[node.channel]]\nbetween = \"FBMEM\"\nand = \"SYSMEM\"\nbandwidth_gb_per_s = 10\nlatency_us = 1\n";
const std::string kNet = "\n[network]\nbandwidth_gb_per_s = 10\nlatency_us = 2\n";

std::string valid() { return kTop + kCpu + kGpu + kSys + kFb + kCpuSys + kGpuFb + kChan + kNet; }

// `text` with the first occurrence of `from` replaced by `to` (which must exist).
std::string with(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the text";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}
// 1-based line of the first occurrence of `needle` at or after the first `after`.
int line_of(const std::string& text, const std::string& needle, const std::string& after = "") {
  size_t start = after.empty() ? 0 : text.find(after);
  size_t at = text.find(needle, start);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << needle << "' not in the text";
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

class LoadErrors : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    auto dir = std::filesystem::path(::testing::TempDir()) / "mage_machine_errors";
    std::filesystem::create_directories(dir);
    std::string path =
        (dir / (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".toml")).string();
    std::ofstream(path) << text;
    return path;
  }
  // Loads `text` from a file and expects a LoadError at `line` for `key` whose reason
  // contains `reason`; what() must read "FILE:LINE: KEY: REASON".
  void expect_error(const std::string& text, int line, const std::string& key, const std::string& reason,
                    const Overrides& o = {}) {
    std::string path = write(text);
    try {
      load(path, o);
      FAIL() << "loaded without error";
    } catch (const LoadError& e) {
      EXPECT_EQ(e.file(), path);
      EXPECT_EQ(e.line(), line) << e.what();
      EXPECT_EQ(e.key(), key) << e.what();
      EXPECT_NE(e.reason().find(reason), std::string::npos) << e.what();
      std::string prefix = line > 0 ? path + ":" + std::to_string(line) + ": " + key + ": " : path + ": " + key + ": ";
      EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
    }
  }
};

TEST_F(LoadErrors, TheValidMachineLoads) {
  Machine m = load(write(valid()));
  EXPECT_EQ(m.procs_per_node(ProcKind::GPU), 2);
  EXPECT_EQ(m.description(), "tiny");
}

TEST_F(LoadErrors, UnknownTopLevelKey) {
  std::string t = with(valid(), "nodes = 1\n", "nodes = 1\ncolour = \"blue\"\n");
  expect_error(t, line_of(t, "colour"), "colour", "unknown key (expected one of: description, nodes");
}

TEST_F(LoadErrors, UnknownKeySuggestsTheClosest) {
  std::string t = with(valid(), "fp64_gflops = 1000", "fp64_gflop = 1000");
  expect_error(t, line_of(t, "fp64_gflop "), "node.processor[1].fp64_gflop", "did you mean 'fp64_gflops'?");
}

TEST_F(LoadErrors, UnknownKeyInNetwork) {
  std::string t = with(valid(), "latency_us = 2\n", "latency_us = 2\nhops = 3\n");
  expect_error(t, line_of(t, "hops"), "network.hops", "unknown key");
}

TEST_F(LoadErrors, MissingField) {
  std::string t = with(valid(), "capacity_gib = 8\n", "");
  expect_error(t, line_of(t, "[[node.memory]]"), "node.memory[0].capacity_gib", "missing key");
}

TEST_F(LoadErrors, MissingNodeTable) { expect_error("nodes = 1\n", 1, "node", "missing table [node]"); }

TEST_F(LoadErrors, NegativeRate) {
  std::string t = with(valid(), "fp64_gflops = 10", "fp64_gflops = -10");
  expect_error(t, line_of(t, "fp64_gflops = -10"), "node.processor[0].fp64_gflops",
               "must be greater than zero (got -10)");
}

TEST_F(LoadErrors, RemoteAccessesInFlightMustBeAPositiveInteger) {
  std::string gpu_overhead = "fp32_gflops = 2000\nlaunch_overhead_us = 10\n";
  std::string t = with(valid(), gpu_overhead, gpu_overhead + "remote_accesses_in_flight = 0\n");
  expect_error(t, line_of(t, "remote_accesses_in_flight"), "node.processor[1].remote_accesses_in_flight",
               "must be at least 1 (got 0)");
  t = with(valid(), gpu_overhead, gpu_overhead + "remote_accesses_in_flight = 2.5\n");
  expect_error(t, line_of(t, "remote_accesses_in_flight"), "node.processor[1].remote_accesses_in_flight",
               "must be an integer");
}

TEST_F(LoadErrors, RemoteAccessesInFlightDefaultsToOne) {
  std::string gpu_overhead = "fp32_gflops = 2000\nlaunch_overhead_us = 10\n";
  Machine m = load(write(with(valid(), gpu_overhead, gpu_overhead + "remote_accesses_in_flight = 8\n")));
  EXPECT_EQ(m.processor(m.processors_of(ProcKind::GPU, 0).at(0)).remote_accesses_in_flight, 8);
  EXPECT_EQ(m.processor(m.processors_of(ProcKind::CPU, 0).at(0)).remote_accesses_in_flight, 1);
}

TEST_F(LoadErrors, ZeroRate) {
  std::string t = with(valid(), "fp32_gflops = 2000", "fp32_gflops = 0.0");
  expect_error(t, line_of(t, "fp32_gflops = 0.0"), "node.processor[1].fp32_gflops",
               "must be greater than zero (got 0)");
}

TEST_F(LoadErrors, ZeroCapacity) {
  std::string t = with(valid(), "capacity_gib = 4", "capacity_gib = 0");
  expect_error(t, line_of(t, "capacity_gib = 0"), "node.memory[1].capacity_gib", "must be greater than zero");
}

// Anything below 1 MiB, e.g. 1e-300 GiB (0 bytes once rounded), is refused at its key.
TEST_F(LoadErrors, TinyCapacity) {
  for (const char* value : {"1e-300", "0.0009"}) {
    std::string t = with(valid(), "capacity_gib = 4", std::string("capacity_gib = ") + value);
    expect_error(t, line_of(t, std::string("capacity_gib = ") + value), "node.memory[1].capacity_gib",
                 std::string("must be at least 1 MiB, 0.0009765625 GiB (got ") + value + ")");
  }
  std::string t = with(valid(), "capacity_gib = 4", "capacity_gib = 0.0009765625");
  EXPECT_EQ(load(write(t)).memory(load(write(t)).memories_of(MemKind::FBMEM).front()).capacity_bytes, 1u << 20);
}

TEST_F(LoadErrors, ZeroBandwidth) {
  std::string t = with(valid(), "bandwidth_gb_per_s = 10\nlatency_us = 1", "bandwidth_gb_per_s = 0\nlatency_us = 1");
  expect_error(t, line_of(t, "bandwidth_gb_per_s = 0"), "node.channel[0].bandwidth_gb_per_s",
               "must be greater than zero");
}

TEST_F(LoadErrors, ZeroCount) {
  std::string t = with(valid(), "count = 2", "count = 0");
  expect_error(t, line_of(t, "count = 0"), "node.processor[0].count", "must be at least 1 (got 0)");
}

TEST_F(LoadErrors, NegativeLatency) {
  std::string t = with(valid(), "latency_us = 2", "latency_us = -2");
  expect_error(t, line_of(t, "latency_us = -2"), "network.latency_us", "must not be negative (got -2)");
}

TEST_F(LoadErrors, InfiniteRate) {
  std::string t = with(valid(), "fp64_gflops = 10", "fp64_gflops = inf");
  expect_error(t, line_of(t, "fp64_gflops = inf"), "node.processor[0].fp64_gflops", "must be a finite number");
}

TEST_F(LoadErrors, WrongType) {
  std::string t = with(valid(), "count = 2", "count = \"two\"");
  expect_error(t, line_of(t, "count = \"two\""), "node.processor[0].count", "must be an integer, not a string");
}

TEST_F(LoadErrors, UnknownProcessorKind) {
  std::string t = with(valid(), "kind = \"GPU\"", "kind = \"TPU\"");
  expect_error(t, line_of(t, "TPU"), "node.processor[1].kind", "unknown processor kind 'TPU'");
}

TEST_F(LoadErrors, UnknownMemoryKind) {
  std::string t = with(valid(), "mem = \"FBMEM\"", "mem = \"HBM\"");
  expect_error(t, line_of(t, "HBM"), "node.affinity[1].mem", "unknown memory kind 'HBM'");
}

TEST_F(LoadErrors, AmbiguousTyposGetNoSuggestion) {
  std::string t = with(valid(), "kind = \"GPU\"", "kind = \"TPU\"");
  expect_error(t, line_of(t, "TPU"), "node.processor[1].kind",
               "unknown processor kind 'TPU' (one of CPU, GPU, OMP, IO, PY)");  // CPU or GPU?
  t = with(valid(), "kind = \"GPU\"", "kind = \"GPUS\"");
  expect_error(t, line_of(t, "GPUS"), "node.processor[1].kind", "did you mean 'GPU'?");
}

TEST_F(LoadErrors, KindsAreCaseSensitive) {
  std::string t = with(valid(), "kind = \"SYSMEM\"", "kind = \"sysmem\"");
  expect_error(t, line_of(t, "sysmem"), "node.memory[0].kind", "did you mean 'SYSMEM'?");
}

TEST_F(LoadErrors, GpuWithoutFbmem) {
  std::string t = kTop + kCpu + kGpu + kSys + kCpuSys + kNet;
  expect_error(t, line_of(t, "[[node.processor]]", "CPU\"\ncount"), "node.processor[1].kind", "a GPU has no FBMEM");
}

TEST_F(LoadErrors, GpuThatCannotReachItsFbmem) {
  std::string t = kTop + kCpu + kGpu + kSys + kFb + kCpuSys +
                  with(kGpuFb, "mem = \"FBMEM\"\n", "mem = \"FBMEM\"\nreach = \"other\"\n") + kNet;
  EXPECT_NE(t.find("reach = \"other\""), std::string::npos);
  expect_error(t, line_of(t, "[[node.processor]]", "CPU\"\ncount"), "node.processor[1]",
               "a GPU cannot access its own FBMEM");
}

TEST_F(LoadErrors, ProcessorThatReachesNoMemory) {
  std::string t = kTop + kCpu + kGpu + kSys + kFb + kGpuFb + kNet;
  expect_error(t, line_of(t, "[[node.processor]]"), "node.processor[0]", "CPU processors can access no memory");
}

TEST_F(LoadErrors, CpuHasNoFbmemOfItsOwn) {
  std::string t =
      valid() + "\n[[node.affinity]]\nproc = \"CPU\"\nmem = \"FBMEM\"\nbandwidth_gb_per_s = 1\nlatency_us = 1\n";
  expect_error(t, line_of(t, "mem = \"FBMEM\"", "proc = \"CPU\"\nmem = \"FBMEM\""), "node.affinity[2].mem",
               "a CPU processor has no FBMEM of its own");
}

TEST_F(LoadErrors, AffinityForAnUndeclaredProcessor) {
  std::string t = with(valid(), "proc = \"CPU\"", "proc = \"OMP\"");
  expect_error(t, line_of(t, "OMP"), "node.affinity[0].proc", "the node declares no OMP processor");
}

TEST_F(LoadErrors, DuplicateAffinity) {
  std::string t = valid() + kCpuSys;
  expect_error(t, line_of(t, "mem = \"SYSMEM\"", kGpuFb), "node.affinity[2].mem",
               "CPU -> SYSMEM is already given at line " + std::to_string(line_of(t, "[[node.affinity]]")));
}

TEST_F(LoadErrors, OtherReachOfAPerNodeMemory) {
  std::string t = with(valid(), "mem = \"SYSMEM\"\n", "mem = \"SYSMEM\"\nreach = \"other\"\n");
  expect_error(t, line_of(t, "reach"), "node.affinity[0].reach", "SYSMEM has one instance per node");
}

TEST_F(LoadErrors, DuplicateProcessorKind) {
  std::string t = valid() + kCpu;
  expect_error(
      t, line_of(t, "kind = \"CPU\"", kChan), "node.processor[2].kind",
      "a second entry for CPU processors (the first is at line " + std::to_string(line_of(t, "[[node.processor]]")));
}

TEST_F(LoadErrors, DuplicateChannel) {
  std::string t =
      valid() + with(kChan, "between = \"FBMEM\"\nand = \"SYSMEM\"", "between = \"SYSMEM\"\nand = [\"FBMEM\"]");
  expect_error(t, line_of(t, "and = [", ""), "node.channel[1].and",
               "a channel between SYSMEM and FBMEM is already given");
}

TEST_F(LoadErrors, FbmemMustBePerGpu) {
  std::string t = with(valid(), "per = \"gpu\"", "per = \"node\"");
  expect_error(t, line_of(t, "per = \"node\""), "node.memory[1].per", "it must have per = \"gpu\"");
}

TEST_F(LoadErrors, BadPerWord) {
  std::string t = with(valid(), "per = \"gpu\"", "per = \"die\"");
  expect_error(t, line_of(t, "die"), "node.memory[1].per", "must be one of node, socket, gpu (got \"die\")");
}

TEST_F(LoadErrors, MissingSysmem) {
  std::string t = kTop + kCpu + kGpu + kFb + kGpuFb + kNet;
  expect_error(t, line_of(t, "[node]"), "node.memory", "every node needs a SYSMEM");
}

TEST_F(LoadErrors, SingleTableInsteadOfArray) {
  std::string t = kTop + with(kCpu, "[[node.processor]]", "[node.processor]") + kSys + kCpuSys + kNet;
  expect_error(t, line_of(t, "[node.processor]"), "node.processor",
               "must be an array of tables: write each entry as [[node.processor]]");
}

TEST_F(LoadErrors, TomlSyntaxError) {
  std::string t = with(valid(), "count = 2", "count = ");
  std::string path = write(t);
  try {
    load(path);
    FAIL();
  } catch (const LoadError& e) {
    EXPECT_EQ(e.line(), line_of(t, "count = "));
    EXPECT_NE(e.reason().find("not valid TOML"), std::string::npos) << e.what();
  }
}

TEST_F(LoadErrors, NetworkNeededForSeveralNodes) {
  std::string t = with(valid(), kNet, "");
  EXPECT_NO_THROW(load(write(t)));
  t = with(t, "nodes = 1", "nodes = 2");
  expect_error(t, line_of(t, "nodes = 2"), "network", "missing table [network]: needed when nodes = 2");
}

TEST_F(LoadErrors, NetworkEndpointMustBePerNode) {
  std::string t = with(valid(), "latency_us = 2\n", "latency_us = 2\nendpoint = \"FBMEM\"\n");
  expect_error(t, line_of(t, "endpoint"), "network.endpoint", "one instance per node (FBMEM is per gpu)");
}

TEST_F(LoadErrors, GpuCannotBeSplitIntoCores) {
  std::string t = with(valid(), "fp64_gflops = 1000", "cores = 2\nfp64_gflops = 1000");
  expect_error(t, line_of(t, "cores"), "node.processor[1].cores", "a GPU is not a group of cores");
}

TEST_F(LoadErrors, OverrideNodesBelowOne) {
  expect_error(valid(), 0, "nodes", "override must be between 1 and 4096 (got 0)", {.nodes = 0});
  expect_error(valid(), 0, "nodes", "(got 100000)", {.nodes = 100000});
}

TEST_F(LoadErrors, OverrideRanksBelowOne) {
  expect_error(valid(), 0, "ranks_per_node", "override must be between 1 and", {.ranks_per_node = 0});
}

TEST_F(LoadErrors, RanksThatDoNotDivideTheProcessors) {
  std::string t = with(valid(), "count = 2\nfp64_gflops = 1000", "count = 3\nfp64_gflops = 1000");
  expect_error(t, line_of(t, "count = 3"), "node.processor[1].count",
               "ranks_per_node = 2 (as overridden) does not divide the node's 3 GPU processors", {.ranks_per_node = 2});
}

TEST_F(LoadErrors, RanksInTheFileThatDoNotDivide) {
  std::string t = with(valid(), "nodes = 1", "nodes = 1\nranks_per_node = 4");
  expect_error(t, line_of(t, "count = 2"), "node.processor[0].count",
               "ranks_per_node = 4 does not divide the node's 2 CPU processors");
}

TEST_F(LoadErrors, RanksOnAPreset) {
  try {
    load("p100x4", {.ranks_per_node = 3});
    FAIL();
  } catch (const LoadError& e) {
    std::string text(preset_text("p100x4").value());
    EXPECT_EQ(e.file(), "machines/p100x4.toml");
    EXPECT_EQ(e.line(), line_of(text, "count = 10"));
    EXPECT_EQ(e.key(), "node.processor[0].count");
    EXPECT_NE(e.reason().find("does not divide the node's 20 CPU processors"), std::string::npos) << e.what();
  }
}

TEST_F(LoadErrors, UnknownPresetListsTheKnownOnes) {
  try {
    load("p100");
    FAIL();
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown machine preset 'p100' (did you mean 'p100x4'? presets: lassen, p100x4, perlmutter; or give a "
              "path to a .toml file)");
  }
}

TEST_F(LoadErrors, MissingFile) {
  try {
    load("no/such/machine.toml");
    FAIL();
  } catch (const LoadError& e) {
    EXPECT_EQ(e.file(), "no/such/machine.toml");
    EXPECT_NE(e.reason().find("cannot read the machine file"), std::string::npos) << e.what();
  }
}

TEST_F(LoadErrors, ADirectory) {
  const std::string dir = (std::filesystem::path(::testing::TempDir()) / "mage_machine_dir.toml").string();
  std::filesystem::create_directories(dir);
  for (const std::string& path : {dir, dir + "/"}) {
    try {
      load(path);
      FAIL();
    } catch (const LoadError& e) {
      EXPECT_EQ(std::string(e.what()), path + ": is a directory, not a machine file");
    }
  }
  std::filesystem::remove(dir);
}

TEST_F(LoadErrors, LoadTextNamesItsSource) {
  try {
    load_text(with(valid(), "count = 2", "count = -1"), "inline.toml");
    FAIL();
  } catch (const LoadError& e) {
    EXPECT_EQ(e.file(), "inline.toml");
    EXPECT_EQ(e.key(), "node.processor[0].count");
  }
}

}  // namespace
}  // namespace mage::machine
