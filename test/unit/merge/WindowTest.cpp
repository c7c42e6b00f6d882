//===- WindowTest.cpp - --from/--to: parsing and resolving windows --------===//

#include "ProcessModel.h"

#include "gtest/gtest.h"

using namespace memscope;
using namespace memscope::merge;

namespace {

uint64_t nsOf(llvm::StringRef Text) {
  llvm::Expected<WindowBound> Bound = parseWindowBound(Text);
  if (!Bound) {
    ADD_FAILURE() << llvm::toString(Bound.takeError());
    return 0;
  }
  EXPECT_FALSE(Bound->IsSnapshot) << Text.str();
  return Bound->Ns;
}

TEST(Window, TimesAndSnapshotsParse) {
  EXPECT_EQ(nsOf("30"), 30000000000u);
  EXPECT_EQ(nsOf("1.5s"), 1500000000u);
  EXPECT_EQ(nsOf("500ms"), 500000000u);
  EXPECT_EQ(nsOf("2m"), 120000000000u);
  EXPECT_EQ(nsOf("1h"), 3600000000000u);
  EXPECT_EQ(nsOf("0"), 0u);
  for (const char *Text : {"snapshot:3", "#3"}) {
    llvm::Expected<WindowBound> Bound = parseWindowBound(Text);
    ASSERT_TRUE(bool(Bound)) << llvm::toString(Bound.takeError());
    EXPECT_TRUE(Bound->IsSnapshot);
    EXPECT_EQ(Bound->Snapshot, 3u);
    EXPECT_EQ(Bound->Text, Text);
  }
}

TEST(Window, BadBoundsAreRefusedByName) {
  for (const char *Text : {"", "soon", "-1", "1d", "snapshot:", "snapshot:0",
                           "#x", "nan", "1e30h"}) {
    llvm::Expected<WindowBound> Bound = parseWindowBound(Text);
    ASSERT_FALSE(bool(Bound)) << Text;
    std::string Message = llvm::toString(Bound.takeError());
    EXPECT_NE(Message.find(std::string("'") + Text + "'"), std::string::npos)
        << Message;
  }
}

TEST(Window, ResolvesPerProcess) {
  ProcessData P;
  P.Pid = 42;
  P.StartMonotonicNs = 1000;
  log::SnapshotRecord First{}, Second{};
  First.number = 1;
  First.monotonic_ns = 5000;
  Second.number = 2;
  Second.monotonic_ns = 9000;
  P.Snapshots = {Second, First};
  P.Heap = log::HeapCounts{};
  resolveWindow(P, *parseWindowBound("snapshot:1"),
                *parseWindowBound("snapshot:2"));
  EXPECT_TRUE(P.Windowed);
  EXPECT_EQ(P.WindowError, "");
  EXPECT_EQ(P.WindowFromNs, 5000u);
  EXPECT_EQ(P.WindowToNs, 9000u);
  EXPECT_FALSE(P.Heap.has_value()); // the counted peak covers the whole run

  ProcessData Open;
  Open.StartMonotonicNs = 1000;
  resolveWindow(Open, *parseWindowBound("2s"), std::nullopt);
  EXPECT_EQ(Open.WindowFromNs, 1000 + 2000000000u);
  EXPECT_EQ(Open.WindowToNs, UINT64_MAX);

  ProcessData Missing;
  Missing.Pid = 7;
  Missing.Snapshots = {First};
  resolveWindow(Missing, std::nullopt, *parseWindowBound("snapshot:4"));
  EXPECT_EQ(Missing.WindowError,
            "--to=snapshot:4: pid 7 has no snapshot 4 (its snapshots are 1 "
            "to 1)");

  ProcessData None;
  None.Pid = 8;
  resolveWindow(None, *parseWindowBound("#1"), std::nullopt);
  EXPECT_NE(None.WindowError.find("it took none"), std::string::npos);

  ProcessData Backwards;
  Backwards.Pid = 9;
  Backwards.Snapshots = {First, Second};
  resolveWindow(Backwards, *parseWindowBound("#2"), *parseWindowBound("#1"));
  EXPECT_EQ(Backwards.WindowError, "--from=#2 is after --to=#1 in pid 9");
}

} // namespace
