//===-- ThreadLogDecoder.cpp - A thread log's events, in batches ----------===//
//
// See ThreadLogDecoder.h.
//
//===----------------------------------------------------------------------===//

#include "ThreadLogDecoder.h"

using namespace memscope;
using namespace memscope::merge;

void ThreadLogDecoder::decodeEvent(DecodedBatch &Out) {
  log::DecodedEvent Event;
  switch (Events->next(Event, KeySizes.data(), KeySizes.size())) {
  case log::EventsDecoder::Status::End:
    Events.reset();
    return;
  case log::EventsDecoder::Status::Malformed:
    ++Out.Malformed;
    Events.reset();
    return;
  case log::EventsDecoder::Status::Event:
    break;
  }
  if (Event.type == log::kEventKey) {
    // The decoder keeps indices below log::kMaxEventKeys.
    if (Keys.size() <= Event.key) {
      Keys.resize(Event.key + 1);
      KeySizes.resize(Event.key + 1);
    }
    Keys[Event.key] = Event;
    return;
  }
  if (Event.key >= Keys.size() || Keys[Event.key].type != log::kEventKey) {
    ++Out.Malformed; // its Key was in a damaged record
    return;
  }
  const log::DecodedEvent &Key = Keys[Event.key];
  StreamEvent &New = Out.Events.emplace_back();
  New.Time = Event.monotonic_ns;
  New.IsFree =
      Event.type == log::kEventFree || Event.type == log::kEventFreeAddress;
  if (New.IsFree)
    New.Free = log::freeRecordOf(Event, Key); // the union's other member
  else
    New.Alloc = log::allocRecordOf(Event, Key);
}

void ThreadLogDecoder::decode(DecodedBatch &Out, size_t MaxEvents,
                              std::atomic<uint64_t> *BytesRead) {
  Out.Events.clear();
  Out.Records.clear();
  Out.Bytes = Out.Malformed = Out.Misplaced = 0;
  Out.End = false;
  RecordView Record;
  ThreadRecord Decoded;
  while (Out.Events.size() < MaxEvents && Out.Records.size() < MaxEvents) {
    if (Events) {
      decodeEvent(Out);
      continue;
    }
    if (!Cursor.next(Record)) {
      Out.End = true;
      return;
    }
    uint64_t Bytes = sizeof(log::RecordHeader) + Record.Payload.size();
    Out.Bytes += Bytes;
    if (BytesRead)
      BytesRead->fetch_add(Bytes, std::memory_order_relaxed);
    switch (decodeThreadRecord(Record, Decoded)) {
    case RecordFit::Malformed:
      ++Out.Malformed;
      continue;
    case RecordFit::Misplaced:
      ++Out.Misplaced;
      continue;
    case RecordFit::Decoded:
      break;
    }
    if (auto *Payload = std::get_if<EventsInfo>(&Decoded)) {
      Events.emplace(Payload->Payload.data(), Payload->Payload.size(),
                     ++Blocks);
    } else if (auto *Alloc = std::get_if<log::AllocRecord>(&Decoded)) {
      // Logs of format 1 have a record per allocation and free.
      StreamEvent &New = Out.Events.emplace_back();
      New.Time = Alloc->monotonic_ns;
      New.Alloc = *Alloc;
    } else if (auto *Free = std::get_if<log::FreeRecord>(&Decoded)) {
      StreamEvent &New = Out.Events.emplace_back();
      New.Time = Free->monotonic_ns;
      New.IsFree = true;
      New.Free = *Free;
    } else if (!std::holds_alternative<PaddingInfo>(Decoded)) {
      Out.Records.emplace_back(Out.Events.size(), std::move(Decoded));
    }
  }
}

DecodeAhead::DecodeAhead() {
  Worker = std::thread([this] { work(); });
}

DecodeAhead::~DecodeAhead() {
  {
    std::lock_guard<std::mutex> Guard(Lock);
    Stopping = true;
  }
  HasJob.notify_one();
  Worker.join();
}

void DecodeAhead::request(ThreadLogDecoder &Decoder, DecodedBatch &Out,
                          size_t MaxEvents, std::atomic<uint64_t> *BytesRead) {
  {
    std::lock_guard<std::mutex> Guard(Lock);
    Out.Ready = false;
    Jobs.push_back({&Decoder, &Out, MaxEvents, BytesRead});
  }
  HasJob.notify_one();
}

void DecodeAhead::wait(DecodedBatch &Out) {
  std::unique_lock<std::mutex> Guard(Lock);
  if (Out.Ready)
    return;
  for (auto It = Jobs.begin(); It != Jobs.end(); ++It) {
    if (It->Out != &Out)
      continue;
    // Not started: the stream needs it now, so it decodes it itself.
    Job Mine = *It;
    Jobs.erase(It);
    Guard.unlock();
    Mine.Decoder->decode(Out, Mine.MaxEvents, Mine.BytesRead);
    Guard.lock();
    Out.Ready = true;
    return;
  }
  JobDone.wait(Guard, [&] { return Out.Ready; });
}

void DecodeAhead::work() {
  std::unique_lock<std::mutex> Guard(Lock);
  for (;;) {
    HasJob.wait(Guard, [&] { return Stopping || !Jobs.empty(); });
    if (Jobs.empty())
      return; // stopping, with nothing left to decode
    Job Next = Jobs.front();
    Jobs.pop_front();
    Guard.unlock();
    Next.Decoder->decode(*Next.Out, Next.MaxEvents, Next.BytesRead);
    Guard.lock();
    Next.Out->Ready = true;
    JobDone.notify_all();
  }
}
