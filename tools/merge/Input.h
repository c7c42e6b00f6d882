//===- Input.h - Finds the log files of a memscope run ----------*- C++ -*-===//
//
// The runtime writes <dir>/<exe>.<pid>/{process.log,t<N>.log}. The input may
// be <dir> (one or more process folders) or a single process folder.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_INPUT_H
#define MEMSCOPE_MERGE_INPUT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace memscope {
namespace merge {

struct ProcessFolder {
  std::string Path;
  std::string ProcessLog;              // empty when the folder has none
  std::vector<std::string> ThreadLogs; // t<N>.log, ordered by N
  uint64_t TotalBytes = 0;
};

/// Lists the process folders under Dir. Fails with a one-line message when
/// Dir is missing, is not a directory, or holds no memscope logs.
llvm::Expected<std::vector<ProcessFolder>> discoverInput(llvm::StringRef Dir);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_INPUT_H
