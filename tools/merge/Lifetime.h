//===- Lifetime.h - Blocks that live for the whole process ------*- C++ -*-===//
//
// Not every block live at exit is a leak. glibc allocates stdout's buffer at
// the first printf, the atexit list, the TLS of threads, locale data;
// libstdc++ allocates its emergency exception pool in a library constructor.
// They are made once, for the process's lifetime, and no C++ program frees
// them. Such blocks are reported apart from leaks ("process-lifetime").
//
// A block is process-lifetime when its allocation stack
//   - matches a built-in rule or one of the user's suppressions, in the
//     sanitizers' suppression format ("leak:<pattern>", matched against the
//     function, source file and module of every frame, as LeakSanitizer
//     does); or
//   - has no frame in instrumented code and runs under _dl_init: a system
//     library's constructor, before main.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_LIFETIME_H
#define MEMSCOPE_MERGE_LIFETIME_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace memscope {
namespace merge {

/// One frame of an allocation stack, as far as it is known.
struct StackFrameInfo {
  std::string Function; // demangled; empty when unknown
  std::string File;     // source file; empty when unknown
  std::string Module;   // path of the module; empty when unknown
  bool Instrumented = false;
};

class LifetimeRules {
public:
  /// The built-in rules only.
  LifetimeRules();

  /// Adds the "leak:" patterns of a suppression file. Errors name the file
  /// and line of the first bad entry.
  llvm::Error addSuppressions(llvm::StringRef Text, llvm::StringRef FileName);

  /// Whether the block allocated with \p Frames (innermost first) lives for
  /// the process's lifetime rather than leaking.
  bool isProcessLifetime(llvm::ArrayRef<StackFrameInfo> Frames) const;

  /// The sanitizers' pattern match: '*' matches any run of characters, a
  /// leading '^' and a trailing '$' anchor, otherwise a substring matches.
  static bool patternMatches(llvm::StringRef Pattern, llvm::StringRef Text);

  /// The built-in suppressions, in the file format, for the documentation.
  static llvm::StringRef builtinSuppressions();

private:
  std::vector<std::string> Patterns;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_LIFETIME_H
