//===-- HeapByType.h - The heap grouped by allocated type -------*- C++ -*-===//
//
// Stage 3 (see Analysis.cpp): analysis.json's "types". The pass records the
// type each allocation site allocates (pass/AllocatedType.h); every site-stack
// entry of a known type adds to its type, and every other entry (indirect
// allocations, sites the pass could not type) to a group of unknown type at
// its first frame in user code, so that no allocation is left out.
//
// A type's peak is followed while streaming (ProcessStreamer's type units):
// in exact mode it is the most the type's live bytes ever were. Unknown
// groups are only known after attribution, so one made of several units gets
// the sum of their peaks, an upper bound. Under sampling the maximum of an
// estimated curve is biased upwards (docs/report.md), so a type's peak is its
// estimated live bytes at its process's peak instead.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_HEAPBYTYPE_H
#define MEMSCOPE_MERGE_HEAPBYTYPE_H

#include "ProcessModel.h"
#include "SiteMerger.h"

#include <map>
#include <set>

namespace memscope {
namespace merge {

class TypeMerger {
public:
  explicit TypeMerger(Analysis &Result) : Result(Result) {}

  /// Adds \p P's site-stack entries, which went to \p Targets.
  void addProcess(const ProcessData &P, llvm::ArrayRef<SiteStackTarget> Targets,
                  bool Exact);
  /// Fills Analysis::Types, by bytes.
  void finish();

private:
  struct Group {
    TypeReport Report;
    std::set<uint64_t> Sites;
  };
  Analysis &Result;
  /// By type, or for unknown types by "\0file\0line\0function".
  std::map<std::string, Group> Groups;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_HEAPBYTYPE_H
