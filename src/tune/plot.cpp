// Plots with PLplot's svg device, each drawn in a child process: DIR/convergence.svg of a run
// (the best simulated time so far against the evaluations, the expert's and the default
// mapper's times as horizontal lines) and an experiment's convergence-APP.svg (per optimizer
// the mean best-so-far over seeds, with a band from the worst seed to the best).
#include <plplot.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>

#include "tune/detail.h"

namespace mage::tune::detail {

namespace {

// What a plotting child may use (a plot is a few hundred KiB).
constexpr rlim_t kPlotBytes = rlim_t{64} << 20;
constexpr rlim_t kPlotCpuSeconds = 60;

// Colour map 0 entries: background, axes and text, then one per line.
enum Colour : PLINT { kBackground = 0, kInk = 1, kBest = 2, kExpert = 3, kDefault = 4 };

int exit_on_error(PLCHAR_VECTOR message) {
  std::fprintf(stderr, "%s\n", message);
  std::_Exit(2);
}

// The legend in the right corner at `vertical` (PL_POSITION_TOP or _BOTTOM), one line per label.
void draw_legend(const std::vector<std::string>& labels, std::vector<PLINT>& opts, std::vector<PLINT>& colours,
                 std::vector<PLINT>& styles, PLINT vertical) {
  std::vector<const char*> text;
  for (const auto& l : labels) text.push_back(l.c_str());
  std::vector<PLFLT> widths(labels.size(), 2);
  std::vector<PLINT> text_colours(labels.size(), kInk);
  PLFLT legend_width = 0, legend_height = 0;
  plcol0(kInk);
  pllegend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           vertical | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, kBackground, kInk, 1, 0, 0,
           static_cast<PLINT>(labels.size()), opts.data(), 1.0, 0.8, 2.0, 0.0, text_colours.data(), text.data(),
           nullptr, nullptr, nullptr, nullptr, colours.data(), styles.data(), widths.data(), nullptr, nullptr, nullptr,
           nullptr);
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
  // Times a few units in the last place apart (the same schedule rounded differently) make a
  // flat line: an axis that narrow would step its ticks by less than the values' precision,
  // and PLplot's tick loop would never end (it wrote a 32 GB file).
  const bool flat = !(hi - lo > 1e-9 * std::max(std::abs(hi), 1e-9));
  const double span = flat ? 0.1 * std::max(hi, 1e-9) : hi - lo;
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
  draw_legend(labels, opts, colours, styles, PL_POSITION_TOP);
  plend();
}

// Colours of the bands' lines (and, lighter, of their bands), from index kFirstBand.
constexpr PLINT kFirstBand = 8;
constexpr int kPalette[][3] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                               {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};
constexpr PLINT kPaletteSize = static_cast<PLINT>(std::size(kPalette));

// Lines of means with min-max bands against evaluations (a log axis when the longest line is
// much longer than the shortest), and dashed horizontal references.
void draw_bands(const std::string& file, const std::string& title, const std::string& y_label,
                const std::vector<Band>& bands, const std::vector<std::pair<std::string, double>>& references) {
  plsexit(exit_on_error);
  plsdev("svg");
  plsfnam(file.c_str());
  plspage(0, 0, 900, 560, 0, 0);
  plscmap0n(kFirstBand + 2 * kPaletteSize);
  plscol0(kBackground, 255, 255, 255);
  plscol0(kInk, 0, 0, 0);
  for (PLINT i = 0; i < kPaletteSize; ++i) {
    plscol0(kFirstBand + i, kPalette[i][0], kPalette[i][1], kPalette[i][2]);
    plscol0a(kFirstBand + kPaletteSize + i, kPalette[i][0], kPalette[i][1], kPalette[i][2], 0.18);
  }
  plinit();

  size_t longest = 1, shortest = std::numeric_limits<size_t>::max();
  double hi = 0;
  for (const Band& b : bands) {
    if (b.mean.empty()) continue;
    longest = std::max(longest, b.mean.size());
    shortest = std::min(shortest, b.mean.size());
    for (double v : b.high) hi = std::max(hi, v);
  }
  for (const auto& r : references) hi = std::max(hi, r.second);
  if (hi <= 0) hi = 1;
  const bool log_x = shortest != std::numeric_limits<size_t>::max() && longest >= 20 * shortest;
  auto x_of = [&](size_t evaluation) {
    return log_x ? std::log10(static_cast<double>(evaluation)) : static_cast<double>(evaluation);
  };
  plcol0(kInk);
  const double x_lo = log_x ? 0 : 0.5, x_hi = log_x ? std::log10(static_cast<double>(longest)) * 1.02 : longest + 0.5;
  plenv(x_lo, std::max(x_hi, x_lo + 1), 0, hi * 1.35, 0, log_x ? 10 : 0);
  pllab(log_x ? "evaluation (log scale)" : "evaluation", y_label.c_str(), title.c_str());

  for (size_t i = 0; i < bands.size(); ++i) {
    const Band& b = bands[i];
    if (b.mean.empty()) continue;
    const PLINT colour = kFirstBand + static_cast<PLINT>(i) % kPaletteSize;
    // The band as steps: low along, high back.
    std::vector<PLFLT> bx, by;
    for (size_t k = 0; k < b.low.size(); ++k) {
      bx.push_back(x_of(k + 1));
      by.push_back(b.low[k]);
      if (k + 1 < b.low.size()) bx.push_back(x_of(k + 2)), by.push_back(b.low[k]);
    }
    for (size_t k = b.high.size(); k-- > 0;) {
      if (k + 1 < b.high.size()) bx.push_back(x_of(k + 2)), by.push_back(b.high[k]);
      bx.push_back(x_of(k + 1));
      by.push_back(b.high[k]);
    }
    if (bx.size() >= 3) {
      plcol0(colour + kPaletteSize);
      plfill(static_cast<PLINT>(bx.size()), bx.data(), by.data());
    }
    std::vector<PLFLT> x, y;
    for (size_t k = 0; k < b.mean.size(); ++k) {
      if (!y.empty()) x.push_back(x_of(k + 1)), y.push_back(y.back());
      x.push_back(x_of(k + 1));
      y.push_back(b.mean[k]);
    }
    plwidth(2);
    plcol0(colour);
    if (x.size() == 1)
      plstring(1, x.data(), y.data(), "#(728)");
    else
      plline(static_cast<PLINT>(x.size()), x.data(), y.data());
  }
  for (const auto& r : references) {
    PLFLT xs[2] = {x_lo, std::max(x_hi, x_lo + 1)}, ys[2] = {r.second, r.second};
    plcol0(kInk);
    plwidth(1);
    pllsty(2);
    plline(2, xs, ys);
    pllsty(1);
    plptex(xs[0] + 0.01 * (xs[1] - xs[0]), r.second, 1, 0, 0, r.first.c_str());
  }

  std::vector<std::string> labels;
  std::vector<PLINT> colours, styles, opts;
  for (size_t i = 0; i < bands.size(); ++i) {
    const Band& b = bands[i];
    labels.push_back(b.mean.empty() ? b.name + " (no run)" : fmt::format("{} ({:.3g})", b.name, b.mean.back()));
    colours.push_back(kFirstBand + static_cast<PLINT>(i) % kPaletteSize);
    styles.push_back(1);
    opts.push_back(PL_LEGEND_LINE);
  }
  if (labels.empty()) {
    plend();
    return;
  }
  draw_legend(labels, opts, colours, styles, PL_POSITION_BOTTOM);
  plend();
}

}  // namespace

bool plot_convergence(const std::filesystem::path& file, const std::string& title, const std::vector<double>& best,
                      std::optional<double> expert_s, std::optional<double> default_s, std::string& error) {
  return plot_in_child(
      file, [&](const std::string& tmp) { draw(tmp, title, best, expert_s, default_s); }, error);
}

bool plot_bands(const std::filesystem::path& file, const std::string& title, const std::string& y_label,
                const std::vector<Band>& bands, const std::vector<std::pair<std::string, double>>& references,
                std::string& error) {
  return plot_in_child(
      file, [&](const std::string& tmp) { draw_bands(tmp, title, y_label, bands, references); }, error);
}

bool plot_in_child(const std::filesystem::path& file, const std::function<void(const std::string&)>& draw_to,
                   std::string& error) {
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
    // A plot is a few hundred KiB drawn in well under a second: a drawing that goes on (as
    // PLplot's tick loop did on an axis narrower than its values' precision) is stopped.
    const rlimit size{kPlotBytes, kPlotBytes}, cpu{kPlotCpuSeconds, kPlotCpuSeconds};
    ::setrlimit(RLIMIT_FSIZE, &size);
    ::setrlimit(RLIMIT_CPU, &cpu);
    draw_to(tmp.string());
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
    if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXFSZ || WTERMSIG(status) == SIGXCPU))
      error = fmt::format("PLplot was stopped: the plot went past {} MiB or {} s of CPU time", kPlotBytes >> 20,
                          kPlotCpuSeconds);
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
