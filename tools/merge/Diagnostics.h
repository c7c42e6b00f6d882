//===- Diagnostics.h - Warnings and errors of memscope-merge ----*- C++ -*-===//
//
// Every problem found in the input becomes one line on stderr
// ("memscope-merge: warning: ..." or "memscope-merge: error: ...") and is also
// kept so that analysis.json can list the warnings.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_DIAGNOSTICS_H
#define MEMSCOPE_MERGE_DIAGNOSTICS_H

#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace memscope {
namespace merge {

enum class Severity { Warning, Error };

struct Diagnostic {
  Severity Level;
  std::string Message;
};

/// Collects diagnostics in report order. Not thread-safe: parallel stages
/// collect into their own list and append() it afterwards, in input order, so
/// the output does not depend on scheduling.
class Diagnostics {
public:
  /// With an echo stream, each diagnostic is printed as it is added.
  explicit Diagnostics(llvm::raw_ostream *Echo = nullptr) : Echo(Echo) {}

  void warning(std::string Message);
  void error(std::string Message);
  void add(Diagnostic D);
  void append(const std::vector<Diagnostic> &Other);

  const std::vector<Diagnostic> &all() const { return List; }
  size_t errorCount() const;

private:
  llvm::raw_ostream *Echo;
  std::vector<Diagnostic> List;
};

/// Formats a diagnostic the way the command line prints it.
std::string formatDiagnostic(const Diagnostic &D);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_DIAGNOSTICS_H
