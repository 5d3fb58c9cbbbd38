// The example mappers name only tasks and data that their programs have (original names).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "helpers.h"

namespace mage::apps::test {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool is_word(const std::string& w, std::initializer_list<const char*> words) {
  for (const char* x : words)
    if (w == x) return true;
  return false;
}

TEST(ExampleMappers, NameOnlyTasksAndRegionsOfTheirProgram) {
  for (const AppInfo& app : list()) {
    std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/mappers/examples/" + app.name + ".map");
    ASSERT_TRUE(in) << app.name;
    Program p = build(app.name, machine(1));
    const std::set<std::string, std::less<>> data = p.mapper_names().data;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Statements: strip comments, split at ';'.
    std::string clean;
    for (const std::string& line : split(text, '\n')) {
      std::string l = line.substr(0, std::min(line.find('#'), line.find("//")));
      clean += l + " ";
    }
    int checked = 0;
    for (const std::string& stmt : split(clean, ';')) {
      std::istringstream ws(stmt);
      std::vector<std::string> w;
      for (std::string x; ws >> x;) w.push_back(x);
      if (w.size() < 2) continue;
      auto check_tasks = [&](const std::string& names) {
        for (const std::string& t : split(names, ',')) {
          if (t == "*" || is_word(t, {"CPU", "GPU", "OMP", "IO", "PY", "PROC"})) continue;
          EXPECT_TRUE(p.find_task(t).has_value()) << app.name << ": unknown task " << t;
          ++checked;
        }
      };
      auto check_region = [&](const std::string& r) {
        if (r == "*" || std::isdigit(static_cast<unsigned char>(r[0]))) return;
        EXPECT_TRUE(data.count(r)) << app.name << ": unknown region " << r;
        ++checked;
      };
      const std::string& kw = w[0];
      if (kw == "Task" || kw == "InstanceLimit" || kw == "IndexTaskMap" || kw == "SingleTaskMap" ||
          kw == "ControlReplicate") {
        check_tasks(w[1]);
      } else if ((kw == "Region" || kw == "Layout" || kw == "CollectMemory") && w.size() >= 3) {
        check_tasks(w[1]);
        check_region(w[2]);
      }
    }
    EXPECT_GT(checked, 0) << app.name;
  }
}

}  // namespace
}  // namespace mage::apps::test
