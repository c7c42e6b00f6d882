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
#include "llvm/Object/ELFObjectFile.h"
#else
#include "llvm/Object/BuildID.h"
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

/// The GNU build ID of an object file; empty when it has none.
/// llvm::object::getBuildID is LLVM 16+; before, the notes are read here.
inline llvm::ArrayRef<uint8_t> buildIdOf(const llvm::object::ObjectFile &Obj) {
#if LLVM_VERSION_MAJOR >= 16
  return llvm::object::getBuildID(&Obj);
#else
  const auto *Elf = llvm::dyn_cast<llvm::object::ELF64LEObjectFile>(&Obj);
  if (!Elf)
    return {};
  const auto &File = Elf->getELFFile();
  auto Headers = File.program_headers();
  if (!Headers) {
    llvm::consumeError(Headers.takeError());
    return {};
  }
  for (const auto &Header : *Headers) {
    if (Header.p_type != llvm::ELF::PT_NOTE)
      continue;
    llvm::Error Err = llvm::Error::success();
    for (const auto &Note : File.notes(Header, Err))
      if (Note.getType() == llvm::ELF::NT_GNU_BUILD_ID &&
          Note.getName() == "GNU") {
        llvm::consumeError(std::move(Err));
        return Note.getDesc();
      }
    llvm::consumeError(std::move(Err));
  }
  return {};
#endif
}

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_COMPAT_H
