// Bad bytes in every file a command reads: each command ends with its documented exit code
// and a message of its own, never an internal exception's text (issue 14 §1).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "run_mage.h"

namespace mage::test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Text that a library's exception (nlohmann, toml++, the standard library) would put in
// what() and that no user should see.
void expect_no_internal_text(const std::string& args, const std::string& out) {
  for (const char* internal : {"json.exception", "[json", "terminate called", "what():", "std::", "basic_string",
                               "Segmentation", "Aborted", "AddressSanitizer"})
    EXPECT_FALSE(contains(out, internal)) << args << " printed '" << internal << "':\n" << out;
}

// A mapper that works, with a Latin-1 comment (0xE9, 'é' in Latin-1, is not UTF-8 here).
const std::string kLatin1Comment =
    "# caf\xe9 au lait\n"
    "Task * GPU,OMP,CPU;\n"
    "Layout * * * SOA C_order;\n"
    "mgpu = Machine(GPU);\n"
    "def cyclic(Task t) {\n  return mgpu[t.ipoint[0] % mgpu.size[0], t.ipoint[0] % mgpu.size[1]];\n}\n"
    "IndexTaskMap GPU cyclic;\n";
// The same byte where code is expected, and in a string the mapper prints.
const std::string kLatin1Code = "Task * GPU;\nTask caf\xe9 CPU;\n";
const std::string kLatin1String = "Task * GPU,OMP,CPU;\nLayout * * * SOA C_order;\nprint(\"caf\xe9\");\n";

TEST(NonUtf8Mapper, ACommentIsAcceptedByEveryCommand) {
  TempFile mapper("latin1_comment.map", kLatin1Comment);
  const std::string m = mapper.path();
  struct Case {
    std::string args;
    int exit_code;
  };
  for (const Case& c : std::vector<Case>{
           {"check " + m, 0},
           {"check --json " + m, 0},
           {"fmt " + m, 0},
           {"place " + m + " --nodes 2 --procs-per-node 2 --task t --domain 4", 0},
           {"run cannon --machine p100x4 --scale small --mapper " + m, 0},
           {"run cannon --machine p100x4 --scale small --json --mapper " + m, 0},
           {"explain cannon --machine p100x4 --scale small --mapper " + m, 0},
           {"explain cannon --machine p100x4 --scale small --json --mapper " + m, 0},
       }) {
    auto r = run_mage(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.out;
    expect_no_internal_text(c.args, r.out);
  }
  // The JSON is JSON (the byte is replaced, not passed through).
  auto j = run_mage("run cannon --machine p100x4 --scale small --json --mapper " + m);
  EXPECT_TRUE(nlohmann::json::accept(j.out)) << j.out;
}

TEST(NonUtf8Mapper, InCodeItIsAMapperErrorInEveryCommand) {
  TempFile mapper("latin1_code.map", kLatin1Code);
  const std::string m = mapper.path();
  struct Case {
    std::string args;
    int exit_code;
  };
  for (const Case& c : std::vector<Case>{
           {"check " + m, 1},
           {"check --json " + m, 1},
           {"fmt " + m, 1},
           {"place " + m + " --nodes 2 --procs-per-node 2 --task t --domain 4", 1},
           {"run cannon --machine p100x4 --scale small --mapper " + m, 2},
           {"run cannon --machine p100x4 --scale small --json --mapper " + m, 2},
           {"explain cannon --machine p100x4 --scale small --mapper " + m, 2},
           {"explain cannon --machine p100x4 --scale small --json --mapper " + m, 2},
       }) {
    auto r = run_mage(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.out;
    expect_no_internal_text(c.args, r.out);
    // The byte is named as a byte, not half a character.
    if (!contains(c.args, "--json")) {
      EXPECT_TRUE(contains(r.out, "unexpected character '\\xe9'")) << c.args << r.out;
    }
  }
  auto j = run_mage("check --json " + m);
  nlohmann::json diagnostics = nlohmann::json::parse(j.out);
  ASSERT_EQ(diagnostics.size(), 1u) << j.out;
  EXPECT_EQ(diagnostics[0]["line"], 2);
  EXPECT_EQ(diagnostics[0]["message"], "unexpected character '\\xe9'");
}

TEST(NonUtf8Mapper, InAPrintedStringTheRunGoesOn) {
  TempFile mapper("latin1_string.map", kLatin1String);
  for (const char* json : {"", " --json"}) {
    const std::string args = "run cannon --machine p100x4 --scale small --mapper " + mapper.path() + json;
    auto r = run_mage(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.out;
    expect_no_internal_text(args, r.out);
  }
}

TEST(NonUtf8Mapper, TuneStartsFromIt) {
  TempFile mapper("latin1_start.map", kLatin1Comment);
  TempFile out("latin1_tune");
  const std::string args = "tune cannon --machine p100x4 --scale small --budget 2 --workers 1 --start " +
                           mapper.path() + " --out " + out.path();
  auto r = run_mage(args);
  std::filesystem::remove_all(out.path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  expect_no_internal_text(args, r.out);
}

// Deterministic pseudo-random bytes (xorshift), some of them with a valid start.
std::string random_bytes(uint64_t seed, size_t n) {
  std::string s;
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s += static_cast<char>(x & 0xFF);
  }
  return s;
}

// Every command that reads a file, fed random bytes: a clean exit code, no internal text.
TEST(RandomBytes, EveryCommandThatReadsAFileEndsCleanly) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::string bytes = random_bytes(seed, 64 + 200 * seed);
    if (seed % 2 == 0) bytes = "Task * GPU;\n" + bytes;
    TempFile file("random_" + std::to_string(seed) + ".map", bytes);
    TempFile toml("random_" + std::to_string(seed) + ".toml", bytes);
    TempFile out("random_tune_" + std::to_string(seed));
    const std::string m = file.path();
    struct Case {
      std::string args;
      std::vector<int> exit_codes;
    };
    for (const Case& c : std::vector<Case>{
             {"check " + m, {1}},
             {"check --json " + m, {1}},
             {"fmt " + m, {1}},
             {"place " + m + " --nodes 1 --procs-per-node 1 --task t --single", {1}},
             {"run cannon --machine p100x4 --scale small --mapper " + m, {2}},
             {"run cannon --machine p100x4 --scale small --json --mapper " + m, {2}},
             {"explain cannon --machine p100x4 --scale small --mapper " + m, {2}},
             {"tune cannon --machine p100x4 --scale small --budget 1 --start " + m + " --out " + out.path(), {0}},
             {"machine show " + toml.path(), {1}},
             {"machine show --json " + toml.path(), {1}},
             {"run cannon --expert --scale small --machine " + toml.path(), {1}},
         }) {
      auto r = run_mage(c.args);
      EXPECT_TRUE(std::find(c.exit_codes.begin(), c.exit_codes.end(), r.exit_code) != c.exit_codes.end())
          << c.args << " exited " << r.exit_code << "\n"
          << r.out;
      EXPECT_TRUE(contains(r.out, "error")) << c.args << "\n" << r.out;  // tune: the start failed
      expect_no_internal_text(c.args, r.out);
    }
    std::filesystem::remove_all(out.path());
  }
}

}  // namespace
}  // namespace mage::test
