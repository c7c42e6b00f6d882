//===-- AllocatedType.cpp - The C++ type an allocation call creates -------===//
//
// Three sources, tried in order (see allocatedTypeName in the header). What
// clang emits was checked on LLVM 14, 19 and 22 (test/pass/allocated-type.cpp):
// !heapallocsite comes with -g on `new T` and `new T[n]` (the element type)
// at every optimisation level, never on a malloc; libstdc++'s containers and
// std::make_shared reach operator new through allocator<T>::allocate, which
// is the site's own function at -O0 and in its inlined-at chain at -O2.
//
//===----------------------------------------------------------------------===//
#include "AllocatedType.h"

#include "Compat.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/BinaryFormat/Dwarf.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/Instructions.h"

#include <vector>

using namespace llvm;

namespace memscope {
namespace pass {
namespace {

//===-- Type names as text ----------------------------------------------===//

/// A name split at its template argument lists: "std::vector<Order>::iterator"
/// is {"std::vector", [Order]}, {"::iterator", none}.
struct TypeName {
  struct Part {
    std::string Text;
    bool HasArgs = false;
    std::vector<TypeName> Args;
  };
  std::vector<Part> Parts;
};

/// Parses \p Text from \p Pos up to a ',' or '>' that closes an enclosing
/// list (or the end). Never fails: an unbalanced name stays text.
TypeName parseTypeName(StringRef Text, size_t &Pos) {
  TypeName Name;
  Name.Parts.emplace_back();
  while (Pos < Text.size()) {
    char C = Text[Pos];
    if (C == ',' || C == '>')
      break;
    if (C != '<') {
      if (Name.Parts.back().HasArgs)
        Name.Parts.emplace_back();
      Name.Parts.back().Text += C;
      ++Pos;
      continue;
    }
    ++Pos; // '<'
    TypeName::Part &Part = Name.Parts.back();
    Part.HasArgs = true;
    while (Pos < Text.size()) {
      Part.Args.push_back(parseTypeName(Text, Pos));
      if (Pos < Text.size() && Text[Pos] == ',') {
        ++Pos;
        continue;
      }
      if (Pos < Text.size()) // '>'
        ++Pos;
      break;
    }
  }
  return Name;
}

std::string print(const TypeName &Name) {
  std::string Out;
  for (const TypeName::Part &Part : Name.Parts) {
    Out += StringRef(Part.Text).trim().str();
    if (!Part.HasArgs)
      continue;
    Out += '<';
    for (size_t I = 0; I < Part.Args.size(); ++I)
      Out += (I ? ", " : "") + print(Part.Args[I]);
    Out += '>';
  }
  return Out;
}

/// Template arguments a user leaves to their defaults; dropped when they
/// trail a list (never the first argument: std::allocator<T> stays).
bool isDefaultArgument(StringRef Printed) {
  for (StringRef Prefix :
       {"std::allocator<", "std::char_traits<", "std::less<", "std::hash<",
        "std::equal_to<", "std::default_delete<"})
    if (compat::startsWith(Printed, Prefix))
      return true;
  return false;
}

void removeAll(std::string &Text, StringRef What) {
  for (size_t At; (At = Text.find(What.str())) != std::string::npos;)
    Text.erase(At, What.size());
}

/// The user's spelling of \p Name, in place (see userTypeName).
void simplify(TypeName &Name) {
  for (TypeName::Part &Part : Name.Parts) {
    // libstdc++'s and libc++'s inline namespaces.
    removeAll(Part.Text, "__cxx11::");
    removeAll(Part.Text, "__1::");
    for (TypeName &Arg : Part.Args)
      simplify(Arg);
    while (Part.Args.size() > 1 && isDefaultArgument(print(Part.Args.back())))
      Part.Args.pop_back();
  }
  if (Name.Parts.size() != 1 || !Name.Parts[0].HasArgs)
    return;
  TypeName::Part &Only = Name.Parts[0];
  StringRef Template = StringRef(Only.Text).trim();
  // std::make_shared's block: the object, behind the control block.
  if ((Template == "std::_Sp_counted_ptr_inplace" ||
       Template == "std::__shared_ptr_emplace") &&
      !Only.Args.empty()) {
    TypeName Object = Only.Args[0];
    Name = std::move(Object);
    return;
  }
  if ((Template == "std::basic_string" ||
       Template == "std::basic_string_view") &&
      Only.Args.size() == 1) {
    std::string Char = print(Only.Args[0]);
    const char *Prefix = Char == "char"       ? ""
                         : Char == "wchar_t"  ? "w"
                         : Char == "char8_t"  ? "u8"
                         : Char == "char16_t" ? "u16"
                         : Char == "char32_t" ? "u32"
                                              : nullptr;
    if (Prefix) {
      bool View = Template == "std::basic_string_view";
      Only = {};
      Only.Text =
          std::string("std::") + Prefix + (View ? "string_view" : "string");
    }
  }
}

//===-- The three sources -------------------------------------------------===//

/// A debug-info scope as the qualifier of a name in it ("std::", "").
std::string qualifier(const DIScope *Scope) {
  std::string Prefix;
  for (; Scope; Scope = Scope->getScope()) {
    if (const auto *NS = dyn_cast<DINamespace>(Scope)) {
      if (NS->getExportSymbols()) // inline namespace
        continue;
      StringRef Name = NS->getName();
      Prefix =
          (Name.empty() ? "(anonymous namespace)" : Name.str()) + "::" + Prefix;
    } else if (const auto *Class = dyn_cast<DICompositeType>(Scope)) {
      Prefix = Class->getName().str() + "::" + Prefix;
    } else {
      break; // a file, a unit, or a function (a local class)
    }
  }
  return Prefix;
}

/// The name of a debug-info type, qualified; "" when it has none.
std::string debugTypeName(const DIType *Type) {
  if (!Type)
    return "";
  if (const auto *Derived = dyn_cast<DIDerivedType>(Type)) {
    switch (Derived->getTag()) {
    case dwarf::DW_TAG_typedef:
      return qualifier(Derived->getScope()) + Derived->getName().str();
    case dwarf::DW_TAG_const_type:
    case dwarf::DW_TAG_volatile_type:
    case dwarf::DW_TAG_restrict_type:
    case dwarf::DW_TAG_atomic_type:
      return debugTypeName(Derived->getBaseType());
    case dwarf::DW_TAG_pointer_type: {
      std::string Base = debugTypeName(Derived->getBaseType());
      return (Base.empty() ? "void" : Base) + "*";
    }
    default:
      return "";
    }
  }
  if (const auto *Composite = dyn_cast<DICompositeType>(Type)) {
    if (Composite->getTag() == dwarf::DW_TAG_array_type) {
      std::string Element = debugTypeName(Composite->getBaseType());
      return Element.empty() ? "" : Element + "[]";
    }
    if (Composite->getName().empty())
      return ""; // anonymous; a typedef of it is found above
    return qualifier(Composite->getScope()) + Composite->getName().str();
  }
  return Type->getName().str(); // a basic type
}

/// The T of `allocator<T>::allocate` (or of allocator_traits<allocator<T>>)
/// when \p Function is one, demangled; "" otherwise.
std::string allocatorElement(StringRef Function) {
  // The name without its parameter list: up to the first '(' outside <>.
  int Depth = 0;
  size_t End = 0;
  for (; End < Function.size(); ++End) {
    char C = Function[End];
    if (C == '<')
      ++Depth;
    else if (C == '>')
      --Depth;
    else if (C == '(' && Depth == 0)
      break;
  }
  size_t Pos = 0;
  TypeName Name = parseTypeName(Function.take_front(End), Pos);
  if (Name.Parts.size() < 2 ||
      StringRef(Name.Parts.back().Text).trim() != "::allocate")
    return "";
  const TypeName::Part &Class = Name.Parts[Name.Parts.size() - 2];
  if (!Class.HasArgs || Class.Args.empty())
    return "";
  StringRef Template = StringRef(Class.Text).trim();
  if (compat::endsWith(Template, "allocator"))
    return print(Class.Args[0]);
  if (compat::endsWith(Template, "allocator_traits")) {
    const TypeName &Allocator = Class.Args[0];
    if (Allocator.Parts.size() == 1 && !Allocator.Parts[0].Args.empty())
      return print(Allocator.Parts[0].Args[0]);
  }
  return "";
}

/// The functions \p Call lies in, innermost first: the inlined-at chain's,
/// or without debug info the one it is in.
std::vector<std::string> enclosingFunctions(const CallBase &Call) {
  std::vector<std::string> Names;
  const DILocation *Loc = Call.getDebugLoc().get();
  if (!Loc) {
    Names.push_back(Call.getFunction()->getName().str());
    return Names;
  }
  for (; Loc; Loc = Loc->getInlinedAt())
    if (const DISubprogram *SP = Loc->getScope()->getSubprogram())
      Names.push_back(
          (SP->getLinkageName().empty() ? SP->getName() : SP->getLinkageName())
              .str());
  return Names;
}

std::string fromAllocatorChain(const CallBase &Call) {
  for (const std::string &Mangled : enclosingFunctions(Call)) {
    std::string Element = allocatorElement(llvm::demangle(Mangled));
    if (!Element.empty())
      return Element;
  }
  return "";
}

/// The pointee of a pointer-typed local variable holding the result.
std::string fromVariable(const CallBase &Call) {
  // Reads only; findDbgUsers takes a non-const Value.
  auto *Result = const_cast<CallBase *>(&Call);
  std::vector<Value *> Holders = {Result};
  // Typed pointers (LLVM 14): the variable holds the bitcast result.
  for (User *U : Result->users())
    if (auto *Cast = dyn_cast<BitCastInst>(U))
      Holders.push_back(Cast);
  // -O0: the result is stored in the variable's alloca.
  for (size_t I = 0, N = Holders.size(); I < N; ++I)
    for (User *U : Holders[I]->users())
      if (auto *Store = dyn_cast<StoreInst>(U))
        if (Store->getValueOperand() == Holders[I])
          if (auto *Variable = dyn_cast<AllocaInst>(
                  Store->getPointerOperand()->stripPointerCasts()))
            Holders.push_back(Variable);
  for (Value *Holder : Holders) {
    std::string Found;
    compat::forEachDebugVariable(Holder, [&](const DILocalVariable *Var) {
      const auto *Pointer = dyn_cast_or_null<DIDerivedType>(Var->getType());
      if (Found.empty() && Pointer &&
          Pointer->getTag() == dwarf::DW_TAG_pointer_type)
        Found = debugTypeName(Pointer->getBaseType());
    });
    if (!Found.empty())
      return Found;
  }
  return "";
}

} // namespace

std::string userTypeName(StringRef Name) {
  size_t Pos = 0;
  TypeName Parsed = parseTypeName(Name, Pos);
  if (Pos != Name.size())
    return Name.trim().str(); // unbalanced: leave it as it is
  simplify(Parsed);
  return print(Parsed);
}

std::string allocatedTypeName(const CallBase &Call) {
  std::string Name;
  if (const auto *Type =
          dyn_cast_or_null<DIType>(Call.getMetadata("heapallocsite")))
    Name = debugTypeName(Type);
  if (Name.empty())
    Name = fromAllocatorChain(Call);
  if (Name.empty())
    Name = fromVariable(Call);
  return Name.empty() ? "" : userTypeName(Name);
}

} // namespace pass
} // namespace memscope
