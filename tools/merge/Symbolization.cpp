//===- Symbolization.cpp - Attributes uninstrumented allocations ----------===//

#include "Symbolization.h"
#include "Compat.h"
#include "SymbolCache.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/DebugInfo/Symbolize/Symbolize.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

#include "fmt/format.h"

#include <algorithm>

using namespace memscope::merge;
using llvm::StringRef;

//===-- ModuleMap -------------------------------------------------------===//

void ModuleMap::add(const ModuleInfo &Info) {
  Module New;
  New.Path = Info.Path;
  New.LoadBias = Info.Fixed.load_bias;
  New.TextBegin = Info.Fixed.text_begin;
  New.TextEnd = Info.Fixed.text_end;
  New.HasSites = Info.Fixed.flags & memscope::log::ModuleHasSites;
  for (uint8_t I = 0;
       I < Info.Fixed.build_id_size && I < sizeof(Info.Fixed.build_id); ++I)
    New.BuildId += fmt::format("{:02x}", Info.Fixed.build_id[I]);
  if (New.TextEnd <= New.TextBegin)
    return;
  auto Pos =
      llvm::lower_bound(Modules, New, [](const Module &A, const Module &B) {
        return A.TextBegin < B.TextBegin;
      });
  // The runtime may log a mapping more than once (e.g. on every dlopen).
  for (auto It = Pos; It != Modules.end() && It->TextBegin == New.TextBegin;
       ++It) {
    if (It->Path == New.Path && It->TextEnd == New.TextEnd &&
        It->LoadBias == New.LoadBias) {
      It->HasSites |= New.HasSites;
      return;
    }
  }
  Modules.insert(Pos, std::move(New));
}

const ModuleMap::Module *ModuleMap::find(uint64_t Address) const {
  auto It =
      llvm::upper_bound(Modules, Address, [](uint64_t Value, const Module &M) {
        return Value < M.TextBegin;
      });
  // Mappings may be nested or stale; take the closest one that holds it.
  while (It != Modules.begin()) {
    --It;
    if (Address < It->TextEnd)
      return &*It;
  }
  return nullptr;
}

void ModuleMap::markHasSites(uint64_t Address) {
  if (const Module *Found = find(Address))
    Modules[Found - Modules.data()].HasSites = true;
}

//===-- Symbolizer ------------------------------------------------------===//

Symbolizer::Symbolizer(bool Enabled, Diagnostics &Diags, std::string CacheDir)
    : Enabled(Enabled), Diags(Diags) {
  if (!Enabled)
    return;
  // SymbolCache's key assumes these options: bump its kFormatVersion when
  // they change.
  llvm::symbolize::LLVMSymbolizer::Options Opts;
  Opts.Demangle = true;
  Opts.UseSymbolTable = true;
  Opts.RelativeAddresses = false;
  Impl = std::make_unique<llvm::symbolize::LLVMSymbolizer>(Opts);
  Disk = std::make_unique<SymbolCache>(std::move(CacheDir), Diags);
}

Symbolizer::~Symbolizer() = default;

void Symbolizer::saveCache() {
  if (Disk)
    Disk->save();
}

const ModuleFile &Symbolizer::fileOf(const ModuleMap::Module &Module) {
  auto [It, Inserted] = Files.try_emplace({Module.Path, Module.BuildId});
  if (!Inserted)
    return *It->second;
  It->second = std::make_unique<ModuleFile>(inspectModuleFile(Module.Path));
  const ModuleFile &File = *It->second;
  // LLVM reads whatever the path holds now; a program rebuilt since the run
  // gets its new lines.
  if (File.Readable && !Module.BuildId.empty() && !hasBuildIdOf(File, Module))
    Diags.warning(fmt::format(
        "{} is not the file the run loaded (build ID {} then, {} now); its "
        "frames may name the wrong lines",
        Module.Path, Module.BuildId,
        File.BuildId.empty() ? "none" : File.BuildId));
  return File;
}

const std::vector<SourceFrame> &
Symbolizer::symbolize(const ModuleMap::Module &Module, uint64_t ReturnAddress) {
  static const std::vector<SourceFrame> None;
  if (!Enabled)
    return None;
  uint64_t FileAddress = ReturnAddress - Module.LoadBias;
  auto [It, Inserted] = Cache.try_emplace({Module.Path, FileAddress});
  if (!Inserted || UnreadableModules.contains(Module.Path))
    return It->second;
  const ModuleFile &File = fileOf(Module);
  // File names are kept as LLVM gives them and spelled here, kept or not.
  auto Spelled = [&](std::vector<SourceFrame> Frames) {
    for (SourceFrame &Frame : Frames)
      if (!Frame.File.empty())
        Frame.File = Paths.spell(Frame.File);
    return Frames;
  };
  if (const std::vector<SourceFrame> *Kept =
          Disk->find(Module, File, FileAddress)) {
    It->second = Spelled(*Kept);
    return It->second;
  }
  // A return address points after the call; step back into the call
  // instruction so that the line is the call's.
  llvm::object::SectionedAddress Address{
      FileAddress ? FileAddress - 1 : 0,
      llvm::object::SectionedAddress::UndefSection};
  llvm::Expected<llvm::DIInliningInfo> Info =
      Impl->symbolizeInlinedCode(Module.Path, Address);
  if (!Info) {
    std::string Message = llvm::toString(Info.takeError());
    if (UnreadableModules.insert(Module.Path).second)
      Diags.warning(fmt::format("cannot symbolize {}: {}; using module+offset",
                                Module.Path, Message));
    return It->second;
  }
  std::vector<SourceFrame> Raw;
  for (uint32_t I = 0, E = Info->getNumberOfFrames(); I != E; ++I) {
    const llvm::DILineInfo &Line = Info->getFrame(I);
    SourceFrame Frame;
    if (Line.FunctionName != llvm::DILineInfo::BadString)
      Frame.Function = Line.FunctionName;
    // Without line tables LLVM may still name the file from an STT_FILE
    // symbol, with line 0; that is no source location.
    if (Line.FileName != llvm::DILineInfo::BadString && Line.Line != 0) {
      Frame.File = Line.FileName;
      Frame.Line = Line.Line;
      Frame.Column = Line.Column;
    }
    Raw.push_back(std::move(Frame));
  }
  It->second = Spelled(Raw);
  Disk->add(Module, File, FileAddress, std::move(Raw));
  return It->second;
}

const std::vector<SourceFrame> &
Symbolizer::symbolizeWithLines(const ModuleMap::Module &Module,
                               uint64_t ReturnAddress) {
  const std::vector<SourceFrame> &Frames = symbolize(Module, ReturnAddress);
  bool HasLines = llvm::any_of(
      Frames, [](const SourceFrame &Frame) { return !Frame.File.empty(); });
  if (!HasLines && !Frames.empty() &&
      ModulesWithoutLines.insert(Module.Path).second)
    Diags.warning(fmt::format("{} has no debug line information; indirect "
                              "allocations in it are shown as module+offset",
                              Module.Path));
  return Frames;
}

//===-- IndirectAttributor ----------------------------------------------===//

/// The hash of \p Parts joined by NULs: a stable id that no spelling of one
/// part can make collide with another's.
static uint64_t hashParts(std::initializer_list<StringRef> Parts) {
  std::string Key;
  for (StringRef Part : Parts) {
    if (!Key.empty())
      Key += '\0';
    Key += Part;
  }
  return llvm::xxHash64(Key);
}

uint64_t memscope::merge::indirectSiteId(StringRef File, uint32_t Line,
                                         StringRef Function) {
  return hashParts({"indirect", File, std::to_string(Line), Function});
}

uint64_t memscope::merge::stackSiteId(uint64_t SiteId, StringRef File,
                                      uint32_t Line, StringRef Function) {
  return hashParts({"stack", fmt::format("0x{:016x}", SiteId), File,
                    std::to_string(Line), Function});
}

IndirectAttributor::IndirectAttributor(Symbolizer &Symbols,
                                       std::vector<std::string> SystemPrefixes)
    : Symbols(Symbols), SystemPrefixes(std::move(SystemPrefixes)) {}

bool IndirectAttributor::isSystemPath(StringRef Path) const {
  for (StringRef Prefix : SystemPrefixes) {
    auto [Head, Tail] = Prefix.split('*');
    if (!startsWith(Path, Head))
      continue;
    if (Head.size() == Prefix.size() || Path.substr(Head.size()).contains(Tail))
      return true;
  }
  return false;
}

bool memscope::merge::isRuntimeFunction(StringRef Function) {
  // The interposers (rt_interpose.cpp, rt_spawn.cpp) under their C names,
  // and the runtime's own namespace. In a static program they live in the
  // instrumented executable, next to the user's code.
  static const char *const Interposers[] = {"malloc",
                                            "free",
                                            "calloc",
                                            "realloc",
                                            "reallocarray",
                                            "memalign",
                                            "aligned_alloc",
                                            "posix_memalign",
                                            "valloc",
                                            "pvalloc",
                                            "pthread_create",
                                            "thrd_create",
                                            "pthread_setname_np"};
  if (startsWith(Function, "memscope::rt::") ||
      startsWith(Function, "__memscope_") || startsWith(Function, "__wrap_"))
    return true;
  return llvm::is_contained(Interposers, Function);
}

std::string
IndirectAttributor::moduleOffsetName(const ModuleMap::Module *Module,
                                     uint64_t Address) const {
  if (!Module)
    return fmt::format("0x{:x}", Address);
  return fmt::format("{}+0x{:x}", llvm::sys::path::filename(Module->Path).str(),
                     Address - Module->LoadBias);
}

std::optional<std::string>
IndirectAttributor::symbolName(const ModuleMap &Modules, uint64_t Address) {
  const ModuleMap::Module *Module = Modules.find(Address);
  if (!Module)
    return std::nullopt;
  const std::vector<SourceFrame> &Frames = Symbols.symbolize(*Module, Address);
  // The outermost frame of an inlining chain is the real (called) function.
  if (Frames.empty() || Frames.back().Function.empty())
    return std::nullopt;
  return Frames.back().Function;
}

std::string IndirectAttributor::functionAt(const ModuleMap &Modules,
                                           uint64_t Address) {
  if (std::optional<std::string> Name = symbolName(Modules, Address))
    return *Name;
  return moduleOffsetName(Modules.find(Address), Address);
}

IndirectSite IndirectAttributor::attribute(const ModuleMap &Modules,
                                           llvm::ArrayRef<uint64_t> Frames) {
  IndirectSite Site;
  size_t Instrumented = Frames.size();
  const ModuleMap::Module *Module = nullptr;
  for (size_t I = 0; I < Frames.size(); ++I) {
    Module = Modules.find(Frames[I]);
    if (Module && Module->HasSites) {
      Instrumented = I;
      break;
    }
  }

  if (Instrumented == Frames.size()) {
    // No instrumented caller: one bucket per outermost function.
    Site.File = "<uninstrumented>";
    if (Frames.empty()) {
      Site.Function = "<no stack>";
    } else {
      // The outermost frame that has a name (often the thread entry).
      size_t Outermost = Frames.size() - 1;
      for (size_t I = Frames.size(); I-- > 0;) {
        if (std::optional<std::string> Name = symbolName(Modules, Frames[I])) {
          Site.Function = std::move(*Name);
          Outermost = I;
          break;
        }
      }
      const ModuleMap::Module *Outer = Modules.find(Frames[Outermost]);
      if (Site.Function.empty())
        Site.Function = moduleOffsetName(Outer, Frames[Outermost]);
      if (Outer)
        Site.Module = Outer->Path;
      Site.Via = functionAt(Modules, Frames.front());
    }
    Site.Id = indirectSiteId(Site.File, Site.Line, Site.Function);
    return Site;
  }

  if (Instrumented > 0)
    Site.Via = functionAt(Modules, Frames[Instrumented - 1]);
  // The innermost frame in the user's own code, searching the instrumented
  // frames outwards: an out-of-line std:: template instantiated in the
  // program (std::vector::_M_realloc_insert, say) is instrumented code that
  // lives in a system header, and its caller is the line the user wants.
  uint64_t Address = Frames[Instrumented];
  const std::vector<SourceFrame> *Chain = nullptr;
  size_t Chosen = 0;
  for (size_t I = Instrumented; I < Frames.size() && Symbols.enabled(); ++I) {
    const ModuleMap::Module *Candidate = Modules.find(Frames[I]);
    if (!Candidate || !Candidate->HasSites)
      continue;
    const std::vector<SourceFrame> &Lines =
        Symbols.symbolizeWithLines(*Candidate, Frames[I]);
    if (!Chain && llvm::any_of(Lines, [](const SourceFrame &Frame) {
          return !Frame.File.empty();
        })) {
      // Fallback: the outermost inlined frame of the nearest caller.
      Chain = &Lines;
      Chosen = Lines.size() - 1;
      Address = Frames[I];
      Module = Candidate;
    }
    auto User = llvm::find_if(Lines, [&](const SourceFrame &Frame) {
      return !Frame.File.empty() && !isSystemPath(Frame.File) &&
             !isRuntimeFunction(Frame.Function);
    });
    if (User != Lines.end()) {
      Chain = &Lines;
      Chosen = User - Lines.begin();
      Address = Frames[I];
      Module = Candidate;
      break;
    }
  }
  Site.Module = Module->Path;
  if (!Chain) {
    Site.Function = moduleOffsetName(Module, Address);
  } else {
    const SourceFrame &Frame = (*Chain)[Chosen];
    Site.File = Frame.File;
    Site.Line = Frame.Line;
    Site.Column = Frame.Column;
    Site.Function = Frame.Function.empty() ? moduleOffsetName(Module, Address)
                                           : Frame.Function;
    for (size_t I = Chosen + 1; I < Chain->size(); ++I)
      Site.InlinedAt.push_back({(*Chain)[I].Function, (*Chain)[I].File, "",
                                (*Chain)[I].Line, (*Chain)[I].Column});
  }
  Site.Id = indirectSiteId(Site.File, Site.Line, Site.Function);
  return Site;
}
