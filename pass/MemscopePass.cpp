//===-- MemscopePass.cpp - Instrument allocation sites for Memscope ------===//
//
// DESCRIPTION:
//   Gives every allocation, reallocation and free call site (both `call` and
//   `invoke`) a stable 64-bit site ID and instruments it for libmemscope_rt:
//
//   * allocation: an inline Poisson countdown on a thread-local byte counter.
//     The not-sampled path is a load, a subtract, two stores and a branch;
//     only when the counter goes negative does the code call
//     __memscope_alloc_sampled(site, ptr, size). While the call runs, a
//     thread-local flag tells the runtime's malloc interposers not to count
//     the same allocation again.
//   * free/delete: an inline lookup of the pointer's page in the runtime's
//     live-sample filter (a load and a compare); only a possible hit calls
//     __memscope_free_sampled(site, ptr).
//   * the program's own allocators and deallocators, when named: the same,
//     as sites of kind custom; their objects are keyed by address with
//     MEMSCOPE_CUSTOM_PTR_TAG set, and their pool's own allocations while
//     they run are recorded as pool chunks (in_instrumented_call = 2).
//
//   Each module also gets a table of its sites (kind, file, line, column,
//   function, inlined-at chain) in section `memscope_sites`, which a
//   DSO-wide constructor in a comdat registers with the runtime.
//
//   The pass runs at the end of the optimisation pipeline, so it sees only
//   the allocations that survive inlining and heap elision, and it marks the
//   module so that it never instruments it twice (LTO pre-link included).
//
// USAGE:
//   clang -O2 -g -fpass-plugin=<prefix>/lib/MemscopePass.so app.c
//         -L<prefix>/lib -Wl,-rpath,<prefix>/lib -lmemscope_rt
//   opt -load-pass-plugin=<prefix>/lib/MemscopePass.so -passes=memscope
//       -S in.ll -o out.ll
//   opt ... -passes='memscope<ignorelist=skip.txt>' ...
//   opt ...
//   -passes='memscope<allocator=pool_alloc:size=0;deallocator=pool_free>'
//
//   The environment variable MEMSCOPE_PASS_OPTIONS takes the same options
//   as the pipeline parameters, separated by ';'. allocator=NAME:size=N
//   (repeatable) and deallocator=NAME name the program's own allocators
//   (CustomAllocators.h). The ignore list uses the sanitizer
//   special-case-list format:
//     src:*/third_party/*
//     fun:*hot_loop*
//
//===----------------------------------------------------------------------===//

#include "AllocatedType.h"
#include "Compat.h"
#include "CustomAllocators.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/SpecialCaseList.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"
#include "llvm/Transforms/Utils/BuildLibCalls.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include "memscope/abi.h"

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace llvm;

namespace {

//===-- Names shared with the runtime (see memscope/abi.h) ---------------===//
constexpr char kPassName[] = "memscope";
constexpr char kTlsName[] = MEMSCOPE_TLS_NAME;
constexpr char kLiveFilterName[] = MEMSCOPE_LIVE_FILTER_NAME;
constexpr char kAllocSampledName[] = "__memscope_alloc_sampled";
constexpr char kAllocSampledStackName[] = "__memscope_alloc_sampled_stack";
constexpr char kFreeSampledName[] = "__memscope_free_sampled";
constexpr char kMallocUncountedName[] = "__memscope_malloc_uncounted";
constexpr char kCallocUncountedName[] = "__memscope_calloc_uncounted";
constexpr char kFreeUncheckedName[] = "__memscope_free_unchecked";
constexpr char kRegisterSitesName[] = "__memscope_register_sites";
constexpr char kCheckVersionsName[] = "__memscope_check_versions";
constexpr char kNoteSpawnName[] = "__memscope_note_spawn";
constexpr char kAbiMarkerName[] = MEMSCOPE_ABI_MARKER_NAME;
constexpr char kSitesSection[] = MEMSCOPE_SITES_SECTION;
constexpr char kModuleCtorName[] = "memscope.module_ctor";
constexpr char kInstrumentedFlag[] = "memscope.instrumented";
constexpr char kRuntimePrefix[] = "__memscope";
constexpr char kOptionsEnvVar[] = "MEMSCOPE_PASS_OPTIONS";
constexpr int kCtorPriority = 2; // like the sanitizers: before user ctors
constexpr unsigned kTlsCountdownField = 0;
constexpr unsigned kTlsInCallField = 1;
constexpr unsigned kTlsAllocationsField = 2;

struct PassOptions {
  std::string IgnoreListPath;
  std::vector<memscope::pass::CustomFunction>
      Custom; // allocator=, deallocator=
};

/// A call that becomes a site: an allocation, a free or a thread spawn, and
/// how to read it (which arguments make up the size, where the new block's
/// address is, which argument is freed).
struct SiteCall {
  msc_site_kind Kind = MSC_KIND_UNKNOWN;
  bool IsFree = false;
  bool IsSpawn = false;   // creates a thread
  unsigned SpawnArgs = 0; // arity that identifies the spawn function
  int SizeArg = -1;       // the byte count, or the element count for calloc
  int SizeFactorArg = -1; // the element size for calloc and reallocarray
  int StringArg = -1;     // strdup/strndup: size comes from strlen/strnlen
  int MaxLengthArg = -1;  // strndup's bound
  int OutPtrArg = -1;     // posix_memalign writes the pointer here
  int FreedPtrArg = -1;   // free and delete
  bool IsCustom = false;  // the program's own allocator or deallocator
};

struct SiteCallName {
  const char *Name;
  SiteCall Call;
};

SiteCall allocCall(msc_site_kind Kind, int SizeArg, int FactorArg = -1) {
  SiteCall C;
  C.Kind = Kind;
  C.SizeArg = SizeArg;
  C.SizeFactorArg = FactorArg;
  return C;
}

SiteCall freeCall(msc_site_kind Kind) {
  SiteCall C;
  C.Kind = Kind;
  C.IsFree = true;
  C.FreedPtrArg = 0;
  return C;
}

/// Classifies a C allocator entry point by name.
std::optional<SiteCall> classifyCName(StringRef Name) {
  static const SiteCallName Table[] = {
      {"malloc", allocCall(MSC_KIND_MALLOC, 0)},
      {"calloc", allocCall(MSC_KIND_CALLOC, 0, 1)},
      {"realloc", allocCall(MSC_KIND_REALLOC, 1)},
      {"reallocarray", allocCall(MSC_KIND_REALLOCARRAY, 1, 2)},
      {"aligned_alloc", allocCall(MSC_KIND_ALIGNED_ALLOC, 1)},
      {"memalign", allocCall(MSC_KIND_MEMALIGN, 1)},
      {"valloc", allocCall(MSC_KIND_VALLOC, 0)},
      {"free", freeCall(MSC_KIND_FREE)},
  };
  for (const SiteCallName &Entry : Table)
    if (Name == Entry.Name)
      return Entry.Call;
  if (Name == "posix_memalign") {
    SiteCall C = allocCall(MSC_KIND_POSIX_MEMALIGN, 2);
    C.OutPtrArg = 0;
    return C;
  }
  if (Name == "strdup" || Name == "strndup") {
    SiteCall C;
    C.Kind = Name == "strdup" ? MSC_KIND_STRDUP : MSC_KIND_STRNDUP;
    C.StringArg = 0;
    C.MaxLengthArg = Name == "strndup" ? 1 : -1;
    return C;
  }
  return std::nullopt;
}

/// Classifies the Itanium-mangled operator new/delete family: every overload
/// (sized, aligned, nothrow, hot/cold hints) takes the size or the pointer as
/// its first argument.
std::optional<SiteCall> classifyCxxName(StringRef Name) {
  if (memscope::compat::startsWith(Name, "_Znwm") ||
      memscope::compat::startsWith(Name, "_Znwj"))
    return allocCall(MSC_KIND_NEW, 0);
  if (memscope::compat::startsWith(Name, "_Znam") ||
      memscope::compat::startsWith(Name, "_Znaj"))
    return allocCall(MSC_KIND_NEW_ARRAY, 0);
  if (memscope::compat::startsWith(Name, "_ZdlPv"))
    return freeCall(MSC_KIND_DELETE);
  if (memscope::compat::startsWith(Name, "_ZdaPv"))
    return freeCall(MSC_KIND_DELETE_ARRAY);
  return std::nullopt;
}

/// Classifies thread creation: pthread_create, C11 thrd_create, and
/// libstdc++'s std::thread::_M_start_thread, which std::thread, std::jthread
/// and std::async(std::launch::async) call from user code.
std::optional<SiteCall> classifySpawnName(StringRef Name) {
  SiteCall C;
  C.Kind = MSC_KIND_THREAD_SPAWN;
  C.IsSpawn = true;
  if (Name == "pthread_create")
    C.SpawnArgs = 4;
  else if (Name == "thrd_create")
    C.SpawnArgs = 3;
  else if (memscope::compat::startsWith(Name, "_ZNSt6thread15_M_start_thread"))
    C.SpawnArgs = 0; // member function; any overload
  else
    return std::nullopt;
  return C;
}

/// Recognises allocator calls. TargetLibraryInfo validates the prototype of
/// every function it knows; names it does not know in this LLVM version are
/// checked for arity so that an unrelated function of the same name is left
/// alone.
std::optional<SiteCall> classifyCall(const CallBase &Call,
                                     const TargetLibraryInfo &TLI) {
  const Function *Callee = Call.getCalledFunction();
  if (!Callee || Callee->isIntrinsic() || !Callee->isDeclaration())
    return std::nullopt;
  StringRef Name = Callee->getName();
  if (std::optional<SiteCall> Spawn = classifySpawnName(Name)) {
    if (Spawn->SpawnArgs && Call.arg_size() != Spawn->SpawnArgs)
      return std::nullopt;
    return Spawn;
  }
  std::optional<SiteCall> Result = classifyCName(Name);
  if (!Result)
    Result = classifyCxxName(Name);
  if (!Result)
    return std::nullopt;
  LibFunc Func;
  if (TLI.getLibFunc(Name, Func)) {
    if (!TLI.getLibFunc(*Callee, Func))
      return std::nullopt; // wrong prototype: not the allocator
  }
  int MaxArg =
      std::max({Result->SizeArg, Result->SizeFactorArg, Result->StringArg,
                Result->MaxLengthArg, Result->OutPtrArg, Result->FreedPtrArg});
  if (static_cast<int>(Call.arg_size()) <= MaxArg)
    return std::nullopt;
  if (!Result->IsFree && Result->OutPtrArg < 0 &&
      !Call.getType()->isPointerTy())
    return std::nullopt;
  return Result;
}

/// A call of one of the program's own allocators or deallocators.
std::optional<SiteCall>
classifyCustom(const CallBase &Call,
               const memscope::pass::CustomAllocators &Custom) {
  const Function *Callee = Call.getCalledFunction();
  if (!Callee)
    return std::nullopt;
  std::optional<memscope::pass::CustomFunction> Entry = Custom.lookup(*Callee);
  if (!Entry || Entry->Arg >= Call.arg_size())
    return std::nullopt;
  SiteCall C;
  C.IsCustom = true;
  if (Entry->IsDeallocator) {
    C.Kind = MSC_KIND_CUSTOM_FREE;
    C.IsFree = true;
    C.FreedPtrArg = Entry->Arg;
    if (!Call.getArgOperand(C.FreedPtrArg)->getType()->isPointerTy())
      return std::nullopt;
  } else {
    C.Kind = MSC_KIND_CUSTOM;
    C.SizeArg = Entry->Arg;
    if (!Call.getType()->isPointerTy() ||
        !Call.getArgOperand(C.SizeArg)->getType()->isIntegerTy())
      return std::nullopt;
  }
  return C;
}

/// One frame of a source location: the site itself or an inlined-at caller.
struct SourceFrame {
  std::string Function;
  std::string File;
  std::string Dir;
  unsigned Line = 0;
  unsigned Column = 0;
};

struct SiteInfo {
  uint64_t Id = 0;
  msc_site_kind Kind = MSC_KIND_UNKNOWN;
  SourceFrame Where;
  std::vector<SourceFrame> InlinedAt; // innermost caller first
  std::string Type; // what an allocation site allocates, "" when unknown
};

/// Library headers: a site whose whole inlined-at chain lies in them (an
/// out-of-line std::vector<T>::_M_realloc_insert instantiated in the
/// program, say) has no line of user code of its own, so its samples carry a
/// stack for the merge to find one.
bool isLibraryPath(const SourceFrame &Frame) {
  SmallString<256> Path;
  if (!Frame.Dir.empty() && !memscope::compat::startsWith(Frame.File, "/"))
    Path = Frame.Dir + "/";
  Path += Frame.File;
  StringRef P = Path;
  using memscope::compat::startsWith;
  return startsWith(P, "/usr/include/") || startsWith(P, "/usr/lib/") ||
         startsWith(P, "/usr/local/include/") || startsWith(P, "/lib/") ||
         (startsWith(P, "/usr/") && P.contains("/c++/"));
}

bool hasUserFrame(const SiteInfo &Site) {
  if (Site.Where.File.empty() || !isLibraryPath(Site.Where))
    return true;
  for (const SourceFrame &Frame : Site.InlinedAt)
    if (!isLibraryPath(Frame))
      return true;
  return false;
}

SourceFrame frameOf(const DILocation *Loc) {
  SourceFrame Frame;
  Frame.Line = Loc->getLine();
  Frame.Column = Loc->getColumn();
  Frame.File = Loc->getFilename().str();
  Frame.Dir = Loc->getDirectory().str();
  if (const DISubprogram *SP = Loc->getScope()->getSubprogram()) {
    StringRef Linkage = SP->getLinkageName();
    Frame.Function = (Linkage.empty() ? SP->getName() : Linkage).str();
  }
  return Frame;
}

/// Worker: instruments one module.
class ModuleInstrumenter {
public:
  ModuleInstrumenter(Module &M, ModuleAnalysisManager &MAM,
                     const PassOptions &Options)
      : M(M), Ctx(M.getContext()),
        FAM(MAM.getResult<FunctionAnalysisManagerModuleProxy>(M).getManager()),
        Custom(M, Options.Custom) {
    loadIgnoreList(Options.IgnoreListPath);
  }

  bool run();

private:
  void initializeCallbacks();
  bool shouldInstrument(const Function &F) const;
  void findCustomAllocatorCode();
  void instrumentAllocation(CallBase &Call, const SiteCall &Info,
                            const TargetLibraryInfo &TLI);
  void instrumentFree(CallBase &Call, const SiteCall &Info);
  bool redirectToUncounted(CallBase &Call);
  void instrumentSpawn(CallBase &Call, const SiteCall &Info);
  Value *requestSize(IRBuilder<> &B, CallBase &Call, const SiteCall &Info,
                     const TargetLibraryInfo &TLI);
  Instruction *firstInsertionPointAfter(CallBase &Call);
  Value *customKey(IRBuilder<> &B, Value *Ptr);
  uint64_t siteFor(const CallBase &Call, msc_site_kind Kind);
  const SiteInfo &site(uint64_t Id) const {
    return Sites[SiteIndexById.find(Id)->second];
  }
  void emitSiteTable();
  Constant *stringConstant(StringRef Text);
  Constant *framesConstant(const std::vector<SourceFrame> &Frames);
  void loadIgnoreList(const std::string &Path);

  Module &M;
  LLVMContext &Ctx;
  FunctionAnalysisManager &FAM;
  std::unique_ptr<SpecialCaseList> IgnoreList;
  memscope::pass::CustomAllocators Custom;
  SmallPtrSet<const Function *, 8> InCustomAllocator;

  Type *Int16Ty = nullptr;
  Type *Int32Ty = nullptr;
  Type *Int64Ty = nullptr;
  PointerType *PtrTy = nullptr;
  StructType *ThreadFastTy = nullptr;
  StructType *InlineFrameTy = nullptr;
  StructType *SiteDescTy = nullptr;
  StructType *ModuleSitesTy = nullptr;
  GlobalVariable *ThreadFast = nullptr;
  GlobalVariable *LiveFilter = nullptr;
  FunctionCallee AllocSampled;
  FunctionCallee AllocSampledStack;
  FunctionCallee FreeSampled;
  FunctionCallee MallocUncounted;
  FunctionCallee CallocUncounted;
  FunctionCallee FreeUnchecked;
  FunctionCallee RegisterSites;
  FunctionCallee CheckVersions;
  FunctionCallee NoteSpawn;

  std::vector<SiteInfo> Sites;
  DenseMap<uint64_t, size_t> SiteIndexById;
  DenseMap<const Function *, unsigned> UndebuggedOrdinal;
  StringMap<Constant *> Strings;
  SmallPtrSet<BasicBlock *, 8> HandledLandingPads;
};

void ModuleInstrumenter::loadIgnoreList(const std::string &Path) {
  if (Path.empty())
    return;
  std::string Error;
  IgnoreList =
      SpecialCaseList::create({Path}, *vfs::getRealFileSystem(), Error);
  if (!IgnoreList)
    report_fatal_error(Twine("memscope: cannot read ignore list: ") + Error,
                       /*gen_crash_diag=*/false);
}

void ModuleInstrumenter::initializeCallbacks() {
  Int16Ty = Type::getInt16Ty(Ctx);
  Int32Ty = Type::getInt32Ty(Ctx);
  Int64Ty = Type::getInt64Ty(Ctx);
  PtrTy = memscope::compat::bytePtrTy(Ctx);

  ThreadFastTy = StructType::get(Int64Ty, Int32Ty, Int32Ty);
  InlineFrameTy = StructType::get(PtrTy, PtrTy, PtrTy, Int32Ty, Int32Ty);
  SiteDescTy = StructType::get(Int64Ty, Int32Ty, Int32Ty, Int32Ty, Int32Ty,
                               PtrTy, PtrTy, PtrTy, PtrTy, PtrTy);
  ModuleSitesTy = StructType::get(Int32Ty, Int32Ty, PtrTy, PtrTy, PtrTy);

  ThreadFast =
      cast<GlobalVariable>(M.getOrInsertGlobal(kTlsName, ThreadFastTy, [&] {
        auto *GV = new GlobalVariable(
            M, ThreadFastTy, /*isConstant=*/false, GlobalValue::ExternalLinkage,
            nullptr, kTlsName, nullptr, GlobalValue::InitialExecTLSModel);
        return GV;
      }));
  ArrayType *FilterTy =
      ArrayType::get(Int16Ty, 1ull << MEMSCOPE_LIVE_FILTER_BITS);
  LiveFilter =
      cast<GlobalVariable>(M.getOrInsertGlobal(kLiveFilterName, FilterTy));

  AttributeList NoUnwind =
      AttributeList().addFnAttribute(Ctx, Attribute::NoUnwind);
  AllocSampled =
      M.getOrInsertFunction(kAllocSampledName, NoUnwind, Type::getVoidTy(Ctx),
                            Int64Ty, PtrTy, Int64Ty);
  AllocSampledStack =
      M.getOrInsertFunction(kAllocSampledStackName, NoUnwind,
                            Type::getVoidTy(Ctx), Int64Ty, PtrTy, Int64Ty);
  FreeSampled = M.getOrInsertFunction(kFreeSampledName, NoUnwind,
                                      Type::getVoidTy(Ctx), Int64Ty, PtrTy);
  MallocUncounted =
      M.getOrInsertFunction(kMallocUncountedName, NoUnwind, PtrTy, Int64Ty);
  CallocUncounted = M.getOrInsertFunction(kCallocUncountedName, NoUnwind, PtrTy,
                                          Int64Ty, Int64Ty);
  FreeUnchecked = M.getOrInsertFunction(kFreeUncheckedName, NoUnwind,
                                        Type::getVoidTy(Ctx), PtrTy);
  RegisterSites = M.getOrInsertFunction(kRegisterSitesName, NoUnwind,
                                        Type::getVoidTy(Ctx), PtrTy, PtrTy);
  NoteSpawn = M.getOrInsertFunction(kNoteSpawnName, NoUnwind,
                                    Type::getVoidTy(Ctx), Int64Ty);
  CheckVersions = M.getOrInsertFunction(kCheckVersionsName, NoUnwind, Int32Ty,
                                        PtrTy, PtrTy);
}

bool ModuleInstrumenter::shouldInstrument(const Function &F) const {
  if (F.isDeclaration() ||
      memscope::compat::startsWith(F.getName(), kRuntimePrefix) ||
      F.hasFnAttribute(Attribute::DisableSanitizerInstrumentation))
    return false;
  // An allocator's own body (a replaced operator new calling malloc, say)
  // is the implementation of the site that called it: counting inside it
  // would count that allocation twice.
  if (classifyCName(F.getName()) || classifyCxxName(F.getName()))
    return false;
  // Nor a custom allocator's, nor what it calls in this module (a helper
  // that refills its pool): what they allocate reaches the interposers,
  // which record it as the pool's chunks while the allocator's call runs.
  if (InCustomAllocator.count(&F))
    return false;
  if (!IgnoreList)
    return true;
  if (IgnoreList->inSection("", "fun", F.getName()))
    return false;
  StringRef File = M.getSourceFileName();
  if (const DISubprogram *SP = F.getSubprogram())
    File = SP->getFilename();
  return !IgnoreList->inSection("", "src", File);
}

bool ModuleInstrumenter::run() {
  if (M.getModuleFlag(kInstrumentedFlag))
    return false;
  initializeCallbacks();
  findCustomAllocatorCode();

  std::vector<std::pair<CallBase *, SiteCall>> Work;
  for (Function &F : M) {
    if (!shouldInstrument(F))
      continue;
    const TargetLibraryInfo &TLI = FAM.getResult<TargetLibraryAnalysis>(F);
    for (Instruction &I : instructions(F))
      if (auto *Call = dyn_cast<CallBase>(&I)) {
        std::optional<SiteCall> Info = classifyCustom(*Call, Custom);
        if (!Info)
          Info = classifyCall(*Call, TLI);
        if (Info)
          Work.emplace_back(Call, *Info);
      }
  }
  for (auto &[Call, Info] : Work) {
    Function &F = *Call->getFunction();
    if (Info.IsSpawn)
      instrumentSpawn(*Call, Info);
    else if (Info.IsFree)
      instrumentFree(*Call, Info);
    else
      instrumentAllocation(*Call, Info,
                           FAM.getResult<TargetLibraryAnalysis>(F));
    FAM.invalidate(F, PreservedAnalyses::none());
  }
  if (!Sites.empty())
    emitSiteTable();
  M.addModuleFlag(Module::Override, kInstrumentedFlag, 1);
  return !Work.empty();
}

/// The custom allocators' bodies and every function of the module they call,
/// directly or not.
void ModuleInstrumenter::findCustomAllocatorCode() {
  if (Custom.empty())
    return;
  std::vector<const Function *> Work;
  for (const Function &F : M)
    if (!F.isDeclaration() && Custom.lookup(F) &&
        InCustomAllocator.insert(&F).second)
      Work.push_back(&F);
  while (!Work.empty()) {
    const Function *F = Work.back();
    Work.pop_back();
    for (const Instruction &I : instructions(*F))
      if (const auto *Call = dyn_cast<CallBase>(&I))
        if (const Function *Callee = Call->getCalledFunction())
          if (!Callee->isDeclaration() &&
              InCustomAllocator.insert(Callee).second)
            Work.push_back(Callee);
  }
}

/// Stable ID of a call site: a hash of kind, file, line, column, function and
/// the inlined-at chain. Copies of one source site made by unrolling or
/// inlining into the same caller share the ID. Without debug info the
/// function name and the site's ordinal within the function stand in.
uint64_t ModuleInstrumenter::siteFor(const CallBase &Call, msc_site_kind Kind) {
  SiteInfo Site;
  Site.Kind = Kind;
  SmallString<256> Key;
  raw_svector_ostream KeyOS(Key);
  KeyOS << "kind=" << static_cast<unsigned>(Kind) << '\0';
  if (const DILocation *Loc = Call.getDebugLoc().get()) {
    Site.Where = frameOf(Loc);
    for (const DILocation *At = Loc->getInlinedAt(); At;
         At = At->getInlinedAt())
      Site.InlinedAt.push_back(frameOf(At));
  } else {
    const Function &F = *Call.getFunction();
    Site.Where.Function = F.getName().str();
    Site.Where.File = M.getSourceFileName();
    KeyOS << "ordinal=" << UndebuggedOrdinal[&F]++ << '\0';
  }
  auto AddFrame = [&](const SourceFrame &Frame) {
    KeyOS << Frame.File << '\0' << Frame.Line << ':' << Frame.Column << '\0'
          << Frame.Function << '\0';
  };
  AddFrame(Site.Where);
  for (const SourceFrame &Frame : Site.InlinedAt)
    AddFrame(Frame);
  // Not part of the key: a site keeps its ID when its type becomes known.
  if (Kind < MSC_KIND_FREE)
    Site.Type = memscope::pass::allocatedTypeName(Call);
  Site.Id = memscope::compat::stableHash64(Key.str());
  if (Site.Id == 0) // 0 means "no site" in the logs
    Site.Id = 1;
  auto Inserted = SiteIndexById.try_emplace(Site.Id, Sites.size());
  if (Inserted.second)
    Sites.push_back(std::move(Site));
  return Sites[Inserted.first->second].Id;
}

Value *ModuleInstrumenter::requestSize(IRBuilder<> &B, CallBase &Call,
                                       const SiteCall &Info,
                                       const TargetLibraryInfo &TLI) {
  auto AsInt64 = [&](Value *V) { return B.CreateZExtOrTrunc(V, Int64Ty); };
  if (Info.StringArg >= 0) {
    Value *Str = Call.getArgOperand(Info.StringArg);
    const DataLayout &DL = M.getDataLayout();
    Value *Length;
    if (Info.MaxLengthArg >= 0) {
      FunctionCallee StrNLen =
          M.getOrInsertFunction("strnlen", Int64Ty, PtrTy, Int64Ty);
      Length = B.CreateCall(StrNLen,
                            {B.CreatePointerCast(Str, PtrTy),
                             AsInt64(Call.getArgOperand(Info.MaxLengthArg))});
    } else {
      Length = emitStrLen(Str, B, DL, &TLI);
      if (!Length) // strlen unavailable (-fno-builtin): call it by name
        Length = B.CreateCall(M.getOrInsertFunction("strlen", Int64Ty, PtrTy),
                              {B.CreatePointerCast(Str, PtrTy)});
    }
    return B.CreateAdd(AsInt64(Length), ConstantInt::get(Int64Ty, 1));
  }
  Value *Size = AsInt64(Call.getArgOperand(Info.SizeArg));
  if (Info.SizeFactorArg >= 0)
    Size = B.CreateMul(Size, AsInt64(Call.getArgOperand(Info.SizeFactorArg)));
  return Size;
}

/// The first point after \p Call on its normal path. For an invoke that is a
/// new block on the edge to the normal destination.
Instruction *ModuleInstrumenter::firstInsertionPointAfter(CallBase &Call) {
  if (auto *Invoke = dyn_cast<InvokeInst>(&Call)) {
    BasicBlock *Edge = SplitEdge(Invoke->getParent(), Invoke->getNormalDest());
    return &*Edge->getFirstInsertionPt();
  }
  return Call.getNextNode();
}

void ModuleInstrumenter::instrumentAllocation(CallBase &Call,
                                              const SiteCall &Info,
                                              const TargetLibraryInfo &TLI) {
  uint64_t SiteId = siteFor(Call, Info.Kind);
  IRBuilder<> B(&Call);
  Value *Size = requestSize(B, Call, Info, TLI);

  // Before the call: count the bytes down.
  Value *Countdown =
      B.CreateStructGEP(ThreadFastTy, ThreadFast, kTlsCountdownField);
  // Monotonic (relaxed) rather than plain: the runtime may store -1 here
  // from another thread to wake this one from idle (wakeIdleThreads). Same
  // single mov on x86-64, and the race is defined.
  LoadInst *Count = B.CreateAlignedLoad(Int64Ty, Countdown, Align(8));
  Count->setAtomic(AtomicOrdering::Monotonic);
  Value *Remaining = B.CreateSub(Count, Size, "memscope.remaining");
  B.CreateAlignedStore(Remaining, Countdown, Align(8))
      ->setAtomic(AtomicOrdering::Monotonic);
  // And count the allocation, exactly, in every mode:
  //   __memscope_tls.allocations += 1
  // Monotonic for the same reason: the runtime reads it from another thread
  // when the process exits.
  Value *Allocations =
      B.CreateStructGEP(ThreadFastTy, ThreadFast, kTlsAllocationsField);
  LoadInst *Counted = B.CreateAlignedLoad(Int32Ty, Allocations, Align(4));
  Counted->setAtomic(AtomicOrdering::Monotonic);
  B.CreateAlignedStore(B.CreateAdd(Counted, ConstantInt::get(Int32Ty, 1)),
                       Allocations, Align(4))
      ->setAtomic(AtomicOrdering::Monotonic);

  // malloc and calloc go straight to the allocator behind the runtime's
  // interposers. Every other allocator (operator new may be replaced by the
  // program, realloc must reach the runtime's live table) is called as
  // written, with in_instrumented_call set so the interposer that it
  // reaches does not count the request a second time.
  bool Direct = redirectToUncounted(Call);
  // A custom allocator's call may run inside another's (an object pool on
  // an arena): it puts back the flag it found rather than clearing it.
  Value *PreviousFlag = nullptr;
  if (Info.IsCustom)
    PreviousFlag = B.CreateLoad(
        Int32Ty, B.CreateStructGEP(ThreadFastTy, ThreadFast, kTlsInCallField),
        /*isVolatile=*/true);
  if (!Direct) {
    // The flag stores are volatile: the optimiser believes the allocator
    // reads no memory of ours, so after an LTO pre-link instrumentation the
    // link-time pipeline would delete the store of 1 as dead (the
    // interposer reads it).
    // A custom allocator's call says so: what it allocates meanwhile is its
    // pool's chunks, which the interposers record apart.
    B.CreateStore(
        ConstantInt::get(Int32Ty, Info.IsCustom ? MEMSCOPE_IN_CUSTOM_CALL : 1),
        B.CreateStructGEP(ThreadFastTy, ThreadFast, kTlsInCallField),
        /*isVolatile=*/true);
    // An exception leaves through the landing pad: clear the flag there too.
    if (auto *Invoke = dyn_cast<InvokeInst>(&Call)) {
      BasicBlock *Unwind = Invoke->getUnwindDest();
      if (HandledLandingPads.insert(Unwind).second &&
          isa<LandingPadInst>(memscope::compat::firstNonPHI(*Unwind))) {
        IRBuilder<> UB(&*Unwind->getFirstInsertionPt());
        UB.CreateStore(
            ConstantInt::get(Int32Ty, 0),
            UB.CreateStructGEP(ThreadFastTy, ThreadFast, kTlsInCallField),
            /*isVolatile=*/true);
      }
    }
  }

  // After the call: clear the flag; call the runtime only when sampled.
  Instruction *After = firstInsertionPointAfter(Call);
  B.SetInsertPoint(After);
  if (!Direct)
    B.CreateStore(PreviousFlag ? PreviousFlag : ConstantInt::get(Int32Ty, 0),
                  B.CreateStructGEP(ThreadFastTy, ThreadFast, kTlsInCallField),
                  /*isVolatile=*/true);
  Value *Sampled = B.CreateICmpSLT(Remaining, ConstantInt::get(Int64Ty, 0),
                                   "memscope.sampled");
  if (Info.OutPtrArg >= 0) // posix_memalign: only a zero result allocated
    Sampled = B.CreateAnd(
        Sampled, B.CreateICmpEQ(&Call, ConstantInt::get(Call.getType(), 0)));
  Instruction *Then =
      SplitBlockAndInsertIfThen(Sampled, After, /*Unreachable=*/false,
                                memscope::compat::unlikelyBranchWeights(Ctx));
  IRBuilder<> TB(Then);
  Value *Ptr = &Call;
  if (Info.OutPtrArg >= 0)
    Ptr = TB.CreateLoad(
        PtrTy, TB.CreatePointerCast(Call.getArgOperand(Info.OutPtrArg),
                                    memscope::compat::pointerTo(PtrTy)));
  Ptr = TB.CreatePointerCast(Ptr, PtrTy);
  if (Info.IsCustom)
    Ptr = customKey(TB, Ptr);
  TB.CreateCall(hasUserFrame(site(SiteId)) ? AllocSampled : AllocSampledStack,
                {ConstantInt::get(Int64Ty, SiteId), Ptr, Size});
}

void ModuleInstrumenter::instrumentFree(CallBase &Call, const SiteCall &Info) {
  uint64_t SiteId = siteFor(Call, Info.Kind);
  IRBuilder<> B(&Call);
  Value *Ptr = B.CreatePointerCast(Call.getArgOperand(Info.FreedPtrArg), PtrTy);
  if (Info.IsCustom)
    Ptr = customKey(B, Ptr);
  // Same arithmetic as liveFilterIndex() in the runtime: the page.
  Value *Page =
      B.CreateLShr(B.CreatePtrToInt(Ptr, Int64Ty), MEMSCOPE_LIVE_FILTER_SHIFT);
  Value *Index = B.CreateAnd(
      Page, ConstantInt::get(Int64Ty, (1u << MEMSCOPE_LIVE_FILTER_BITS) - 1));
  Value *Counter = B.CreateInBoundsGEP(LiveFilter->getValueType(), LiveFilter,
                                       {ConstantInt::get(Int64Ty, 0), Index});
  Value *MaybeSampled =
      B.CreateICmpNE(B.CreateLoad(Int16Ty, Counter),
                     ConstantInt::get(Int16Ty, 0), "memscope.maybe_sampled");
  Instruction *Then =
      SplitBlockAndInsertIfThen(MaybeSampled, &Call, /*Unreachable=*/false,
                                memscope::compat::unlikelyBranchWeights(Ctx));
  IRBuilder<> TB(Then);
  TB.CreateCall(FreeSampled, {ConstantInt::get(Int64Ty, SiteId), Ptr});
  redirectToUncounted(Call);
}

/// The live table's key of a custom object: its address with
/// MEMSCOPE_CUSTOM_PTR_TAG set (the first object of a chunk has the chunk's
/// address).
///   select (icmp eq %ptr, null), null,
///          inttoptr (or (ptrtoint %ptr), MEMSCOPE_CUSTOM_PTR_TAG)
Value *ModuleInstrumenter::customKey(IRBuilder<> &B, Value *Ptr) {
  // A null result (a pool that is out of memory) stays null, no object.
  Value *Tagged = B.CreateIntToPtr(
      B.CreateOr(B.CreatePtrToInt(Ptr, Int64Ty),
                 ConstantInt::get(Int64Ty, MEMSCOPE_CUSTOM_PTR_TAG)),
      PtrTy);
  return B.CreateSelect(B.CreateIsNull(Ptr), Ptr, Tagged);
}

/// Points a call of C's malloc, calloc or free at the runtime's entry that
/// skips the interposer's counting or filter check, which the site has just
/// done inline. Returns whether it did.
bool ModuleInstrumenter::redirectToUncounted(CallBase &Call) {
  const Function *Callee = Call.getCalledFunction();
  if (!Callee)
    return false;
  StringRef Name = Callee->getName();
  FunctionCallee Target;
  if (Name == "malloc" && Call.arg_size() == 1)
    Target = MallocUncounted;
  else if (Name == "calloc" && Call.arg_size() == 2)
    Target = CallocUncounted;
  else if (Name == "free" && Call.arg_size() == 1)
    Target = FreeUnchecked;
  else
    return false;
  if (Call.getFunctionType() != Target.getFunctionType())
    return false;
  Call.setCalledFunction(Target);
  return true;
}

/// A thread spawn announces its site to the runtime, whose pthread_create
/// interposer hands it to the new thread. Spawning is rare: a call is fine.
void ModuleInstrumenter::instrumentSpawn(CallBase &Call, const SiteCall &Info) {
  uint64_t SiteId = siteFor(Call, Info.Kind);
  IRBuilder<> B(&Call);
  B.CreateCall(NoteSpawn, {ConstantInt::get(Int64Ty, SiteId)});
}

Constant *ModuleInstrumenter::stringConstant(StringRef Text) {
  auto It = Strings.find(Text);
  if (It != Strings.end())
    return It->second;
  Constant *Data = ConstantDataArray::getString(Ctx, Text);
  auto *GV =
      new GlobalVariable(M, Data->getType(), /*isConstant=*/true,
                         GlobalValue::PrivateLinkage, Data, "memscope.str");
  GV->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  GV->setAlignment(Align(1));
  Constant *Ptr = ConstantExpr::getPointerCast(GV, PtrTy);
  Strings[Text] = Ptr;
  return Ptr;
}

Constant *
ModuleInstrumenter::framesConstant(const std::vector<SourceFrame> &Frames) {
  if (Frames.empty())
    return ConstantPointerNull::get(PtrTy);
  std::vector<Constant *> Elements;
  for (const SourceFrame &F : Frames)
    Elements.push_back(ConstantStruct::get(
        InlineFrameTy,
        {stringConstant(F.Function), stringConstant(F.File),
         stringConstant(F.Dir), ConstantInt::get(Int32Ty, F.Line),
         ConstantInt::get(Int32Ty, F.Column)}));
  ArrayType *Ty = ArrayType::get(InlineFrameTy, Elements.size());
  auto *GV = new GlobalVariable(
      M, Ty, /*isConstant=*/true, GlobalValue::PrivateLinkage,
      ConstantArray::get(Ty, Elements), "memscope.inlined_at");
  return ConstantExpr::getPointerCast(GV, PtrTy);
}

/// Emits the module's site table, its descriptor in section memscope_sites,
/// and the DSO-wide registration constructor (one per DSO thanks to the
/// comdat, like SanitizerCoverage's module constructor).
void ModuleInstrumenter::emitSiteTable() {
  std::vector<Constant *> Descs;
  for (const SiteInfo &Site : Sites)
    Descs.push_back(ConstantStruct::get(
        SiteDescTy,
        {ConstantInt::get(Int64Ty, Site.Id),
         ConstantInt::get(Int32Ty, Site.Kind),
         ConstantInt::get(Int32Ty, Site.Where.Line),
         ConstantInt::get(Int32Ty, Site.Where.Column),
         ConstantInt::get(Int32Ty, Site.InlinedAt.size()),
         stringConstant(Site.Where.File), stringConstant(Site.Where.Dir),
         stringConstant(Site.Where.Function), framesConstant(Site.InlinedAt),
         Site.Type.empty() ? ConstantPointerNull::get(PtrTy)
                           : stringConstant(Site.Type)}));
  ArrayType *TableTy = ArrayType::get(SiteDescTy, Descs.size());
  auto *Table = new GlobalVariable(
      M, TableTy, /*isConstant=*/true, GlobalValue::PrivateLinkage,
      ConstantArray::get(TableTy, Descs), "memscope.sites");

  auto *ModuleSites = new GlobalVariable(
      M, ModuleSitesTy, /*isConstant=*/true, GlobalValue::PrivateLinkage,
      ConstantStruct::get(ModuleSitesTy,
                          {ConstantInt::get(Int32Ty, MEMSCOPE_ABI_VERSION),
                           ConstantInt::get(Int32Ty, Descs.size()),
                           ConstantExpr::getPointerCast(Table, PtrTy),
                           stringConstant(M.getSourceFileName()),
                           stringConstant(MEMSCOPE_VERSION_STRING)}),
      "memscope.module_sites");
  ModuleSites->setSection(kSitesSection);
  ModuleSites->setAlignment(Align(8));
  appendToCompilerUsed(M, {ModuleSites});

  // The linker defines these for the DSO's merged memscope_sites section.
  auto SectionBound = [&](const char *Prefix) {
    std::string Name = std::string(Prefix) + kSitesSection;
    auto *GV = cast<GlobalVariable>(M.getOrInsertGlobal(Name, ModuleSitesTy));
    GV->setVisibility(GlobalValue::HiddenVisibility);
    return GV;
  };
  GlobalVariable *Start = SectionBound("__start_");
  GlobalVariable *Stop = SectionBound("__stop_");

  if (M.getFunction(kModuleCtorName))
    return; // already present from another instrumented TU (LTO)
  auto *Ctor = Function::Create(
      FunctionType::get(Type::getVoidTy(Ctx), /*isVarArg=*/false),
      GlobalValue::WeakODRLinkage, kModuleCtorName, M);
  Ctor->setVisibility(GlobalValue::HiddenVisibility);
  Ctor->setComdat(M.getOrInsertComdat(kModuleCtorName));
  Ctor->addFnAttr(Attribute::NoUnwind);
  BasicBlock *Entry = BasicBlock::Create(Ctx, "", Ctor);
  BasicBlock *Register = BasicBlock::Create(Ctx, "register", Ctor);
  BasicBlock *Done = BasicBlock::Create(Ctx, "done", Ctor);
  IRBuilder<> B(Entry);
  // A volatile load of the ABI marker makes a plugin/runtime ABI mismatch an
  // undefined-symbol error at link or load time.
  auto *Marker = cast<GlobalVariable>(
      M.getOrInsertGlobal(kAbiMarkerName, Type::getInt8Ty(Ctx)));
  B.CreateLoad(Type::getInt8Ty(Ctx), Marker, /*isVolatile=*/true);
  // Same ABI but another Memscope version: the runtime names both versions
  // and the DSO's sites are not registered.
  Constant *Begin = ConstantExpr::getPointerCast(Start, PtrTy);
  Constant *End = ConstantExpr::getPointerCast(Stop, PtrTy);
  Value *Accepted = B.CreateICmpNE(B.CreateCall(CheckVersions, {Begin, End}),
                                   ConstantInt::get(Int32Ty, 0));
  B.CreateCondBr(Accepted, Register, Done);
  B.SetInsertPoint(Register);
  // notail: the runtime used to take its return address for the module;
  // a tail call (LTO) made that libc's. It now looks up the table itself.
  B.CreateCall(RegisterSites, {Begin, End})
      ->setTailCallKind(CallInst::TCK_NoTail);
  B.CreateBr(Done);
  B.SetInsertPoint(Done);
  B.CreateRetVoid();
  appendToGlobalCtors(M, Ctor, kCtorPriority, Ctor);
}

//===-- Options --------------------------------------------------------===//

/// Options separated by ';', as LLVM's pass parameters are, in the pipeline
/// and in MEMSCOPE_PASS_OPTIONS alike.
Expected<PassOptions> parseOptions(StringRef Params) {
  PassOptions Options;
  SmallVector<StringRef, 4> Parts;
  Params.split(Parts, ';', -1, false);
  for (StringRef Part : Parts) {
    auto [Key, Value] = Part.trim().split('=');
    if (Key == "ignorelist") {
      Options.IgnoreListPath = Value.str();
    } else if (Key == "allocator" || Key == "deallocator") {
      Expected<memscope::pass::CustomFunction> Custom =
          memscope::pass::parseCustomOption(Key, Value);
      if (!Custom)
        return Custom.takeError();
      Options.Custom.push_back(*Custom);
    } else {
      return createStringError(
          inconvertibleErrorCode(),
          "memscope: unknown pass option '%s' (known: ignorelist=<file>, "
          "allocator=<name>:size=<index>, deallocator=<name>)",
          Key.str().c_str());
    }
  }
  return Options;
}

PassOptions optionsFromEnvironment() {
  const char *Env = std::getenv(kOptionsEnvVar);
  if (!Env)
    return {};
  Expected<PassOptions> Options = parseOptions(Env);
  if (!Options)
    report_fatal_error(Twine(toString(Options.takeError())) + " in " +
                           kOptionsEnvVar,
                       /*gen_crash_diag=*/false);
  return *Options;
}

struct MemscopePass : PassInfoMixin<MemscopePass> {
  explicit MemscopePass(PassOptions Options) : Options(std::move(Options)) {}

  PreservedAnalyses run(Module &M, ModuleAnalysisManager &MAM) {
    ModuleInstrumenter Instrumenter(M, MAM, Options);
    return Instrumenter.run() ? PreservedAnalyses::none()
                              : PreservedAnalyses::all();
  }
  // Run even for optnone functions (-O0).
  static bool isRequired() { return true; }

  PassOptions Options;
};

} // namespace

llvm::PassPluginLibraryInfo getMemscopePluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "MemscopePass", MEMSCOPE_VERSION_STRING,
          [](PassBuilder &PB) {
            // Before any inlining: keep the custom allocators' calls.
            PB.registerPipelineStartEPCallback(
                [](ModulePassManager &MPM, OptimizationLevel) {
                  MPM.addPass(memscope::pass::KeepCustomAllocatorsPass(
                      optionsFromEnvironment().Custom));
                });
            memscope::compat::registerOptimizerLast(
                PB, [](ModulePassManager &MPM, OptimizationLevel) {
                  MPM.addPass(MemscopePass(optionsFromEnvironment()));
                });
            PB.registerPipelineParsingCallback(
                [](StringRef Name, ModulePassManager &MPM,
                   ArrayRef<PassBuilder::PipelineElement>) {
                  if (!Name.consume_front(kPassName))
                    return false;
                  PassOptions Options = optionsFromEnvironment();
                  if (Name.consume_front("<") && Name.consume_back(">")) {
                    Expected<PassOptions> Parsed = parseOptions(Name);
                    if (!Parsed) {
                      errs() << toString(Parsed.takeError()) << "\n";
                      return false;
                    }
                    Options = *Parsed;
                  } else if (!Name.empty()) {
                    return false;
                  }
                  MPM.addPass(MemscopePass(std::move(Options)));
                  return true;
                });
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK ::llvm::PassPluginLibraryInfo
llvmGetPassPluginInfo() {
  return getMemscopePluginInfo();
}
