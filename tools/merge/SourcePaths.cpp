//===- SourcePaths.cpp - One spelling per source file ---------------------===//

#include "SourcePaths.h"
#include "Compat.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

using namespace memscope::merge;
using llvm::StringRef;

std::string memscope::merge::tidySourcePath(StringRef Path) {
  if (!Path.contains("/.") && Path.substr(0, 2) != "./")
    return Path.str();
  llvm::SmallString<256> Tidy(Path);
  llvm::sys::path::remove_dots(Tidy, /*remove_dot_dot=*/true);
  return std::string(Tidy);
}

SourcePaths::SourcePaths(StringRef Root) {
  std::string Tidy = tidySourcePath(Root);
  while (Tidy.size() > 1 && Tidy.back() == '/')
    Tidy.pop_back();
  if (llvm::sys::path::is_absolute(Tidy) && Tidy != "/")
    this->Root = Tidy + "/";
}

std::string SourcePaths::commonDirectory(llvm::ArrayRef<std::string> Dirs) {
  std::string Common;
  bool First = true;
  for (const std::string &Dir : Dirs) {
    if (Dir.empty() || !llvm::sys::path::is_absolute(Dir))
      continue;
    std::string Tidy = tidySourcePath(Dir);
    while (Tidy.size() > 1 && Tidy.back() == '/')
      Tidy.pop_back();
    if (First) {
      Common = Tidy;
      First = false;
      continue;
    }
    // Shorten Common to a folder that holds Tidy too.
    while (!Common.empty() &&
           !(Tidy == Common ||
             (startsWith(Tidy, Common) && Tidy[Common.size()] == '/'))) {
      size_t Slash = Common.rfind('/');
      Common.resize(Slash == std::string::npos ? 0 : Slash);
    }
  }
  return Common == "/" ? std::string() : Common;
}

std::string SourcePaths::spell(StringRef File, StringRef Dir) const {
  if (File.empty())
    return {};
  std::string Path;
  if (llvm::sys::path::is_absolute(File) || Dir.empty()) {
    Path = tidySourcePath(File);
  } else {
    llvm::SmallString<256> Joined(Dir);
    llvm::sys::path::append(Joined, File);
    Path = tidySourcePath(Joined);
  }
  if (!Root.empty() && startsWith(Path, Root))
    return Path.substr(Root.size());
  return Path;
}
