// Progress of a long command, shown only to a person watching (README "Progress"): one
// line on standard error, redrawn in place, and only when standard error is a terminal, so
// that what a command prints to a pipe or a file is the same however long it took.
#pragma once

#include <cstdio>
#include <string>

#include "eval/eval.h"

namespace mage::cli {

// A time with three significant digits in a readable unit: "1.88 s", "12.5 ms", "305 us".
std::string seconds(double s);

// The progress line of one evaluation (mage run, mage explain), e.g.
// "simulating: 1.25 ms simulated, 1200 of 4800 point tasks (25%) [3.2 s]" or
// "building the program [1.4 s]".
std::string progress_text(const eval::Progress& p);

// One line of status kept up to date in place: each draw returns to the start of the line
// ('\r'), writes the text cut to the terminal's width and erases the rest of the line
// ("\033[K"). Draws nothing when not enabled, before `after_s` seconds, or less than `every_s`
// seconds after the previous draw (unless the text is the first); clear() (also at
// destruction) erases a drawn line, keep() ends it with a newline instead.
class StatusLine {
 public:
  struct Settings {
    double after_s = 1;    // the first draw waits until the command took this long
    double every_s = 0.2;  // at most one draw per this many seconds
    int width = 0;         // columns of the terminal (0: asked of `out` at each draw, 80 if unknown)
  };
  StatusLine(std::FILE* out, bool enabled, Settings settings);
  ~StatusLine();
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  // On standard error, enabled when it is a terminal. The environment variable
  // MAGE_PROGRESS_AFTER_S, when it holds a number of seconds, replaces settings.after_s (tests
  // set 0 to see the line of a short run).
  static StatusLine on_stderr(Settings settings);

  // Draws `text` (one line, no newline) if due, `elapsed_s` seconds into the command.
  void show(const std::string& text, double elapsed_s);
  void clear();
  void keep();
  bool drawn() const { return drawn_; }
  bool enabled() const { return enabled_; }

 private:
  std::FILE* out_;
  bool enabled_;
  Settings settings_;
  bool drawn_ = false;
  double last_s_ = 0;
};

// eval::evaluate with the progress line of one evaluation on standard error (StatusLine
// on_stderr: after 1 s, redrawn at most every 0.2 s), erased before it returns or throws.
eval::Result evaluate_showing_progress(const eval::Request& request, const eval::Limits& limits);

}  // namespace mage::cli
