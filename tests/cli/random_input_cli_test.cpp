// Random bytes into every command that reads a file: mappers (check, fmt, place, run,
// explain, tune --start), machine files (--machine PATH of machine show, app show, run), a
// tuning journal (tune --resume) and an experiment's settings (experiment --resume). Each
// command must end with one of its documented exit statuses (never a signal), with an error
// (non-zero) where the input is garbage, and without internal exception text in what it
// prints. The inputs are generated from a fixed seed: the same files on every run and host.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "run_mage.h"

namespace mage::test {
namespace {

namespace fs = std::filesystem;

// What only a bug prints: an exception that escaped (nlohmann::json's "[json.exception...",
// std::terminate's, a what() dump), a sanitizer or a crashed evaluation.
const char* const kInternalText[] = {
    "json.exception",     "terminate called",   "what():",    "AddressSanitizer", "runtime error:", "simulator crashed",
    "evaluation failed:", "Segmentation fault", "core dumped"};

// An experiment.json that did not parse once put nlohmann::json's
// "[json.exception.parse_error...]" in the message of `experiment --resume` (issue 14 §1).
// Fixed: the message names the file, line and column. While this was true, the text was
// counted rather than failed where it was known to occur (ExperimentSettings); false: every
// test asserts that no internal text is printed anywhere.
constexpr bool kJsonExceptionTextKnown = false;

struct Input {
  std::string name;  // says how it was made
  std::string bytes;
  bool garbage = false;  // no valid file starts this way: an error is due
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Inputs made from `valid` (a real file of the kind) with a fixed seed. std::mt19937's output
// is specified by the standard (its distributions are not, so they are not used).
std::vector<Input> inputs_from(const std::string& kind, const std::string& valid, uint32_t seed, int per_generator) {
  std::mt19937 rng(seed);
  auto below = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto byte = [&] { return static_cast<char>(rng() & 0xff); };
  std::vector<Input> out;
  for (int i = 0; i < per_generator; ++i) {
    const std::string n = kind + "_" + std::to_string(i);
    std::string garbage(1 + below(2000), '\0');
    for (char& c : garbage) c = byte();
    // A first byte no mapper, TOML or JSON file may start with: a control byte or one that is
    // not UTF-8.
    garbage[0] = static_cast<char>(i % 2 ? 0x01 + below(8) : 0x80 + below(0x80));
    out.push_back({n + "_random_bytes", garbage, true});

    std::string flipped = valid;
    for (size_t k = 0, flips = 1 + below(20); k < flips; ++k) flipped[below(flipped.size())] = byte();
    out.push_back({n + "_flipped", flipped, false});

    out.push_back({n + "_truncated", valid.substr(0, below(valid.size())), false});

    std::string latin1 = valid;
    for (size_t k = 0, inserted = 1 + below(5); k < inserted; ++k)
      latin1.insert(below(latin1.size()), 1, static_cast<char>(0x80 + below(0x80)));
    out.push_back({n + "_not_utf8", latin1, false});

    std::string spliced = valid.substr(0, below(valid.size()));
    spliced += valid.substr(below(valid.size()));  // a piece of the file repeated or left out
    out.push_back({n + "_spliced", spliced, false});
  }
  out.push_back({kind + "_empty", "", false});
  return out;
}

class RandomInput : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mage-random-input-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const Input& in, const std::string& extension) {
    const fs::path path = dir_ / (in.name + extension);
    std::ofstream(path, std::ios::binary) << in.bytes;
    return path.string();
  }

  // Runs `args` and checks the outcome; `highest` is the largest documented exit status.
  // `known_json_text`: the json.exception text of kJsonExceptionTextKnown is expected here.
  void expect_clean(const std::string& args, const Input& in, int highest, bool known_json_text = false) {
    const CommandResult r = run_mage(args);
    EXPECT_GE(r.exit_code, 0) << "mage " << args << " (" << in.name << ") did not exit: ended by a signal\n" << r.out;
    EXPECT_LE(r.exit_code, highest) << "mage " << args << " (" << in.name << ")\n" << r.out;
    if (in.garbage) {
      EXPECT_NE(r.exit_code, 0) << "mage " << args << " accepted " << in.name << "\n" << r.out;
    }
    for (const char* text : kInternalText) {
      if (kJsonExceptionTextKnown && known_json_text && std::string_view(text) == "json.exception" &&
          r.out.find(text) != std::string::npos) {
        ++known_json_exceptions_;
        continue;
      }
      EXPECT_EQ(r.out.find(text), std::string::npos)
          << "mage " << args << " (" << in.name << ") printed internal text '" << text << "':\n"
          << r.out.substr(0, 2000);
    }
  }

  // Ends a test where kJsonExceptionTextKnown applies: it must still occur (strict).
  void expect_known_json_text_still_printed() {
    if (kJsonExceptionTextKnown) {
      EXPECT_GT(known_json_exceptions_, 0) << "no json.exception text any more: set kJsonExceptionTextKnown to false";
    }
  }

  fs::path dir_;
  int known_json_exceptions_ = 0;
};

std::vector<Input> mapper_inputs() {
  return inputs_from("mapper", read_file(source_path("mappers/examples/circuit.map")), 14, 4);
}

TEST_F(RandomInput, MappersCheckFmtPlace) {
  for (const Input& in : mapper_inputs()) {
    const std::string f = write(in, ".map");
    expect_clean("check " + f, in, 1);
    expect_clean("check --json --app circuit " + f, in, 1);
    expect_clean("fmt " + f, in, 1);
    expect_clean("place " + f + " --ranks 2 --procs 4 --task calculate_new_currents --domain 8", in, 1);
  }
}

TEST_F(RandomInput, MappersRunExplainTune) {
  const auto inputs = mapper_inputs();
  for (const Input& in : inputs) {
    const std::string f = write(in, ".map");
    expect_clean("run circuit --machine p100x4 --scale small --mapper " + f, in, 5);
    expect_clean("explain circuit --machine p100x4 --scale small --json --mapper " + f, in, 5);
  }
  // A tuning run is slower: a few of the inputs.
  // A start mapper that fails is journaled as a failed evaluation and the run goes on: exit 0
  // is documented there, so garbage is not held to an error.
  for (size_t i = 0; i < inputs.size(); i += 6) {
    Input in = inputs[i];
    in.garbage = false;
    const std::string f = write(in, ".map");
    expect_clean("tune circuit --machine p100x4 --scale small --budget 1 --workers 1 --start " + f + " --out " +
                     (dir_ / ("tune" + std::to_string(i))).string(),
                 in, 1);
  }
}

TEST_F(RandomInput, MachineFiles) {
  for (const Input& in : inputs_from("machine", read_file(source_path("machines/p100x4.toml")), 15, 4)) {
    const std::string f = write(in, ".toml");
    expect_clean("machine show --json " + f, in, 1);
    expect_clean("app show circuit --machine " + f, in, 1);
    expect_clean("run circuit --scale small --expert --machine " + f, in, 5);
  }
}

TEST_F(RandomInput, TuningJournals) {
  const fs::path original = dir_ / "original";
  const CommandResult made =
      run_mage("tune circuit --machine p100x4 --scale small --budget 2 --workers 1 --out " + original.string());
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string journal = read_file((original / "journal.jsonl").string());
  ASSERT_FALSE(journal.empty());
  for (const Input& in : inputs_from("journal", journal, 16, 3)) {
    const fs::path run = dir_ / ("resume_" + in.name);
    fs::copy(original, run, fs::copy_options::recursive);
    std::ofstream(run / "journal.jsonl", std::ios::binary | std::ios::trunc) << in.bytes;
    expect_clean("tune --resume " + run.string() + " --budget 3", in, 1);
  }
}

TEST_F(RandomInput, ExperimentSettings) {
  const std::string settings =
      R"({"format": 1, "settings": {"machine": "p100x4", "scale": "small", "apps": ["circuit"], "seeds": 1}})";
  for (const Input& in : inputs_from("experiment", settings, 17, 2)) {
    const fs::path out = dir_ / ("experiment_" + in.name);
    fs::create_directories(out);
    std::ofstream(out / "experiment.json", std::ios::binary) << in.bytes;
    expect_clean("experiment --apps circuit --optimizers random --seeds 1 --budget 1 --scale small --resume --out " +
                     out.string(),
                 in, 1, true);
  }
  expect_known_json_text_still_printed();
}

}  // namespace
}  // namespace mage::test
