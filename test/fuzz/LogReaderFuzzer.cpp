//===-- LogReaderFuzzer.cpp - libFuzzer harness for the merge's log reader ===//
//
// Any byte string as a log file: scanning and decoding every record must
// never crash, read out of bounds (ASan), or allocate more than the input
// justifies (-rss_limit_mb / -malloc_limit_mb).
//
//===----------------------------------------------------------------------===//
#include "LogReader.h"

#include <cstdlib>
#include <vector>

using namespace memscope;
using namespace memscope::merge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  LogFile File = scanLogBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(Data), Size), "fuzz"),
      "fuzz.log");
  if (!File.Usable)
    return 0;
  RecordCursor Cursor(File);
  RecordView Record;
  uint64_t Seen = 0;
  std::vector<log::KeySize> KeySizes;
  uint64_t Blocks = 0;
  while (Cursor.next(Record)) {
    ++Seen;
    // Every record the cursor yields lies inside the file.
    if (Record.Payload.data() <
            reinterpret_cast<const uint8_t *>(File.Buffer->getBufferStart()) ||
        Record.Payload.end() >
            reinterpret_cast<const uint8_t *>(File.Buffer->getBufferEnd()))
      abort();
    // Both typed readers on every record, whatever kind of file it claims
    // to be in: each decodes it or refuses it, never reads past it.
    ProcessRecord AsProcess;
    decodeProcessRecord(Record, AsProcess);
    ThreadRecord AsThread;
    if (decodeThreadRecord(Record, AsThread) != RecordFit::Decoded ||
        !std::holds_alternative<EventsInfo>(AsThread))
      continue;
    // The events decoder stops at the payload's end, and its key indices
    // stay below the bound that sizes the merge's key table.
    // Key sizes are kept as the merge keeps them: one per key defined.
    log::EventsDecoder Decoder(Record.Payload.data(), Record.Payload.size(),
                               ++Blocks);
    log::DecodedEvent Event;
    size_t Events = 0;
    while (Decoder.next(Event, KeySizes.data(), KeySizes.size()) ==
           log::EventsDecoder::Status::Event) {
      if (Event.type == log::kEventKey) {
        if (Event.key >= log::kMaxEventKeys)
          abort();
        if (KeySizes.size() <= Event.key)
          KeySizes.resize(Event.key + 1);
      }
      if (++Events > Record.Payload.size())
        abort(); // every event takes at least one byte
    }
  }
  if (Seen != File.RecordCount)
    abort(); // the cursor streams exactly the records the scan accepted
  return 0;
}
