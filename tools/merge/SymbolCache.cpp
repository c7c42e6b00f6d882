//===- SymbolCache.cpp - Symbolized addresses kept between merges ---------===//

#include "SymbolCache.h"
#include "Compat.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include "memscope/LogFormat.h"

#include "fmt/format.h"
#include "nlohmann/json.hpp"

#include <algorithm>
#include <chrono>

using namespace memscope::merge;
using llvm::StringRef;
namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;

namespace {

/// Bumped whenever what a file holds, or how LLVM is asked, changes.
constexpr int kFormatVersion = 1;
/// The folder is trimmed to kTrimTo once it holds more than kMaxBytes.
constexpr uint64_t kMaxBytes = uint64_t(64) << 20;
constexpr uint64_t kTrimTo = kMaxBytes / 4 * 3;
constexpr StringRef kSuffix = ".msgpack";

/// The files LLVM's answers for a module come from, each named in the key
/// with its size and time, so that a change to any starts a new file:
/// - the module itself (strip keeps the build ID, not the DWARF);
/// - its separate debug file, looked up by build ID under /usr/lib/debug,
///   then by .gnu_debuglink beside the module, in its .debug/ folder and
///   under /usr/lib/debug (installing libc6-dbg, say);
/// - a split-DWARF package, <object>.dwp, for the module and each debug file;
/// - a GSYM file, <module>.gsym (LLVM 22 prefers it to DWARF).
/// The .dwo files of split DWARF are not named: a module whose .dwo files
/// come and go under one build ID keeps what the first merge found.
std::string keyOf(const std::string &ModulePath, const ModuleFile &File) {
  std::string Key =
      fmt::format("memscope symbol cache {}\nllvm {}\nbuild-id {}\n",
                  kFormatVersion, LLVM_VERSION_STRING, File.BuildId);
  // LLVM makes the path absolute before it looks for debug files.
  llvm::SmallString<256> Absolute(ModulePath);
  (void)fs::make_absolute(Absolute);
  std::vector<std::string> DebugFiles;
  if (File.BuildId.size() > 2)
    DebugFiles.push_back(fmt::format("/usr/lib/debug/.build-id/{}/{}.debug",
                                     File.BuildId.substr(0, 2),
                                     File.BuildId.substr(2)));
  if (!File.Debuglink.empty()) {
    llvm::SmallString<256> Real;
    std::vector<std::string> Dirs{path::parent_path(Absolute).str()};
    if (!fs::real_path(ModulePath, Real))
      Dirs.push_back(path::parent_path(Real).str());
    for (const std::string &Dir : Dirs) {
      DebugFiles.push_back(Dir + "/" + File.Debuglink);
      DebugFiles.push_back(Dir + "/.debug/" + File.Debuglink);
      DebugFiles.push_back("/usr/lib/debug" + Dir + "/" + File.Debuglink);
    }
  }
  std::vector<std::string> Candidates{Absolute.str().str(),
                                      Absolute.str().str() + ".gsym",
                                      Absolute.str().str() + ".dwp"};
  for (const std::string &Debug : DebugFiles) {
    Candidates.push_back(Debug);
    Candidates.push_back(Debug + ".dwp");
  }
  for (const std::string &Candidate : Candidates) {
    fs::file_status Status;
    if (fs::status(Candidate, Status) || !fs::is_regular_file(Status))
      continue;
    Key += fmt::format(
        "{} {} {}\n", Candidate, Status.getSize(),
        Status.getLastModificationTime().time_since_epoch().count());
  }
  return Key;
}

} // namespace

ModuleFile memscope::merge::inspectModuleFile(const std::string &Path) {
  ModuleFile Result;
  auto Object = llvm::object::ObjectFile::createObjectFile(Path);
  if (!Object) {
    llvm::consumeError(Object.takeError());
    return Result;
  }
  const llvm::object::ObjectFile &Obj = *Object->getBinary();
  Result.Readable = true;
  Result.BuildId = llvm::toHex(buildIdOf(Obj), /*LowerCase=*/true);
  for (const llvm::object::SectionRef &Section : Obj.sections()) {
    llvm::Expected<StringRef> Name = Section.getName();
    if (!Name) {
      llvm::consumeError(Name.takeError());
      continue;
    }
    if (*Name != ".gnu_debuglink")
      continue;
    llvm::Expected<StringRef> Contents = Section.getContents();
    if (!Contents) {
      llvm::consumeError(Contents.takeError());
      break;
    }
    // The file name, NUL-terminated, then padding and a CRC.
    Result.Debuglink = Contents->substr(0, Contents->find('\0')).str();
    break;
  }
  return Result;
}

bool memscope::merge::hasBuildIdOf(const ModuleFile &File,
                                   const ModuleMap::Module &Module) {
  constexpr size_t kLoggedHexDigits =
      2 * sizeof(memscope::log::ModuleRecord::build_id);
  if (Module.BuildId.size() == kLoggedHexDigits)
    return startsWith(File.BuildId, Module.BuildId);
  return File.BuildId == Module.BuildId;
}

struct SymbolCache::Entry {
  std::string File; // <dir>/<build id>-<hash of Key>.msgpack
  std::string Key;
  std::unordered_map<uint64_t, std::vector<SourceFrame>> Answers;
  bool Changed = false;
};

SymbolCache::SymbolCache(std::string Dir, Diagnostics &Diags)
    : Dir(Dir.empty() ? "" : Dir + "/symbols"), Diags(Diags) {}

SymbolCache::~SymbolCache() = default;

std::string SymbolCache::defaultDir() {
  // llvm::Optional up to LLVM 15, std::optional since.
  if (auto Dir = llvm::sys::Process::GetEnv("MEMSCOPE_CACHE_DIR"))
    return *Dir;
  llvm::SmallString<256> Dir;
  if (!path::cache_directory(Dir))
    return "";
  path::append(Dir, "memscope");
  return Dir.str().str();
}

SymbolCache::Entry *SymbolCache::open(const ModuleMap::Module &Module,
                                      const ModuleFile &File) {
  if (Dir.empty() || Module.BuildId.empty() || !hasBuildIdOf(File, Module))
    return nullptr;
  auto [It, Inserted] = Entries.try_emplace({Module.Path, Module.BuildId});
  if (!Inserted)
    return It->second.get();
  auto E = std::make_unique<Entry>();
  E->Key = keyOf(Module.Path, File);
  E->File = fmt::format("{}/{}-{:016x}{}", Dir, Module.BuildId,
                        llvm::xxHash64(E->Key), kSuffix.str());
  load(*E);
  It->second = std::move(E);
  return It->second.get();
}

void SymbolCache::load(Entry &E) {
  int FD;
  if (fs::openFileForRead(E.File, FD))
    return; // not cached yet
  auto Buffer = llvm::MemoryBuffer::getOpenFile(fs::convertFDToNativeFile(FD),
                                                E.File, /*FileSize=*/-1);
  // Marks the file as used, for trim().
  (void)fs::setLastAccessAndModificationTime(FD,
                                             std::chrono::system_clock::now());
  llvm::sys::Process::SafelyCloseFileDescriptor(FD);
  if (!Buffer)
    return;
  try {
    const auto Bytes = (*Buffer)->getBuffer();
    nlohmann::json Json = nlohmann::json::from_msgpack(
        reinterpret_cast<const uint8_t *>(Bytes.data()),
        reinterpret_cast<const uint8_t *>(Bytes.data()) + Bytes.size());
    if (Json.at("key").get<std::string>() != E.Key)
      throw std::runtime_error("it belongs to another module");
    for (const nlohmann::json &Address : Json.at("addresses")) {
      std::vector<SourceFrame> Frames;
      for (const nlohmann::json &Frame : Address.at(1))
        Frames.push_back(
            {Frame.at(0).get<std::string>(), Frame.at(1).get<std::string>(),
             Frame.at(2).get<uint32_t>(), Frame.at(3).get<uint32_t>()});
      E.Answers[Address.at(0).get<uint64_t>()] = std::move(Frames);
    }
  } catch (const std::exception &Error) {
    Diags.warning(fmt::format("ignoring the symbol cache file {}: {}", E.File,
                              Error.what()));
    E.Answers.clear();
    E.Changed = true; // rewritten with this merge's answers
  }
}

const std::vector<SourceFrame> *
SymbolCache::find(const ModuleMap::Module &Module, const ModuleFile &File,
                  uint64_t FileAddress) {
  Entry *E = open(Module, File);
  if (!E)
    return nullptr;
  auto It = E->Answers.find(FileAddress);
  return It == E->Answers.end() ? nullptr : &It->second;
}

void SymbolCache::add(const ModuleMap::Module &Module, const ModuleFile &File,
                      uint64_t FileAddress, std::vector<SourceFrame> Frames) {
  if (Entry *E = open(Module, File)) {
    E->Answers[FileAddress] = std::move(Frames);
    E->Changed = true;
  }
}

void SymbolCache::cannotWrite(const std::string &Message) {
  if (!WriteFailed)
    Diags.warning(fmt::format("cannot keep symbols in {}: {}; the next merge "
                              "symbolizes them again (--no-symbol-cache "
                              "turns the cache off)",
                              Dir, Message));
  WriteFailed = true;
}

void SymbolCache::save() {
  std::vector<std::string> Wrote;
  for (auto &[Name, E] : Entries) {
    if (!E || !E->Changed || WriteFailed)
      continue;
    if (std::error_code EC = fs::create_directories(Dir))
      return cannotWrite(EC.message());
    // Sorted by address, so that a file's bytes depend only on its answers.
    std::vector<const decltype(E->Answers)::value_type *> Sorted;
    for (const auto &Answer : E->Answers)
      Sorted.push_back(&Answer);
    std::sort(Sorted.begin(), Sorted.end(),
              [](auto *A, auto *B) { return A->first < B->first; });
    nlohmann::json Addresses = nlohmann::json::array();
    for (const auto *Answer : Sorted) {
      nlohmann::json Frames = nlohmann::json::array();
      for (const SourceFrame &Frame : Answer->second)
        Frames.push_back(
            {Frame.Function, Frame.File, Frame.Line, Frame.Column});
      Addresses.push_back({Answer->first, std::move(Frames)});
    }
    std::vector<uint8_t> Bytes = nlohmann::json::to_msgpack(
        nlohmann::json{{"key", E->Key}, {"addresses", std::move(Addresses)}});
    // A temporary file renamed over the old one: a merge reading it at the
    // same time sees the old file or the new one, never half of one.
    auto Temp = fs::TempFile::create(Dir + "/%%%%%%%%.tmp");
    if (!Temp)
      return cannotWrite(llvm::toString(Temp.takeError()));
    {
      llvm::raw_fd_ostream Out(Temp->FD, /*shouldClose=*/false);
      Out.write(reinterpret_cast<const char *>(Bytes.data()), Bytes.size());
      Out.flush();
      if (Out.has_error()) {
        std::string Message = Out.error().message();
        Out.clear_error();
        llvm::consumeError(Temp->discard());
        return cannotWrite(Message);
      }
    }
    if (llvm::Error Err = Temp->keep(E->File))
      return cannotWrite(llvm::toString(std::move(Err)));
    E->Changed = false;
    Wrote.push_back(path::filename(E->File).str());
  }
  if (!Wrote.empty())
    trim(Wrote);
}

void SymbolCache::trim(const std::vector<std::string> &Wrote) {
  struct File {
    std::string Path;
    uint64_t Size;
    std::chrono::system_clock::time_point Used;
  };
  std::vector<File> Files;
  uint64_t Total = 0;
  auto Now = std::chrono::system_clock::now();
  std::error_code EC;
  for (fs::directory_iterator It(Dir, EC), End; It != End && !EC;
       It.increment(EC)) {
    fs::file_status Status;
    if (fs::status(It->path(), Status))
      continue;
    auto Used =
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(
            Status.getLastModificationTime());
    // What a merge killed while writing left behind.
    if (endsWith(It->path(), ".tmp") && Now - Used > std::chrono::hours(1)) {
      (void)fs::remove(It->path());
      continue;
    }
    if (!endsWith(It->path(), kSuffix))
      continue;
    Total += Status.getSize();
    // This merge's own files stay, however large.
    if (!llvm::is_contained(Wrote, path::filename(It->path())))
      Files.push_back({It->path(), Status.getSize(), Used});
  }
  if (Total <= kMaxBytes)
    return;
  std::sort(Files.begin(), Files.end(),
            [](const File &A, const File &B) { return A.Used < B.Used; });
  for (const File &Oldest : Files) {
    if (Total <= kTrimTo)
      break;
    if (!fs::remove(Oldest.Path))
      Total -= Oldest.Size;
  }
}
