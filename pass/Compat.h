//===-- Compat.h - Every LLVM version difference the pass depends on -----===//
//
// MemscopePass supports LLVM 14 to 22. All version-dependent code lives here
// so that MemscopePass.cpp never tests LLVM_VERSION_MAJOR itself.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_PASS_COMPAT_H
#define MEMSCOPE_PASS_COMPAT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/BasicBlock.h"
#include "llvm/IR/DebugInfo.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/IntrinsicInst.h"
#if LLVM_VERSION_MAJOR >= 19
#include "llvm/IR/DebugProgramInstruction.h"
#endif
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/xxhash.h"

#if LLVM_VERSION_MAJOR >= 22
#include "llvm/Plugins/PassPlugin.h"
#else
#include "llvm/Passes/PassPlugin.h"
#endif

namespace memscope {
namespace compat {

/// The pointer type the runtime ABI uses for addresses: `i8*` where the
/// context still has typed pointers (the default up to LLVM 14, and
/// `-Xclang -no-opaque-pointers` in 15 and 16), `ptr` otherwise.
inline llvm::PointerType *bytePtrTy(llvm::LLVMContext &Ctx) {
#if LLVM_VERSION_MAJOR >= 17
  return llvm::PointerType::getUnqual(Ctx);
#else
  return llvm::Type::getInt8PtrTy(Ctx);
#endif
}

/// A pointer to \p Pointee (`T*` with typed pointers, `ptr` otherwise).
/// LLVM 21 deprecated PointerType::getUnqual(Type *).
inline llvm::PointerType *pointerTo(llvm::Type *Pointee) {
#if LLVM_VERSION_MAJOR >= 17
  return llvm::PointerType::getUnqual(Pointee->getContext());
#else
  return llvm::PointerType::getUnqual(Pointee);
#endif
}

/// Branch weights for a branch that is almost never taken (LLVM 19 added
/// MDBuilder::createUnlikelyBranchWeights; the older spelling uses the same
/// weights, BranchProbabilityInfo's "unreachable" ratio).
inline llvm::MDNode *unlikelyBranchWeights(llvm::LLVMContext &Ctx) {
#if LLVM_VERSION_MAJOR >= 19
  return llvm::MDBuilder(Ctx).createUnlikelyBranchWeights();
#else
  return llvm::MDBuilder(Ctx).createBranchWeights(1, (1U << 20) - 1);
#endif
}

/// A 64-bit hash that is identical on every supported LLVM version, so site
/// IDs do not change when the compiler is upgraded.
inline uint64_t stableHash64(llvm::StringRef Data) {
  return llvm::xxHash64(Data);
}

inline bool startsWith(llvm::StringRef Text, llvm::StringRef Prefix) {
#if LLVM_VERSION_MAJOR >= 16
  return Text.starts_with(Prefix);
#else
  return Text.startswith(Prefix);
#endif
}

inline bool endsWith(llvm::StringRef Text, llvm::StringRef Suffix) {
#if LLVM_VERSION_MAJOR >= 16
  return Text.ends_with(Suffix);
#else
  return Text.endswith(Suffix);
#endif
}

/// Calls \p Callback with each local variable a debug intrinsic or record
/// (LLVM 19's in-memory form) says \p V holds or points at. LLVM 22 keeps
/// only the records.
template <typename CallbackT>
void forEachDebugVariable(llvm::Value *V, CallbackT Callback) {
#if LLVM_VERSION_MAJOR >= 22
  llvm::SmallVector<llvm::DbgVariableRecord *, 4> Records;
  llvm::findDbgUsers(V, Records);
#elif LLVM_VERSION_MAJOR >= 19
  llvm::SmallVector<llvm::DbgVariableIntrinsic *, 4> Intrinsics;
  llvm::SmallVector<llvm::DbgVariableRecord *, 4> Records;
  llvm::findDbgUsers(Intrinsics, V, &Records);
  for (llvm::DbgVariableIntrinsic *Intrinsic : Intrinsics)
    Callback(Intrinsic->getVariable());
#else
  llvm::SmallVector<llvm::DbgVariableIntrinsic *, 4> Intrinsics;
  llvm::findDbgUsers(Intrinsics, V);
  for (llvm::DbgVariableIntrinsic *Intrinsic : Intrinsics)
    Callback(Intrinsic->getVariable());
#endif
#if LLVM_VERSION_MAJOR >= 19
  for (llvm::DbgVariableRecord *Record : Records)
    Callback(Record->getVariable());
#endif
}

/// The first instruction of \p BB that is not a PHI node.
inline llvm::Instruction *firstNonPHI(llvm::BasicBlock &BB) {
#if LLVM_VERSION_MAJOR >= 20
  return &*BB.getFirstNonPHIIt();
#else
  return BB.getFirstNonPHI();
#endif
}

/// Registers \p Callback to run at the end of the optimisation pipeline.
/// LLVM 20 added the LTO phase argument; we ignore it because the pass marks
/// the module and never instruments twice.
template <typename CallbackT>
void registerOptimizerLast(llvm::PassBuilder &PB, CallbackT Callback) {
#if LLVM_VERSION_MAJOR >= 20
  PB.registerOptimizerLastEPCallback(
      [Callback](llvm::ModulePassManager &MPM, llvm::OptimizationLevel Level,
                 llvm::ThinOrFullLTOPhase) { Callback(MPM, Level); });
#else
  PB.registerOptimizerLastEPCallback(
      [Callback](llvm::ModulePassManager &MPM, llvm::OptimizationLevel Level) {
        Callback(MPM, Level);
      });
#endif
}

} // namespace compat
} // namespace memscope

#endif // MEMSCOPE_PASS_COMPAT_H
