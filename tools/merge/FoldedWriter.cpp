//===- FoldedWriter.cpp - stacks.folded -----------------------------------===//
//
// The "folded stacks" format of flamegraph.pl, which speedscope and inferno
// read too: `root;caller;...;leaf <value>` per line. The value is estimated
// allocated bytes; identical stacks of several processes add up.
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"

#include <cmath>
#include <map>

using namespace memscope::merge;

/// ';' separates frames and a line ends the stack: keep them out of names.
static std::string frameName(std::string Name) {
  for (char &C : Name)
    if (C == ';' || C == '\n' || C == '\r')
      C = ':';
  return Name;
}

std::vector<std::string>
memscope::merge::flameFrames(const Profile &Stacks,
                             const ProfileSample &Sample) {
  std::vector<std::string> Frames;
  for (size_t I = Sample.Locations.size(); I-- > 0;) {
    const ProfileLocation &Location = Stacks.Locations[Sample.Locations[I]];
    for (size_t L = Location.Lines.size(); L-- > 0;)
      Frames.push_back(frameName(Location.Lines[L].Function));
  }
  // The leaf names its line: that is the allocation site.
  if (!Sample.Locations.empty() && !Frames.empty()) {
    const ProfileLocation &Leaf = Stacks.Locations[Sample.Locations.front()];
    if (!Leaf.Lines.empty() && !Leaf.Lines.front().File.empty())
      Frames.back() += frameName(fmt::format(
          " ({}:{})", Leaf.Lines.front().File, Leaf.Lines.front().Line));
  }
  return Frames;
}

llvm::Error memscope::merge::writeTextFile(llvm::StringRef Path,
                                           llvm::StringRef Text) {
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC, llvm::sys::fs::OF_None);
  if (!EC) {
    OS << Text;
    OS.close();
    EC = OS.error();
  }
  if (EC)
    return llvm::createStringError(EC, "cannot write %s: %s",
                                   Path.str().c_str(), EC.message().c_str());
  return llvm::Error::success();
}

llvm::Error memscope::merge::writeFoldedStacks(const Analysis &Result,
                                               llvm::StringRef Path) {
  std::map<std::string, double> Folded;
  for (const ProfileSample &Sample : Result.Stacks.Samples) {
    std::vector<std::string> Frames = flameFrames(Result.Stacks, Sample);
    std::string Line;
    for (const std::string &Frame : Frames) {
      if (!Line.empty())
        Line += ';';
      Line += Frame;
    }
    Folded[Line] += Sample.Bytes;
  }
  std::string Text;
  for (const auto &[Stack, Bytes] : Folded)
    if (int64_t Value = std::llround(Bytes); Value > 0)
      Text += fmt::format("{} {}\n", Stack, Value);
  return writeTextFile(Path, Text);
}
