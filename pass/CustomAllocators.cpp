//===-- CustomAllocators.cpp - The program's own allocators ---------------===//
//
// See CustomAllocators.h. clang records an annotation of a function
// declaration in llvm.global.annotations from LLVM 15 on; LLVM 14 records
// only those of definitions, so there an annotation works in the file that
// defines the allocator, and the option everywhere.
//
//===----------------------------------------------------------------------===//
#include "CustomAllocators.h"

#include "Compat.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/Module.h"

using namespace llvm;

namespace memscope {
namespace pass {
namespace {

constexpr char kAllocatorAnnotation[] = "memscope_allocator";
constexpr char kDeallocatorAnnotation[] = "memscope_deallocator";

Error optionError(const Twine &Message) {
  return createStringError(inconvertibleErrorCode(),
                           "memscope: " + Message.str());
}

/// "Arena::allocate" for _ZN5Arena8allocateEm, "pool_alloc" for pool_alloc.
bool nameMatches(const Function &F, StringRef Name) {
  if (F.getName() == Name)
    return true;
  std::string Demangled = llvm::demangle(F.getName().str());
  return StringRef(Demangled).split('(').first == Name;
}

/// "size=3" after \p Name's last ':' (a C++ name has "::" in it).
std::pair<StringRef, StringRef> splitArgument(StringRef Value) {
  size_t At = Value.rfind(':');
  if (At == StringRef::npos || At == 0 || Value[At - 1] == ':')
    return {Value, ""};
  return {Value.take_front(At), Value.drop_front(At + 1)};
}

} // namespace

Expected<CustomFunction> parseCustomOption(StringRef Key, StringRef Value) {
  CustomFunction Entry;
  Entry.IsDeallocator = Key == "deallocator";
  auto [Name, Argument] = splitArgument(Value);
  if (Name.empty())
    return optionError(Key + " needs a function name (" + Key + "=NAME" +
                       (Entry.IsDeallocator ? "" : ":size=INDEX") + ")");
  Entry.Name = Name.str();
  StringRef ArgKey = Entry.IsDeallocator ? "ptr" : "size";
  if (Argument.empty()) {
    if (!Entry.IsDeallocator)
      return optionError("allocator=" + Name +
                         " needs the size's argument index: allocator=" + Name +
                         ":size=INDEX (counting from 0)");
    return Entry;
  }
  auto [Found, Index] = Argument.split('=');
  if (Found != ArgKey || Index.getAsInteger(10, Entry.Arg))
    return optionError("bad '" + Argument + "' in " + Key + "=" + Value +
                       " (expected " + ArgKey + "=INDEX, counting from 0)");
  return Entry;
}

CustomAllocators::CustomAllocators(Module &M,
                                   const std::vector<CustomFunction> &Named)
    : Named(Named) {
  // llvm.global.annotations: [{ptr function, ptr text, ptr file, i32 line,
  // ptr arguments}], with casts around the pointers under typed pointers.
  GlobalVariable *Annotations = M.getNamedGlobal("llvm.global.annotations");
  if (!Annotations || !Annotations->hasInitializer())
    return;
  auto *Entries = dyn_cast<ConstantArray>(Annotations->getInitializer());
  if (!Entries)
    return;
  for (const Use &U : Entries->operands()) {
    auto *Entry = dyn_cast<ConstantStruct>(U.get());
    if (!Entry || Entry->getNumOperands() < 2)
      continue;
    auto *F = dyn_cast<Function>(Entry->getOperand(0)->stripPointerCasts());
    auto *Text =
        dyn_cast<GlobalVariable>(Entry->getOperand(1)->stripPointerCasts());
    if (!F || !Text || !Text->hasInitializer())
      continue;
    auto *Data = dyn_cast<ConstantDataArray>(Text->getInitializer());
    if (!Data || !Data->isCString())
      continue;
    auto [Key, Argument] = Data->getAsCString().split(':');
    CustomFunction Custom;
    Custom.Name = F->getName().str();
    if (Key == kDeallocatorAnnotation)
      Custom.IsDeallocator = true;
    else if (Key != kAllocatorAnnotation)
      continue;
    auto [ArgKey, Index] = Argument.split('=');
    if (!Argument.empty() &&
        (ArgKey != (Custom.IsDeallocator ? "ptr" : "size") ||
         Index.getAsInteger(10, Custom.Arg)))
      report_fatal_error(Twine("memscope: bad annotation '") +
                             Data->getAsCString() + "' on " + F->getName() +
                             " (expected " + kAllocatorAnnotation +
                             ":size=INDEX or " + kDeallocatorAnnotation + ")",
                         /*gen_crash_diag=*/false);
    Annotated[F] = Custom;
  }
}

std::optional<CustomFunction>
CustomAllocators::lookup(const Function &F) const {
  auto It = Annotated.find(&F);
  if (It != Annotated.end())
    return It->second;
  for (const CustomFunction &Entry : Named)
    if (nameMatches(F, Entry.Name))
      return Entry;
  return std::nullopt;
}

PreservedAnalyses KeepCustomAllocatorsPass::run(Module &M,
                                                ModuleAnalysisManager &) {
  CustomAllocators Custom(M, Named);
  if (Custom.empty())
    return PreservedAnalyses::all();
  bool Changed = false;
  for (Function &F : M) {
    if (!Custom.lookup(F))
      continue;
    F.removeFnAttr(Attribute::AlwaysInline);
    F.addFnAttr(Attribute::NoInline);
    Changed = true;
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace pass
} // namespace memscope
