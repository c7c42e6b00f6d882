//===-- CustomAllocators.h - The program's own allocators -------*- C++ -*-===//
//
// A program's pools, arenas and wrappers (`pool_alloc(size)`) hide every
// caller behind one line. Named to the pass, their calls become sites of
// kind `custom` at the callers, with the size taken from the named argument;
// calls of the matching deallocator are matched by pointer. Two ways to name
// them, both read here:
//
//   -passes='memscope<allocator=pool_alloc:size=0;deallocator=pool_free>'
//   MEMSCOPE_PASS_OPTIONS='allocator=pool_alloc:size=0;deallocator=pool_free'
//   __attribute__((annotate("memscope_allocator:size=0")))  (MEMSCOPE_ALLOCATOR
//   in memscope/memscope.h), annotate("memscope_deallocator") on the
//   declaration.
//
// A name is a C symbol or a C++ function's qualified name without its
// parameters ("Arena::allocate"); it matches every overload.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_PASS_CUSTOMALLOCATORS_H
#define MEMSCOPE_PASS_CUSTOMALLOCATORS_H

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class Function;
class Module;
} // namespace llvm

namespace memscope {
namespace pass {

/// One named allocator or deallocator: which argument is the size (an
/// allocator's) or the pointer (a deallocator's), counting from 0.
struct CustomFunction {
  std::string Name;
  bool IsDeallocator = false;
  unsigned Arg = 0;
};

/// Parses one `allocator=NAME:size=N` or `deallocator=NAME[:ptr=N]` option
/// (\p Key and \p Value split at the first '=').
llvm::Expected<CustomFunction> parseCustomOption(llvm::StringRef Key,
                                                 llvm::StringRef Value);

/// Which functions of a module are named custom allocators, by the options
/// or by an annotation in the module.
class CustomAllocators {
public:
  CustomAllocators(llvm::Module &M, const std::vector<CustomFunction> &Named);

  /// \p F's entry, if it is a custom allocator or deallocator.
  std::optional<CustomFunction> lookup(const llvm::Function &F) const;
  bool empty() const { return Named.empty() && Annotated.empty(); }

private:
  const std::vector<CustomFunction> &Named;
  llvm::DenseMap<const llvm::Function *, CustomFunction> Annotated;
  /// Each function's qualified name, demangled once (qualifiedName).
  mutable llvm::DenseMap<const llvm::Function *, std::string> Qualified;
};

/// Runs at the start of the pipeline: keeps the custom allocators from being
/// inlined, so that their calls are still there when MemscopePass runs at
/// the end of it (an inlined pool_alloc would leave no call to see).
struct KeepCustomAllocatorsPass
    : llvm::PassInfoMixin<KeepCustomAllocatorsPass> {
  explicit KeepCustomAllocatorsPass(std::vector<CustomFunction> Named)
      : Named(std::move(Named)) {}
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }

  std::vector<CustomFunction> Named;
};

} // namespace pass
} // namespace memscope

#endif // MEMSCOPE_PASS_CUSTOMALLOCATORS_H
