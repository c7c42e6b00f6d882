//===- HtmlWriter.cpp - report.html ---------------------------------------===//
//
// One self-contained page: report/report.html (HTML, CSS and vanilla JS,
// compiled in) with the analysis embedded as JSON where the page has the
// marker. Large lists go out as compact rows; the flame graphs as trees of
// interned frame names, pruned to the frames wide enough to see.
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include "llvm/ADT/StringRef.h"

#include <cmath>
#include <map>
#include <unordered_map>

using namespace memscope::merge;
using nlohmann::ordered_json;

#include "HtmlTemplate.inc"

namespace {

/// A flame graph: frames root first, values summed over samples.
class FlameTree {
public:
  explicit FlameTree(std::vector<std::string> &Names,
                     std::unordered_map<std::string, uint32_t> &NameIndex)
      : Names(Names), NameIndex(NameIndex) {
    Nodes.emplace_back();
  }
  /// Adds \p Value along \p Frames; \p Base, the same of the base run in a
  /// differential graph.
  void add(const std::vector<std::string> &Frames, double Value,
           bool Base = false) {
    if (Value <= 0)
      return;
    size_t Node = 0;
    (Base ? Nodes[0].Base : Nodes[0].Value) += Value;
    for (const std::string &Frame : Frames) {
      uint32_t Name = intern(Frame);
      auto [It, Inserted] = Nodes[Node].Children.try_emplace(Name, 0);
      if (Inserted) {
        It->second = Nodes.size();
        Nodes.emplace_back();
        Nodes.back().Name = Name;
      }
      Node = It->second;
      (Base ? Nodes[Node].Base : Nodes[Node].Value) += Value;
    }
  }
  /// [name, value, [children...]] with children narrower than MinShare of
  /// the root left out (their value stays in the parent's). A differential
  /// graph's nodes are [name, max(new, base), [children...], new - base], so
  /// that what shrank or went away keeps its width.
  ordered_json toJson(double MinShare, bool Differential = false) const {
    this->Differential = Differential;
    return node(0, width(Nodes[0]) * MinShare);
  }

private:
  struct Node {
    uint32_t Name = 0;
    double Value = 0;
    double Base = 0; // differential graphs only
    std::map<uint32_t, size_t> Children;
  };
  double width(const Node &N) const {
    return Differential ? std::max(N.Value, N.Base) : N.Value;
  }
  uint32_t intern(const std::string &Name) {
    auto [It, Inserted] = NameIndex.try_emplace(Name, Names.size());
    if (Inserted)
      Names.push_back(Name);
    return It->second;
  }
  ordered_json node(size_t Index, double Min) const {
    const Node &N = Nodes[Index];
    ordered_json Children = ordered_json::array();
    std::vector<size_t> Order;
    for (const auto &[Name, Child] : N.Children)
      if (width(Nodes[Child]) >= Min && width(Nodes[Child]) > 0)
        Order.push_back(Child);
    std::sort(Order.begin(), Order.end(), [&](size_t A, size_t B) {
      return width(Nodes[A]) > width(Nodes[B]);
    });
    for (size_t Child : Order)
      Children.push_back(node(Child, Min));
    // Pushed, not listed: an initializer list copies, and each level would
    // copy the whole subtree below it again.
    ordered_json Out = ordered_json::array();
    Out.push_back(N.Name);
    Out.push_back(std::llround(Differential ? width(N) : N.Value));
    Out.push_back(std::move(Children));
    if (Differential)
      Out.push_back(std::llround(N.Value - N.Base));
    return Out;
  }

  std::vector<std::string> &Names;
  std::unordered_map<std::string, uint32_t> &NameIndex;
  std::vector<Node> Nodes;
  mutable bool Differential = false;
};

/// Rows of objects as {"columns": [...], "rows": [[...], ...]}.
ordered_json compact(const ordered_json &Objects,
                     const std::vector<std::string> &Columns) {
  ordered_json Rows = ordered_json::array();
  for (const ordered_json &Object : Objects) {
    ordered_json Row = ordered_json::array();
    for (const std::string &Column : Columns)
      Row.push_back(Object.contains(Column) ? Object[Column] : nullptr);
    Rows.push_back(std::move(Row));
  }
  return {{"columns", Columns}, {"rows", std::move(Rows)}};
}

} // namespace

llvm::Error memscope::merge::writeHtmlReport(const Analysis &Result,
                                             llvm::StringRef Path) {
  return writeHtmlReport(Result, toJson(Result), Path);
}

llvm::Error memscope::merge::writeHtmlReport(const Analysis &Result,
                                             ordered_json Full,
                                             llvm::StringRef Path,
                                             const Analysis *Base) {
  ordered_json Data;
  for (const char *Key :
       {"schema_version", "generator", "input", "summary", "processes",
        "thread_tree", "spawn_sites", "cross_thread_frees",
        "threads_alive_at_exit", "resources", "bottlenecks"})
    Data[Key] = std::move(Full[Key]);
  // memscope-merge --diff: the comparison with the base run (Diff.h).
  if (Full.contains("diff"))
    Data["diff"] = std::move(Full["diff"]);
  // The user frame is what the tables show; the site record stays for the
  // tooltip ("via").
  for (ordered_json &Site : Full["sites"]) {
    Site["user_file"] = Site["user_frame"]["file"];
    Site["user_line"] = Site["user_frame"]["line"];
    Site["user_function"] = Site["user_frame"]["function"];
  }
  Data["sites"] = compact(Full["sites"], {"id",
                                          "kind",
                                          "user_file",
                                          "user_line",
                                          "user_function",
                                          "via",
                                          "allocations",
                                          "allocations_interval",
                                          "bytes",
                                          "bytes_interval",
                                          "frees",
                                          "live_allocations_at_exit",
                                          "live_bytes_at_exit",
                                          "process_lifetime",
                                          "process_lifetime_allocations",
                                          "process_lifetime_bytes",
                                          "average_lifetime_ns",
                                          "threads",
                                          "samples",
                                          "freed_samples",
                                          "attributed_by",
                                          "pids",
                                          "file",
                                          "line",
                                          "function"});
  // Types: the known ones by name, the rest at their first user frame.
  for (ordered_json &Type : Full["types"])
    Type["sites"] = Type["sites"].size();
  Data["types"] =
      compact(Full["types"],
              {"type", "user_frame", "allocations", "allocations_interval",
               "bytes", "bytes_interval", "live_bytes_at_exit",
               "peak_live_bytes", "peak_method", "sites"});
  for (ordered_json &Thread : Full["threads"]) {
    const ordered_json &Spawn = Thread["spawn_location"];
    Thread["spawned_at"] =
        Spawn.is_null()
            ? ordered_json()
            : ordered_json(Spawn["file"].get<std::string>() + ":" +
                           std::to_string(Spawn["line"].get<int>()));
    Thread["cpu_ns"] = Thread["cpu_user_ns"].get<uint64_t>() +
                       Thread["cpu_system_ns"].get<uint64_t>();
    Thread["top_site"] = Thread["top_sites"].empty()
                             ? ordered_json()
                             : ordered_json(Thread["top_sites"][0]["id"]);
  }
  Data["threads"] = compact(
      Full["threads"],
      {"pid", "thread_id", "tid", "name", "parent_thread_id", "spawned_at",
       "start_ns", "lifetime_ns", "running_at_exit", "cpu_ns", "allocations",
       "bytes", "live_bytes_at_exit", "tool_thread", "top_site"});

  std::vector<std::string> Names;
  std::unordered_map<std::string, uint32_t> NameIndex;
  Names.push_back("all");
  NameIndex["all"] = 0;
  FlameTree Allocated(Names, NameIndex), AtPeak(Names, NameIndex),
      ByType(Names, NameIndex);
  for (const ProfileSample &Sample : Result.Stacks.Samples) {
    std::vector<std::string> Frames = flameFrames(Result.Stacks, Sample);
    Allocated.add(Frames, Sample.Bytes);
    AtPeak.add(Frames, Sample.LiveBytesAtPeak);
    // Grouped by type first; allocations of unknown type under one group,
    // where their stacks show the user frames.
    Frames.insert(Frames.begin(),
                  Sample.Type.empty() ? "(unknown type)" : Sample.Type);
    ByType.add(Frames, Sample.Bytes);
  }
  // 1/5000 of the width is under a pixel on any screen.
  constexpr double MinShare = 1.0 / 5000;
  ordered_json Flame;
  Flame["allocated"] = Allocated.toJson(MinShare);
  Flame["peak"] = AtPeak.toJson(MinShare);
  Flame["types"] = ByType.toJson(MinShare);
  if (Base) {
    FlameTree Changed(Names, NameIndex);
    for (const ProfileSample &Sample : Result.Stacks.Samples)
      Changed.add(flameFrames(Result.Stacks, Sample), Sample.Bytes);
    for (const ProfileSample &Sample : Base->Stacks.Samples)
      Changed.add(flameFrames(Base->Stacks, Sample), Sample.Bytes,
                  /*Base=*/true);
    Flame["allocated_change"] = Changed.toJson(MinShare, /*Differential=*/true);
  }
  Flame["names"] = std::move(Names);
  Data["flame"] = std::move(Flame);

  std::string Json =
      Data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Inside <script>, "</" could end the element; "<\/" means the same in
  // JSON strings (the only place it can occur).
  std::string Safe;
  Safe.reserve(Json.size() + 64);
  for (size_t I = 0; I < Json.size(); ++I) {
    Safe += Json[I];
    if (Json[I] == '<' && I + 1 < Json.size() && Json[I + 1] == '/')
      Safe += '\\';
  }
  llvm::StringRef Page(ReportPage);
  llvm::StringRef Marker = "/*MEMSCOPE_DATA*/";
  size_t At = Page.find(Marker);
  if (At == llvm::StringRef::npos)
    return llvm::createStringError(std::errc::invalid_argument,
                                   "report template has no data marker");
  std::string Html;
  Html.reserve(Page.size() + Safe.size());
  Html += Page.substr(0, At);
  Html += Safe;
  Html += Page.substr(At + Marker.size());
  return writeTextFile(Path, Html);
}
