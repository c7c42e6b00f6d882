//===-- InlineFrame.h - A source location of the merge's model -*- C++ -*-===//
//
// One frame of source: what a Site record's inlined-at chain holds and what
// the analysis shows for sites, spawn sites and stacks. Its own header so
// that the model (Analysis.h) does not depend on the log reader.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_INLINEFRAME_H
#define MEMSCOPE_MERGE_INLINEFRAME_H

#include <cstdint>
#include <string>

namespace memscope {
namespace merge {

struct InlineFrame {
  std::string Function;
  std::string File;
  std::string Dir;
  uint32_t Line = 0;
  uint32_t Column = 0;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_INLINEFRAME_H
