//===-- UnwindTest.cpp - The cached-rule stack walk against libgcc --------===//
//
// Every test walks one stack twice from the same probe, with the runtime's
// walk (rt_unwind.cpp) and with _Unwind_Backtrace, and wants the same return
// addresses. The stacks are real call paths through code without frame
// pointers: this binary (built without them unless a sanitizer asks), libc
// (qsort, pthread_once, dl_iterate_phdr, thread start), libstdc++ (operator
// new's new-handler loop, std::call_once, std::thread), a library loaded
// with dlopen and replaced after dlclose, and a signal handler.
//
//===----------------------------------------------------------------------===//
#include "rt_modules.h"
#include "rt_unwind.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <dlfcn.h>
#include <functional>
#include <link.h>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

using namespace memscope::rt;

namespace {

constexpr uint32_t kDepth = 64;

/// The three walks of one stack. Plain arrays: a probe may run in a signal
/// handler, which must not allocate.
struct Walks {
  FastWalk fast_result = FastWalk::NeedsFullUnwind;
  uint64_t fast_frames[kDepth];      // walkCachedRules from the record
  uint64_t collected_frames[kDepth]; // collectStack stepping from the probe
  uint64_t full_frames[kDepth];      // _Unwind_Backtrace
  uint32_t fast_depth = 0, collected_depth = 0, full_depth = 0;

  std::vector<uint64_t> fast() const {
    return {fast_frames, fast_frames + fast_depth};
  }
  std::vector<uint64_t> collected() const {
    return {collected_frames, collected_frames + collected_depth};
  }
  std::vector<uint64_t> full() const {
    return {full_frames, full_frames + full_depth};
  }
};

std::string describe(const std::vector<uint64_t> &frames) {
  std::string text;
  for (uint64_t pc : frames) {
    Dl_info info{};
    char line[256];
    if (dladdr(reinterpret_cast<void *>(pc), &info) && info.dli_sname)
      snprintf(line, sizeof(line), "  %#lx %s\n", (unsigned long)pc,
               info.dli_sname);
    else
      snprintf(line, sizeof(line), "  %#lx %s\n", (unsigned long)pc,
               info.dli_fname ? info.dli_fname : "?");
    text += line;
  }
  return text;
}

/// Walks the stack of its caller three ways, \p max_depth deep: the cached
/// rules from the probe's frame record (as the runtime's entry points pass
/// it), collectStack stepping through the probe's own frames to the caller
/// (as when the record is unknown), and _Unwind_Backtrace.
__attribute__((noinline)) void probe(Walks &walks,
                                     uint32_t max_depth = kDepth) {
  CallerFrame caller = MSC_CALLER_FRAME();
  walks.fast_result =
      walkCachedRules(caller, walks.fast_frames, max_depth, walks.fast_depth);
  walks.collected_depth = collectStack(CallerFrame{caller.pc, nullptr},
                                       walks.collected_frames, max_depth);
  walks.full_depth = walkFullUnwinder(caller.pc, walks.full_frames, max_depth);
  MSC_KEEP_FRAME(); // keep the calls above non-tail
}

/// The checks every path gets: the runtime's walk equals libgcc's, and
/// took the fast path when \p fast_expected.
void expectSameStacks(const Walks &walks, bool fast_expected = true,
                      size_t min_depth = 2) {
  ASSERT_GE(walks.full_depth, min_depth) << "libgcc's unwinder found no stack";
  EXPECT_EQ(walks.collected(), walks.full())
      << "runtime:\n"
      << describe(walks.collected()) << "_Unwind_Backtrace:\n"
      << describe(walks.full());
  if (fast_expected) {
    EXPECT_EQ(walks.fast_result, FastWalk::Complete)
        << "a frame needed the full unwinder:\n"
        << describe(walks.full());
    EXPECT_EQ(walks.fast(), walks.full());
  }
}

// A chain of functions of this binary with different frame shapes.
__attribute__((noinline)) void leafCall(Walks &walks) {
  probe(walks);
  asm volatile("");
}
__attribute__((noinline)) void withLocals(Walks &walks, int n) {
  volatile char buffer[300];
  buffer[n % 300] = 1;
  leafCall(walks);
  buffer[(n + 1) % 300] = 2;
}
__attribute__((noinline)) void withAlloca(Walks &walks, size_t n) {
  // A variable-sized frame: the CFA is rbp-based here.
  volatile char *buffer = static_cast<char *>(__builtin_alloca(n));
  buffer[0] = 1;
  withLocals(walks, static_cast<int>(n));
  buffer[n - 1] = 2;
}

TEST(UnwindTest, FramesOfThisBinary) {
  Walks walks;
  withAlloca(walks, 100);
  expectSameStacks(walks);
  // The second walk uses the cached rules only.
  Walks again;
  withAlloca(again, 1000);
  expectSameStacks(again);
}

/// A walk's reads (WalkReads), recorded once and checked again later from
/// the same frame (\p record false).
struct ReadsProbe {
  CallerFrame caller;
  WalkReads reads;
  uint64_t frames[16];
  bool same_frame = false; // the check ran from the recorded caller frame
  bool unchanged = false;
};
__attribute__((noinline)) void readsProbe(ReadsProbe &p, bool record) {
  CallerFrame caller = MSC_CALLER_FRAME();
  if (record) {
    p.caller = caller;
    collectStack(caller, p.frames, 16, &p.reads);
  } else {
    p.same_frame = caller.record == p.caller.record;
    p.unchanged = readsUnchanged(p.reads);
  }
  MSC_KEEP_FRAME();
}
__attribute__((noinline)) void readsMiddle(ReadsProbe &p, bool record) {
  readsProbe(p, record);
  asm volatile("");
}
// Two identical callers: readsMiddle's frame lies at the same address under
// either, and only the return address into them differs.
__attribute__((noinline)) void readsViaA(ReadsProbe &p, bool record) {
  readsMiddle(p, record);
  asm volatile("");
}
__attribute__((noinline)) void readsViaB(ReadsProbe &p, bool record) {
  readsMiddle(p, record);
  asm volatile("");
}

TEST(UnwindTest, ReadsProveAStackUnchanged) {
  // One call site for every step (a loop not unrolled into four), so that
  // only the path below it differs.
  using Path = void (*)(ReadsProbe &, bool);
  Path volatile paths[] = {readsViaA, readsViaA, readsViaB, readsViaA};
  bool same_frame[4] = {}, unchanged[4] = {};
  ReadsProbe p;
#pragma clang loop unroll(disable)
  for (int step = 0; step < 4; ++step) {
    if (step == 3)
      forgetUnwindRules(); // new rules (a library was unloaded)
    paths[step](p, step == 0);
    same_frame[step] = p.same_frame;
    unchanged[step] = p.unchanged;
  }
  ASSERT_NE(p.reads.count, WalkReads::kUnusable);
  ASSERT_GT(p.reads.count, 2u);
  EXPECT_TRUE(same_frame[1]);
  EXPECT_TRUE(unchanged[1]) << "the same path reads the same words";
  ASSERT_TRUE(same_frame[2]) << "the test needs both paths at one depth";
  EXPECT_FALSE(unchanged[2]) << "another caller: a return address differs";
  EXPECT_FALSE(unchanged[3]) << "nothing recorded under older rules holds";
}

TEST(UnwindTest, DepthIsBounded) {
  for (uint32_t max_depth : {1u, 2u, 3u, 5u}) {
    Walks walks;
    struct Deep {
      static __attribute__((noinline)) void go(Walks &w, uint32_t d, int n) {
        if (n > 0)
          go(w, d, n - 1);
        else
          probe(w, d);
        asm volatile("");
      }
    };
    Deep::go(walks, max_depth, 6);
    EXPECT_EQ(walks.full_depth, max_depth);
    expectSameStacks(walks, /*fast_expected=*/true, /*min_depth=*/1);
  }
}

Walks *g_qsort_walks;
int g_qsort_calls;
int compareAndProbe(const void *a, const void *b) {
  if (g_qsort_calls++ == 3)
    probe(*g_qsort_walks);
  return *static_cast<const int *>(a) - *static_cast<const int *>(b);
}

TEST(UnwindTest, ThroughLibcQsort) {
  Walks walks;
  g_qsort_walks = &walks;
  g_qsort_calls = 0;
  int values[64];
  for (int i = 0; i < 64; ++i)
    values[i] = (i * 37) % 64;
  qsort(values, 64, sizeof(int), compareAndProbe);
  expectSameStacks(walks);
}

int probeInPhdrCallback(struct dl_phdr_info *, size_t, void *arg) {
  probe(*static_cast<Walks *>(arg));
  return 1;
}

TEST(UnwindTest, ThroughDlIteratePhdr) {
  Walks walks;
  dl_iterate_phdr(probeInPhdrCallback, &walks);
  expectSameStacks(walks);
}

TEST(UnwindTest, ThroughStdCallOnce) {
  Walks walks;
  std::once_flag once;
  std::call_once(once, [&] { probe(walks); });
  expectSameStacks(walks);
}

Walks *g_handler_walks;
void probeInNewHandler() {
  probe(*g_handler_walks);
  std::set_new_handler(nullptr); // operator new then throws bad_alloc
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MEMSCOPE_SANITIZED_NEW 1
#endif
#endif

TEST(UnwindTest, ThroughOperatorNewsHandlerLoop) {
#ifdef MEMSCOPE_SANITIZED_NEW
  GTEST_SKIP() << "the sanitizer's operator new replaces libstdc++'s, and "
                  "aborts on a failed request instead of calling the handler";
#endif
  Walks walks;
  g_handler_walks = &walks;
  std::set_new_handler(probeInNewHandler);
  // Through a volatile pointer: a new-expression and its delete may be
  // elided by the compiler.
  void *(*volatile allocate)(size_t) = ::operator new;
  bool threw = false;
  try {
    allocate(size_t(1) << 62);
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  ASSERT_TRUE(threw);
  expectSameStacks(walks);
}

TEST(UnwindTest, ThreadStartIsTheOutermostFrame) {
  Walks walks;
  std::thread thread([&] { probe(walks); });
  thread.join();
  expectSameStacks(walks);
  EXPECT_LT(walks.full_depth, 10u); // ends at clone, not at garbage
}

TEST(UnwindTest, ManyThreadsShareTheCache) {
  constexpr int kThreads = 8;
  std::vector<Walks> walks(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int round = 0; round < 50; ++round)
        withAlloca(walks[i], 64 + round);
    });
  for (auto &thread : threads)
    thread.join();
  for (const Walks &w : walks)
    expectSameStacks(w);
}

Walks *g_signal_walks;
void probeInSignalHandler(int) { probe(*g_signal_walks); }

TEST(UnwindTest, SignalHandlerFramesUseTheFullUnwinder) {
  Walks walks;
  g_signal_walks = &walks;
  struct sigaction action {};
  struct sigaction old {};
  action.sa_handler = probeInSignalHandler;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &action, &old), 0);
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old, nullptr);
  // __restore_rt's rule is a CFA expression: the walk hands the stack over.
  EXPECT_EQ(walks.fast_result, FastWalk::NeedsFullUnwind);
  expectSameStacks(walks, /*fast_expected=*/false);
  bool through_raise = false;
  for (uint64_t pc : walks.full()) {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(pc), &info) && info.dli_sname &&
        (std::string(info.dli_sname) == "raise" ||
         std::string(info.dli_sname) == "gsignal"))
      through_raise = true;
  }
  EXPECT_TRUE(through_raise) << describe(walks.full());
}

using CallThrough = void (*)(void (*)(void *), void *);

void probeFromLibrary(void *arg) { probe(*static_cast<Walks *>(arg)); }

/// Loads \p name (built next to this test), walks a stack through it.
uintptr_t walkThroughLibrary(const char *name, Walks &walks) {
  std::string path = std::string(MEMSCOPE_UNWIND_LIBRARY_DIR) + "/" + name;
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(library, nullptr) << dlerror();
  if (!library)
    return 0;
  auto call = reinterpret_cast<CallThrough>(dlsym(library, "callThrough"));
  EXPECT_NE(call, nullptr);
  call(probeFromLibrary, &walks);
  auto address = reinterpret_cast<uintptr_t>(call);
  EXPECT_EQ(dlclose(library), 0);
  return address;
}

TEST(UnwindTest, DlcloseDropsTheUnloadedLibrarysRules) {
  // Two builds of one source whose frames differ in size only, so the
  // second usually loads where the first was and its return addresses are
  // the first's: with the first's rules, its stacks would be wrong.
  writeNewModules();
  Walks first;
  uintptr_t first_address =
      walkThroughLibrary("libunwind-frames-small.so", first);
  expectSameStacks(first);
  uint32_t generation = unwindRulesGeneration();
  EXPECT_EQ(writeNewModules(), ModuleChange::Unloaded);
  forgetUnwindRules(); // what captureStack does on that answer
  EXPECT_NE(unwindRulesGeneration(), generation);
  Walks second;
  uintptr_t second_address =
      walkThroughLibrary("libunwind-frames-large.so", second);
  expectSameStacks(second);
  if (first_address != second_address)
    GTEST_LOG_(INFO) << "the second library loaded elsewhere; the check "
                        "above still holds, without proving the drop";
}

} // namespace
