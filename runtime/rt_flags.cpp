//===-- rt_flags.cpp - MEMSCOPE_OPTIONS parsing ---------------------------===//
//
// Runs once at start-up (never on the allocation path). A bad key or value
// costs one line on stderr and leaves that option at its default: a typo in
// an environment variable must never stop the program.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <signal.h>
#include <strings.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

namespace memscope {
namespace rt {

Flags g_flags;

namespace {

bool parseValue(const char *text, uint64_t &out) {
  char *end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 0);
  if (errno || end == text || *text == '-')
    return false;
  unsigned long long scale = 1;
  if (*end == 'k' || *end == 'K')
    scale = 1024, ++end;
  else if (*end == 'm' || *end == 'M')
    scale = 1024 * 1024, ++end;
  else if (*end == 'g' || *end == 'G')
    scale = 1024ull * 1024 * 1024, ++end;
  else if (*end == 't' || *end == 'T')
    scale = 1024ull * 1024 * 1024 * 1024, ++end;
  if (*end)
    return false;
  if (value > UINT64_MAX / scale)
    return false;
  out = value * scale;
  return true;
}

bool parseValue(const char *text, uint32_t &out) {
  uint64_t value;
  if (!parseValue(text, value) || value > UINT32_MAX)
    return false;
  out = static_cast<uint32_t>(value);
  return true;
}

bool parseValue(const char *text, double &out) {
  char *end = nullptr;
  errno = 0;
  double value = strtod(text, &end);
  if (errno || end == text || *end)
    return false;
  out = value;
  return true;
}

bool parseValue(const char *text, bool &out) {
  if (!strcmp(text, "1") || !strcmp(text, "true") || !strcmp(text, "yes")) {
    out = true;
    return true;
  }
  if (!strcmp(text, "0") || !strcmp(text, "false") || !strcmp(text, "no")) {
    out = false;
    return true;
  }
  return false;
}

bool parseValue(const char *text, SignalNumber &out) {
  if (!strcmp(text, "none") || !strcmp(text, "0")) {
    out.value = 0;
    return true;
  }
  const char *name = strncmp(text, "SIG", 3) ? text : text + 3;
  if (!strcasecmp(name, "USR1") || !strcasecmp(name, "USR2")) {
    out.value = !strcasecmp(name, "USR1") ? SIGUSR1 : SIGUSR2;
    return true;
  }
  uint64_t number;
  // Signals whose default is to end the process, that a program does not
  // use for itself: not the crash signals the runtime handles, nor
  // SIGKILL/SIGSTOP, which cannot be caught.
  if (!parseValue(text, number) || number < 1 || number >= uint64_t(NSIG) ||
      number == SIGKILL || number == SIGSTOP || number == SIGSEGV ||
      number == SIGBUS || number == SIGFPE || number == SIGILL ||
      number == SIGABRT)
    return false;
  out.value = static_cast<int>(number);
  return true;
}

bool parseValue(const char *text, Duration &out) {
  char *end = nullptr;
  errno = 0;
  double value = strtod(text, &end);
  if (errno || end == text || *text == '-' || !(value >= 0))
    return false;
  double scale = 1e9;
  if (!strcmp(end, "ms"))
    scale = 1e6;
  else if (!strcmp(end, "m"))
    scale = 60e9;
  else if (!strcmp(end, "h"))
    scale = 3600e9;
  else if (*end && strcmp(end, "s"))
    return false;
  if (value * scale > 1.8e19)
    return false;
  out.ns = static_cast<uint64_t>(value * scale);
  return true;
}

bool parseValue(const char *text, StartMode &out) {
  if (!strcmp(text, "now") || !strcmp(text, "signal")) {
    out.on_signal = !strcmp(text, "signal");
    return true;
  }
  return false;
}

void setDefaults() {
#define MEMSCOPE_FLAG(Type, Name, Default, Description) g_flags.Name = Default;
#include "rt_flags.inc"
#undef MEMSCOPE_FLAG
}

/// Range checks that need more than the type: a value outside them is
/// reported and the default kept.
const char *checkRanges() {
  if (g_flags.sample_interval == 0)
    return "sample_interval must be at least 1";
  if (g_flags.sample_rate < 0 || g_flags.sample_rate > 1 ||
      g_flags.sample_rate != g_flags.sample_rate)
    return "sample_rate must be in (0, 1]";
  if (g_flags.stack_depth < 1 || g_flags.stack_depth > log::kMaxStackDepth)
    return "stack_depth must be in 1..256";
  if (g_flags.buffer_size &&
      (g_flags.buffer_size < 4096 || g_flags.buffer_size > (64u << 20) ||
       g_flags.buffer_size % 4096))
    return "buffer_size must be 0 or a multiple of 4096 in 4096..64MiB";
  if (g_flags.live_table_bits &&
      (g_flags.live_table_bits < 10 || g_flags.live_table_bits > 26))
    return "live_table_bits must be 0 or in 10..26";
  if (g_flags.max_log_size && g_flags.max_log_size < 64 * 1024)
    return "max_log_size must be 0 (no cap) or at least 64K";
  return nullptr;
}

void applyOne(const char *key, const char *value) {
  bool known = false, ok = false;
  Flags saved = g_flags;
#define MEMSCOPE_FLAG(Type, Name, Default, Description)                        \
  if (!known && !strcmp(key, #Name)) {                                         \
    known = true;                                                              \
    ok = parseValue(value, g_flags.Name);                                      \
  }
#include "rt_flags.inc"
#undef MEMSCOPE_FLAG
  if (!known) {
    report("unknown option '%s' in MEMSCOPE_OPTIONS (help=1 lists them); "
           "ignored",
           key);
    return;
  }
  const char *range_error = ok ? checkRanges() : nullptr;
  if (!ok || range_error) {
    g_flags = saved;
    report("bad value '%s' for option '%s' in MEMSCOPE_OPTIONS%s%s; keeping "
           "the default",
           value, key, range_error ? ": " : "", range_error ? range_error : "");
  }
}

} // namespace

static void parseFlagList(const char *options) {
  if (!options)
    return;
  char buffer[1024];
  size_t length = strlen(options);
  if (length >= sizeof(buffer)) {
    report("MEMSCOPE_OPTIONS is longer than %zu bytes; ignored",
           sizeof(buffer) - 1);
    return;
  }
  memcpy(buffer, options, length + 1);
  char *cursor = buffer;
  while (cursor && *cursor) {
    char *next = strpbrk(cursor, ":,");
    if (next)
      *next++ = '\0';
    if (*cursor) {
      char *equals = strchr(cursor, '=');
      if (!equals)
        report("option '%s' in MEMSCOPE_OPTIONS has no '=value'; ignored",
               cursor);
      else {
        *equals = '\0';
        applyOne(cursor, equals + 1);
      }
    }
    cursor = next;
  }
}

/// Defaults that depend on other flags.
static void resolveAutomaticFlags() {
  // Exact mode records everything: a rate has no meaning (and would be what
  // max_log_size thins it to).
  if (g_flags.exact)
    g_flags.sample_rate = 0;
  if (!g_flags.buffer_size)
    g_flags.buffer_size = g_flags.exact ? 1024 * 1024 : 64 * 1024;
  if (g_flags.snapshot_interval.ns && g_flags.snapshot_interval.ns < 1000000) {
    report("snapshot_interval below 1ms; using 1ms");
    g_flags.snapshot_interval.ns = 1000000;
  }
  if (g_flags.start.on_signal && !g_flags.signal.value) {
    report("start=signal needs a signal, and signal=none gives none; "
           "recording starts now");
    g_flags.start.on_signal = false;
  }
}

void parseFlags(const char *options) {
  setDefaults();
  parseFlagList(options);
  resolveAutomaticFlags();
}

void printFlagHelp() {
  // Once per process, though a program may start recording several times.
  static bool printed = false;
  if (__atomic_exchange_n(&printed, true, __ATOMIC_RELAXED))
    return;
  report("options (MEMSCOPE_OPTIONS=key=value:key=value):");
#define MEMSCOPE_FLAG(Type, Name, Default, Description)                        \
  report("  %-20s %s", #Name, Description);
#include "rt_flags.inc"
#undef MEMSCOPE_FLAG
  report("  output folder: MEMSCOPE_OUT=<dir> (recording is off without it)");
}

} // namespace rt
} // namespace memscope
