//===- Lifetime.cpp - Blocks that live for the whole process --------------===//

#include "Lifetime.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Path.h"

#include "fmt/format.h"

using namespace memscope::merge;
using llvm::StringRef;

namespace {

/// What glibc and libstdc++ allocate once and keep until the process ends
/// (LeakSanitizer's default suppressions are the model).
constexpr char kBuiltin[] =
    "# stdio: the buffers of stdout, stderr and FILEs open at exit\n"
    "leak:_IO_file_doallocate\n"
    "leak:_IO_wfile_doallocate\n"
    "# atexit, at_quick_exit and __cxa_atexit handler lists\n"
    "leak:__new_exitfn\n"
    "# thread-local storage (kept with the stacks glibc caches for reuse)\n"
    "leak:_dl_allocate_tls\n"
    "# thread_local destructor lists; per-thread exception globals\n"
    "leak:__cxa_thread_atexit_impl\n"
    "leak:__cxa_get_globals\n"
    "# the time zone (tzset) and locale data (setlocale, catalogues)\n"
    "leak:__tzfile_read\n"
    "leak:tzset_internal\n"
    "leak:^_nl_\n"
    "leak:__gconv\n"
    "# the dynamic loader's records of loaded libraries\n"
    "leak:_dl_map_object\n"
    "leak:_dl_new_object\n"
    "leak:^_dl_open\n"
    "leak:__libc_dlopen_mode\n";

/// '*' globs on an unanchored (substring) or anchored match, iteratively.
bool globMatch(StringRef Pattern, StringRef Text, bool AnchorStart,
               bool AnchorEnd) {
  llvm::SmallVector<StringRef, 4> Parts;
  Pattern.split(Parts, '*');
  size_t At = 0;
  for (size_t I = 0; I < Parts.size(); ++I) {
    StringRef Part = Parts[I];
    bool First = I == 0, Last = I + 1 == Parts.size();
    if (First && AnchorStart) {
      if (Text.substr(0, Part.size()) != Part)
        return false;
      At = Part.size();
      if (Last)
        return !AnchorEnd || At == Text.size();
      continue;
    }
    if (Last && AnchorEnd) {
      if (Text.size() < At + Part.size())
        return false;
      return Text.substr(Text.size() - Part.size()) == Part;
    }
    size_t Found = Text.find(Part, At);
    if (Found == StringRef::npos)
      return false;
    At = Found + Part.size();
  }
  return true;
}

} // namespace

LifetimeRules::LifetimeRules() {
  llvm::cantFail(addSuppressions(kBuiltin, "<built-in>"));
}

StringRef LifetimeRules::builtinSuppressions() { return kBuiltin; }

bool LifetimeRules::patternMatches(StringRef Pattern, StringRef Text) {
  bool AnchorStart = Pattern.consume_front("^");
  bool AnchorEnd = Pattern.consume_back("$");
  return globMatch(Pattern, Text, AnchorStart, AnchorEnd);
}

llvm::Error LifetimeRules::addSuppressions(StringRef Text, StringRef FileName) {
  unsigned LineNumber = 0;
  while (!Text.empty()) {
    auto [Line, Rest] = Text.split('\n');
    Text = Rest;
    ++LineNumber;
    Line = Line.trim();
    if (Line.empty() || Line.front() == '#')
      continue;
    auto [Type, Pattern] = Line.split(':');
    auto Fail = [&](const std::string &Why) {
      return llvm::createStringError(
          std::errc::invalid_argument, "%s",
          fmt::format("{}:{}: {} (expected 'leak:<pattern>')", FileName.str(),
                      LineNumber, Why)
              .c_str());
    };
    if (Type.size() == Line.size())
      return Fail(fmt::format("'{}' has no ':'", Line.str()));
    if (Type.trim() != "leak")
      return Fail(
          fmt::format("unsupported suppression type '{}'", Type.trim().str()));
    Pattern = Pattern.trim();
    if (Pattern.empty() || Pattern == "^" || Pattern == "$" || Pattern == "*")
      return Fail("empty pattern");
    Patterns.push_back(Pattern.str());
  }
  return llvm::Error::success();
}

bool LifetimeRules::isProcessLifetime(
    llvm::ArrayRef<StackFrameInfo> Frames) const {
  bool AnyInstrumented = false, UnderDlInit = false;
  for (const StackFrameInfo &Frame : Frames) {
    AnyInstrumented |= Frame.Instrumented;
    UnderDlInit |= Frame.Function == "_dl_init";
    StringRef ModuleName = llvm::sys::path::filename(Frame.Module);
    for (const std::string &Pattern : Patterns)
      if ((!Frame.Function.empty() &&
           patternMatches(Pattern, Frame.Function)) ||
          (!Frame.File.empty() && patternMatches(Pattern, Frame.File)) ||
          (!ModuleName.empty() && (patternMatches(Pattern, ModuleName) ||
                                   patternMatches(Pattern, Frame.Module))))
        return true;
  }
  return UnderDlInit && !AnyInstrumented;
}
