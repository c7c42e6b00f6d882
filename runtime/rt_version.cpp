//===-- rt_version.cpp - Refuse modules instrumented by another Memscope --===//
//
// Every instrumented DSO's constructor asks __memscope_check_versions before
// it registers its site tables. A plugin of another ABI already fails to link
// (memscope/abi.h's marker symbol); one of the same ABI but another Memscope
// version gets one line on stderr naming both versions, and its sites are not
// registered. The program itself runs on.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <dlfcn.h>
#include <string.h>

using namespace memscope::rt;

namespace {

bool sameVersion(const msc_module_sites &table) {
  return table.abi_version == MEMSCOPE_ABI_VERSION && table.memscope_version &&
         strcmp(table.memscope_version, MEMSCOPE_VERSION_STRING) == 0;
}

/// The file of the DSO that contains \p address, for the message.
const char *objectContaining(const void *address) {
  Dl_info info;
  if (dladdr(address, &info) && info.dli_fname && *info.dli_fname)
    return info.dli_fname;
  return "the program";
}

} // namespace

extern "C" {

__attribute__((visibility("default"))) int
__memscope_check_versions(const msc_module_sites *begin,
                          const msc_module_sites *end) {
  const msc_module_sites *first_mismatch = nullptr;
  unsigned mismatches = 0;
  for (const msc_module_sites *table = begin; table < end; ++table) {
    if (sameVersion(*table))
      continue;
    if (!first_mismatch)
      first_mismatch = table;
    ++mismatches;
    // Another ABI may lay tables out differently: stop walking.
    if (table->abi_version != MEMSCOPE_ABI_VERSION)
      break;
  }
  if (!first_mismatch)
    return 1;
  const char *object = objectContaining(__builtin_return_address(0));
  const char *module =
      first_mismatch->module_id ? first_mismatch->module_id : "a module";
  const char *pass_version =
      first_mismatch->abi_version == MEMSCOPE_ABI_VERSION &&
              first_mismatch->memscope_version
          ? first_mismatch->memscope_version
          : "of another ABI";
  report("error: %s (%s%s) was instrumented by MemscopePass %s, but this "
         "program runs libmemscope_rt %s; its allocation sites are not "
         "recorded. Rebuild it with the plugin of the same Memscope build.",
         object, module, mismatches > 1 ? " and other modules" : "",
         pass_version, MEMSCOPE_VERSION_STRING);
  return 0;
}

} // extern "C"
