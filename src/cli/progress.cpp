// The progress line (progress.h).
#include "cli/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace mage::cli {

std::string seconds(double s) {
  const double a = std::abs(s);
  if (a == 0) return "0 s";
  if (a < 1e-6) return fmt::format("{:.3g} ns", s * 1e9);
  if (a < 1e-3) return fmt::format("{:.3g} us", s * 1e6);
  if (a < 1) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} s", s);
}

namespace {

int terminal_width(std::FILE* out) {
  winsize w{};
  if (::ioctl(::fileno(out), TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
  return 80;
}

}  // namespace

std::string progress_text(const eval::Progress& p) {
  std::string text(eval::to_string(p.phase));
  const sim::Progress& s = p.simulation;
  if (p.phase == eval::Phase::Simulating && s.tasks_total > 0)
    text += fmt::format(": {} simulated, {} of {} point tasks ({}%)", seconds(s.simulated_s), s.tasks_done,
                        s.tasks_total, s.tasks_done * 100 / s.tasks_total);
  return text + fmt::format(" [{:.1f} s]", p.elapsed_s);
}

StatusLine::StatusLine(std::FILE* out, bool enabled, Settings settings)
    : out_(out), enabled_(enabled), settings_(settings) {}

StatusLine::~StatusLine() { clear(); }

StatusLine StatusLine::on_stderr(Settings settings) {
  if (const char* env = std::getenv("MAGE_PROGRESS_AFTER_S")) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && *end == '\0' && std::isfinite(v) && v >= 0) settings.after_s = v;
  }
  return StatusLine(stderr, ::isatty(STDERR_FILENO) == 1, settings);
}

void StatusLine::show(const std::string& text, double elapsed_s) {
  if (!enabled_ || elapsed_s < settings_.after_s) return;
  if (drawn_ && elapsed_s - last_s_ < settings_.every_s - 1e-9) return;  // (1e-9: 1.2 - 1.0 < 0.2)
  const int width = settings_.width > 0 ? settings_.width : terminal_width(out_);
  // One column short of the width: a line that fills it would wrap on some terminals.
  std::string_view line = std::string_view(text).substr(0, text.find('\n'));
  const size_t room = static_cast<size_t>(std::max(1, width - 1));
  if (line.size() > room) line = line.substr(0, room);
  std::fprintf(out_, "\r%.*s\033[K", static_cast<int>(line.size()), line.data());
  std::fflush(out_);
  drawn_ = true;
  last_s_ = elapsed_s;
}

void StatusLine::clear() {
  if (!drawn_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  drawn_ = false;
}

void StatusLine::keep() {
  if (!drawn_) return;
  std::fputs("\n", out_);
  std::fflush(out_);
  drawn_ = false;
}

eval::Result evaluate_showing_progress(const eval::Request& request, const eval::Limits& limits) {
  StatusLine line = StatusLine::on_stderr({.after_s = 1, .every_s = 0.2, .width = 0});
  if (!line.enabled()) return eval::evaluate(request, limits);
  return eval::evaluate(request, limits, nullptr,
                        [&line](const eval::Progress& p) { line.show(progress_text(p), p.elapsed_s); });
}

}  // namespace mage::cli
