// Internals of the eval module shared by its source files (not for other modules).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "eval/eval.h"

namespace mage::eval::detail {

// Under AddressSanitizer the address space is terabytes of shadow memory: a limit on it
// would stop the process at once, so sanitized builds (tests only) run without one.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kLimitAddressSpace = false;
#else
inline constexpr bool kLimitAddressSpace = true;
#endif

struct EmbeddedMapper {
  std::string_view app;
  std::string_view text;
};
// Generated at build time from mappers/expert/*.map (see CMakeLists.txt), sorted by app.
std::span<const EmbeddedMapper> embedded_experts();

// Generated at build time: a hash of the model sources (see model_version.cmake).
extern const char* const kModelHash;

// A request checked and resolved in the parent: the machine loaded, the program's
// parameters fixed, the mapper's text found. The child inherits it through fork().
struct Prepared {
  std::shared_ptr<const machine::Machine> machine;
  std::string machine_text;  // the TOML the machine was loaded from
  std::string app;
  apps::Params params;
  MapperKind mapper_kind = MapperKind::Expert;
  dsl::SourceFile mapper;  // Text and Expert
  sim::Options options;
  Fault fault = Fault::None;
  std::string key_material;  // canonical JSON of everything above (see cache_key)
  std::string key;           // hash of key_material
  // When set, the child runs this instead of the pipeline (eval::simulate: a Plan built by
  // the caller). It runs after fork(), so it may refer to the caller's objects.
  std::function<Result()> work;
};

// Throws RequestError, and LimitError when the program has more point tasks than
// `task_limit` (0: no limit).
Prepared prepare(const Request& request, int64_t task_limit = 0);

// A progress report as the child writes it to its progress pipe: one write() of this size
// (less than PIPE_BUF, so atomic), read back by the parent in the same binary.
struct ProgressRecord {
  int32_t phase = 0;  // Phase
  int32_t unused = 0;
  double simulated_s = 0;
  int64_t tasks_done = 0;
  int64_t tasks_total = 0;
};
static_assert(sizeof(ProgressRecord) == 32);

// The whole evaluation, in this process (the child calls it): never throws. `progress`,
// when set, is told each phase as it starts and the simulator's reports.
Result run_pipeline(const Prepared& p, uint64_t memory_limit_bytes,
                    const std::function<void(const Progress&)>& progress = {});
// The outcome of a child that ran out of its memory limit (0: no limit).
sim::Outcome memory_exhausted(uint64_t memory_limit_bytes);

// The child's life after fork(): limits, the request's fault if any, run_pipeline, the
// Result as JSON on `result_fd`; stdout and stderr go to `log_fd`; progress records
// (ProgressRecord) on `progress_fd` unless it is -1, never blocking (a record that does not fit
// in the pipe is dropped). Never returns.
[[noreturn]] void child_main(const Prepared& p, const Limits& limits, int result_fd, int log_fd, int progress_fd,
                             int parent_pid);

// 128-bit FNV-1a of `text`, as 32 hex digits.
std::string content_hash(std::string_view text);

}  // namespace mage::eval::detail
