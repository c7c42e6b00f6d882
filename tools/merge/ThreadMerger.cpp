//===-- ThreadMerger.cpp - Processes' threads into one model --------------===//
//
// See ThreadMerger.h.
//
//===----------------------------------------------------------------------===//

#include "ThreadMerger.h"
#include "Compat.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Demangle/Demangle.h"

#include <algorithm>
#include <numeric>

using namespace memscope;
using namespace memscope::merge;

std::optional<InlineFrame> ThreadMerger::spawnLocation(const ProcessData &P,
                                                       size_t ProcessIndex,
                                                       uint64_t SpawnSite,
                                                       uint64_t SpawnStack) {
  if (!SpawnSite && !SpawnStack)
    return std::nullopt;
  auto [Cached, Inserted] =
      SpawnCache.try_emplace({ProcessIndex, SpawnSite, SpawnStack});
  if (!Inserted)
    return Cached->second;
  std::optional<InlineFrame> &Location = Cached->second;
  if (SpawnSite) {
    auto It = P.Sites.find(SpawnSite);
    if (It != P.Sites.end()) {
      InlineFrame User = userFrameOf(It->second, Attributor);
      if (!User.File.empty() && !Attributor.isSystemPath(User.File))
        Location = std::move(User);
    }
  }
  // Spawned from a system header's out-of-line code (std::async in
  // <future>), or by uninstrumented code: the stack of the creating call
  // leads to the user's line, like an indirect allocation's.
  if (!Location && SpawnStack) {
    auto Stack = P.Stacks.find(SpawnStack);
    if (Stack != P.Stacks.end()) {
      IndirectSite Site = Attributor.attribute(P.Modules, Stack->second);
      if (!Site.File.empty() && Site.File != "<uninstrumented>" &&
          !Attributor.isSystemPath(Site.File))
        Location =
            InlineFrame{Site.Function, Site.File, "", Site.Line, Site.Column};
    }
  }
  return Location;
}

void ThreadMerger::addTopSites(ProcessData &P,
                               const std::vector<SiteStackTarget> &Targets) {
  constexpr size_t MaxTopSites = 5;
  std::vector<std::unordered_map<uint64_t, ThreadSiteReport>> PerThread(
      P.Threads.size());
  for (size_t SiteStackIndex = 0; SiteStackIndex < P.SiteStacks.size();
       ++SiteStackIndex) {
    const SiteStackTarget &Target = Targets[SiteStackIndex];
    for (const auto &[Thread, Stats] : P.SiteStacks[SiteStackIndex].PerThread) {
      auto [It, Inserted] = PerThread[Thread].try_emplace(Target.SiteId);
      ThreadSiteReport &Site = It->second;
      if (Inserted) {
        Site.SiteId = Target.SiteId;
        Site.Location = Target.Location;
      }
      Site.Allocations += Stats.Allocations;
      Site.Bytes += Stats.Bytes;
      Site.AllocationsVariance += Stats.AllocationsVariance;
      Site.BytesVariance += Stats.BytesVariance;
      Site.SampledBytes += Stats.SampledBytes;
      Site.Samples += Stats.Samples;
    }
  }
  for (size_t I = 0; I < P.Threads.size(); ++I) {
    std::vector<ThreadSiteReport> &Top = P.Threads[I].TopSites;
    Top.clear();
    for (auto &[Id, Site] : PerThread[I])
      Top.push_back(std::move(Site));
    auto ByBytes = [](const ThreadSiteReport &A, const ThreadSiteReport &B) {
      if (A.Bytes != B.Bytes)
        return A.Bytes > B.Bytes;
      return A.SiteId < B.SiteId;
    };
    size_t Keep = std::min(MaxTopSites, Top.size());
    std::partial_sort(Top.begin(), Top.begin() + Keep, Top.end(), ByBytes);
    Top.resize(Keep);
  }
}

void ThreadMerger::addCrossFrees(const ProcessData &P,
                                 const std::vector<SiteStackTarget> &Targets,
                                 const std::vector<size_t> &Global) {
  CrossThreadFrees &Cross = Result.CrossFrees;
  for (const auto &[Key, Stat] : P.CrossBySiteStack) {
    const SiteStackTarget &Alloc = Targets[Key.first];
    uint64_t FreeSite = Key.second;
    auto [It, Inserted] = SitePairs.try_emplace({Alloc.SiteId, FreeSite});
    CrossFreeSitePair &Pair = It->second;
    if (Inserted) {
      Pair.AllocSite = Alloc.SiteId;
      Pair.AllocLocation = Alloc.Location;
      Pair.FreeSite = FreeSite;
    }
    if (FreeSite && !Pair.FreeLocation) {
      auto Site = P.Sites.find(FreeSite);
      if (Site != P.Sites.end())
        Pair.FreeLocation = userFrameOf(Site->second, Attributor);
    }
    Pair.Frees += Stat.Frees;
    Pair.Bytes += Stat.Bytes;
    Cross.Frees += Stat.Frees;
    Cross.Bytes += Stat.Bytes;
  }
  for (const auto &[Key, Stat] : P.CrossByThread)
    Cross.ByThreadPair.push_back(
        {P.Pid, Global[Key.first], Global[Key.second], Stat.Frees, Stat.Bytes});
}

void ThreadMerger::addToSpawnSite(const ProcessData &P, size_t ThreadIndex) {
  const ThreadReport &Thread = Result.Threads[ThreadIndex];
  // The main thread was not spawned; an unknown thread lost its ThreadStart.
  if (Thread.ThreadId <= 1)
    return;
  size_t Entry;
  if (Thread.SpawnSite) {
    // One entry per line of user code: a site inside system code (a
    // std::thread constructed in std::vector's emplace_back fast path and in
    // its out-of-line _M_realloc_insert) reaches the user's line from
    // several site ids.
    std::tuple<std::string, uint32_t, std::string, uint64_t> Key;
    if (Thread.SpawnLocation)
      Key = {Thread.SpawnLocation->File, Thread.SpawnLocation->Line,
             Thread.SpawnLocation->Function, 0};
    else
      Key = {"", 0, "", Thread.SpawnSite};
    auto [It, Inserted] =
        SpawnByLocation.try_emplace(std::move(Key), Result.SpawnSites.size());
    if (Inserted) {
      Result.SpawnSites.emplace_back();
      Result.SpawnSites.back().Id = Thread.SpawnSite;
      Result.SpawnSites.back().File = "<unknown site>";
      SpawnStates.emplace_back();
    }
    Entry = It->second;
    SpawnSiteReport &Site = Result.SpawnSites[Entry];
    if (!llvm::is_contained(Site.SiteIds, Thread.SpawnSite)) {
      Site.SiteIds.insert(llvm::upper_bound(Site.SiteIds, Thread.SpawnSite),
                          Thread.SpawnSite);
      Site.Id = Site.SiteIds.front();
    }
  } else {
    auto [It, Inserted] = SpawnByModule.try_emplace(Thread.CreatorModule,
                                                    Result.SpawnSites.size());
    if (Inserted) {
      Result.SpawnSites.emplace_back();
      Result.SpawnSites.back().File = "<unknown spawn site>";
      Result.SpawnSites.back().CreatorModule = Thread.CreatorModule;
      SpawnStates.emplace_back();
      SpawnStates.back().Described = SpawnStates.back().UserIsFinal = true;
    }
    Entry = It->second;
  }
  SpawnSiteReport &Site = Result.SpawnSites[Entry];
  SpawnEntryState &State = SpawnStates[Entry];
  if (!State.Described) {
    auto It = P.Sites.find(Thread.SpawnSite);
    if (It != P.Sites.end()) {
      const SiteInfo &Info = It->second;
      State.Described = true;
      describeSite(P, Info, Site);
      if (!State.UserIsFinal) {
        InlineFrame User = userFrameOf(Info, Attributor);
        State.UserIsFinal =
            !User.File.empty() && !Attributor.isSystemPath(User.File);
        Site.User = std::move(User);
      }
    }
  }
  // A site in a system header: show where the user's code reached it.
  if (!State.UserIsFinal && Thread.SpawnLocation) {
    Site.User = Thread.SpawnLocation;
    State.UserIsFinal = true;
  }
  ++Site.ThreadsCreated;
  Site.Threads.push_back(ThreadIndex);
  Site.ThreadsRunningAtExit += Thread.RunningAtExit;
  Site.Allocations += Thread.Allocations;
  Site.Bytes += Thread.Bytes;
  Site.TotalsExact = Site.TotalsExact && Thread.TotalsExact;
  Site.LiveBytesAtExit += Thread.LiveBytesAtExit;
  Site.LiveBytesAtExitVariance += Thread.LiveBytesAtExitVariance;
  Site.LiveBytesAtExitObserved += Thread.LiveBytesAtExitObserved;
  Site.UnseenBytes = std::max(Site.UnseenBytes, Thread.UnseenBytes);
  Site.CpuUserNs += Thread.CpuUserNs;
  Site.CpuSystemNs += Thread.CpuSystemNs;
  if (!llvm::is_contained(Site.Pids, P.Pid))
    Site.Pids.push_back(P.Pid);
}

/// Links the threads [Begin, End) of one process to their parents without
/// recursion (a chain of 10,000 threads is a tree 10,000 deep).
void ThreadMerger::buildTree(size_t Begin, size_t End) {
  ThreadTree &Tree = Result.Tree;
  Tree.Children.resize(End);
  std::unordered_map<uint64_t, size_t> ById;
  for (size_t I = Begin; I < End; ++I)
    if (Result.Threads[I].ThreadId)
      ById.try_emplace(Result.Threads[I].ThreadId, I);
  std::vector<size_t> Parent(End - Begin, SIZE_MAX);
  std::vector<size_t> Roots;
  for (size_t I = Begin; I < End; ++I) {
    uint64_t ParentId = Result.Threads[I].ParentThreadId;
    auto It = ParentId ? ById.find(ParentId) : ById.end();
    if (It == ById.end() || It->second == I) {
      Roots.push_back(I);
      continue;
    }
    Tree.Children[It->second].push_back(I);
    Parent[I - Begin] = It->second;
  }
  // Damaged logs could make parents form a cycle, which no root reaches:
  // such a thread is cut from its parent and becomes a root.
  std::vector<char> Seen(End - Begin, 0);
  std::vector<size_t> Work;
  auto Visit = [&](size_t Root) {
    Work.push_back(Root);
    Seen[Root - Begin] = 1;
    while (!Work.empty()) {
      size_t Node = Work.back();
      Work.pop_back();
      for (size_t Child : Tree.Children[Node])
        if (!Seen[Child - Begin]) {
          Seen[Child - Begin] = 1;
          Work.push_back(Child);
        }
    }
  };
  for (size_t Root : Roots)
    Visit(Root);
  for (size_t I = Begin; I < End; ++I) {
    if (Seen[I - Begin])
      continue;
    eraseValue(Tree.Children[Parent[I - Begin]], I);
    Roots.push_back(I);
    Visit(I);
  }
  llvm::sort(Roots);
  Tree.Roots.insert(Tree.Roots.end(), Roots.begin(), Roots.end());
}

std::vector<size_t>
ThreadMerger::addProcess(ProcessData &P, size_t ProcessIndex,
                         const std::vector<SiteStackTarget> &Targets) {
  addTopSites(P, Targets);
  for (ThreadReport &Thread : P.Threads) {
    Thread.SpawnLocation =
        spawnLocation(P, ProcessIndex, Thread.SpawnSite, Thread.SpawnStackId);
    if (!Thread.SpawnSite && Thread.CreatorPc)
      if (const ModuleMap::Module *Module = P.Modules.find(Thread.CreatorPc))
        Thread.CreatorModule = Module->Path;
  }

  // By thread id; spans of one id are one thread, so only threads that lost
  // their ThreadStart (id 0) tie, and they keep their order of appearance.
  std::vector<uint32_t> Order(P.Threads.size());
  std::iota(Order.begin(), Order.end(), 0);
  llvm::sort(Order, [&](uint32_t A, uint32_t B) {
    const ThreadReport &TA = P.Threads[A], &TB = P.Threads[B];
    return std::tie(TA.ThreadId, TA.StartNs, A) <
           std::tie(TB.ThreadId, TB.StartNs, B);
  });
  size_t Begin = Result.Threads.size();
  std::vector<size_t> Global(P.Threads.size());
  for (size_t K = 0; K < Order.size(); ++K)
    Global[Order[K]] = Begin + K;
  addCrossFrees(P, Targets, Global);
  for (uint32_t Index : Order)
    Result.Threads.push_back(std::move(P.Threads[Index]));
  size_t End = Result.Threads.size();
  for (size_t I = Begin; I < End; ++I)
    addToSpawnSite(P, I);
  buildTree(Begin, End);
  return Global;
}

void ThreadMerger::finish() {
  Result.Tree.Children.resize(Result.Threads.size());

  std::vector<SpawnSiteReport> &Spawns = Result.SpawnSites;
  llvm::sort(Spawns, [](const SpawnSiteReport &A, const SpawnSiteReport &B) {
    if (A.ThreadsCreated != B.ThreadsCreated)
      return A.ThreadsCreated > B.ThreadsCreated;
    if (A.Bytes != B.Bytes)
      return A.Bytes > B.Bytes;
    // Instrumented sites first, by id and user frame; then unknown ones by
    // module.
    if (A.Id != B.Id)
      return !B.Id || (A.Id && *A.Id < *B.Id);
    if (!A.Id)
      return A.CreatorModule < B.CreatorModule;
    auto Frame = [](const SpawnSiteReport &Site) {
      static const InlineFrame None;
      const InlineFrame &User = Site.User ? *Site.User : None;
      return std::tie(User.File, User.Line, User.Function);
    };
    return Frame(A) < Frame(B);
  });
  Result.Totals.SpawnSiteCount = Spawns.size();

  CrossThreadFrees &Cross = Result.CrossFrees;
  for (auto &[Key, Pair] : SitePairs)
    Cross.BySitePair.push_back(std::move(Pair));
  SitePairs.clear();
  for (const CrossFreeSitePair &Pair : Cross.BySitePair)
    if (!Cross.BusiestPair ||
        std::tie(Pair.Frees, Pair.Bytes) >
            std::tie(Cross.BusiestPair->Frees, Cross.BusiestPair->Bytes) ||
        (std::tie(Pair.Frees, Pair.Bytes) ==
             std::tie(Cross.BusiestPair->Frees, Cross.BusiestPair->Bytes) &&
         std::tie(Pair.AllocSite, Pair.FreeSite) <
             std::tie(Cross.BusiestPair->AllocSite,
                      Cross.BusiestPair->FreeSite)))
      Cross.BusiestPair = Pair;
  // Each list: the most bytes first, ties by the pair; count them all, keep
  // the first MaxPairs.
  auto SortAndTrim = [](auto &Pairs, uint64_t &Count, auto Ends) {
    llvm::sort(Pairs, [&](const auto &A, const auto &B) {
      if (A.Bytes != B.Bytes)
        return A.Bytes > B.Bytes;
      return Ends(A) < Ends(B);
    });
    Count = Pairs.size();
    if (Pairs.size() > CrossThreadFrees::MaxPairs)
      Pairs.resize(CrossThreadFrees::MaxPairs);
  };
  SortAndTrim(Cross.BySitePair, Cross.SitePairCount,
              [](const CrossFreeSitePair &Pair) {
                return std::tie(Pair.AllocSite, Pair.FreeSite);
              });
  SortAndTrim(Cross.ByThreadPair, Cross.ThreadPairCount,
              [](const CrossFreeThreadPair &Pair) {
                return std::tie(Pair.AllocThread, Pair.FreeThread);
              });

  for (size_t I = 0; I < Result.Threads.size(); ++I)
    if (Result.Threads[I].RunningAtExit)
      Result.AliveAtExit.push_back(I);
  llvm::sort(Result.AliveAtExit, [&](size_t A, size_t B) {
    double BytesA = Result.Threads[A].LiveBytesAtExit;
    double BytesB = Result.Threads[B].LiveBytesAtExit;
    if (BytesA != BytesB)
      return BytesA > BytesB;
    return A < B;
  });
  Result.Totals.ThreadsRunningAtExit = Result.AliveAtExit.size();
}
