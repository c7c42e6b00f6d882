//===-- rt_unwind.cpp - The stack walk: frame pointers and cached rules ---===//
//
// A sampled allocation's stack is walked one frame at a time by a cached
// unwind rule per return address. On x86-64 the .eh_frame CFI of nearly
// every return address says three things only: the CFA is rsp or rbp plus
// a constant, the return address is at CFA-8, and rbp is unchanged or saved
// at CFA plus a constant. That rule is computed once per return address
// (the FDE from _Unwind_Find_FDE, which glibc >= 2.35 serves lock-free from
// _dl_find_object; the CIE's and FDE's CFA programs run up to the address)
// and kept in a lock-free table. A repeated path costs one table probe and
// two or three loads per frame, with no DWARF interpretation: what
// _Unwind_Backtrace does for every frame of every stack, and what made it
// 75% of exact mode's instructions.
//
// * Through instrumented code (the wrappers build it with
//   -fno-omit-frame-pointer) the rule is the frame-pointer step itself:
//   CFA = rbp + 16, the caller's rbp at CFA-16. Instrumented code built
//   without unwind tables gets that step without CFI. Taking it from the
//   CFI rather than assuming it keeps a static program right, where libc's
//   and libstdc++'s archives share the instrumented module but not its
//   frame pointers.
// * Through code without frame pointers (Debian's libstdc++ and libc,
//   third-party libraries, the runtime's malloc entry points), the rule is
//   rsp-based.
// * _Unwind_Backtrace takes the whole stack when a frame's rule is one the
//   table cannot express (a CFA expression, a signal trampoline such as
//   __restore_rt, a CFA in another register), or a frame fails a check.
//
// bytehound caches whole unwind-table rows per address and perf's ORC
// precomputes the same (CFA base, offset, saved rbp) triple per
// instruction at build time. Here an entry is 16 bytes keyed by the return
// address alone, filled on first use, so only addresses that occur in
// sampled stacks cost anything.
//
// Every value read from the stack is checked first: a frame's CFA must lie
// above the previous one and inside the thread's stack (its bounds read
// once per thread), so a wrong rule or a corrupt frame ends in the full
// unwinder, never in a fault. Entries are keyed by return address and by a
// generation that forgetUnwindRules() advances when the module map shows an
// unload (rt_stack.cpp checks it before writing a new stack), so a library
// mapped where an unloaded one was never uses the old one's rules.
//
//===----------------------------------------------------------------------===//
#include "rt_unwind.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <unwind.h>

// The main thread's stack end, exported by glibc's dynamic loader.
extern "C" void *__libc_stack_end;

// libgcc's (and LLVM libunwind's) FDE lookup, the one _Unwind_Backtrace
// uses; not declared in <unwind.h>.
struct dwarf_eh_bases {
  void *tbase;
  void *dbase;
  void *func;
};
extern "C" const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *);

namespace memscope {
namespace rt {

namespace {

//===-- Thread stack bounds -----------------------------------------------===//

struct StackBounds {
  uintptr_t low;
  uintptr_t high;
};
// Trivially destructible, so allowed as a thread_local.
__thread StackBounds t_stack_bounds;

uintptr_t parseHex(const char *&p, const char *end) {
  uintptr_t value = 0;
  for (; p < end; ++p) {
    char c = *p;
    unsigned digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      break;
    value = (value << 4) | digit;
  }
  return value;
}

/// The mapping of /proc/self/maps that holds sp: the thread's stack. Reads
/// with read(2) into a buffer on the stack; no malloc, no stdio.
StackBounds findStackMapping(uintptr_t sp) {
  StackBounds none{0, 0};
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return none;
  char buffer[4096];
  size_t kept = 0;
  StackBounds found = none;
  for (;;) {
    ssize_t got = read(fd, buffer + kept, sizeof(buffer) - kept);
    if (got <= 0)
      break;
    size_t size = kept + static_cast<size_t>(got);
    size_t line = 0;
    for (size_t i = 0; i < size; ++i) {
      if (buffer[i] != '\n')
        continue;
      const char *p = buffer + line;
      const char *end = buffer + i;
      uintptr_t low = parseHex(p, end);
      if (p < end && *p == '-') {
        ++p;
        uintptr_t high = parseHex(p, end);
        if (sp >= low && sp < high)
          found = {low, high};
      }
      line = i + 1;
    }
    if (found.high)
      break;
    // Keep the partial last line for the next read.
    kept = size - line;
    if (kept == sizeof(buffer))
      kept = 0; // an absurdly long line: drop it
    for (size_t i = 0; i < kept; ++i)
      buffer[i] = buffer[line + i];
  }
  close(fd);
  return found;
}

StackBounds currentStackBounds(uintptr_t sp) {
  StackBounds &bounds = t_stack_bounds;
  if (sp >= bounds.low && sp < bounds.high)
    return bounds;
  // Without a system call where glibc tells: a thread's descriptor sits at
  // the top of its stack (also of a stack the caller provided), and the
  // main thread's stack ends at __libc_stack_end. Frames lie between sp
  // and there.
  constexpr uintptr_t kMaxStack = uintptr_t(1) << 30;
  auto self = static_cast<uintptr_t>(pthread_self());
  auto main_end = reinterpret_cast<uintptr_t>(__libc_stack_end);
  if (self > sp && self - sp < kMaxStack)
    bounds = {sp, self};
  else if (main_end > sp && main_end - sp < kMaxStack)
    bounds = {sp, main_end};
  else // a signal stack, or a thread glibc did not create
    bounds = findStackMapping(sp);
  return bounds;
}

//===-- Unwind rules from .eh_frame ---------------------------------------===//

// DWARF register numbers of x86-64 (System V psABI, figure 3.36).
constexpr uint64_t kRegFp = 6;  // rbp
constexpr uint64_t kRegSp = 7;  // rsp
constexpr uint64_t kRegRa = 16; // the return address column

/// One return address's rule, packed in 64 bits:
///   bits 0-7    Kind
///   bit 8       the CFA is rbp + offset (else rsp + offset)
///   bit 9       rbp is saved at CFA + fp_offset (else unchanged)
///   bits 16-31  fp_offset (signed)
///   bits 32-63  cfa_offset (signed)
/// The return address is always at CFA - 8 (other rules are kFull).
enum RuleKind : uint64_t {
  kFull = 0,      // only the full unwinder can step over this frame
  kStep = 1,      // the packed rule steps over it
  kOutermost = 2, // the return address is undefined: the stack ends here
};
constexpr uint64_t kCfaFromFp = 1u << 8;
constexpr uint64_t kFpSaved = 1u << 9;

uint64_t packRule(bool cfa_from_fp, int64_t cfa_offset, bool fp_saved,
                  int64_t fp_offset) {
  if (cfa_offset != static_cast<int32_t>(cfa_offset) ||
      fp_offset != static_cast<int16_t>(fp_offset))
    return kFull;
  return kStep | (cfa_from_fp ? kCfaFromFp : 0) | (fp_saved ? kFpSaved : 0) |
         (uint64_t(uint16_t(fp_offset)) << 16) |
         (uint64_t(uint32_t(cfa_offset)) << 32);
}
inline int64_t ruleCfaOffset(uint64_t rule) {
  return static_cast<int32_t>(rule >> 32);
}
inline int64_t ruleFpOffset(uint64_t rule) {
  return static_cast<int16_t>(rule >> 16);
}

/// Reads .eh_frame data. Out of range reads set ok = false and return 0.
struct Cursor {
  const uint8_t *p;
  const uint8_t *end;
  bool ok = true;

  bool has(size_t n) {
    if (ok && static_cast<size_t>(end - p) >= n)
      return true;
    ok = false;
    return false;
  }
  template <typename T> T fixed() {
    T value = 0;
    if (has(sizeof(T))) {
      __builtin_memcpy(&value, p, sizeof(T));
      p += sizeof(T);
    }
    return value;
  }
  uint64_t uleb() {
    uint64_t value = 0;
    for (unsigned shift = 0; has(1); shift += 7) {
      uint8_t byte = *p++;
      if (shift < 64)
        value |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return value;
    }
    return 0;
  }
  int64_t sleb() {
    int64_t value = 0;
    unsigned shift = 0;
    for (; has(1); shift += 7) {
      uint8_t byte = *p++;
      if (shift < 64)
        value |= int64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        if (shift + 7 < 64 && (byte & 0x40))
          value |= -(int64_t(1) << (shift + 7));
        return value;
      }
    }
    return 0;
  }
  void skip(uint64_t n) {
    if (has(n))
      p += n;
  }
  /// Skips a pointer in DW_EH_PE encoding \p encoding (only its size
  /// matters: the function's start comes from _Unwind_Find_FDE).
  void skipEncoded(uint8_t encoding) {
    if (encoding == 0xff) // DW_EH_PE_omit
      return;
    switch (encoding & 0x0f) {
    case 0x00: // absptr
    case 0x04: // udata8
    case 0x0c: // sdata8
      return skip(8);
    case 0x01: // uleb128
      uleb();
      return;
    case 0x09: // sleb128
      sleb();
      return;
    case 0x02: // udata2
    case 0x0a: // sdata2
      return skip(2);
    case 0x03: // udata4
    case 0x0b: // sdata4
      return skip(4);
    default:
      ok = false;
    }
  }
};

/// Reads a CIE or FDE header; returns the cursor over its contents and
/// where its length field ended (the CIE pointer's base).
bool openEntry(const uint8_t *entry, Cursor &body) {
  Cursor c{entry, entry + 12};
  uint64_t length = c.fixed<uint32_t>();
  if (length == 0xffffffff) {
    c.end = entry + 12;
    length = c.fixed<uint64_t>();
  }
  if (!c.ok || length == 0 || length > (uint64_t(1) << 30))
    return false;
  body = Cursor{c.p, c.p + length};
  return true;
}

struct Cie {
  uint64_t code_align = 0;
  int64_t data_align = 0;
  uint64_t ra_register = 0;
  uint8_t fde_encoding = 0; // DW_EH_PE_absptr
  bool has_augmentation_data = false;
  bool signal_frame = false;
  Cursor instructions{nullptr, nullptr};
};

bool parseCie(const uint8_t *entry, Cie &cie) {
  Cursor c{nullptr, nullptr};
  if (!openEntry(entry, c))
    return false;
  if (c.fixed<uint32_t>() != 0) // .eh_frame's CIE id
    return false;
  uint8_t version = c.fixed<uint8_t>();
  if (version != 1 && version != 3)
    return false;
  const char *augmentation = reinterpret_cast<const char *>(c.p);
  while (c.has(1) && *c.p)
    ++c.p;
  c.skip(1);
  const char *a = augmentation;
  if (a[0] == 'e' && a[1] == 'h') {
    c.skip(8);
    a += 2;
  }
  cie.code_align = c.uleb();
  cie.data_align = c.sleb();
  cie.ra_register = version == 1 ? c.fixed<uint8_t>() : c.uleb();
  if (*a == 'z') {
    cie.has_augmentation_data = true;
    uint64_t size = c.uleb();
    Cursor data{c.p, c.p + size};
    c.skip(size);
    for (++a; *a && data.ok; ++a) {
      if (*a == 'R')
        cie.fde_encoding = data.fixed<uint8_t>();
      else if (*a == 'P')
        data.skipEncoded(data.fixed<uint8_t>());
      else if (*a == 'L')
        data.fixed<uint8_t>();
      else if (*a == 'S')
        cie.signal_frame = true;
      else if (*a != 'B' && *a != 'G')
        break; // unknown: the size above still skips its data
    }
  } else if (*a) {
    return false; // an augmentation whose data we cannot skip
  }
  cie.instructions = c;
  return c.ok;
}

/// How one register is recovered, for the registers a rule needs.
struct RegisterRule {
  enum How : uint8_t { Same, Undefined, AtCfa, Other } how = Same;
  int64_t offset = 0;
};
struct Row {
  uint64_t cfa_register = kRegSp;
  int64_t cfa_offset = 8;
  bool cfa_expression = false;
  RegisterRule fp;
  RegisterRule ra;
};

class CfaProgram {
public:
  CfaProgram(const Cie &cie, uintptr_t target) : cie(cie), target(target) {}

  /// Runs \p insns from location \p start; stops past target. False for an
  /// instruction this interpreter does not know.
  bool run(Cursor insns, uintptr_t &location, Row &row, const Row &initial) {
    while (insns.ok && insns.p < insns.end) {
      uint8_t op = insns.fixed<uint8_t>();
      uint8_t low = op & 0x3f;
      switch (op >> 6) {
      case 1: // DW_CFA_advance_loc
        if (!advance(location, low * cie.code_align))
          return true;
        continue;
      case 2: // DW_CFA_offset
        set(row, low, RegisterRule::AtCfa,
            int64_t(insns.uleb()) * cie.data_align);
        continue;
      case 3: // DW_CFA_restore
        restore(row, initial, low);
        continue;
      }
      switch (op) {
      case 0x00: // DW_CFA_nop
        break;
      case 0x02: // DW_CFA_advance_loc1
        if (!advance(location, insns.fixed<uint8_t>() * cie.code_align))
          return true;
        break;
      case 0x03: // DW_CFA_advance_loc2
        if (!advance(location, insns.fixed<uint16_t>() * cie.code_align))
          return true;
        break;
      case 0x04: // DW_CFA_advance_loc4
        if (!advance(location, insns.fixed<uint32_t>() * cie.code_align))
          return true;
        break;
      case 0x05: { // DW_CFA_offset_extended
        uint64_t reg = insns.uleb();
        set(row, reg, RegisterRule::AtCfa,
            int64_t(insns.uleb()) * cie.data_align);
        break;
      }
      case 0x06: // DW_CFA_restore_extended
        restore(row, initial, insns.uleb());
        break;
      case 0x07: // DW_CFA_undefined
        set(row, insns.uleb(), RegisterRule::Undefined, 0);
        break;
      case 0x08: // DW_CFA_same_value
        set(row, insns.uleb(), RegisterRule::Same, 0);
        break;
      case 0x09: // DW_CFA_register
        set(row, insns.uleb(), RegisterRule::Other, 0);
        insns.uleb();
        break;
      case 0x0a: // DW_CFA_remember_state
        if (saved_count == kMaxSaved)
          return false;
        saved[saved_count++] = row;
        break;
      case 0x0b: // DW_CFA_restore_state
        if (saved_count == 0)
          return false;
        row = saved[--saved_count];
        break;
      case 0x0c: // DW_CFA_def_cfa
        row.cfa_register = insns.uleb();
        row.cfa_offset = int64_t(insns.uleb());
        row.cfa_expression = false;
        break;
      case 0x0d: // DW_CFA_def_cfa_register
        row.cfa_register = insns.uleb();
        break;
      case 0x0e: // DW_CFA_def_cfa_offset
        row.cfa_offset = int64_t(insns.uleb());
        break;
      case 0x0f: // DW_CFA_def_cfa_expression
        row.cfa_expression = true;
        insns.skip(insns.uleb());
        break;
      case 0x10: // DW_CFA_expression
        set(row, insns.uleb(), RegisterRule::Other, 0);
        insns.skip(insns.uleb());
        break;
      case 0x11: { // DW_CFA_offset_extended_sf
        uint64_t reg = insns.uleb();
        set(row, reg, RegisterRule::AtCfa, insns.sleb() * cie.data_align);
        break;
      }
      case 0x12: // DW_CFA_def_cfa_sf
        row.cfa_register = insns.uleb();
        row.cfa_offset = insns.sleb() * cie.data_align;
        row.cfa_expression = false;
        break;
      case 0x13: // DW_CFA_def_cfa_offset_sf
        row.cfa_offset = insns.sleb() * cie.data_align;
        break;
      case 0x14: // DW_CFA_val_offset
      case 0x15: // DW_CFA_val_offset_sf
        set(row, insns.uleb(), RegisterRule::Other, 0);
        insns.uleb();
        break;
      case 0x16: // DW_CFA_val_expression
        set(row, insns.uleb(), RegisterRule::Other, 0);
        insns.skip(insns.uleb());
        break;
      case 0x2e: // DW_CFA_GNU_args_size
        insns.uleb();
        break;
      case 0x2f: { // DW_CFA_GNU_negative_offset_extended
        uint64_t reg = insns.uleb();
        set(row, reg, RegisterRule::AtCfa,
            -int64_t(insns.uleb()) * cie.data_align);
        break;
      }
      default: // DW_CFA_set_loc and vendor extensions
        return false;
      }
    }
    return insns.ok;
  }

private:
  static constexpr uint32_t kMaxSaved = 8;
  const Cie &cie;
  uintptr_t target;
  Row saved[kMaxSaved];
  uint32_t saved_count = 0;

  bool advance(uintptr_t &location, uint64_t delta) {
    location += delta;
    return location <= target;
  }
  static void set(Row &row, uint64_t reg, RegisterRule::How how,
                  int64_t offset) {
    if (reg == kRegFp)
      row.fp = {how, offset};
    else if (reg == kRegRa)
      row.ra = {how, offset};
  }
  static void restore(Row &row, const Row &initial, uint64_t reg) {
    if (reg == kRegFp)
      row.fp = initial.fp;
    else if (reg == kRegRa)
      row.ra = initial.ra;
  }
};

/// The rule that steps over the frame whose return address is \p pc.
uint64_t computeRule(uintptr_t pc) {
  // The call instruction is before the return address (which may be the
  // next function's first byte after a call that does not return).
  uintptr_t target = pc - 1;
  dwarf_eh_bases bases{nullptr, nullptr, nullptr};
  const auto *fde = static_cast<const uint8_t *>(
      _Unwind_Find_FDE(reinterpret_cast<void *>(target), &bases));
  if (!fde || !bases.func) {
    // Instrumented code built without unwind tables still keeps frame
    // pointers (the wrappers ask for them): [rbp] and [rbp+8].
    if (inInstrumentedModule(pc))
      return packRule(/*cfa_from_fp=*/true, 16, /*fp_saved=*/true, -16);
    return kFull; // no unwind information: the full unwinder decides
  }
  Cursor c{nullptr, nullptr};
  if (!openEntry(fde, c))
    return kFull;
  const uint8_t *cie_pointer_field = c.p;
  uint32_t cie_offset = c.fixed<uint32_t>();
  if (!c.ok || cie_offset == 0)
    return kFull;
  Cie cie;
  if (!parseCie(cie_pointer_field - cie_offset, cie) || cie.signal_frame ||
      cie.ra_register != kRegRa)
    return kFull;
  c.skipEncoded(cie.fde_encoding);        // pc_begin: bases.func
  c.skipEncoded(cie.fde_encoding & 0x0f); // pc_range
  if (cie.has_augmentation_data)
    c.skip(c.uleb());
  if (!c.ok)
    return kFull;

  uintptr_t location = reinterpret_cast<uintptr_t>(bases.func);
  CfaProgram program(cie, target);
  Row row;
  Row none;
  if (!program.run(cie.instructions, location, row, none))
    return kFull;
  Row initial = row;
  if (location <= target && !program.run(c, location, row, initial))
    return kFull;

  if (row.ra.how == RegisterRule::Undefined)
    return kOutermost;
  if (row.cfa_expression ||
      (row.cfa_register != kRegSp && row.cfa_register != kRegFp) ||
      row.ra.how != RegisterRule::AtCfa || row.ra.offset != -8)
    return kFull;
  if (row.fp.how == RegisterRule::Other)
    return kFull;
  return packRule(row.cfa_register == kRegFp, row.cfa_offset,
                  row.fp.how == RegisterRule::AtCfa, row.fp.offset);
}

//===-- The rule cache ----------------------------------------------------===//

/// 16 bytes: written once per (address, generation), read lock-free. A
/// writer claims an empty or outdated entry by CAS to kBusy, stores the
/// rule, then publishes the key with release; a reader that acquires the
/// key sees the rule.
struct RuleEntry {
  std::atomic<uint64_t> key;
  std::atomic<uint64_t> rule;
};
constexpr uint32_t kRuleBits = 14; // 16384 return addresses, 256 KiB of .bss
constexpr uint32_t kRuleEntries = 1u << kRuleBits;
constexpr uint32_t kRuleProbes = 8;
constexpr uint64_t kBusy = 1;
RuleEntry g_rules[kRuleEntries];
std::atomic<uint32_t> g_generation{1};

/// User-space addresses fit in 47 bits: the generation goes above them.
inline uint64_t ruleKey(uintptr_t pc, uint32_t generation) {
  return pc | (uint64_t(generation & 0xffff) << 48);
}
inline uint32_t ruleIndex(uintptr_t pc) {
  return static_cast<uint32_t>((pc * 0x9E3779B97F4A7C15ull) >>
                               (64 - kRuleBits));
}

__attribute__((noinline)) uint64_t learnRule(uintptr_t pc, uint64_t key,
                                             uint32_t generation) {
  uint64_t rule = computeRule(pc);
  uint32_t index = ruleIndex(pc);
  for (uint32_t probe = 0; probe < kRuleProbes; ++probe) {
    RuleEntry &entry = g_rules[(index + probe) & (kRuleEntries - 1)];
    uint64_t current = entry.key.load(std::memory_order_acquire);
    if (current == key)
      return rule; // another thread learnt it meanwhile
    bool outdated = current != 0 && current != kBusy &&
                    (current >> 48) != (generation & 0xffff);
    if (current != 0 && !outdated)
      continue;
    if (!entry.key.compare_exchange_strong(current, kBusy,
                                           std::memory_order_acquire))
      continue;
    entry.rule.store(rule, std::memory_order_relaxed);
    entry.key.store(key, std::memory_order_release);
    return rule;
  }
  return rule; // no room near its entry: computed again next time
}

__attribute__((always_inline)) inline uint64_t ruleFor(uintptr_t pc,
                                                       uint32_t generation) {
  uint64_t key = ruleKey(pc, generation);
  uint32_t index = ruleIndex(pc);
  for (uint32_t probe = 0; probe < kRuleProbes; ++probe) {
    const RuleEntry &entry = g_rules[(index + probe) & (kRuleEntries - 1)];
    uint64_t current = entry.key.load(std::memory_order_acquire);
    if (current == key)
      return entry.rule.load(std::memory_order_relaxed);
    if (current == 0)
      break;
  }
  return learnRule(pc, key, generation);
}

//===-- The full unwinder -------------------------------------------------===//

struct FullUnwindState {
  uintptr_t caller_pc;
  bool started;
  uint32_t depth;
  uint32_t max_depth;
  uint64_t *frames;
};

_Unwind_Reason_Code collectFrame(struct _Unwind_Context *context, void *arg) {
  auto &state = *static_cast<FullUnwindState *>(arg);
  uintptr_t pc = _Unwind_GetIP(context);
  if (!pc)
    return _URC_END_OF_STACK;
  if (!state.started) {
    // Skip the runtime's own frames, up to the caller of the runtime.
    if (pc != state.caller_pc)
      return _URC_NO_REASON;
    state.started = true;
  }
  state.frames[state.depth++] = pc;
  return state.depth >= state.max_depth ? _URC_END_OF_STACK : _URC_NO_REASON;
}

} // namespace

//===-- The walks ---------------------------------------------------------===//

uint32_t walkFullUnwinder(uintptr_t caller_pc, uint64_t *frames,
                          uint32_t max_depth) {
  FullUnwindState state{caller_pc, false, 0, max_depth, frames};
  _Unwind_Backtrace(collectFrame, &state);
  return state.started ? state.depth : 0;
}

namespace {

/// The registers the walk tracks: a frame's return address, and its caller's
/// rsp and rbp at that address.
struct WalkState {
  uintptr_t pc, sp, fp;
};

enum class Step { Next, Outermost, Fail };

/// Moves \p state to the caller of its frame by the cached rule for its pc.
/// Every CFA lies above the previous one and inside the thread's stack, so a
/// wrong rule cannot read outside it or loop.
__attribute__((always_inline)) inline Step stepByRule(WalkState &state,
                                                      uint32_t generation,
                                                      uintptr_t stack_high,
                                                      WalkReads *reads) {
  uint64_t rule = ruleFor(state.pc, generation);
  if ((rule & 0xff) == kOutermost)
    return Step::Outermost;
  if ((rule & 0xff) != kStep)
    return Step::Fail;
  uintptr_t base = (rule & kCfaFromFp) ? state.fp : state.sp;
  if (!base) // _start and clone clear rbp: the outermost frame
    return Step::Outermost;
  uintptr_t cfa = base + ruleCfaOffset(rule);
  if ((cfa & 7) || cfa <= state.sp || cfa > stack_high)
    return Step::Fail;
  if (rule & kFpSaved) {
    uintptr_t saved_fp_at = cfa + ruleFpOffset(rule);
    if (saved_fp_at < state.sp || saved_fp_at + 8 > stack_high)
      return Step::Fail;
    state.fp = *reinterpret_cast<const uintptr_t *>(saved_fp_at);
    if (reads)
      reads->note(saved_fp_at, state.fp);
  }
  state.pc = *reinterpret_cast<const uintptr_t *>(cfa - 8);
  if (reads)
    reads->note(cfa - 8, state.pc);
  state.sp = cfa;
  return Step::Next;
}

__attribute__((noinline)) StackBounds boundsOf(uintptr_t sp) {
  return currentStackBounds(sp);
}

} // namespace

__attribute__((noinline)) FastWalk
walkCachedRules(const CallerFrame &caller, uint64_t *frames, uint32_t max_depth,
                uint32_t &depth, WalkReads *reads) {
  depth = 0;
  // This function's own frame record (__builtin_frame_address gives it a
  // frame pointer): where the walk starts when the caller's is unknown.
  const auto *own = static_cast<const uintptr_t *>(__builtin_frame_address(0));
  StackBounds bounds = t_stack_bounds;
  if (reinterpret_cast<uintptr_t>(own) < bounds.low ||
      reinterpret_cast<uintptr_t>(own) >= bounds.high)
    bounds = boundsOf(reinterpret_cast<uintptr_t>(own));
  uint32_t generation = g_generation.load(std::memory_order_acquire);
  if (reads)
    reads->start(generation);
  WalkState state;
  if (caller.record && caller.record > own &&
      reinterpret_cast<uintptr_t>(caller.record) + 16 <= bounds.high &&
      caller.record[1] == caller.pc) {
    state = {caller.pc, reinterpret_cast<uintptr_t>(caller.record) + 16,
             caller.record[0]};
    if (reads) {
      // The lowest words of the walk, and so reads->address[0].
      reads->note(reinterpret_cast<uintptr_t>(caller.record), state.fp);
      reads->note(reinterpret_cast<uintptr_t>(caller.record + 1), caller.pc);
    }
  } else {
    // Step through the runtime's own frames up to its caller. Where they
    // lie depends on the path through the runtime: not reusable.
    if (reads)
      reads->count = WalkReads::kUnusable;
    reads = nullptr;
    constexpr uint32_t kMaxRuntimeFrames = 10;
    state = {own[1], reinterpret_cast<uintptr_t>(own) + 16, own[0]};
    for (uint32_t runtime_frames = 0; state.pc != caller.pc; ++runtime_frames)
      if (!state.pc || runtime_frames == kMaxRuntimeFrames ||
          stepByRule(state, generation, bounds.high, nullptr) != Step::Next)
        return FastWalk::NeedsFullUnwind;
  }
  uint32_t count = 0;
  FastWalk result = FastWalk::Complete;
  while (state.pc) {
    frames[count++] = state.pc;
    if (count >= max_depth)
      break;
    Step step = stepByRule(state, generation, bounds.high, reads);
    if (step == Step::Outermost)
      break;
    if (step == Step::Fail) {
      result = FastWalk::NeedsFullUnwind;
      break;
    }
  }
  depth = count;
  return result;
}

bool readsUnchanged(const WalkReads &reads) {
  if (reads.count == 0 || reads.count > WalkReads::kMaxWords ||
      reads.generation != g_generation.load(std::memory_order_acquire))
    return false;
  // Every word lies between the caller's frame record (the lowest) and the
  // top of this thread's stack: mapped, whichever thread recorded them.
  auto own = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (reads.address[0] <= own || reads.highest + 8 > t_stack_bounds.high)
    return false;
  // One test at the end: the words are few (two per frame), and a loop
  // without a branch per word costs about half as much.
  uintptr_t differ = 0;
  for (uint32_t i = 0; i < reads.count; ++i)
    differ |=
        *reinterpret_cast<const uintptr_t *>(reads.address[i]) ^ reads.value[i];
  return differ == 0;
}

uint32_t collectStack(const CallerFrame &caller, uint64_t *frames,
                      uint32_t max_depth, WalkReads *reads) {
  uint32_t depth = 0;
  if (walkCachedRules(caller, frames, max_depth, depth, reads) ==
      FastWalk::Complete)
    return depth;
  if (reads)
    reads->count = WalkReads::kUnusable;
  depth = walkFullUnwinder(caller.pc, frames, max_depth);
  if (!depth) {
    // No unwind information reaches the caller: keep at least the caller.
    frames[0] = caller.pc;
    depth = 1;
  }
  return depth;
}

void forgetUnwindRules() {
  g_generation.fetch_add(1, std::memory_order_acq_rel);
}

uint32_t unwindRulesGeneration() {
  return g_generation.load(std::memory_order_acquire);
}

} // namespace rt
} // namespace memscope
