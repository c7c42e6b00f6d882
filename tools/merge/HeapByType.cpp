//===-- HeapByType.cpp - The heap grouped by allocated type ---------------===//
//
// See HeapByType.h.
//
//===----------------------------------------------------------------------===//

#include "HeapByType.h"

#include "llvm/ADT/STLExtras.h"

#include <string>
#include <tuple>

using namespace memscope;
using namespace memscope::merge;

void TypeMerger::addProcess(const ProcessData &P,
                            llvm::ArrayRef<SiteStackTarget> Targets,
                            bool Exact) {
  struct ProcessPart {
    std::set<uint32_t> Units;
    double AtPeak = 0;
  };
  std::map<Group *, ProcessPart> Parts;
  for (size_t Index = 0; Index < P.SiteStacks.size(); ++Index) {
    const SiteStack &Entry = P.SiteStacks[Index];
    // A pool's chunks hold its custom objects, which have their types.
    if (!Entry.counted())
      continue;
    const SiteStackTarget &Target = Targets[Index];
    std::string Type;
    if (!Entry.Indirect) {
      auto Site = P.Sites.find(Entry.Key);
      if (Site != P.Sites.end())
        Type = Site->second.Type;
    }
    const InlineFrame &User = Target.Location;
    std::string Key = !Type.empty() ? Type
                                    : std::string(1, '\0') + User.File + '\0' +
                                          std::to_string(User.Line) + '\0' +
                                          User.Function;
    auto [It, Inserted] = Groups.try_emplace(std::move(Key));
    Group &G = It->second;
    if (Inserted) {
      G.Report.Type = Type;
      if (Type.empty())
        G.Report.UnknownAt = User;
    }
    G.Report.Stats.add(Entry.Stats);
    G.Sites.insert(Target.SiteId);
    ProcessPart &Part = Parts[&G];
    Part.Units.insert(P.SiteStackUnit[Index]);
    Part.AtPeak += P.SiteStackPeakBytes[Index];
  }
  for (auto &[G, Part] : Parts) {
    double Peak = Part.AtPeak;
    TypePeakMethod Method = TypePeakMethod::AtProcessPeak;
    if (Exact) {
      Peak = 0;
      for (uint32_t Unit : Part.Units)
        Peak += P.UnitPeakBytes[Unit];
      Method = Part.Units.size() == 1 ? TypePeakMethod::Exact
                                      : TypePeakMethod::UpperBound;
    }
    TypeReport &Report = G->Report;
    if (Peak > Report.PeakLiveBytes ||
        (Peak == Report.PeakLiveBytes && Method > Report.PeakMethod)) {
      Report.PeakLiveBytes = Peak;
      Report.PeakMethod = Method;
    }
  }
}

void TypeMerger::finish() {
  Result.Types.clear();
  for (auto &[Key, G] : Groups) {
    G.Report.Sites.assign(G.Sites.begin(), G.Sites.end());
    Result.Types.push_back(std::move(G.Report));
  }
  // By bytes, then by what names the group (unique): a total order.
  llvm::sort(Result.Types, [](const TypeReport &A, const TypeReport &B) {
    if (A.Stats.Bytes != B.Stats.Bytes)
      return A.Stats.Bytes > B.Stats.Bytes;
    return std::tie(A.Type, A.UnknownAt.File, A.UnknownAt.Line,
                    A.UnknownAt.Function) < std::tie(B.Type, B.UnknownAt.File,
                                                     B.UnknownAt.Line,
                                                     B.UnknownAt.Function);
  });
}
