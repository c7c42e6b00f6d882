//===- PprofWriter.cpp - profile.pb.gz (pprof) ----------------------------===//
//
// A perftools.profiles.Profile (github.com/google/pprof/proto/profile.proto,
// compiled at build time), gzipped with zlib. Four sample types, as Go's
// heap profiles: alloc_objects/count, alloc_space/bytes (everything
// allocated), inuse_objects/count, inuse_space/bytes (still live at exit).
// Values are Memscope's estimates (already scaled by the sample weights);
// the period is the sampling interval. Locations carry their inlined lines
// and the mappings their build-ids, so pprof needs no binaries.
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include "profile.pb.h"

#include "llvm/ADT/STLExtras.h"

#include "fmt/format.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <unordered_map>

using namespace memscope::merge;
namespace pb = perftools::profiles;

namespace {

class StringTable {
public:
  explicit StringTable(pb::Profile &Out) : Out(Out) { index(""); }
  int64_t index(const std::string &Value) {
    auto [It, Inserted] = Index.try_emplace(Value, Out.string_table_size());
    if (Inserted)
      Out.add_string_table(Value);
    return It->second;
  }

private:
  pb::Profile &Out;
  std::unordered_map<std::string, int64_t> Index;
};

} // namespace

static llvm::Error gzipTo(llvm::StringRef Path, const std::string &Bytes) {
  // Speed over size, as Go's runtime/pprof does (gzip.BestSpeed).
  gzFile File = gzopen(Path.str().c_str(), "wb1");
  if (!File)
    return llvm::createStringError(std::errc::io_error, "cannot write %s: %s",
                                   Path.str().c_str(), std::strerror(errno));
  size_t Done = 0;
  bool Ok = true;
  while (Ok && Done < Bytes.size()) {
    unsigned Chunk = unsigned(std::min<size_t>(Bytes.size() - Done, 1u << 30));
    Ok = gzwrite(File, Bytes.data() + Done, Chunk) == int(Chunk);
    Done += Chunk;
  }
  int CloseStatus = gzclose(File);
  if (!Ok || CloseStatus != Z_OK)
    return llvm::createStringError(std::errc::io_error,
                                   "cannot write %s: gzip write failed",
                                   Path.str().c_str());
  return llvm::Error::success();
}

llvm::Error memscope::merge::writePprofProfile(const Analysis &Result,
                                               llvm::StringRef Path) {
  pb::Profile Out;
  StringTable Strings(Out);
  auto AddType = [&](const char *Type, const char *Unit) {
    pb::ValueType *V = Out.add_sample_type();
    V->set_type(Strings.index(Type));
    V->set_unit(Strings.index(Unit));
  };
  AddType("alloc_objects", "count");
  AddType("alloc_space", "bytes");
  AddType("inuse_objects", "count");
  AddType("inuse_space", "bytes");
  Out.set_default_sample_type(Strings.index("alloc_space"));

  const SamplingInfo &Sampling = Result.Totals.Sampling;
  pb::ValueType *Period = Out.mutable_period_type();
  if (Sampling.Mode == "rate") {
    // Every 1/rate-th allocation: the period counts objects.
    Period->set_type(Strings.index("objects"));
    Period->set_unit(Strings.index("count"));
    Out.set_period(Sampling.Rate > 0 ? std::llround(1 / Sampling.Rate) : 1);
  } else {
    Period->set_type(Strings.index("space"));
    Period->set_unit(Strings.index("bytes"));
    Out.set_period(Sampling.Mode == "bytes" ? int64_t(Sampling.IntervalBytes)
                                            : 1);
  }

  uint64_t Earliest = UINT64_MAX;
  for (const ProcessReport &P : Result.Processes)
    Earliest = std::min(Earliest, P.StartRealtimeNs);
  if (Earliest != UINT64_MAX)
    Out.set_time_nanos(int64_t(Earliest));
  Out.set_duration_nanos(int64_t(Result.Totals.DurationNs));
  Out.add_comment(Strings.index("memscope-merge " + Result.Input));

  const Profile &Stacks = Result.Stacks;
  // pprof takes the first mapping for the main binary: executables first.
  std::vector<size_t> Order;
  std::vector<uint64_t> MappingId(Stacks.Mappings.size(), 0);
  for (const ProcessReport &P : Result.Processes)
    for (size_t I = 0; I < Stacks.Mappings.size(); ++I)
      if (!MappingId[I] && Stacks.Mappings[I].Path == P.Executable) {
        Order.push_back(I);
        MappingId[I] = Order.size();
      }
  for (size_t I = 0; I < Stacks.Mappings.size(); ++I)
    if (!MappingId[I]) {
      Order.push_back(I);
      MappingId[I] = Order.size();
    }
  for (size_t I : Order) {
    const ProfileMapping &M = Stacks.Mappings[I];
    pb::Mapping *Mapping = Out.add_mapping();
    Mapping->set_id(MappingId[I]);
    Mapping->set_memory_start(M.Start);
    Mapping->set_memory_limit(M.Limit);
    Mapping->set_filename(Strings.index(M.Path));
    Mapping->set_build_id(Strings.index(M.BuildId));
    // Every location carries its lines: pprof must not re-symbolize.
    Mapping->set_has_functions(true);
    Mapping->set_has_filenames(true);
    Mapping->set_has_line_numbers(true);
    Mapping->set_has_inline_frames(true);
  }

  std::map<std::pair<std::string, std::string>, uint64_t> Functions;
  auto FunctionId = [&](const ProfileLine &Line) {
    auto [It, Inserted] =
        Functions.try_emplace({Line.Function, Line.File}, Functions.size() + 1);
    if (Inserted) {
      pb::Function *F = Out.add_function();
      F->set_id(It->second);
      F->set_name(Strings.index(Line.Function));
      F->set_system_name(Strings.index(Line.Function));
      F->set_filename(Strings.index(Line.File));
    }
    return It->second;
  };
  for (size_t I = 0; I < Stacks.Locations.size(); ++I) {
    const ProfileLocation &L = Stacks.Locations[I];
    pb::Location *Location = Out.add_location();
    Location->set_id(I + 1);
    if (L.Mapping >= 0)
      Location->set_mapping_id(MappingId[L.Mapping]);
    Location->set_address(L.Address);
    // Innermost first; the last line is the function the others are
    // inlined into, as profile.proto specifies.
    for (const ProfileLine &Line : L.Lines) {
      pb::Line *Entry = Location->add_line();
      Entry->set_function_id(FunctionId(Line));
      Entry->set_line(Line.Line);
    }
  }

  // Labels (docs/report.md): pid; the allocating thread's name, its
  // process-unique id and the line that spawned it; and "lifetime: process"
  // on the samples whose blocks in use at exit are process-lifetime rather
  // than leaks, so that `pprof -tagignore=lifetime=process` shows the leaks
  // alone; and "type" on the samples of a site whose allocated type the
  // pass recorded (`pprof -tagfocus type=Order`).
  int64_t PidKey = Strings.index("pid");
  int64_t TypeKey = Strings.index("type");
  int64_t ThreadKey = Strings.index("thread");
  int64_t ThreadIdKey = Strings.index("thread_id");
  int64_t SpawnSiteKey = Strings.index("spawn_site");
  int64_t LifetimeKey = Strings.index("lifetime");
  int64_t ProcessValue = Strings.index("process");
  auto AddLabel = [](pb::Sample *Sample, int64_t Key) {
    pb::Label *Label = Sample->add_label();
    Label->set_key(Key);
    return Label;
  };
  auto AddSample = [&](const ProfileSample &S,
                       const std::array<int64_t, 4> &Values,
                       const ThreadReport *Thread) {
    pb::Sample *Sample = Out.add_sample();
    for (uint32_t Location : S.Locations)
      Sample->add_location_id(Location + 1);
    for (int64_t Value : Values)
      Sample->add_value(Value);
    AddLabel(Sample, PidKey)->set_num(S.Pid);
    if (Thread) {
      AddLabel(Sample, ThreadKey)
          ->set_str(Strings.index(
              Thread->Name.empty() ? fmt::format("thread {}", Thread->ThreadId)
                                   : Thread->Name));
      AddLabel(Sample, ThreadIdKey)->set_num(int64_t(Thread->ThreadId));
      if (Thread->SpawnLocation)
        AddLabel(Sample, SpawnSiteKey)
            ->set_str(
                Strings.index(fmt::format("{}:{}", Thread->SpawnLocation->File,
                                          Thread->SpawnLocation->Line)));
    }
    if (S.ProcessLifetime)
      AddLabel(Sample, LifetimeKey)->set_str(ProcessValue);
    if (!S.Type.empty())
      AddLabel(Sample, TypeKey)->set_str(Strings.index(S.Type));
  };
  for (const ProfileSample &S : Stacks.Samples) {
    std::array<double, 4> Totals = {S.Allocations, S.Bytes,
                                    S.LiveAllocationsAtExit, S.LiveBytesAtExit};
    if (S.Threads.empty()) {
      std::array<int64_t, 4> Values;
      for (size_t K = 0; K < 4; ++K)
        Values[K] = std::llround(Totals[K]);
      AddSample(S, Values, nullptr);
      continue;
    }
    // One sample per thread. Each figure is rounded as a whole and handed
    // out by largest remainder, so that the parts add up to what the sample
    // alone showed.
    std::vector<std::array<int64_t, 4>> Parts(S.Threads.size());
    for (size_t K = 0; K < 4; ++K) {
      std::vector<std::pair<double, size_t>> Remainders;
      int64_t Left = std::llround(Totals[K]);
      for (size_t T = 0; T < S.Threads.size(); ++T) {
        const ProfileThreadPart &P = S.Threads[T];
        double Share =
            std::max(0.0, std::array<double, 4>{P.Allocations, P.Bytes,
                                                P.LiveAllocationsAtExit,
                                                P.LiveBytesAtExit}[K]);
        Parts[T][K] = int64_t(std::floor(Share));
        Left -= Parts[T][K];
        Remainders.push_back({Parts[T][K] - Share, T});
      }
      llvm::sort(Remainders); // largest remainder first, then thread order
      for (size_t R = 0; Left > 0 && R < Remainders.size(); ++R, --Left)
        ++Parts[Remainders[R].second][K];
    }
    bool Shown = false;
    for (size_t T = 0; T < S.Threads.size(); ++T) {
      bool Empty = llvm::all_of(Parts[T], [](int64_t V) { return V == 0; });
      // Keep the stack when every part rounds to nothing, as one sample.
      if (Empty && (Shown || T + 1 < S.Threads.size()))
        continue;
      AddSample(S, Parts[T], &Result.Threads[S.Threads[T].Thread]);
      Shown = true;
    }
  }

  std::string Bytes;
  if (!Out.SerializeToString(&Bytes))
    return llvm::createStringError(std::errc::invalid_argument,
                                   "cannot encode the pprof profile");
  return gzipTo(Path, Bytes);
}
