//===-- AllocatedType.h - The C++ type an allocation call creates -*- C++
//-*-===//
//
// The pass records, with each allocation site, the name of the type it
// allocates when the IR can tell: "Order" for `new Order`, "Order" for the
// growth of a std::vector<Order>, "std::vector<Order>" for
// `new std::vector<Order>`. The name is spelled as a user writes it, not as
// the compiler does ("std::string", not std::__cxx11::basic_string<char,
// std::char_traits<char>, std::allocator<char> >). When nothing tells, the
// site has no type and the merge groups it under its first user frame.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_PASS_ALLOCATEDTYPE_H
#define MEMSCOPE_PASS_ALLOCATEDTYPE_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace llvm {
class CallBase;
} // namespace llvm

namespace memscope {
namespace pass {

/// The type \p Call allocates, or "" when it cannot be known. In order:
///  1. clang's !heapallocsite on the call (a new-expression, with -g);
///  2. the T of an allocator<T>::allocate in the call's function or its
///     inlined-at chain (a container's growth, std::make_shared<T>);
///  3. the pointee type of a local variable the result is stored in
///     (`Order *o = (Order *)malloc(sizeof *o)`, with -g).
std::string allocatedTypeName(const llvm::CallBase &Call);

/// \p Name (a demangled or debug-info type name) as a user writes it:
/// inline namespaces gone, default template arguments dropped, the standard
/// string typedefs restored, make_shared's control block unwrapped.
std::string userTypeName(llvm::StringRef Name);

} // namespace pass
} // namespace memscope

#endif // MEMSCOPE_PASS_ALLOCATEDTYPE_H
