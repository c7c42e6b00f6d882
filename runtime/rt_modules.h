//===-- rt_modules.h - Module map entry points for the stack code --------===//
#ifndef MEMSCOPE_RT_MODULES_H
#define MEMSCOPE_RT_MODULES_H

#include "rt_internal.h"

namespace memscope {
namespace rt {

enum class ModuleChange { None, Loaded, Unloaded };
/// Writes Module records for modules loaded since the last call, if any
/// (dlopen of uninstrumented libraries registers nothing, so the sampled
/// path asks here before it writes a stack that may point into one), and
/// tells whether any module was unloaded since the last call. Costs one
/// dl_iterate_phdr call that stops at the first module when nothing
/// changed.
MSC_HIDDEN ModuleChange writeNewModules();
/// fork's prepare and parent handlers: no runtime thread is inside
/// dl_iterate_phdr while a child is made (resetModulesAfterFork frees the
/// lock in the child).
MSC_HIDDEN void lockLoaderForFork();
MSC_HIDDEN void unlockLoaderAfterFork();

} // namespace rt
} // namespace memscope

#endif // MEMSCOPE_RT_MODULES_H
