//===- Diagnostics.cpp - Warnings and errors of memscope-merge ------------===//

#include "Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

using namespace memscope::merge;

std::string memscope::merge::formatDiagnostic(const Diagnostic &D) {
  return std::string("memscope-merge: ") +
         (D.Level == Severity::Error ? "error: " : "warning: ") + D.Message;
}

void Diagnostics::add(Diagnostic D) {
  if (Echo) {
    *Echo << formatDiagnostic(D) << '\n';
    Echo->flush();
  }
  List.push_back(std::move(D));
}

void Diagnostics::warning(std::string Message) {
  add({Severity::Warning, std::move(Message)});
}

void Diagnostics::error(std::string Message) {
  add({Severity::Error, std::move(Message)});
}

void Diagnostics::append(const std::vector<Diagnostic> &Other) {
  for (const Diagnostic &D : Other)
    add(D);
}

size_t Diagnostics::errorCount() const {
  size_t Count = 0;
  for (const Diagnostic &D : List)
    Count += D.Level == Severity::Error;
  return Count;
}
