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
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <cstdlib>

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

/// The qualified name of \p Mangled without parameters, return type or
/// template arguments: "Arena::allocate" for _ZN5Arena8allocateEm and for
/// Arena::allocate<Foo>, "(anonymous namespace)::pool_alloc"; "" when it is
/// not an Itanium function name.
std::string qualifiedName(StringRef Mangled) {
  // The demangler keeps pointing into the name: it must outlive the calls.
  std::string Name = Mangled.str();
  ItaniumPartialDemangler Demangler;
  if (Demangler.partialDemangle(Name.c_str()) || !Demangler.isFunction())
    return "";
  auto Take = [](char *Text) {
    std::string Out = Text ? Text : "";
    std::free(Text);
    return Out;
  };
  std::string Context =
      Take(Demangler.getFunctionDeclContextName(nullptr, nullptr));
  std::string Base = Take(Demangler.getFunctionBaseName(nullptr, nullptr));
  return Context.empty() ? Base : Context + "::" + Base;
}

/// "Arena::allocate" matches _ZN5Arena8allocateEm, "pool_alloc" matches
/// pool_alloc; a name in an anonymous namespace matches with or without it.
bool nameMatches(StringRef Symbol, StringRef Qualified, StringRef Name) {
  if (Symbol == Name || Qualified == Name)
    return true;
  StringRef Anonymous = Qualified;
  while (Anonymous.consume_front("(anonymous namespace)::"))
    ;
  return !Qualified.empty() && Anonymous == Name;
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
  if (Named.empty())
    return std::nullopt;
  auto [Cached, Inserted] = Qualified.try_emplace(&F);
  if (Inserted)
    Cached->second = qualifiedName(F.getName());
  for (const CustomFunction &Entry : Named)
    if (nameMatches(F.getName(), Cached->second, Entry.Name))
      return Entry;
  return std::nullopt;
}

PreservedAnalyses KeepCustomAllocatorsPass::run(Module &M,
                                                ModuleAnalysisManager &) {
  CustomAllocators Custom(M, Named);
  if (Custom.empty())
    return PreservedAnalyses::all();
  bool Changed = false;
  SmallVector<GlobalValue *, 4> Kept;
  for (Function &F : M) {
    if (!Custom.lookup(F))
      continue;
    F.removeFnAttr(Attribute::AlwaysInline);
    F.addFnAttr(Attribute::NoInline);
    // Used, as if its address were taken: interprocedural passes (constant
    // arguments, dead arguments, specialisation) then keep its signature,
    // so the size is still the argument the option names.
    if (!F.isDeclaration())
      Kept.push_back(&F);
    Changed = true;
  }
  if (!Kept.empty())
    appendToCompilerUsed(M, Kept);
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace pass
} // namespace memscope
