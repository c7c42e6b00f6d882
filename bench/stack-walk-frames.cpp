// Four frames of code without frame pointers, the shape of a sampled
// allocation made inside libstdc++ or a third-party library (built with
// -fomit-frame-pointer, like Debian's). Each frame keeps some stack so that
// its unwind rule is not trivial.
#include "stack-walk.h"

namespace {
volatile unsigned g_index;

template <int Level>
__attribute__((noinline)) uint32_t frame(StackWalker walk, uint64_t *frames) {
  volatile char scratch[16 * Level + 8];
  scratch[g_index % sizeof(scratch)] = 1;
  uint32_t depth;
  if constexpr (Level == 1)
    depth = walk(frames);
  else
    depth = frame<Level - 1>(walk, frames);
  scratch[(g_index + 1) % sizeof(scratch)] = 2;
  return depth;
}
} // namespace

uint32_t throughFourFrames(StackWalker walk, uint64_t *frames) {
  return frame<4>(walk, frames);
}
