//===- Compat.h - The LLVM API differences the merge meets ------*- C++ -*-===//
//
// memscope-merge builds against every LLVM from 14 to 22, like the plugin
// (pass/Compat.h). Each helper names the versions that differ.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_COMPAT_H
#define MEMSCOPE_MERGE_COMPAT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Config/llvm-config.h"

#include <algorithm>
#if LLVM_VERSION_MAJOR < 16
#include "llvm/ADT/Optional.h"
#else
#include <optional>
#endif

namespace memscope {
namespace merge {

/// StringRef::starts_with is LLVM 16+; startswith is gone in LLVM 20.
inline bool startsWith(llvm::StringRef Text, llvm::StringRef Prefix) {
  return Text.substr(0, Prefix.size()) == Prefix;
}

/// StringRef::ends_with is LLVM 16+; endswith is gone in LLVM 20.
inline bool endsWith(llvm::StringRef Text, llvm::StringRef Suffix) {
  return Text.size() >= Suffix.size() &&
         Text.substr(Text.size() - Suffix.size()) == Suffix;
}

/// llvm::erase(Container, Value) is LLVM 17+ (erase_value before).
template <typename Container, typename Value>
void eraseValue(Container &C, const Value &V) {
  C.erase(std::remove(C.begin(), C.end(), V), C.end());
}

/// An entry of llvm::sys::ExecuteAndWait's Redirects: llvm::Optional up to
/// LLVM 15, std::optional since 16 (value-initialised: no redirection).
#if LLVM_VERSION_MAJOR < 16
using Redirect = llvm::Optional<llvm::StringRef>;
#else
using Redirect = std::optional<llvm::StringRef>;
#endif

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_COMPAT_H
