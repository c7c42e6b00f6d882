//===-- tbb-one-worker.cpp - Preloaded into the merge tests under TSan ----===//
//
// The system's libtbb is not built with ThreadSanitizer, so TSan cannot see
// the happens-before edges of TBB's task scheduler and reports races inside
// TBB's own headers (e.g. partitioner.h's my_divisor). Rather than suppress
// them, the merge tests run under TSan with TBB limited to one worker; the
// runtime tests, which are where the lock-free code is, run with all their
// threads and no suppressions.
//
//===----------------------------------------------------------------------===//
#include <tbb/global_control.h>

static tbb::global_control
    OneWorker(tbb::global_control::max_allowed_parallelism, 1);
