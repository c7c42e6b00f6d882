//===- Input.cpp - Finds the log files of a memscope run ------------------===//

#include "Input.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "fmt/format.h"

#include <algorithm>

using namespace memscope::merge;
namespace fs = llvm::sys::fs;

static llvm::Error makeError(std::string Message) {
  return llvm::createStringError(std::errc::invalid_argument, "%s",
                                 Message.c_str());
}

/// Slot number of "t<N>.log", or -1 for any other name.
static int64_t threadLogSlot(llvm::StringRef Name) {
  if (!Name.consume_front("t") || !Name.consume_back(".log") || Name.empty())
    return -1;
  uint64_t Slot;
  if (Name.getAsInteger(10, Slot))
    return -1;
  return static_cast<int64_t>(Slot);
}

static uint64_t fileSize(const std::string &Path) {
  uint64_t Size = 0;
  if (fs::file_size(Path, Size))
    return 0;
  return Size;
}

/// Collects the logs of one folder; returns false when it holds none.
static bool scanFolder(const std::string &Path, ProcessFolder &Folder) {
  Folder.Path = Path;
  std::vector<std::pair<int64_t, std::string>> Threads;
  std::error_code EC;
  for (fs::directory_iterator It(Path, EC), End; It != End && !EC;
       It.increment(EC)) {
    llvm::StringRef Name = llvm::sys::path::filename(It->path());
    if (It->type() != fs::file_type::regular_file &&
        It->type() != fs::file_type::symlink_file)
      continue;
    if (Name == "process.log") {
      Folder.ProcessLog = It->path();
      Folder.TotalBytes += fileSize(It->path());
    } else if (int64_t Slot = threadLogSlot(Name); Slot >= 0) {
      Threads.emplace_back(Slot, It->path());
      Folder.TotalBytes += fileSize(It->path());
    }
  }
  llvm::sort(Threads);
  for (auto &Thread : Threads)
    Folder.ThreadLogs.push_back(std::move(Thread.second));
  return !Folder.ProcessLog.empty() || !Folder.ThreadLogs.empty();
}

llvm::Expected<std::vector<ProcessFolder>>
memscope::merge::discoverInput(llvm::StringRef Dir) {
  fs::file_status Status;
  if (std::error_code EC = fs::status(Dir, Status))
    return makeError(fmt::format("cannot open input directory '{}': {}",
                                 Dir.str(), EC.message()));
  if (!fs::is_directory(Status))
    return makeError(fmt::format("input '{}' is not a directory", Dir.str()));

  std::vector<ProcessFolder> Folders;
  ProcessFolder Self;
  // <dir> may itself be a process folder.
  if (fs::exists(Dir + "/process.log") && scanFolder(Dir.str(), Self)) {
    Folders.push_back(std::move(Self));
    return Folders;
  }

  std::vector<std::string> Subdirs;
  std::error_code EC;
  for (fs::directory_iterator It(Dir, EC), End; It != End && !EC;
       It.increment(EC)) {
    fs::file_status EntryStatus;
    if (!fs::status(It->path(), EntryStatus) && fs::is_directory(EntryStatus))
      Subdirs.push_back(It->path());
  }
  if (EC)
    return makeError(fmt::format("cannot read input directory '{}': {}",
                                 Dir.str(), EC.message()));
  llvm::sort(Subdirs);
  for (const std::string &Subdir : Subdirs) {
    ProcessFolder Folder;
    if (scanFolder(Subdir, Folder))
      Folders.push_back(std::move(Folder));
  }
  // A folder of thread logs without process.log (e.g. copied partially).
  if (Folders.empty() && scanFolder(Dir.str(), Self))
    Folders.push_back(std::move(Self));
  if (Folders.empty())
    return makeError(fmt::format("no memscope logs found in {}", Dir.str()));
  return Folders;
}
