//===- Profile.cpp - Builds the call-stack profile of a run ---------------===//

#include "Profile.h"
#include "Compat.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/Support/Path.h"

#include "fmt/format.h"

using namespace memscope::merge;

uint32_t ProfileBuilder::mappingFor(const ModuleMap::Module &Module) {
  auto [It, Inserted] =
      MappingIndex.try_emplace({Module.Path, Module.BuildId}, 0);
  if (Inserted) {
    It->second = Out.Mappings.size();
    ProfileMapping Mapping;
    Mapping.Path = Module.Path;
    Mapping.BuildId = Module.BuildId;
    // The first process's layout; the others' addresses are moved into it.
    Mapping.Start = Module.TextBegin;
    Mapping.Limit = Module.TextEnd;
    Out.Mappings.push_back(std::move(Mapping));
  }
  return It->second;
}

static std::string moduleOffset(const ModuleMap::Module &Module,
                                uint64_t Address) {
  return fmt::format("{}+0x{:x}", llvm::sys::path::filename(Module.Path).str(),
                     Address - Module.LoadBias);
}

uint32_t ProfileBuilder::stackLocation(const ModuleMap &Modules,
                                       uint64_t Address) {
  const ModuleMap::Module *Module = Modules.find(Address);
  int64_t Mapping = Module ? int64_t(mappingFor(*Module)) : -1;
  // Same module, same offset: one location, whatever the load address.
  uint64_t Canonical =
      Module ? Out.Mappings[Mapping].Start + (Address - Module->TextBegin)
             : Address;
  auto [It, Inserted] =
      AddressLocations.try_emplace({Mapping, Canonical}, Out.Locations.size());
  if (!Inserted)
    return It->second;
  ProfileLocation Location;
  Location.Address = Canonical;
  Location.Mapping = Mapping;
  if (Module)
    for (const SourceFrame &Frame : Symbols.symbolize(*Module, Address))
      Location.Lines.push_back({Frame.Function.empty()
                                    ? moduleOffset(*Module, Address)
                                    : Frame.Function,
                                Frame.File, Frame.Line});
  if (Location.Lines.empty())
    Location.Lines.push_back({Module ? moduleOffset(*Module, Address)
                                     : fmt::format("0x{:x}", Address),
                              "", 0});
  Out.Locations.push_back(std::move(Location));
  return It->second;
}

uint32_t ProfileBuilder::siteLocation(const ModuleMap &Modules,
                                      const SiteInfo *Site, uint64_t EntryId,
                                      const InlineFrame &EntryFrame) {
  // One location per Site record (split entries of a site share it), else
  // per entry.
  auto [It, Inserted] = Site ? SiteRecordLocations.try_emplace(Site->Id, 0)
                             : SiteLocations.try_emplace(EntryId, 0);
  if (!Inserted)
    return It->second;
  It->second = Out.Locations.size();
  ProfileLocation Location;
  if (Site) {
    if (const ModuleMap::Module *Module = Modules.find(Site->ModuleTextAddr))
      Location.Mapping = mappingFor(*Module);
    Location.Lines.push_back(
        {llvm::demangle(Site->Function), Site->File, Site->Line});
    for (const InlineFrame &Frame : Site->InlinedAt)
      Location.Lines.push_back(
          {llvm::demangle(Frame.Function), Frame.File, Frame.Line});
  } else {
    // An indirect site without a stack, or a site without a Site record.
    Location.Lines.push_back(
        {EntryFrame.Function.empty() ? EntryFrame.File : EntryFrame.Function,
         startsWith(EntryFrame.File, "<") ? "" : EntryFrame.File,
         EntryFrame.Line});
  }
  for (ProfileLine &Line : Location.Lines)
    if (Line.Function.empty())
      Line.Function = Line.File.empty() ? "<unknown>" : Line.File;
  Out.Locations.push_back(std::move(Location));
  return It->second;
}

size_t ProfileBuilder::addSiteStack(
    uint32_t Pid, const ModuleMap &Modules, const SiteInfo *Site,
    llvm::ArrayRef<uint64_t> Stack, uint64_t EntryId,
    const InlineFrame &EntryFrame, const SiteStack &Entry,
    double LiveBytesAtPeak, llvm::ArrayRef<size_t> ThreadIndex) {
  const AllocationStats &Stats = Entry.Stats;
  std::vector<uint32_t> Locations;
  Locations.reserve(Stack.size() + 1);
  // The leaf of an instrumented site is its Site record: exact, with its
  // inlining chain, and known without the symbolizer. The stack's first
  // frame is the return address in the function that holds the site (the
  // outermost function of that chain), so the record replaces it.
  if (Stack.empty() || Site)
    Locations.push_back(siteLocation(Modules, Site, EntryId, EntryFrame));
  for (size_t I = Site ? 1 : 0; I < Stack.size(); ++I)
    Locations.push_back(stackLocation(Modules, Stack[I]));
  auto [It, Inserted] =
      SampleIndex.try_emplace({Pid, EntryId, Locations}, Out.Samples.size());
  if (Inserted) {
    ProfileSample Sample;
    Sample.Locations = std::move(Locations);
    Sample.SiteId = EntryId;
    Sample.Pid = Pid;
    if (Site)
      Sample.Type = Site->Type;
    Out.Samples.push_back(std::move(Sample));
  }
  ProfileSample &Sample = Out.Samples[It->second];
  Sample.Allocations += Stats.Allocations;
  Sample.Bytes += Stats.Bytes;
  Sample.LiveAllocationsAtExit +=
      Stats.LiveAllocations + Stats.LifetimeAllocations;
  Sample.LiveBytesAtExit += Stats.LiveBytes + Stats.LifetimeBytes;
  Sample.ProcessLifetime |= Stats.LifetimeAllocations > 0;
  Sample.LiveBytesAtPeak += LiveBytesAtPeak;
  // By thread, in a fixed order (the map's is not).
  std::vector<std::pair<size_t, const SiteStackThreadStats *>> ByThread;
  for (const auto &[Index, PerThread] : Entry.PerThread)
    ByThread.emplace_back(ThreadIndex[Index], &PerThread);
  llvm::sort(ByThread);
  for (const auto &Item : ByThread) {
    size_t Thread = Item.first;
    const SiteStackThreadStats *PerThread = Item.second;
    auto Part = llvm::find_if(Sample.Threads, [&](const ProfileThreadPart &P) {
      return P.Thread == Thread;
    });
    if (Part == Sample.Threads.end())
      Part = Sample.Threads.insert(Part, ProfileThreadPart{Thread});
    Part->Allocations += PerThread->Allocations;
    Part->Bytes += PerThread->Bytes;
    // Every block in use at exit: leaks and process-lifetime blocks alike.
    Part->LiveAllocationsAtExit += PerThread->LiveAllocations;
    Part->LiveBytesAtExit += PerThread->LiveBytes;
  }
  return It->second;
}
