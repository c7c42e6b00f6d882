//===-- SiteMerger.h - Site-stack entries into site entries ----*- C++ -*-===//
//
// Stage 3 (see Analysis.cpp): each process's site-stack entries become entries
// of Analysis::Sites, instrumented sites by id, indirect site-stack entries and
// samples of library sites through their stacks.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_SITEMERGER_H
#define MEMSCOPE_MERGE_SITEMERGER_H

#include "ProcessModel.h"

#include <set>

namespace memscope {
namespace merge {

/// Where a site-stack entry's allocations are reported: its site entry.
struct SiteStackTarget {
  uint64_t SiteId = 0;
  InlineFrame Location; // the entry's first frame in user code
};

/// The first frame in user code of an instrumented site: the site itself,
/// or for a site inlined from a system header (std::vector's allocator, say)
/// the first caller in its inlined-at chain outside the system prefixes.
/// Inlined, when given, tells whether the frame came from that chain.
InlineFrame userFrameOf(const SiteInfo &Info,
                        const IndirectAttributor &Attributor,
                        bool *Inlined = nullptr);

/// Merges per-process site-stack entries into site entries, attributing
/// indirect site-stack entries.
class SiteMerger {
public:
  SiteMerger(IndirectAttributor &Attributor, Analysis &Result)
      : Attributor(Attributor), Result(Result) {}

  /// Returns where each of P.SiteStacks went.
  std::vector<SiteStackTarget> addProcess(ProcessData &P, size_t ProcessIndex);
  void finish();

private:
  size_t entryFor(uint64_t Id, bool &Created);
  void describeInstrumented(SiteReport &Site, const ProcessData &P,
                            const SiteStack &S, uint64_t &MissingSites);
  std::optional<InlineFrame> stackUserFrame(const ProcessData &P,
                                            const SiteStack &S,
                                            uint64_t &MissingStacks);

  IndirectAttributor &Attributor;
  Analysis &Result;
  std::unordered_map<uint64_t, size_t> Index;
  std::vector<std::set<std::pair<size_t, uint32_t>>> Threads;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_SITEMERGER_H
