// The printer: canonical text that parses back to the same tree, keeping comments.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "test_util.h"

namespace mage::dsl {
namespace {

namespace fs = std::filesystem;

// parse(print(ast)) == ast, and printing is idempotent.
void expect_round_trip(const std::string& name, const std::string& text) {
  DiagnosticSink sink(name);
  Module a = parse(SourceFile{name, text}, sink);
  ASSERT_FALSE(sink.has_errors()) << name << "\n" << format_diagnostics(sink.diagnostics(), SourceFile{name, text});
  std::string printed = print(a);
  DiagnosticSink sink2(name);
  Module b = parse(SourceFile{name, printed}, sink2);
  ASSERT_FALSE(sink2.has_errors()) << name << " printed as\n" << printed;
  EXPECT_EQ(dump(a), dump(b)) << name;
  EXPECT_EQ(print(b), printed) << name << ": printing is not idempotent";
}

TEST(PrinterRoundTrip, EveryMapperInTheRepository) {
  int count = 0;
  for (const char* dir : {"mappers/examples", "mappers/expert", "tests/dsl/errors", "fuzz/corpus"}) {
    fs::path p = test::repo_path(dir);
    if (!fs::exists(p)) continue;
    for (const auto& entry : fs::directory_iterator(p)) {
      if (entry.path().extension() != ".map") continue;
      std::string text = test::read_text(entry.path().string());
      DiagnosticSink sink("x");
      parse(SourceFile{"x", text}, sink);
      if (sink.has_errors()) continue;  // the corpus has deliberately broken files
      expect_round_trip(entry.path().filename().string(), text);
      ++count;
    }
  }
  EXPECT_GE(count, 9);
}

TEST(Printer, CanonicalFormKeepsCommentsAndSingleBlankLines) {
  const std::string messy = R"(# header comment
Task   *   GPU , CPU ;   # trailing


Region * rp_ghost GPU ZCMEM,FBMEM;
// slashes too
m=Machine(GPU);
def f( Task t ){
  # inside
  x=t.ipoint ;  # why
  return m[ x[0]%m.size[0] , 0 ] ;
  # before the brace
}
IndexTaskMap a,b f;
# at the end
)";
  CompileResult c = compile(SourceFile{"m.map", messy});
  ASSERT_TRUE(c.unit) << format_diagnostics(c.diagnostics, SourceFile{"m.map", messy});
  EXPECT_EQ(canonical_text(*c.unit), R"(# header comment
Task * GPU,CPU;  # trailing

Region * rp_ghost GPU ZCMEM,FBMEM;
// slashes too
m = Machine(GPU);
def f(Task t) {
  # inside
  x = t.ipoint;  # why
  return m[x[0] % m.size[0], 0];
  # before the brace
}
IndexTaskMap a,b f;
# at the end
)");
  expect_round_trip("m.map", messy);
}

// Random valid mappers: generated trees printed, parsed and compared.
class MapperGenerator {
 public:
  explicit MapperGenerator(uint32_t seed) : rng_(seed) {}

  std::string mapper() {
    std::string out;
    int n = pick(3, 10);
    for (int i = 0; i < n; ++i) out += statement(i) + "\n";
    return out;
  }

 private:
  std::mt19937 rng_;
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& one(const std::vector<T>& xs) {
    return xs[static_cast<size_t>(pick(0, static_cast<int>(xs.size()) - 1))];
  }

  std::string name() { return one<std::string>({"a", "b", "task_4", "calc", "m", "size", "x1"}); }
  std::string kinds(const std::vector<std::string>& pool) {
    std::string out = one(pool);
    for (int k = pick(0, 2); k > 0; --k) out += "," + one(pool);
    return out;
  }

  std::string expr(int depth) {
    if (depth <= 0) {
      switch (pick(0, 3)) {
        case 0:
          return std::to_string(pick(0, 99));
        case 1:
          return one<std::string>({"True", "False"});
        default:
          return name();
      }
    }
    switch (pick(0, 11)) {
      case 0:
        return "(" + expr(depth - 1) + " " +
               one<std::string>({"+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||"}) + " " +
               expr(depth - 1) + ")";
      case 1:
        return expr(depth - 1) + " " + one<std::string>({"+", "*", "-", "&&"}) + " " + expr(depth - 1);
      case 2:
        return one<std::string>({"-", "!"}) + expr(depth - 1);
      case 3:
        return expr(depth - 1) + " ? " + expr(depth - 1) + " : " + expr(depth - 1);
      case 4:
        return name() + "(" + expr(depth - 1) + ", *(" + expr(depth - 1) + "))";
      case 5:
        return name() + "[" + expr(depth - 1) + ", *]";
      case 6:
        return name() + "[" + one<std::string>({"", "1"}) + ":" + one<std::string>({"", "-1"}) + "]";
      case 7:
        return "(" + expr(depth - 1) + "." + one<std::string>({"size", "ipoint", "split", "len"}) + ")";
      case 8:
        return "(" + expr(depth - 1) + ", " + expr(depth - 1) + ")";
      case 9:
        return "tuple(" + expr(depth - 1) + " for i in " + expr(depth - 1) + ")";
      case 10:
        return "(" + expr(depth - 1) + ",)";
      default:
        return "Machine(" + one<std::string>({"GPU", "CPU", "OMP"}) + ")";
    }
  }

  std::string statement(int i) {
    const std::vector<std::string> procs{"GPU", "CPU", "OMP", "IO", "PY", "PROC"};
    const std::vector<std::string> mems{"SYSMEM", "FBMEM", "ZCMEM", "RDMEM", "SOCKMEM", "VIRTUAL"};
    switch (pick(0, 9)) {
      case 0:
        return "Task " + one<std::string>({"*", "a,b", "calc"}) + " " + kinds(procs) + ";";
      case 1:
        return "Region " + one<std::string>({"*", "calc"}) + " " + one<std::string>({"*", "0", "rp"}) + " " +
               one<std::string>({"*", "GPU"}) + " " + kinds(mems) + ";";
      case 2:
        return "Layout * " + one<std::string>({"*", "2"}) + " " + one<std::string>({"*", "FBMEM", "GPU"}) +
               " SOA C_order Align>=" + std::to_string(pick(1, 256)) + " Exact;";
      case 3:
        return "InstanceLimit " + one<std::string>({"a", "a,b"}) + " " + std::to_string(pick(1, 9)) + ";";
      case 4:
        return "CollectMemory " + one<std::string>({"*", "a"}) + " " + one<std::string>({"*", "1", "r"}) + ";";
      case 5:
        return one<std::string>({"IndexTaskMap", "SingleTaskMap"}) + " " + one<std::string>({"*", "GPU", "a,b"}) +
               " f;";
      case 6:
        return "ControlReplicate a;";
      case 7:
        return "print(\"v {} \\\"q\\\"\", " + expr(2) + ");";
      case 8:
        return "def f" + std::to_string(i) + "(Task t, int n) {\n  y = " + expr(3) + ";\n  return " + expr(3) + ";\n}";
      default:
        return "g" + std::to_string(i) + " = " + expr(4) + ";";
    }
  }
};

TEST(PrinterRoundTrip, RandomValidMappers) {
  for (uint32_t seed = 1; seed <= 500; ++seed) {
    std::string text = MapperGenerator(seed).mapper();
    expect_round_trip("random-" + std::to_string(seed) + ".map", text);
    if (HasFatalFailure()) break;
  }
}

}  // namespace
}  // namespace mage::dsl
