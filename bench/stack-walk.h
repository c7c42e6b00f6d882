// bench/stack-walk.cpp: the walk to time, called four frames deep.
#include <stdint.h>

using StackWalker = uint32_t (*)(uint64_t *frames);
uint32_t throughFourFrames(StackWalker walk, uint64_t *frames);
