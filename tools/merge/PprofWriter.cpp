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
#include "nlohmann/json.hpp"

#include "llvm/Support/FileSystem.h"

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
  explicit StringTable(pb::Profile &Out) { index(Out, ""); }
  int64_t index(pb::Profile &Out, const std::string &Value) {
    auto [It, Inserted] = Index.try_emplace(Value, Out.string_table_size());
    if (Inserted)
      Out.add_string_table(Value);
    return It->second;
  }

private:
  std::unordered_map<std::string, int64_t> Index;
};

/// A profile of a run without its samples (types, period, mappings,
/// functions and locations), to which samples are added. Copies are
/// independent: --pprof-series copies one per interval.
class PprofEncoder {
public:
  explicit PprofEncoder(const Analysis &Result);
  /// One sample of \p S's stack and labels, by \p Thread when known.
  void addSample(const ProfileSample &S, const std::array<int64_t, 4> &Values,
                 const ThreadReport *Thread);
  void setTime(uint64_t TimeNanos, uint64_t DurationNanos) {
    Out.set_time_nanos(int64_t(TimeNanos));
    Out.set_duration_nanos(int64_t(DurationNanos));
  }
  llvm::Error write(llvm::StringRef Path) const;

private:
  int64_t str(const std::string &Value) { return Strings.index(Out, Value); }
  pb::Label *addLabel(pb::Sample *Sample, int64_t Key) {
    pb::Label *Label = Sample->add_label();
    Label->set_key(Key);
    return Label;
  }

  uint64_t locationId(uint32_t Index); // of Profile::Locations[Index]
  uint64_t functionId(const ProfileLine &Line);

  const Profile *Stacks;
  pb::Profile Out;
  StringTable Strings{Out};
  std::vector<uint64_t> MappingId;   // by Profile::Mappings index
  std::vector<uint64_t> LocationIds; // 0: not written yet
  std::map<std::pair<std::string, std::string>, uint64_t> FunctionIds;
  int64_t PidKey, TypeKey, ThreadKey, ThreadIdKey, SpawnSiteKey, LifetimeKey,
      ProcessValue;
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

PprofEncoder::PprofEncoder(const Analysis &Result) : Stacks(&Result.Stacks) {
  auto AddType = [&](const char *Type, const char *Unit) {
    pb::ValueType *V = Out.add_sample_type();
    V->set_type(str(Type));
    V->set_unit(str(Unit));
  };
  AddType("alloc_objects", "count");
  AddType("alloc_space", "bytes");
  AddType("inuse_objects", "count");
  AddType("inuse_space", "bytes");
  Out.set_default_sample_type(str("alloc_space"));

  const SamplingInfo &Sampling = Result.Totals.Sampling;
  pb::ValueType *Period = Out.mutable_period_type();
  if (Sampling.Mode == "rate") {
    // Every 1/rate-th allocation: the period counts objects.
    Period->set_type(str("objects"));
    Period->set_unit(str("count"));
    Out.set_period(Sampling.Rate > 0 ? std::llround(1 / Sampling.Rate) : 1);
  } else {
    Period->set_type(str("space"));
    Period->set_unit(str("bytes"));
    Out.set_period(Sampling.Mode == "bytes" ? int64_t(Sampling.IntervalBytes)
                                            : 1);
  }

  uint64_t Earliest = UINT64_MAX;
  for (const ProcessReport &P : Result.Processes)
    Earliest = std::min(Earliest, P.StartRealtimeNs);
  if (Earliest != UINT64_MAX)
    Out.set_time_nanos(int64_t(Earliest));
  Out.set_duration_nanos(int64_t(Result.Totals.DurationNs));
  Out.add_comment(str("memscope-merge " + Result.Input));

  const Profile &Stacks = Result.Stacks;
  // pprof takes the first mapping for the main binary: executables first.
  std::vector<size_t> Order;
  MappingId.assign(Stacks.Mappings.size(), 0);
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
    Mapping->set_filename(str(M.Path));
    Mapping->set_build_id(str(M.BuildId));
    // Every location carries its lines: pprof must not re-symbolize.
    Mapping->set_has_functions(true);
    Mapping->set_has_filenames(true);
    Mapping->set_has_line_numbers(true);
    Mapping->set_has_inline_frames(true);
  }

  // Locations and functions are written as samples use them: a series'
  // profile holds only its interval's.
  LocationIds.assign(Stacks.Locations.size(), 0);

  // Labels (docs/report.md): pid; the allocating thread's name, its
  // process-unique id and the line that spawned it; and "lifetime: process"
  // on the samples whose blocks in use at exit are process-lifetime rather
  // than leaks, so that `pprof -tagignore=lifetime=process` shows the leaks
  // alone; and "type" on the samples of a site whose allocated type the
  // pass recorded (`pprof -tagfocus type=Order`).
  PidKey = str("pid");
  TypeKey = str("type");
  ThreadKey = str("thread");
  ThreadIdKey = str("thread_id");
  SpawnSiteKey = str("spawn_site");
  LifetimeKey = str("lifetime");
  ProcessValue = str("process");
}

void PprofEncoder::addSample(const ProfileSample &S,
                             const std::array<int64_t, 4> &Values,
                             const ThreadReport *Thread) {
  pb::Sample *Sample = Out.add_sample();
  for (uint32_t Location : S.Locations)
    Sample->add_location_id(locationId(Location));
  for (int64_t Value : Values)
    Sample->add_value(Value);
  addLabel(Sample, PidKey)->set_num(S.Pid);
  if (Thread) {
    addLabel(Sample, ThreadKey)
        ->set_str(str(Thread->Name.empty()
                          ? fmt::format("thread {}", Thread->ThreadId)
                          : Thread->Name));
    addLabel(Sample, ThreadIdKey)->set_num(int64_t(Thread->ThreadId));
    if (Thread->SpawnLocation)
      addLabel(Sample, SpawnSiteKey)
          ->set_str(str(fmt::format("{}:{}", Thread->SpawnLocation->File,
                                    Thread->SpawnLocation->Line)));
  }
  if (S.ProcessLifetime)
    addLabel(Sample, LifetimeKey)->set_str(ProcessValue);
  if (!S.Type.empty())
    addLabel(Sample, TypeKey)->set_str(str(S.Type));
}

uint64_t PprofEncoder::functionId(const ProfileLine &Line) {
  auto [It, Inserted] = FunctionIds.try_emplace({Line.Function, Line.File},
                                                FunctionIds.size() + 1);
  if (Inserted) {
    pb::Function *F = Out.add_function();
    F->set_id(It->second);
    F->set_name(str(Line.Function));
    F->set_system_name(str(Line.Function));
    F->set_filename(str(Line.File));
  }
  return It->second;
}

uint64_t PprofEncoder::locationId(uint32_t Index) {
  uint64_t &Id = LocationIds[Index];
  if (Id)
    return Id;
  const ProfileLocation &L = Stacks->Locations[Index];
  pb::Location *Location = Out.add_location();
  Id = Out.location_size();
  Location->set_id(Id);
  if (L.Mapping >= 0)
    Location->set_mapping_id(MappingId[L.Mapping]);
  Location->set_address(L.Address);
  // Innermost first; the last line is the function the others are
  // inlined into, as profile.proto specifies.
  for (const ProfileLine &Line : L.Lines) {
    pb::Line *Entry = Location->add_line();
    Entry->set_function_id(functionId(Line));
    Entry->set_line(Line.Line);
  }
  return Id;
}

llvm::Error PprofEncoder::write(llvm::StringRef Path) const {
  std::string Bytes;
  if (!Out.SerializeToString(&Bytes))
    return llvm::createStringError(std::errc::invalid_argument,
                                   "cannot encode the pprof profile");
  return gzipTo(Path, Bytes);
}

llvm::Error memscope::merge::writePprofProfile(const Analysis &Result,
                                               llvm::StringRef Path) {
  PprofEncoder Encoder(Result);
  for (const ProfileSample &S : Result.Stacks.Samples) {
    std::array<double, 4> Totals = {S.Allocations, S.Bytes,
                                    S.LiveAllocationsAtExit, S.LiveBytesAtExit};
    if (S.Threads.empty()) {
      std::array<int64_t, 4> Values;
      for (size_t K = 0; K < 4; ++K)
        Values[K] = std::llround(Totals[K]);
      Encoder.addSample(S, Values, nullptr);
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
      Encoder.addSample(S, Parts[T], &Result.Threads[S.Threads[T].Thread]);
      Shown = true;
    }
  }
  return Encoder.write(Path);
}

llvm::Error memscope::merge::writePprofSeries(const Analysis &Result,
                                              llvm::StringRef Dir) {
  if (std::error_code EC = llvm::sys::fs::create_directories(Dir))
    return llvm::createStringError(EC,
                                   "cannot create --pprof-series folder "
                                   "'%s': %s",
                                   Dir.str().c_str(), EC.message().c_str());
  if (!llvm::sys::fs::is_directory(Dir))
    return llvm::createStringError(std::errc::not_a_directory,
                                   "--pprof-series '%s' is not a folder",
                                   Dir.str().c_str());
  const PprofEncoder Base(Result);
  nlohmann::ordered_json Index = nlohmann::ordered_json::array();
  std::map<uint32_t, unsigned> PidsSeen; // a pid reused by two processes
  for (const ProcessSeries &Series : Result.Series) {
    unsigned Reuse = PidsSeen[Series.Pid]++;
    std::string Prefix = Reuse ? fmt::format("{}.{}", Series.Pid, Reuse)
                               : fmt::format("{}", Series.Pid);
    // Live blocks by (sample, thread), carried from interval to interval.
    std::map<std::pair<uint32_t, uint32_t>, std::pair<double, double>> Live;
    for (size_t I = 0; I < Series.Intervals.size(); ++I) {
      const SeriesInterval &Interval = Series.Intervals[I];
      // alloc_* of the interval, inuse_* at its end; by (sample, thread).
      std::map<std::pair<uint32_t, uint32_t>, std::array<double, 4>> Values;
      for (const SeriesChange &Change : Interval.Changes) {
        std::pair<uint32_t, uint32_t> Key{Change.Sample, Change.Thread};
        std::pair<double, double> &Now = Live[Key];
        Now.first += Change.LiveAllocations;
        Now.second += Change.LiveBytes;
        std::array<double, 4> &V = Values[Key];
        V[0] += Change.Allocations;
        V[1] += Change.Bytes;
      }
      for (const auto &[Key, Now] : Live) {
        std::array<double, 4> &V = Values[Key];
        V[2] = Now.first;
        V[3] = Now.second;
      }
      PprofEncoder Encoder = Base;
      // Dated at its end, when its in-use figures hold.
      Encoder.setTime(Series.StartRealtimeNs + Interval.EndNs,
                      Interval.EndNs - Interval.StartNs);
      for (const auto &[Key, V] : Values) {
        std::array<int64_t, 4> Rounded;
        for (size_t K = 0; K < 4; ++K)
          Rounded[K] = std::max<int64_t>(0, std::llround(V[K]));
        if (llvm::all_of(Rounded, [](int64_t X) { return X == 0; }))
          continue;
        Encoder.addSample(
            Result.Stacks.Samples[Key.first], Rounded,
            Key.second == UINT32_MAX ? nullptr : &Result.Threads[Key.second]);
      }
      std::string Name = fmt::format("{}-{:04}.pb.gz", Prefix, I + 1);
      if (llvm::Error E = Encoder.write((Dir + "/" + Name).str()))
        return E;
      nlohmann::ordered_json Entry;
      Entry["file"] = Name;
      Entry["pid"] = Series.Pid;
      Entry["executable"] = Series.Executable;
      Entry["interval"] = I + 1;
      Entry["start_unix_ns"] = Series.StartRealtimeNs + Interval.StartNs;
      Entry["end_unix_ns"] = Series.StartRealtimeNs + Interval.EndNs;
      Entry["snapshot"] = Interval.Snapshot
                              ? nlohmann::ordered_json(*Interval.Snapshot)
                              : nlohmann::ordered_json();
      Index.push_back(std::move(Entry));
    }
  }
  return writeJsonReport(Index, (Dir + "/index.json").str());
}
