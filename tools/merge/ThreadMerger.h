//===-- ThreadMerger.h - Processes' threads into one model ------*- C++ -*-===//
//
// Stage 3 (see Analysis.cpp): threads in report order with their top sites
// and spawn locations, the thread tree, spawn sites, cross-thread frees and
// the threads alive at exit.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_THREADMERGER_H
#define MEMSCOPE_MERGE_THREADMERGER_H

#include "SiteMerger.h"

namespace memscope {
namespace merge {

/// Merges per-process threads: their order, top sites and spawn locations,
/// the thread tree, spawn sites and cross-thread frees.
class ThreadMerger {
public:
  ThreadMerger(IndirectAttributor &Attributor, Analysis &Result)
      : Attributor(Attributor), Result(Result) {}

  /// Moves P.Threads into Result.Threads; returns where each went.
  std::vector<size_t> addProcess(ProcessData &P, size_t ProcessIndex,
                                 const std::vector<SiteStackTarget> &Targets);
  void finish();

private:
  std::optional<InlineFrame> spawnLocation(const ProcessData &P,
                                           size_t ProcessIndex,
                                           uint64_t SpawnSite,
                                           uint64_t SpawnStack);
  void addTopSites(ProcessData &P, const std::vector<SiteStackTarget> &Targets);
  void addCrossFrees(const ProcessData &P,
                     const std::vector<SiteStackTarget> &Targets,
                     const std::vector<size_t> &Global);
  void addToSpawnSite(const ProcessData &P, size_t ThreadIndex);
  void buildTree(size_t Begin, size_t End);

  IndirectAttributor &Attributor;
  Analysis &Result;
  std::map<std::tuple<size_t, uint64_t, uint64_t>, std::optional<InlineFrame>>
      SpawnCache;
  /// Instrumented spawn sites by user frame (or by id without one), and
  /// unknown ones by creator module.
  std::map<std::tuple<std::string, uint32_t, std::string, uint64_t>, size_t>
      SpawnByLocation;
  std::map<std::string, size_t> SpawnByModule;
  /// Parallel to Result.SpawnSites.
  struct SpawnEntryState {
    bool Described = false;   // from a Site record
    bool UserIsFinal = false; // User is a frame in user code
  };
  std::vector<SpawnEntryState> SpawnStates;
  std::map<std::pair<uint64_t, uint64_t>, CrossFreeSitePair> SitePairs;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_THREADMERGER_H
