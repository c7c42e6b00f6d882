//===- SymbolCache.h - Symbolized addresses kept between merges -*- C++ -*-===//
//
// Symbolizing a frame of libc or of a large program means that LLVM first
// reads the module's DWARF, and Debian's separate debug files are
// compressed: with libc6-dbg installed, a merge of a program that ran for a
// millisecond spends 60 ms inflating libc's debug info, three quarters of
// its time. The answers for a module depend only on its contents, which the
// build ID names, and on which debug files there are, so they are kept on
// disk (one file per module) and the next merge asks LLVM only for the
// addresses it has not seen.
//
// Where: --symbol-cache, else $MEMSCOPE_CACHE_DIR, else
// $XDG_CACHE_HOME/memscope (~/.cache/memscope), in symbols/. The folder is
// kept under 64 MiB by removing the files used least recently.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_SYMBOLCACHE_H
#define MEMSCOPE_MERGE_SYMBOLCACHE_H

#include "Diagnostics.h"
#include "Symbolization.h"

#include "llvm/ADT/StringRef.h"

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace memscope {
namespace merge {

/// What the file at a module's path says about itself.
struct ModuleFile {
  bool Readable = false;
  std::string BuildId;   // lowercase hex; empty when it has none
  std::string Debuglink; // the .gnu_debuglink file name; empty when none
};

/// Reads \p Path's build ID and debug link (cheap: no debug info is read).
ModuleFile inspectModuleFile(const std::string &Path);

/// Whether \p File has the build ID the run logged for \p Module (whose
/// Module record keeps only the first 32 bytes of a longer one).
bool hasBuildIdOf(const ModuleFile &File, const ModuleMap::Module &Module);

class SymbolCache {
public:
  /// An empty \p Dir: nothing is read or kept.
  SymbolCache(std::string Dir, Diagnostics &Diags);
  ~SymbolCache();

  /// $MEMSCOPE_CACHE_DIR, else the user's cache folder + "/memscope"; empty
  /// when there is neither.
  static std::string defaultDir();

  /// The frames kept for \p FileAddress of \p Module (file names as LLVM
  /// gave them), or null. \p File is what the module's path holds now; a
  /// module whose file no longer has the run's build ID is not cached.
  const std::vector<SourceFrame> *find(const ModuleMap::Module &Module,
                                       const ModuleFile &File,
                                       uint64_t FileAddress);
  /// Keeps LLVM's answer for an address find() did not know.
  void add(const ModuleMap::Module &Module, const ModuleFile &File,
           uint64_t FileAddress, std::vector<SourceFrame> Frames);
  /// Writes each module's file that gained answers, then trims the folder.
  void save();

private:
  struct Entry;
  /// The module's entry, read from disk on first use; null when the module
  /// cannot be cached.
  Entry *open(const ModuleMap::Module &Module, const ModuleFile &File);
  void load(Entry &E);
  /// Removes the files used least recently (not those named in \p Wrote)
  /// until the folder is under its limit.
  void trim(const std::vector<std::string> &Wrote);
  void cannotWrite(const std::string &Message);

  std::string Dir; // <cache>/symbols; empty: disabled
  Diagnostics &Diags;
  bool WriteFailed = false;
  // By (path, build ID); null: not cacheable.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Entry>> Entries;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_SYMBOLCACHE_H
