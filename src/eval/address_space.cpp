// AddressSpaceLimit: the memory limit of an evaluation, applied to the calling process for a
// while, and what going over it says (eval.h).
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>

#include "eval/detail.h"
#include "eval/eval.h"

namespace mage::eval {

AddressSpaceLimit::AddressSpaceLimit(uint64_t bytes) {
  rlimit current{};
  if (bytes == 0 || !detail::kLimitAddressSpace || ::getrlimit(RLIMIT_AS, &current) != 0) return;
  // Never above the hard limit, which this process could not raise back.
  const rlim_t wanted = current.rlim_max == RLIM_INFINITY ? bytes : std::min<rlim_t>(bytes, current.rlim_max);
  if (current.rlim_cur != RLIM_INFINITY && current.rlim_cur <= wanted) return;  // already tighter
  const rlimit bounded{wanted, current.rlim_max};
  if (::setrlimit(RLIMIT_AS, &bounded) != 0) return;
  set_ = true;
  previous_ = current.rlim_cur;
}

AddressSpaceLimit::~AddressSpaceLimit() {
  rlimit current{};
  if (!set_ || ::getrlimit(RLIMIT_AS, &current) != 0) return;
  current.rlim_cur = previous_;
  ::setrlimit(RLIMIT_AS, &current);
}

std::string over_memory_limit(std::string_view what, uint64_t bytes) {
  return fmt::format("{} exceeded the memory limit of {} MiB (--memory-limit GIB raises it, --memory-limit 0 lifts it)",
                     what, bytes >> 20);
}

}  // namespace mage::eval
