// Every example of README.md runs as shown, so that the README cannot drift from the program.
//
// An example is a fenced block of README.md that is either
// - a ```sh block: every non-empty line is a command; or
// - a block whose first line starts with "$ ": each "$ " line is a command and the lines
//   after it are what it prints (stdout and stderr). A line "..." stands for any number of
//   lines left out; "..." inside a line for text that varies (timings). The other lines must
//   be printed as shown, in that order.
// Each command runs with `sh` from the repository's root, with `build/mage` the program under
// test, and must exit 0. An HTML comment on the line before the block changes that:
//   <!-- example: exit N -->        the commands must exit N (examples of bad input)
//   <!-- example: skip REASON -->   not run (set-up, the test suite itself)
//   <!-- example: instead COMMAND --> run COMMAND (the same at a reduced scale, e.g. a tune
//                                      with a smaller budget) and check only its exit status;
//                                      "{tmp}" in it is a fresh temporary directory
//   <!-- example: shape COMMAND -->   run COMMAND (a quicker form) and compare the shape of
//                                      what it prints with the lines shown: every line, in
//                                      order, with the numbers, runs of spaces and the verdicts
//                                      "met" / "NOT met" masked (measurements, which vary by
//                                      host: the output of `mage bench` that README.md quotes)
// Other blocks (output, tables, formats) are not examples.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Command {
  std::string text;
  bool shows_output = false;       // a "$ " line: the lines after it are its output
  std::vector<std::string> shown;  // the output lines the README shows for it
};

struct Example {
  int line = 0;  // of the opening fence
  std::vector<Command> commands;
  int exit_code = 0;
  std::string skip;     // reason, when not run
  std::string instead;  // the command run in its place
  std::string shape;    // the command run in its place, its output compared by shape
};

struct Readme {
  std::vector<Example> examples;
  std::vector<std::string> problems;  // annotations that are malformed or annotate nothing
};

std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : trim_right(s.substr(b));
}

Readme read_readme() {
  Readme r;
  std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/README.md");
  if (!in) {
    r.problems.push_back("cannot read README.md");
    return r;
  }
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(trim_right(l));

  static const std::regex annotation(R"(<!-- example: (exit (\d+)|skip (.+)|instead (.+)|shape (.+)) -->)");
  std::optional<Example> pending;  // the annotation waiting for its block
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.rfind("<!-- example:", 0) == 0) {
      std::smatch m;
      if (pending) r.problems.push_back("README.md:" + std::to_string(i + 1) + ": two annotations in a row");
      if (!std::regex_match(l, m, annotation)) {
        r.problems.push_back("README.md:" + std::to_string(i + 1) + ": malformed annotation: " + l);
        continue;
      }
      pending = Example{};
      if (m[2].matched) pending->exit_code = std::stoi(m[2]);
      if (m[3].matched) pending->skip = m[3];
      if (m[4].matched) pending->instead = m[4];
      if (m[5].matched) pending->shape = m[5];
      if (i + 1 >= lines.size() || lines[i + 1].rfind("```", 0) != 0)
        r.problems.push_back("README.md:" + std::to_string(i + 1) +
                             ": the annotation is not followed by a fenced block");
      continue;
    }
    if (l.rfind("```", 0) != 0) continue;
    const std::string info = l.substr(3);
    std::vector<std::string> body;
    size_t j = i + 1;
    for (; j < lines.size() && lines[j].rfind("```", 0) != 0; ++j) body.push_back(lines[j]);
    Example e = pending.value_or(Example{});
    const bool annotated = pending.has_value();
    pending.reset();
    e.line = static_cast<int>(i + 1);
    if (info == "sh") {
      for (const auto& b : body)
        if (!trim(b).empty()) e.commands.push_back({trim(b), false, {}});
    } else if (!body.empty() && body[0].rfind("$ ", 0) == 0) {
      for (const auto& b : body) {
        if (b.rfind("$ ", 0) == 0)
          e.commands.push_back({b.substr(2), true, {}});
        else
          e.commands.back().shown.push_back(b);
      }
    } else if (annotated) {
      r.problems.push_back("README.md:" + std::to_string(i + 1) + ": an annotated block that is not an example");
    }
    if (!e.commands.empty()) r.examples.push_back(std::move(e));
    i = j;
  }
  return r;
}

const Readme& readme() {
  static const Readme r = read_readme();
  return r;
}

// A shown line against a printed one: equal, or, where the shown line has "...", the parts
// between them found in order, the first at the start and the last at the end.
bool line_matches(const std::string& shown, const std::string& printed) {
  if (shown.find("...") == std::string::npos) return shown == printed;
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t at; (at = shown.find("...", from)) != std::string::npos; from = at + 3)
    parts.push_back(shown.substr(from, at - from));
  parts.push_back(shown.substr(from));
  if (printed.rfind(parts.front(), 0) != 0) return false;
  size_t pos = parts.front().size();
  for (size_t k = 1; k + 1 < parts.size(); ++k) {
    pos = printed.find(parts[k], pos);
    if (pos == std::string::npos) return false;
    pos += parts[k].size();
  }
  const std::string& last = parts.back();
  return printed.size() >= pos + last.size() && printed.compare(printed.size() - last.size(), last.size(), last) == 0;
}

// The shown lines against everything printed: a line "..." matches any number of lines.
bool output_matches(const std::vector<std::string>& shown, const std::vector<std::string>& printed) {
  // matches[i][j]: shown[i..] matches printed[j..].
  std::vector<std::vector<char>> matches(shown.size() + 1, std::vector<char>(printed.size() + 1, 0));
  matches[shown.size()][printed.size()] = 1;
  for (size_t i = shown.size(); i-- > 0;) {
    const bool skip = trim(shown[i]) == "...";
    for (size_t j = printed.size() + 1; j-- > 0;) {
      if (skip)
        matches[i][j] = matches[i + 1][j] || (j < printed.size() && matches[i][j + 1]);
      else
        matches[i][j] = j < printed.size() && line_matches(shown[i], printed[j]) && matches[i + 1][j + 1];
    }
  }
  return matches[0][0];
}

// A line of measurements as the shape check sees it (see `shape` above). `mage bench --quick`
// says "one evaluation" where the full run says "at least 3 (up to 2 s of) evaluations".
std::string shape_of(const std::string& line) {
  static const std::regex evaluations(R"(at least \d+ \(up to [\d.]+ s of\) evaluations)");
  static const std::regex verdict("NOT met");
  static const std::regex number(R"(\d[\d,.]*)");
  static const std::regex spaces(R"(\s+)");
  std::string s = std::regex_replace(line, evaluations, "one evaluation");
  s = std::regex_replace(s, verdict, "met");
  s = std::regex_replace(s, number, "#");
  return trim(std::regex_replace(s, spaces, " "));
}

struct ShellRun {
  int exit_code = -1;  // -1: ended by a signal
  std::string out;
};

ShellRun run_shell(const std::string& command) {
  ShellRun run;
  const std::string line = "cd '" + std::string(MAGE_SOURCE_DIR) + "' && { " + command + "; } 2>&1";
  FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buffer{};
  for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) run.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(trim_right(l));
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

TEST(Readme, HasExamplesAndEveryAnnotationIsWellFormed) {
  for (const auto& p : readme().problems) ADD_FAILURE() << p;
  EXPECT_GE(readme().examples.size(), 5u) << "fewer examples than README.md has: is the parser broken?";
}

void PrintTo(const Example& e, std::ostream* os) { *os << "README.md:" << e.line << ": " << e.commands.front().text; }

class ReadmeExample : public testing::TestWithParam<Example> {};

TEST_P(ReadmeExample, RunsAsShown) {
  const Example& e = GetParam();
  if (!e.skip.empty()) GTEST_SKIP() << "README.md:" << e.line << ": " << e.skip;
  std::string tmp_pattern = (fs::temp_directory_path() / "mage-readme-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmp_pattern.data()), nullptr);
  const fs::path tmp = tmp_pattern;

  if (!e.shape.empty()) {
    const ShellRun run = run_shell(replace_all(e.shape, "build/mage", MAGE_EXE));
    EXPECT_EQ(run.exit_code, e.exit_code) << "README.md:" << e.line << ": $ " << e.shape << "\n" << run.out;
    const std::vector<std::string> printed = lines_of(run.out);
    const std::vector<std::string>& shown = e.commands.front().shown;
    for (size_t i = 0; i < std::max(shown.size(), printed.size()); ++i) {
      const std::string want = i < shown.size() ? shape_of(shown[i]) : "(no line)";
      const std::string got = i < printed.size() ? shape_of(printed[i]) : "(no line)";
      if (want != got) {
        ADD_FAILURE() << "README.md:" << e.line << ": line " << i + 1 << " of the output of `" << e.shape
                      << "` differs in shape from what README.md shows (regenerate it: scripts/refresh_bench.py)\n"
                      << "README.md: " << (i < shown.size() ? shown[i] : "(no line)")
                      << "\nprinted:   " << (i < printed.size() ? printed[i] : "(no line)");
        break;
      }
    }
    return;
  }
  std::vector<Command> commands = e.commands;
  if (!e.instead.empty()) commands = {{e.instead, false, {}}};
  for (const Command& c : commands) {
    const std::string command = replace_all(replace_all(c.text, "build/mage", MAGE_EXE), "{tmp}", tmp.string());
    const ShellRun run = run_shell(command);
    EXPECT_EQ(run.exit_code, e.exit_code) << "README.md:" << e.line << ": $ " << c.text << "\n" << run.out;
    if (!c.shows_output) continue;
    EXPECT_TRUE(output_matches(c.shown, lines_of(run.out)))
        << "README.md:" << e.line << ": $ " << c.text << "\nprints\n"
        << run.out << "\nwhere README.md shows\n"
        << [&] {
             std::string s;
             for (const auto& l : c.shown) s += l + "\n";
             return s;
           }();
  }
  fs::remove_all(tmp);
}

std::string example_name(const testing::TestParamInfo<Example>& info) {
  std::string name = "line" + std::to_string(info.param.line) + "_";
  std::string command = info.param.commands.front().text;
  if (command.rfind("build/mage ", 0) == 0) command = command.substr(11);
  for (char c : command.substr(0, 40)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Readme, ReadmeExample, testing::ValuesIn(readme().examples), example_name);

// The matching rules themselves, so that a lax matcher cannot pass a wrong README.
TEST(ReadmeOutputMatching, LinesAndEllipses) {
  EXPECT_TRUE(line_matches("a b", "a b"));
  EXPECT_FALSE(line_matches("a b", "a bc"));
  EXPECT_TRUE(line_matches("evaluated in ... ms", "evaluated in 18.8 ms"));
  EXPECT_FALSE(line_matches("evaluated in ... ms", "evaluated in 18.8 s"));
  EXPECT_FALSE(line_matches("x ... y ... z", "x z y"));
  EXPECT_TRUE(output_matches({"a", "...", "d"}, {"a", "b", "c", "d"}));
  EXPECT_TRUE(output_matches({"a", "..."}, {"a", "b"}));
  EXPECT_FALSE(output_matches({"a", "d"}, {"a", "b", "d"})) << "lines left out need a '...'";
  EXPECT_FALSE(output_matches({"a"}, {"a", "b"}));
  EXPECT_FALSE(output_matches({"b", "..."}, {"a", "b"}));
  EXPECT_TRUE(output_matches({}, {}));
  EXPECT_TRUE(output_matches({"  ..."}, {"x", "y"}));
  EXPECT_EQ(shape_of("circuit    p100x4 x1        609    41.1 ms     14,824  tasks/s NOT met, evals/min met"),
            shape_of("circuit p100x4 x1 609 9.5 ms 1,214,824 tasks/s met, evals/min NOT met"));
  EXPECT_NE(shape_of("circuit p100x4 x1 609 41.1 ms"), shape_of("stencil p100x4 x1 609 41.1 ms"));
  EXPECT_EQ(shape_of("child process; at least 3 (up to 2 s of) evaluations per configuration; 2 hardware threads."),
            shape_of("child process; one evaluation per configuration; 4 hardware threads."));
}

}  // namespace
