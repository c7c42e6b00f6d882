//===- Profile.h - Builds the call-stack profile of a run -------*- C++ -*-===//
//
// Turns the per-process site-stack entries (allocations of one site and one
// stack) into Analysis::Stacks: symbolized locations shared by all processes,
// and one sample per site-stack entry. The writers of profile.pb.gz,
// stacks.folded and the HTML flame graphs read only that model.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_PROFILE_H
#define MEMSCOPE_MERGE_PROFILE_H

#include "Analysis.h"
#include "ProcessModel.h"
#include "Symbolization.h"

#include "llvm/ADT/ArrayRef.h"

#include <map>
#include <string>
#include <tuple>
#include <unordered_map>

namespace memscope {
namespace merge {

class ProfileBuilder {
public:
  ProfileBuilder(Symbolizer &Symbols, Profile &Out)
      : Symbols(Symbols), Out(Out) {}

  /// The allocations of one site-stack entry of process Pid. Stack (innermost
  /// first) may be empty; Site is the Site record of an instrumented site, if
  /// any. The leaf of an instrumented site is its own location and inlining
  /// chain (in place of the stack's first frame, the same function).
  /// \p ThreadIndex maps the process's thread indices (the keys of
  /// Entry.PerThread) to Analysis::Threads. Returns the index of the
  /// sample (in Profile::Samples) the entry was added to.
  size_t addSiteStack(uint32_t Pid, const ModuleMap &Modules,
                      const SiteInfo *Site, llvm::ArrayRef<uint64_t> Stack,
                      uint64_t EntryId, const InlineFrame &EntryFrame,
                      const SiteStack &Entry, double LiveBytesAtPeak,
                      llvm::ArrayRef<size_t> ThreadIndex);

private:
  uint32_t mappingFor(const ModuleMap::Module &Module);
  uint32_t stackLocation(const ModuleMap &Modules, uint64_t Address);
  uint32_t siteLocation(const ModuleMap &Modules, const SiteInfo *Site,
                        uint64_t EntryId, const InlineFrame &EntryFrame);

  Symbolizer &Symbols;
  Profile &Out;
  /// By (path, build id): index into Out.Mappings, and the text start the
  /// first process reported (addresses are translated relative to it).
  std::map<std::pair<std::string, std::string>, uint32_t> MappingIndex;
  /// By (mapping, address in the mapping's canonical space).
  std::map<std::pair<int64_t, uint64_t>, uint32_t> AddressLocations;
  /// Locations made from a Site record (no address), by site id, and for
  /// entries without one (indirect samples without a stack), by entry id.
  std::unordered_map<uint64_t, uint32_t> SiteRecordLocations;
  std::unordered_map<uint64_t, uint32_t> SiteLocations;
  /// Samples by (pid, site entry, location list): site-stack entries that end
  /// up with the same stack after symbolization add up.
  std::map<std::tuple<uint32_t, uint64_t, std::vector<uint32_t>>, size_t>
      SampleIndex;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_PROFILE_H
