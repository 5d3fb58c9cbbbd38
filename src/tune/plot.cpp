// DIR/convergence.svg with PLplot's svg device: the best simulated time so far against the
// evaluations, and the expert's and the default mapper's times as horizontal lines.
#include <plplot.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tune/detail.h"

namespace mage::tune::detail {

namespace {

// Colour map 0 entries: background, axes and text, then one per line.
enum Colour : PLINT { kBackground = 0, kInk = 1, kBest = 2, kExpert = 3, kDefault = 4 };

int exit_on_error(PLCHAR_VECTOR message) {
  std::fprintf(stderr, "%s\n", message);
  std::_Exit(2);
}

// Draws the plot; runs in the child.
void draw(const std::string& file, const std::string& title, const std::vector<double>& best,
          std::optional<double> expert_s, std::optional<double> default_s) {
  plsexit(exit_on_error);
  plsdev("svg");
  plsfnam(file.c_str());
  plspage(0, 0, 800, 500, 0, 0);
  plscol0(kBackground, 255, 255, 255);
  plscol0(kInk, 0, 0, 0);
  plscol0(kBest, 31, 119, 180);
  plscol0(kExpert, 214, 39, 40);
  plscol0(kDefault, 44, 160, 44);
  plinit();

  const double n = static_cast<double>(best.size());
  double lo = INFINITY, hi = -INFINITY;
  for (double v : best)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  for (const auto& r : {expert_s, default_s})
    if (r) lo = std::min(lo, *r), hi = std::max(hi, *r);
  if (!std::isfinite(lo)) lo = 0, hi = 1;  // nothing ran: empty axes
  const double span = hi > lo ? hi - lo : 0.1 * std::max(hi, 1e-9);
  plcol0(kInk);
  // Room above the highest line for the legend.
  plenv(0.5, std::max(n, 1.0) + 0.5, std::max(0.0, lo - 0.08 * span), hi + 0.45 * span, 0, 0);
  pllab("evaluation", "simulated time (s)", title.c_str());

  // The best so far as steps, from the first evaluation that worked.
  std::vector<PLFLT> x, y;
  for (size_t i = 0; i < best.size(); ++i) {
    if (!std::isfinite(best[i])) continue;
    if (!y.empty()) {
      x.push_back(static_cast<PLFLT>(i + 1));
      y.push_back(y.back());
    }
    x.push_back(static_cast<PLFLT>(i + 1));
    y.push_back(best[i]);
  }
  plwidth(2);
  plcol0(kBest);
  if (!x.empty()) {
    plline(static_cast<PLINT>(x.size()), x.data(), y.data());
    plstring(static_cast<PLINT>(x.size()), x.data(), y.data(), "#(728)");
  }
  auto horizontal = [&](std::optional<double> at, Colour c) {
    if (!at) return;
    PLFLT xs[2] = {0.5, std::max(n, 1.0) + 0.5}, ys[2] = {*at, *at};
    plcol0(c);
    pllsty(2);
    plline(2, xs, ys);
    pllsty(1);
  };
  horizontal(expert_s, kExpert);
  horizontal(default_s, kDefault);

  // Legend: the lines that were drawn.
  std::vector<std::string> labels;
  std::vector<PLINT> colours, styles, opts;
  auto entry = [&](const std::string& text, std::optional<double> value, Colour c, PLINT style) {
    labels.push_back(value ? fmt::format("{} ({:.4g} s)", text, *value) : text + " (failed)");
    colours.push_back(c);
    styles.push_back(style);
    opts.push_back(PL_LEGEND_LINE);
  };
  std::optional<double> final_best;
  if (!y.empty()) final_best = y.back();
  entry("best so far", final_best, kBest, 1);
  entry("expert mapper", expert_s, kExpert, 2);
  entry("default mapper", default_s, kDefault, 2);
  std::vector<const char*> text;
  for (const auto& l : labels) text.push_back(l.c_str());
  std::vector<PLFLT> widths(labels.size(), 2);
  std::vector<PLINT> text_colours(labels.size(), kInk);
  PLFLT legend_width = 0, legend_height = 0;
  plcol0(kInk);
  pllegend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, kBackground, kInk, 1, 0, 0,
           static_cast<PLINT>(labels.size()), opts.data(), 1.0, 0.8, 2.0, 0.0, text_colours.data(), text.data(),
           nullptr, nullptr, nullptr, nullptr, colours.data(), styles.data(), widths.data(), nullptr, nullptr, nullptr,
           nullptr);
  plend();
}

}  // namespace

bool plot_convergence(const std::filesystem::path& file, const std::string& title, const std::vector<double>& best,
                      std::optional<double> expert_s, std::optional<double> default_s, std::string& error) {
  const std::filesystem::path tmp = file.string() + ".mage-tmp";
  int log[2];
  if (::pipe2(log, O_CLOEXEC) != 0) {
    error = fmt::format("pipe: {}", std::strerror(errno));
    return false;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = fmt::format("fork: {}", std::strerror(errno));
    ::close(log[0]);
    ::close(log[1]);
    return false;
  }
  if (pid == 0) {
    ::dup2(log[1], STDOUT_FILENO);
    ::dup2(log[1], STDERR_FILENO);
    draw(tmp.string(), title, best, expert_s, default_s);
    std::fflush(nullptr);
    std::_Exit(0);
  }
  ::close(log[1]);
  std::string said;
  char buf[4096];
  for (ssize_t n; (n = ::read(log[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    said.append(buf, static_cast<size_t>(n));
  }
  ::close(log[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::error_code ec;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(tmp, ec)) {
    while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
    error = said.empty() ? "PLplot did not write the plot" : "PLplot: " + said;
    std::filesystem::remove(tmp, ec);
    return false;
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    error = fmt::format("cannot write {}: {}", file.string(), ec.message());
    return false;
  }
  return true;
}

}  // namespace mage::tune::detail
