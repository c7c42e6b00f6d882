//===- main.cpp - memscope-merge command line -----------------------------===//
//
// memscope-merge <dir> [-o <out>] [options]
//
// Reads the logs a Memscope-instrumented run wrote to <dir> and writes
// <out>/<name>.json (default analysis.json), report.html, profile.pb.gz,
// stacks.folded and trace.json, plus a text summary on stdout. With
// --check BUDGET.json it also checks the run against memory budgets and
// exits with status 3 when one is exceeded (docs/budgets.md). With --diff
// BASE it compares the run with another and writes <out>/diff.json
// (docs/diff.md).
//
//===----------------------------------------------------------------------===//

#include "Analysis.h"
#include "Budgets.h"
#include "Diagnostics.h"
#include "Diff.h"
#include "Report.h"
#include "SymbolCache.h"

#include "memscope/abi.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include "tbb/task_group.h"

#include <set>

using namespace llvm;
using namespace memscope::merge;

static cl::OptionCategory MergeCategory("memscope-merge options");

static cl::opt<std::string> InputDir(cl::Positional, cl::Required,
                                     cl::desc("<dir>"), cl::cat(MergeCategory));
static cl::opt<std::string>
    OutputDir("o", cl::desc("Output directory (default: <dir>/report)"),
              cl::value_desc("out"), cl::cat(MergeCategory));
static cl::opt<std::string>
    ReportName("name",
               cl::desc("Name of the JSON report: <out>/<name>.json "
                        "(default: analysis)"),
               cl::value_desc("name"), cl::init("analysis"),
               cl::cat(MergeCategory));
static cl::list<std::string>
    Formats("format", cl::CommaSeparated,
            cl::desc("Comma-separated outputs: json (<out>/<name>.json), "
                     "html (<out>/report.html), pprof (<out>/profile.pb.gz), "
                     "folded (<out>/stacks.folded), trace (<out>/trace.json), "
                     "text (summary on stdout). Default: all of them"),
            cl::value_desc("f1,f2"), cl::cat(MergeCategory));
static cl::opt<bool>
    NoSymbolize("no-symbolize",
                cl::desc("Do not symbolize stacks; attribute uninstrumented "
                         "allocations to module+offset"),
                cl::cat(MergeCategory));
static cl::opt<std::string> SymbolCacheDir(
    "symbol-cache",
    cl::desc("Keep symbolized addresses of modules with a build ID in this "
             "folder, for the next merge (default: $MEMSCOPE_CACHE_DIR, else "
             "$XDG_CACHE_HOME/memscope or ~/.cache/memscope)"),
    cl::value_desc("dir"), cl::cat(MergeCategory));
static cl::opt<bool>
    NoSymbolCache("no-symbol-cache",
                  cl::desc("Neither read nor keep symbolized addresses"),
                  cl::cat(MergeCategory));
static cl::opt<unsigned> Top("top",
                             cl::desc("Sites and threads shown in the text "
                                      "summary (default 20)"),
                             cl::value_desc("N"), cl::init(20),
                             cl::cat(MergeCategory));
static cl::opt<unsigned> OnlyPid("pid", cl::desc("Analyse only this process"),
                                 cl::value_desc("N"), cl::cat(MergeCategory));
static cl::list<std::string> SystemPrefixes(
    "system-prefix",
    cl::desc("Source path prefix of library code, skipped when attributing "
             "uninstrumented allocations (repeatable; replaces the default "
             "list; '*' matches any characters)"),
    cl::value_desc("p"), cl::cat(MergeCategory));
static cl::opt<std::string> SourceRoot(
    "source-root",
    cl::desc("Write source paths under this folder relative to it (default: "
             "the instrumented sites' common compilation directory); other "
             "paths are absolute"),
    cl::value_desc("dir"), cl::cat(MergeCategory));
static cl::opt<std::string> Suppressions(
    "suppressions",
    cl::desc("Blocks live at exit whose stack matches a 'leak:<pattern>' line "
             "of this file (the sanitizers' format) are process-lifetime, "
             "not leaks; added to the built-in rules"),
    cl::value_desc("file"), cl::cat(MergeCategory));
static cl::opt<std::string> CheckBudgets(
    "check",
    cl::desc("Check the run against the budgets of this file "
             "(docs/budgets.md): one line on stderr per budget exceeded, and "
             "exit status 3 when any is"),
    cl::value_desc("budget.json"), cl::cat(MergeCategory));
static cl::opt<std::string> DiffBase(
    "diff",
    cl::desc("Compare with another run: a report folder, its analysis.json, "
             "or a log folder; writes <out>/diff.json, and <out>/base.pb.gz "
             "for pprof -diff_base (docs/diff.md)"),
    cl::value_desc("base"), cl::cat(MergeCategory));
static cl::opt<std::string> WindowFrom(
    "from",
    cl::desc("Report only the allocations made from this point: seconds "
             "since the process started (30, 1.5s, 500ms, 2m) or a snapshot "
             "(snapshot:3)"),
    cl::value_desc("time|snapshot:N"), cl::cat(MergeCategory));
static cl::opt<std::string> WindowTo(
    "to",
    cl::desc("... up to this point (the same forms); what of them is live "
             "there is reported as live at exit"),
    cl::value_desc("time|snapshot:N"), cl::cat(MergeCategory));
static cl::opt<std::string> PprofSeries(
    "pprof-series",
    cl::desc("Also write one pprof profile per interval between each "
             "process's snapshots (and from the last to its end): "
             "<dir>/<pid>-<NNNN>.pb.gz, alloc_* allocated in the interval, "
             "inuse_* live at its end, listed in <dir>/index.json "
             "(docs/continuous-profiling.md)"),
    cl::value_desc("dir"), cl::cat(MergeCategory));
// For the tests: a terminal that sees progress without a long merge.
static cl::opt<unsigned> ProgressDelayMs(
    "progress-delay-ms", cl::Hidden, cl::init(1000),
    cl::desc("Show progress once the merge has taken this long"));
static cl::opt<bool> Quiet("quiet", cl::desc("Print no progress"),
                           cl::cat(MergeCategory));
static cl::alias QuietShort("q", cl::desc("Alias for --quiet"),
                            cl::aliasopt(Quiet), cl::cat(MergeCategory));

static int fail(const std::string &Message) {
  errs() << "memscope-merge: error: " << Message << '\n';
  return 1;
}

/// The run --diff compares with: its analysis.json, and where it has one,
/// its pprof profile (written from its logs, or the report's own).
struct DiffBaseRun {
  nlohmann::ordered_json Json;
  std::optional<Analysis> Model; // a log folder
  std::string ProfilePath;       // a report folder's profile.pb.gz
};

static Expected<nlohmann::ordered_json>
readAnalysisJson(const std::string &Path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> Text =
      MemoryBuffer::getFile(Path, /*IsText=*/true);
  if (!Text)
    return createStringError(Text.getError(), "cannot read '%s': %s",
                             Path.c_str(), Text.getError().message().c_str());
  nlohmann::ordered_json Json;
  try {
    Json = nlohmann::ordered_json::parse((*Text)->getBufferStart(),
                                         (*Text)->getBufferEnd());
  } catch (const nlohmann::json::exception &E) {
    return createStringError(std::errc::invalid_argument,
                             "'%s' is not JSON: %s", Path.c_str(), E.what());
  }
  if (!Json.is_object() || !Json.contains("summary") || !Json.contains("sites"))
    return createStringError(std::errc::invalid_argument,
                             "'%s' is not a memscope-merge analysis.json (no "
                             "summary and sites)",
                             Path.c_str());
  return Json;
}

static Expected<DiffBaseRun> loadDiffBase(const std::string &Base,
                                          const AnalysisOptions &Like) {
  DiffBaseRun Run;
  if (!sys::fs::exists(Base))
    return createStringError(std::errc::no_such_file_or_directory,
                             "--diff '%s': no such file or folder",
                             Base.c_str());
  std::string Json = Base;
  if (sys::fs::is_directory(Base)) {
    Json = Base + "/analysis.json";
    if (!sys::fs::exists(Json)) {
      // A log folder: analyse it as this run is analysed.
      AnalysisOptions Options = Like;
      Options.InputDir = Base;
      Options.Progress = false;
      Diagnostics Diags(&errs());
      Expected<Analysis> Model = analyze(Options, Diags);
      if (!Model)
        return createStringError(std::errc::invalid_argument, "--diff '%s': %s",
                                 Base.c_str(),
                                 toString(Model.takeError()).c_str());
      Run.Json = toJson(*Model);
      Run.Model = std::move(*Model);
      return std::move(Run);
    }
    if (sys::fs::exists(Base + "/profile.pb.gz"))
      Run.ProfilePath = Base + "/profile.pb.gz";
  }
  Expected<nlohmann::ordered_json> Parsed = readAnalysisJson(Json);
  if (!Parsed)
    return createStringError(std::errc::invalid_argument, "--diff: %s",
                             toString(Parsed.takeError()).c_str());
  Run.Json = std::move(*Parsed);
  return std::move(Run);
}

/// --check: a line on stderr per budget exceeded (and per one that only
/// sampling uncertainty keeps from failing, or that matched nothing), a
/// count, and the exit status.
static int checkAndReport(const BudgetFile &Budgets, const Analysis &A,
                          const RunDiff *Diff) {
  outs().flush();
  size_t Exceeded = 0;
  BudgetResult Result = checkBudgets(Budgets, A, Diff);
  for (const BudgetCheck &Check : Result.Checks) {
    if (Check.Exceeded) {
      ++Exceeded;
      errs() << "memscope-merge: " << describeBudgetCheck(Check) << '\n';
    } else if (Check.Uncertain) {
      errs() << "memscope-merge: note: " << describeBudgetCheck(Check) << '\n';
    }
  }
  for (const std::string &Entry : Result.Unmatched)
    errs() << "memscope-merge: warning: budget " << Entry
           << " matches nothing in this run\n";
  errs() << "memscope-merge: budgets: " << Result.Checks.size() << " checked, "
         << Exceeded << " exceeded (" << Budgets.Path << ")\n";
  return Exceeded ? kBudgetExceededStatus : 0;
}

int main(int argc, char **argv) {
  InitLLVM X(argc, argv);
  cl::HideUnrelatedOptions(MergeCategory);
  cl::SetVersionPrinter([](raw_ostream &OS) {
    OS << "memscope-merge " MEMSCOPE_VERSION_STRING "\n"
       << "LLVM version " LLVM_VERSION_STRING "\n";
  });
  cl::ParseCommandLineOptions(argc, argv, "Memscope log merger and analyzer\n");

  // The report must land in <out>: a name is one path component.
  if (ReportName.empty())
    return fail("the report name (--name) is empty");
  if (ReportName.find('/') != std::string::npos)
    return fail("invalid report name '" + ReportName +
                "': it must not contain '/' (the report is written to "
                "<out>/<name>.json)");

  bool All = Formats.empty();
  bool WantJson = All, WantText = All, WantHtml = All, WantPprof = All,
       WantFolded = All, WantTrace = All;
  for (const std::string &Format : Formats) {
    if (Format == "json")
      WantJson = true;
    else if (Format == "text")
      WantText = true;
    else if (Format == "html")
      WantHtml = true;
    else if (Format == "pprof")
      WantPprof = true;
    else if (Format == "folded")
      WantFolded = true;
    else if (Format == "trace")
      WantTrace = true;
    else
      return fail("unknown output format '" + Format +
                  "' (supported: json, html, pprof, folded, trace, text)");
  }

  Diagnostics Diags(&errs());
  AnalysisOptions Options;
  Options.InputDir = InputDir;
  Options.Symbolize = !NoSymbolize;
  if (NoSymbolCache && SymbolCacheDir.getNumOccurrences())
    return fail("--symbol-cache and --no-symbol-cache contradict each other");
  if (SymbolCacheDir.getNumOccurrences() && SymbolCacheDir.empty())
    return fail("--symbol-cache names no folder (--no-symbol-cache turns the "
                "cache off)");
  if (!NoSymbolCache)
    Options.SymbolCacheDir = SymbolCacheDir.getNumOccurrences()
                                 ? SymbolCacheDir.getValue()
                                 : SymbolCache::defaultDir();
  Options.SystemPrefixes =
      SystemPrefixes.empty() ? defaultSystemPrefixes()
                             : std::vector<std::string>(SystemPrefixes.begin(),
                                                        SystemPrefixes.end());
  if (SourceRoot.getNumOccurrences()) {
    SmallString<256> Root(SourceRoot);
    if (std::error_code Error = sys::fs::make_absolute(Root))
      return fail("--source-root '" + SourceRoot + "': " + Error.message());
    if (!sys::fs::is_directory(Root))
      return fail("--source-root '" + SourceRoot + "' is not a folder");
    Options.SourceRoot = std::string(Root);
  }
  if (Suppressions.getNumOccurrences()) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> Text =
        MemoryBuffer::getFile(Suppressions, /*IsText=*/true);
    if (!Text)
      return fail("cannot read suppressions '" + Suppressions +
                  "': " + Text.getError().message());
    if (Error Bad = Options.Lifetime.addSuppressions((*Text)->getBuffer(),
                                                     Suppressions))
      return fail("bad suppressions: " + toString(std::move(Bad)));
  }
  // Read before the logs, so that a bad budget file fails at once.
  std::optional<BudgetFile> Budgets;
  if (CheckBudgets.getNumOccurrences()) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> Text =
        MemoryBuffer::getFile(CheckBudgets, /*IsText=*/true);
    if (!Text)
      return fail("cannot read budget file '" + CheckBudgets +
                  "': " + Text.getError().message());
    Expected<BudgetFile> Parsed =
        parseBudgets((*Text)->getBuffer(), CheckBudgets);
    if (!Parsed)
      return fail(toString(Parsed.takeError()));
    Budgets = std::move(*Parsed);
    if (Budgets->needsDiff() && !DiffBase.getNumOccurrences())
      return fail("budget file '" + CheckBudgets +
                  "' limits growth (max_growth_bytes, max_growth_percent): "
                  "compare with a base run with --diff BASE");
  }
  if (OnlyPid.getNumOccurrences())
    Options.Pid = OnlyPid;
  for (auto [Option, Name, Bound] :
       {std::tuple{&WindowFrom, "--from", &Options.From},
        std::tuple{&WindowTo, "--to", &Options.To}}) {
    if (!Option->getNumOccurrences())
      continue;
    Expected<WindowBound> Parsed = parseWindowBound(*Option);
    if (!Parsed)
      return fail(std::string(Name) + ": " + toString(Parsed.takeError()));
    *Bound = std::move(*Parsed);
  }
  // The base first too: a bad --diff fails before the long part.
  std::optional<DiffBaseRun> Base;
  if (DiffBase.getNumOccurrences()) {
    Expected<DiffBaseRun> Loaded = loadDiffBase(DiffBase, Options);
    if (!Loaded)
      return fail(toString(Loaded.takeError()));
    Base = std::move(*Loaded);
  }
  Options.Series = PprofSeries.getNumOccurrences() > 0;
  if (Options.Series && PprofSeries.empty())
    return fail("--pprof-series needs a folder");
  // Before the long part, as for --diff.
  if (Options.Series && sys::fs::exists(PprofSeries) &&
      !sys::fs::is_directory(PprofSeries))
    return fail("--pprof-series '" + PprofSeries + "' is not a folder");
  Options.Progress = !Quiet && sys::Process::StandardErrIsDisplayed();
  Options.ProgressDelay = std::chrono::milliseconds(ProgressDelayMs);

  Expected<Analysis> Result = analyze(Options, Diags);
  if (!Result)
    return fail(toString(Result.takeError()));

  std::optional<RunDiff> Diff;
  if (Base)
    Diff = diffRuns(Base->Json, toJson(*Result));

  TextOptions Text;
  std::string Out =
      OutputDir.empty() ? (InputDir + "/report") : std::string(OutputDir);
  if (WantJson || WantHtml || WantPprof || WantFolded || WantTrace || Base) {
    if (std::error_code EC = sys::fs::create_directories(Out))
      return fail("cannot create output directory '" + Out +
                  "': " + EC.message());
    if (!sys::fs::is_directory(Out))
      return fail("output path '" + Out + "' is not a directory");
    // Two independent groups on TBB's workers: analysis.json and
    // report.html share one toJson(); pprof, folded and trace need only the
    // model.
    auto PathOf = [&](const std::string &File) { return Out + "/" + File; };
    // Failures as messages, in output order.
    std::string Failed[5];
    auto Run = [&](std::string &Message, Error E) {
      if (E)
        Message = toString(std::move(E));
    };
    tbb::task_group Writers;
    Writers.run([&] {
      if (!WantJson && !WantHtml)
        return;
      nlohmann::ordered_json Full = toJson(*Result);
      if (WantJson)
        Run(Failed[0], writeJsonReport(Full, PathOf(ReportName + ".json")));
      if (Diff) // report.html's "Changes" section; not in analysis.json
        Full["diff"] = diffJson(*Diff);
      if (WantHtml)
        Run(Failed[1],
            writeHtmlReport(*Result, std::move(Full), PathOf("report.html"),
                            Base && Base->Model ? &*Base->Model : nullptr));
    });
    Writers.run([&] {
      if (WantPprof)
        Run(Failed[2], writePprofProfile(*Result, PathOf("profile.pb.gz")));
      if (WantFolded)
        Run(Failed[3], writeFoldedStacks(*Result, PathOf("stacks.folded")));
      if (WantTrace)
        Run(Failed[4], writeChromeTrace(*Result, PathOf("trace.json")));
    });
    Writers.wait();
    int Status = 0;
    for (const std::string &Message : Failed)
      if (!Message.empty())
        Status = fail(Message);
    if (Status)
      return Status;
    if (WantJson)
      Text.ReportPath = PathOf(ReportName + ".json");
    if (WantHtml)
      Text.OtherOutputs.push_back({"html", PathOf("report.html")});
    if (WantPprof)
      Text.OtherOutputs.push_back({"pprof", PathOf("profile.pb.gz")});
    if (WantFolded)
      Text.OtherOutputs.push_back({"folded", PathOf("stacks.folded")});
    if (WantTrace)
      Text.OtherOutputs.push_back({"trace", PathOf("trace.json")});
  }
  if (Options.Series) {
    if (Error E = writePprofSeries(*Result, PprofSeries))
      return fail(toString(std::move(E)));
    Text.OtherOutputs.push_back({"pprof series", PprofSeries + "/index.json"});
  }
  if (Base) {
    std::string DiffPath = Out + "/diff.json";
    if (Error E = writeJsonReport(diffJson(*Diff), DiffPath))
      return fail(toString(std::move(E)));
    Text.OtherOutputs.push_back({"diff", DiffPath});
    std::string BaseProfile = Out + "/base.pb.gz";
    if (Base->Model) {
      if (Error E = writePprofProfile(*Base->Model, BaseProfile))
        return fail(toString(std::move(E)));
      Text.OtherOutputs.push_back({"pprof base", BaseProfile});
    } else if (!Base->ProfilePath.empty()) {
      if (std::error_code EC =
              sys::fs::copy_file(Base->ProfilePath, BaseProfile))
        return fail("cannot copy '" + Base->ProfilePath + "' to '" +
                    BaseProfile + "': " + EC.message());
      Text.OtherOutputs.push_back({"pprof base", BaseProfile});
    }
  }
  if (WantText) {
    Text.TopSites = Top;
    Text.TopThreads = Top;
    writeTextSummary(*Result, Text, outs());
    if (Diff)
      writeDiffText(*Diff, Top, outs());
  }
  if (Budgets)
    return checkAndReport(*Budgets, *Result, Diff ? &*Diff : nullptr);
  return 0;
}
