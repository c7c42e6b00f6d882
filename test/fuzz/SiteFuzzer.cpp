//===-- SiteFuzzer.cpp - libFuzzer harness for the site-table reader -----===//
//
// A Site record payload (the pass's site table as the runtime writes it):
// decodeSite must reject what does not fit, never allocate more inline
// frames than the payload can hold, and what it accepts must re-encode to
// the same bytes.
//
//===----------------------------------------------------------------------===//
#include "LogReader.h"

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace memscope;
using namespace memscope::merge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  SiteInfo Site;
  if (!decodePayload(llvm::ArrayRef<uint8_t>(Data, Size), Site))
    return 0;
  // Each inline frame takes at least 14 bytes of payload.
  if (Site.InlinedAt.size() * 14 > Size)
    abort();
  std::vector<uint8_t> Buffer(Size + 64);
  log::PayloadBuilder Payload(Buffer.data(), Buffer.size());
  log::SiteRecord Fixed;
  memcpy(&Fixed, Data, sizeof(Fixed));
  Payload.pod(Fixed);
  auto Str = [&](const std::string &Text) {
    uint16_t Length = static_cast<uint16_t>(Text.size());
    Payload.pod(Length);
    Payload.bytes(Text.data(), Text.size());
  };
  Str(Site.File);
  Str(Site.Dir);
  Str(Site.Function);
  for (const InlineFrame &Frame : Site.InlinedAt) {
    Payload.pod(Frame.Line);
    Payload.pod(Frame.Column);
    Str(Frame.Function);
    Str(Frame.File);
    Str(Frame.Dir);
  }
  if (Payload.size() + 2 <= Size) // version 2.3's type, when present
    Str(Site.Type);
  // Later minor versions may append fields: the decoded part is a prefix.
  if (Payload.overflowed() || Payload.size() > Size ||
      memcmp(Buffer.data(), Data, Payload.size()) != 0)
    abort();
  return 0;
}
