//===- SourcePaths.h - One spelling per source file -------------*- C++ -*-===//
//
// A compiler records a file as it was named on its command line, relative to
// the compilation directory or absolute, and DWARF readers join the two. So
// one file reaches the merge as "examples/x.cpp" (a site table) and as
// "/home/u/proj/examples/x.cpp" (a stack). Every path the merge writes goes
// through SourcePaths::spell(): absolute, without "." or "..", and relative
// to the source root (--source-root, or the common compilation directory of
// the instrumented sites) when it lies under it.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_SOURCEPATHS_H
#define MEMSCOPE_MERGE_SOURCEPATHS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace memscope {
namespace merge {

/// "bench/../examples/x.cpp" as "examples/x.cpp".
std::string tidySourcePath(llvm::StringRef Path);

class SourcePaths {
public:
  /// \p Root: an absolute folder, or empty for absolute paths everywhere.
  explicit SourcePaths(llvm::StringRef Root = {});

  /// The deepest folder that holds every one of \p Dirs (absolute
  /// compilation directories; empty ones are skipped), or "" when there is
  /// none or it is "/".
  static std::string commonDirectory(llvm::ArrayRef<std::string> Dirs);

  /// \p File, compiled in \p Dir (empty: unknown), in its one spelling. A
  /// relative path without a directory (glibc's debug info names its
  /// sources "nptl/pthread_create.c") stays as it is.
  std::string spell(llvm::StringRef File, llvm::StringRef Dir = {}) const;

  /// The root with its trailing '/', or "".
  const std::string &root() const { return Root; }

private:
  std::string Root;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_SOURCEPATHS_H
