//===-- LogReaderFuzzer.cpp - libFuzzer harness for the merge's log reader ===//
//
// Any byte string as a log file: scanning and decoding every record must
// never crash, read out of bounds (ASan), or allocate more than the input
// justifies (-rss_limit_mb / -malloc_limit_mb).
//
//===----------------------------------------------------------------------===//
#include "LogReader.h"

#include <cstdlib>

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
  while (Cursor.next(Record)) {
    ++Seen;
    // Every record the cursor yields lies inside the file.
    if (Record.Payload.data() <
            reinterpret_cast<const uint8_t *>(File.Buffer->getBufferStart()) ||
        Record.Payload.end() >
            reinterpret_cast<const uint8_t *>(File.Buffer->getBufferEnd()))
      abort();
    switch (Record.Type) {
    case log::RecordType::ProcessInfo: {
      ProcessInfo Info;
      decodeProcessInfo(Record.Payload, Info);
      break;
    }
    case log::RecordType::Module: {
      ModuleInfo Info;
      decodeModule(Record.Payload, Info);
      break;
    }
    case log::RecordType::Site: {
      SiteInfo Info;
      decodeSite(Record.Payload, Info);
      break;
    }
    case log::RecordType::Warning: {
      std::string Text;
      decodeWarning(Record.Payload, Text);
      break;
    }
    case log::RecordType::ThreadStart: {
      ThreadStartInfo Info;
      decodeThreadStart(Record.Payload, Info);
      break;
    }
    case log::RecordType::ThreadName: {
      ThreadNameInfo Info;
      decodeThreadName(Record.Payload, Info);
      break;
    }
    case log::RecordType::Stack: {
      StackInfo Info;
      decodeStack(Record.Payload, Info);
      break;
    }
    case log::RecordType::Events: {
      // The decoder stops at the payload's end, and its key indices stay
      // below the bound that sizes the merge's key table.
      log::EventsDecoder Decoder(Record.Payload.data(), Record.Payload.size());
      log::DecodedEvent Event;
      size_t Events = 0;
      while (Decoder.next(Event) == log::EventsDecoder::Status::Event) {
        if (Event.type == log::kEventKey && Event.key >= log::kMaxEventKeys)
          abort();
        if (++Events > Record.Payload.size())
          abort(); // every event takes at least one byte
      }
      break;
    }
    default: {
      log::AllocRecord Alloc;
      decodeAlloc(Record.Payload, Alloc);
      log::ProcessEndRecord End;
      decodeProcessEnd(Record.Payload, End);
      break;
    }
    }
  }
  if (Seen != File.RecordCount)
    abort(); // the cursor streams exactly the records the scan accepted
  return 0;
}
