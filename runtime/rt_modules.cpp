//===-- rt_modules.cpp - Module map: paths, build-ids, text ranges -------===//
//
// The merge needs, for every address in a stack, the module file and the
// load bias to symbolise it (PIE and ASLR), and the build-id to check that
// the file on disk is the one that ran. The runtime writes a Module record
// for each loaded module when recording starts, whenever an instrumented
// module registers (dlopen), and at exit.
//
//===----------------------------------------------------------------------===//
#include "rt_modules.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

namespace memscope {
namespace rt {

namespace {

struct TextRange {
  uintptr_t begin;
  uintptr_t end;
};
constexpr uint32_t kMaxRanges = 1024;
TextRange g_instrumented[kMaxRanges];
std::atomic<uint32_t> g_instrumented_count{0};
StaticSpinMutex g_ranges_lock;

constexpr uint32_t kMaxWrittenModules = 4096;
uint64_t g_written_modules[kMaxWrittenModules]; // hashes of (bias, path)
uint32_t g_written_count = 0;
StaticSpinMutex g_modules_lock;
// Held around every dl_iterate_phdr call of the runtime, and by fork's
// prepare handler: dl_iterate_phdr holds the loader's write lock, which
// glibc does not reset in a forked child, so a fork while a runtime thread
// was inside it left the child blocked at its first dl_iterate_phdr.
StaticSpinMutex g_loader_lock;

struct FindModule {
  uintptr_t address;
  uintptr_t text; // start of the module's first executable segment
};

int addRangesIfContains(struct dl_phdr_info *info, size_t, void *arg) {
  auto &find = *static_cast<FindModule *>(arg);
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && find.address >= begin &&
        find.address < begin + ph.p_memsz)
      contains = true;
  }
  if (!contains)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
      continue;
    uint32_t count = g_instrumented_count.load(std::memory_order_relaxed);
    if (count >= kMaxRanges)
      break;
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (!find.text)
      find.text = begin;
    g_instrumented[count] = {begin, begin + ph.p_memsz};
    g_instrumented_count.store(count + 1, std::memory_order_release);
  }
  return 1;
}

void readBuildId(const struct dl_phdr_info *info, log::ModuleRecord &record) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE)
      continue;
    const uint8_t *note =
        reinterpret_cast<const uint8_t *>(info->dlpi_addr + ph.p_vaddr);
    const uint8_t *end = note + ph.p_memsz;
    while (note + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) header;
      memcpy(&header, note, sizeof(header));
      const uint8_t *name = note + sizeof(header);
      const uint8_t *desc = name + ((header.n_namesz + 3) & ~3u);
      const uint8_t *next = desc + ((header.n_descsz + 3) & ~3u);
      if (next > end)
        break;
      if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
          !memcmp(name, "GNU", 4)) {
        uint32_t size = header.n_descsz < sizeof(record.build_id)
                            ? header.n_descsz
                            : sizeof(record.build_id);
        memcpy(record.build_id, desc, size);
        record.build_id_size = static_cast<uint8_t>(size);
        return;
      }
      note = next;
    }
  }
}

uint64_t moduleKey(uintptr_t bias, const char *path) {
  uint64_t hash = 0xCBF29CE484222325ull ^ bias;
  for (const char *c = path; *c; ++c)
    hash = (hash ^ static_cast<uint8_t>(*c)) * 0x100000001B3ull;
  return hash ? hash : 1;
}

int writeModule(struct dl_phdr_info *info, size_t, void *) {
  char exe_path[PATH_MAX];
  const char *path = info->dlpi_name;
  if (!path || !*path) {
    // The main program has no name here.
    ssize_t length = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
    if (length <= 0)
      return 0;
    exe_path[length] = '\0';
    path = exe_path;
  }
  if (!strncmp(path, "linux-vdso", 10) || !strncmp(path, "linux-gate", 10))
    return 0;
  log::ModuleRecord record;
  memset(&record, 0, sizeof(record));
  record.load_bias = info->dlpi_addr;
  record.text_begin = UINTPTR_MAX;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
      continue;
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (begin < record.text_begin)
      record.text_begin = begin;
    if (begin + ph.p_memsz > record.text_end)
      record.text_end = begin + ph.p_memsz;
  }
  if (record.text_begin == UINTPTR_MAX)
    record.text_begin = 0;
  if (record.text_end && inInstrumentedModule(record.text_begin))
    record.flags |= log::ModuleHasSites;
  // A module is written again when it registers sites after its first
  // record (the runtime's own constructor runs before the program's).
  uint64_t key = moduleKey(info->dlpi_addr, path) ^ record.flags;
  for (uint32_t i = 0; i < g_written_count; ++i)
    if (g_written_modules[i] == key)
      return 0;
  if (g_written_count < kMaxWrittenModules)
    g_written_modules[g_written_count++] = key;
  readBuildId(info, record);
  uint8_t buffer[sizeof(record) + 2 + PATH_MAX];
  log::PayloadBuilder payload(buffer, sizeof(buffer));
  payload.pod(record);
  payload.str(path);
  appendProcessRecord(log::RecordType::Module, buffer, payload.size());
  return 0;
}

} // namespace

uintptr_t noteInstrumentedModule(const void *address_in_module) {
  SpinMutexLock lock(g_ranges_lock);
  SpinMutexLock loader(g_loader_lock);
  FindModule find{reinterpret_cast<uintptr_t>(address_in_module), 0};
  dl_iterate_phdr(addRangesIfContains, &find);
  return find.text;
}

bool inInstrumentedModule(uintptr_t pc) {
  uint32_t count = g_instrumented_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < count; ++i)
    if (pc >= g_instrumented[i].begin && pc < g_instrumented[i].end)
      return true;
  return false;
}

namespace {
/// dlpi_adds when the module map was last brought up to date, and
/// dlpi_subs when writeNewModules last looked.
std::atomic<unsigned long long> g_seen_adds{0};
std::atomic<unsigned long long> g_seen_subs{0};

struct LoadCounts {
  unsigned long long adds = 0;
  unsigned long long subs = 0;
};

int readLoadCounts(struct dl_phdr_info *info, size_t size, void *arg) {
  if (size >=
      offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs))
    *static_cast<LoadCounts *>(arg) = {info->dlpi_adds, info->dlpi_subs};
  return 1; // the counters are the same in every entry: stop at the first
}

/// Call with g_loader_lock held.
LoadCounts loadCounts() {
  LoadCounts counts;
  dl_iterate_phdr(readLoadCounts, &counts);
  return counts;
}
} // namespace

void writeModuleMap() {
  if (!isRecording() && g_state.load() != State::Initializing)
    return;
  SpinMutexLock lock(g_modules_lock);
  SpinMutexLock loader(g_loader_lock);
  // Read before the scan: a module loaded during it is seen next time.
  g_seen_adds.store(loadCounts().adds, std::memory_order_relaxed);
  dl_iterate_phdr(writeModule, nullptr);
}

ModuleChange writeNewModules() {
  LoadCounts counts;
  {
    SpinMutexLock loader(g_loader_lock);
    counts = loadCounts();
  }
  ModuleChange change = ModuleChange::None;
  if (counts.adds &&
      counts.adds != g_seen_adds.load(std::memory_order_relaxed)) {
    writeModuleMap();
    change = ModuleChange::Loaded;
  }
  if (g_seen_subs.exchange(counts.subs, std::memory_order_relaxed) !=
      counts.subs)
    change = ModuleChange::Unloaded;
  return change;
}

void lockLoaderForFork() { g_loader_lock.lock(); }

void unlockLoaderAfterFork() { g_loader_lock.unlock(); }

void resetModulesAfterFork() {
  g_loader_lock.resetAfterFork();
  g_modules_lock.resetAfterFork();
  g_ranges_lock.resetAfterFork();
  g_written_count = 0;
}

} // namespace rt
} // namespace memscope
