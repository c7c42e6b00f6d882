//===-- SiteMerger.cpp - Site-stack entries into site entries ------------===//
//
// See SiteMerger.h.
//
//===----------------------------------------------------------------------===//

#include "SiteMerger.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Demangle/Demangle.h"

using namespace memscope;
using namespace memscope::merge;

/// Pool-chunk entries' ids: the indirect id of their line, changed.
static constexpr uint64_t kPoolChunkIdSalt = 0x706f6f6c63686e6bull; // poolchnk

/// The first frame in user code of an instrumented site: the site itself,
/// or for a site inlined from a system header (std::vector's allocator, say)
/// the first caller in its inlined-at chain outside the system prefixes.
/// Inlined, when given, tells whether the frame came from that chain.
InlineFrame memscope::merge::userFrameOf(const SiteInfo &Info,
                                         const IndirectAttributor &Attributor,
                                         bool *Inlined) {
  InlineFrame User{llvm::demangle(Info.Function), Info.File, Info.Dir,
                   Info.Line, Info.Column};
  if (Inlined)
    *Inlined = false;
  if (Attributor.isSystemPath(Info.File))
    for (const InlineFrame &Frame : Info.InlinedAt)
      if (!Frame.File.empty() && !Attributor.isSystemPath(Frame.File)) {
        User = Frame;
        User.Function = llvm::demangle(Frame.Function);
        if (Inlined)
          *Inlined = true;
        break;
      }
  return User;
}

size_t SiteMerger::entryFor(uint64_t Id, bool &Created) {
  auto [It, Inserted] = Index.try_emplace(Id, Result.Sites.size());
  Created = Inserted;
  if (Inserted) {
    Result.Sites.emplace_back();
    Result.Sites.back().Id = Id;
    Threads.emplace_back();
  }
  return It->second;
}

void SiteMerger::describeInstrumented(SiteReport &Site, const ProcessData &P,
                                      const SiteStack &S,
                                      uint64_t &MissingSites) {
  auto It = P.Sites.find(S.Key);
  Site.AttributedBy = "site";
  if (It == P.Sites.end()) {
    ++MissingSites;
    Site.Kind = siteKindName(S.Kind);
    Site.File = "<unknown site>";
    Site.User.File = Site.File;
    return;
  }
  const SiteInfo &Info = It->second;
  Site.Kind = siteKindName(Info.Kind);
  Site.Type = Info.Type;
  describeSite(P, Info, Site);
  for (const InlineFrame &Frame : Info.InlinedAt) {
    InlineFrame Demangled = Frame;
    Demangled.Function = llvm::demangle(Frame.Function);
    Site.InlinedAt.push_back(std::move(Demangled));
  }
  bool Inlined = false;
  Site.User = userFrameOf(Info, Attributor, &Inlined);
  if (Inlined)
    Site.AttributedBy = "inline";
}

/// Samples of a site with no frame in user code (all of it inlined from
/// library headers, e.g. std::__new_allocator::allocate in an out-of-line
/// std::vector::_M_realloc_insert) carry a stack from the instrumented
/// function that holds the site outwards. It is attributed like an indirect
/// sample's; the first frame in user code it reaches, if any.
std::optional<InlineFrame> SiteMerger::stackUserFrame(const ProcessData &P,
                                                      const SiteStack &S,
                                                      uint64_t &MissingStacks) {
  if (!S.StackId)
    return std::nullopt;
  auto Info = P.Sites.find(S.Key);
  if (Info == P.Sites.end())
    return std::nullopt;
  InlineFrame Own = userFrameOf(Info->second, Attributor);
  if (!Attributor.isSystemPath(Own.File))
    return std::nullopt;
  auto Stack = P.Stacks.find(S.StackId);
  if (Stack == P.Stacks.end()) {
    ++MissingStacks;
    return std::nullopt;
  }
  IndirectSite Found = Attributor.attribute(P.Modules, Stack->second);
  if (Found.File.empty() || Found.File == "<uninstrumented>" ||
      Attributor.isSystemPath(Found.File))
    return std::nullopt;
  return InlineFrame{std::move(Found.Function), std::move(Found.File), "",
                     Found.Line, Found.Column};
}

std::vector<SiteStackTarget> SiteMerger::addProcess(ProcessData &P,
                                                    size_t ProcessIndex) {
  uint64_t MissingSites = 0, MissingStacks = 0, MissingSiteStacks = 0;
  std::vector<SiteStackTarget> Targets;
  Targets.reserve(P.SiteStacks.size());
  for (size_t Index = 0; Index < P.SiteStacks.size(); ++Index) {
    const SiteStack &S = P.SiteStacks[Index];
    bool Created = false;
    size_t Entry;
    if (!S.Indirect) {
      std::optional<InlineFrame> User = stackUserFrame(P, S, MissingSiteStacks);
      if (!User) {
        Entry = entryFor(S.Key, Created);
        if (Created)
          describeInstrumented(Result.Sites[Entry], P, S, MissingSites);
      } else {
        // One entry per (site, line of user code).
        Entry =
            entryFor(stackSiteId(S.Key, User->File, User->Line, User->Function),
                     Created);
        if (Created) {
          SiteReport &Site = Result.Sites[Entry];
          describeInstrumented(Site, P, S, MissingSites);
          Site.User = std::move(*User);
          Site.AttributedBy = "stack";
          Site.Via = Site.Function;
        }
      }
    } else {
      llvm::ArrayRef<uint64_t> Frames;
      auto Stack = P.Stacks.find(S.Key);
      if (Stack != P.Stacks.end())
        Frames = Stack->second;
      else if (S.Key != 0)
        ++MissingStacks;
      IndirectSite Indirect = Attributor.attribute(P.Modules, Frames);
      bool Chunk = S.Class == BlockClass::PoolChunk;
      // A pool's chunks are an entry apart from the allocations of the same
      // line that are the program's.
      Entry = entryFor(Chunk ? Indirect.Id ^ kPoolChunkIdSalt : Indirect.Id,
                       Created);
      if (Created) {
        SiteReport &Site = Result.Sites[Entry];
        Site.Kind = Chunk ? "pool_chunk" : "indirect";
        Site.File = std::move(Indirect.File);
        Site.Line = Indirect.Line;
        Site.Column = Indirect.Column;
        Site.Function = std::move(Indirect.Function);
        Site.Module = std::move(Indirect.Module);
        Site.Via = std::move(Indirect.Via);
        Site.InlinedAt = std::move(Indirect.InlinedAt);
        Site.User = {Site.Function, Site.File, "", Site.Line, Site.Column};
        Site.AttributedBy = "stack";
      }
      if (!Chunk) {
        Result.Totals.IndirectAllocations += S.Stats.Allocations;
        Result.Totals.IndirectBytes += S.Stats.Bytes;
      }
    }
    SiteReport &Site = Result.Sites[Entry];
    Site.Stats.add(S.Stats);
    Site.LiveBytesAtPeak += P.SiteStackPeakBytes[Index];
    if (!llvm::is_contained(Site.Pids, P.Pid))
      Site.Pids.push_back(P.Pid);
    for (const auto &[Thread, Stats] : S.PerThread)
      Threads[Entry].insert({ProcessIndex, Thread});
    Targets.push_back({Site.Id, Site.User});
  }
  P.warnCount(MissingSites,
              "allocation sites have no Site record in process.log");
  P.warnCount(
      MissingStacks,
      "indirect stacks have no Stack record; attributed to <uninstrumented>");
  P.warnCount(MissingSiteStacks, "stacks of allocation sites in library code "
                                 "have no Stack record; reported at the site");
  return Targets;
}

void SiteMerger::finish() {
  for (size_t I = 0; I < Result.Sites.size(); ++I)
    Result.Sites[I].ThreadCount = Threads[I].size();
  // Ids are unique, so this order is total: no stable sort needed.
  llvm::sort(Result.Sites, [](const SiteReport &A, const SiteReport &B) {
    if (A.Stats.Bytes != B.Stats.Bytes)
      return A.Stats.Bytes > B.Stats.Bytes;
    return A.Id < B.Id;
  });
}
