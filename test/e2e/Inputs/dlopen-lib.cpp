// A plugin that dlopen-dlclose.c loads, uses and unloads. Its allocations
// are made both at its own sites and inside uninstrumented libstdc++ (the
// std::string growth), whose stack must still resolve to this file after
// dlclose.
#include <stdlib.h>

#include <string>

void *volatile plugin_sink;

extern "C" __attribute__((noinline)) void plugin_allocate(int count) {
  for (int i = 0; i < count; ++i)
    plugin_sink = malloc(128);                              // line 13
}

extern "C" __attribute__((noinline)) void plugin_strings(int count) {
  for (int i = 0; i < count; ++i) {
    std::string text;
    text.append(200, 'x');                                  // line 19
    plugin_sink = (void *)text.size();
  }
}
