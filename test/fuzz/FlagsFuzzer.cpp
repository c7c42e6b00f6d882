//===-- FlagsFuzzer.cpp - libFuzzer harness for MEMSCOPE_OPTIONS parsing -===//
//
// Any string as MEMSCOPE_OPTIONS: parseFlags (runtime/rt_flags.cpp) must
// never crash and must leave every flag inside its documented range, since
// the runtime sizes tables and windows from them.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <cstdlib>
#include <string>

namespace memscope {
namespace rt {
// rt_flags.cpp reports bad options through report() (rt_init.cpp, which
// this harness does not link): count the lines instead of printing them.
static unsigned g_reports;
void report(const char *, ...) { ++g_reports; }
} // namespace rt
} // namespace memscope

using namespace memscope::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  std::string Options(reinterpret_cast<const char *>(Data), Size);
  parseFlags(Options.c_str());
  bool InRange =
      g_flags.sample_interval >= 1 && g_flags.sample_rate >= 0 &&
      g_flags.sample_rate <= 1 && g_flags.stack_depth >= 1 &&
      g_flags.stack_depth <= memscope::log::kMaxStackDepth &&
      g_flags.buffer_size >= 4096 && g_flags.buffer_size <= (64u << 20) &&
      g_flags.buffer_size % 4096 == 0 &&
      (g_flags.live_table_bits == 0 ||
       (g_flags.live_table_bits >= 10 && g_flags.live_table_bits <= 26));
  if (!InRange)
    abort();
  return 0;
}
