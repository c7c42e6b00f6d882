//===- Symbolization.h - Attributes uninstrumented allocations --*- C++ -*-===//
//
// Allocations caught by the runtime's malloc interposer (kind "indirect")
// have no site; they carry a stack of return addresses. They are attributed
// to the nearest instrumented caller: the innermost frame inside a module
// that has Memscope sites, symbolized with LLVM's symbolizer, and within its
// inlining chain the innermost frame from the user's own (non-system) source.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_SYMBOLIZATION_H
#define MEMSCOPE_MERGE_SYMBOLIZATION_H

#include "Diagnostics.h"
#include "LogReader.h"
#include "SourcePaths.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
namespace symbolize {
class LLVMSymbolizer;
} // namespace symbolize
} // namespace llvm

namespace memscope {
namespace merge {

/// The executable and shared objects of one process, by address.
class ModuleMap {
public:
  struct Module {
    std::string Path;
    uint64_t LoadBias = 0;
    uint64_t TextBegin = 0;
    uint64_t TextEnd = 0;
    bool HasSites = false;
    std::string BuildId; // lowercase hex; empty when the module has none
  };

  /// Adds a Module record; repeated records of one mapping are ignored.
  void add(const ModuleInfo &Info);
  /// Marks the module holding Address as instrumented (a Site record names
  /// it), in case its Module record lacks the ModuleHasSites flag.
  void markHasSites(uint64_t Address);
  /// The module whose text holds Address, or null.
  const Module *find(uint64_t Address) const;
  const std::vector<Module> &modules() const { return Modules; }

private:
  std::vector<Module> Modules; // sorted by TextBegin
};

/// One source location of an inlining chain.
struct SourceFrame {
  std::string Function; // demangled; empty when unknown
  std::string File;     // empty when unknown
  uint32_t Line = 0;
  uint32_t Column = 0;
};

class SymbolCache;
struct ModuleFile;

/// Caches LLVMSymbolizer answers per (module, address), and keeps them on
/// disk for the next merge (SymbolCache.h). One instance must be used by one
/// thread at a time.
class Symbolizer {
public:
  /// A disabled symbolizer answers nothing (--no-symbolize). \p CacheDir
  /// keeps answers between merges; empty: none are kept.
  Symbolizer(bool Enabled, Diagnostics &Diags, std::string CacheDir = "");
  ~Symbolizer();
  /// Writes the answers of this merge to the cache folder.
  void saveCache();

  /// Inlined frames at a return address, innermost first; empty when the
  /// module or its symbols are unavailable (warned once per module).
  const std::vector<SourceFrame> &symbolize(const ModuleMap::Module &Module,
                                            uint64_t ReturnAddress);
  /// Like symbolize(), and warns once if the module has no line tables.
  const std::vector<SourceFrame> &
  symbolizeWithLines(const ModuleMap::Module &Module, uint64_t ReturnAddress);
  bool enabled() const { return Enabled; }
  /// Source files are spelled by \p Paths from now on (absolute before).
  void setSourcePaths(const SourcePaths &Paths) { this->Paths = Paths; }

private:
  /// What the module's path holds now, read once per module (and warned
  /// about once when it is not the file the run loaded).
  const ModuleFile &fileOf(const ModuleMap::Module &Module);

  bool Enabled;
  SourcePaths Paths;
  Diagnostics &Diags;
  std::unique_ptr<llvm::symbolize::LLVMSymbolizer> Impl;
  std::unique_ptr<SymbolCache> Disk;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<ModuleFile>>
      Files; // by (path, build ID)
  std::map<std::pair<std::string, uint64_t>, std::vector<SourceFrame>> Cache;
  llvm::StringSet<> UnreadableModules;
  llvm::StringSet<> ModulesWithoutLines;
};

/// Where an indirect sample is attributed.
struct IndirectSite {
  uint64_t Id = 0;
  std::string File;
  uint32_t Line = 0;
  uint32_t Column = 0;
  std::string Function;
  std::string Module;
  std::string Via;
  std::vector<InlineFrame> InlinedAt; // callers the chosen frame is inlined in
};

class IndirectAttributor {
public:
  /// A '*' in a system prefix matches any run of characters.
  IndirectAttributor(Symbolizer &Symbols,
                     std::vector<std::string> SystemPrefixes);

  /// Attributes a stack (innermost first); Frames may be empty.
  IndirectSite attribute(const ModuleMap &Modules,
                         llvm::ArrayRef<uint64_t> Frames);

  bool isSystemPath(llvm::StringRef Path) const;

private:
  /// module_basename+0xOFFSET, or 0xADDRESS outside every module.
  std::string moduleOffsetName(const ModuleMap::Module *Module,
                               uint64_t Address) const;
  /// Symbolized name of the function that holds a return address.
  std::optional<std::string> symbolName(const ModuleMap &Modules,
                                        uint64_t Address);
  /// symbolName(), or module+offset when there is none.
  std::string functionAt(const ModuleMap &Modules, uint64_t Address);

  Symbolizer &Symbols;
  std::vector<std::string> SystemPrefixes;
};

/// A function of Memscope's runtime (an interposer such as pthread_create,
/// or memscope::rt::*): never the user's line, even where a static program
/// links the runtime into the instrumented executable.
bool isRuntimeFunction(llvm::StringRef Function);

/// Stable id of an indirect site: xxHash64("indirect\0file\0line\0function").
uint64_t indirectSiteId(llvm::StringRef File, uint32_t Line,
                        llvm::StringRef Function);

/// Stable id of an instrumented site's share that its stack attributed to a
/// line of user code:
/// xxHash64("stack\0<site id, 0x + 16 hex digits>\0file\0line\0function").
uint64_t stackSiteId(uint64_t SiteId, llvm::StringRef File, uint32_t Line,
                     llvm::StringRef Function);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_SYMBOLIZATION_H
