// bench_ingest: measures Causeloop ingestion end to end (see bench/README.md).
//
// For each server workload it makes a temporary data directory, bootstraps a token, starts
// `causeloop serve` on a loopback port, drives it with a closed-loop load (warm-up, then
// --runs measured phases of --seconds), stops it with SIGTERM and removes the directory. A
// fresh server per workload keeps each figure independent of which workloads ran before it.
// The `ceiling` workload measures raw SQLite upserts in process, on the same disk, as the
// anchor the server figures are divided by.

#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json_writer.h"
#include "core/time.h"
#include "ingest/load_engine.h"
#include "ingest/records.h"
#include "ingest/server_process.h"
#include "ingest/sqlite_ceiling.h"
#include "ingest/stats.h"

#ifndef CAUSELOOP_DEFAULT_BINARY
#define CAUSELOOP_DEFAULT_BINARY "build/src/app/causeloop"
#endif

namespace causeloop::bench {
namespace {

// A JSON string literal (with quotes).
std::string JsonQuote(std::string_view s) {
  std::string out;
  causeloop::AppendJsonString(out, s);
  return out;
}

using std::chrono::milliseconds;

constexpr std::string_view kNoCluster = "-nocluster";

// "batch-new-nocluster" -> "batch-new": the load a workload drives.
std::string BaseWorkload(const std::string& name) {
  if (name.size() > kNoCluster.size() &&
      name.compare(name.size() - kNoCluster.size(), kNoCluster.size(), kNoCluster) == 0) {
    return name.substr(0, name.size() - kNoCluster.size());
  }
  return name;
}

struct Config {
  std::string binary = CAUSELOOP_DEFAULT_BINARY;
  // Each workload next to its clustering-off twin, so drift of the machine between them is
  // as small as it can be.
  std::vector<std::string> workloads = {
      "single",      "single-nocluster",      "batch-new", "batch-new-nocluster",
      "batch-dedup", "batch-dedup-nocluster", "ceiling"};
  double seconds = 10;      // measured phase length
  double warmup = 2;        // warm-up before the measured phases
  int runs = 3;             // measured phases per workload
  int rounds = 1;           // passes over the whole workload list
  int interleave = 0;       // > 0: on/off twins run side by side, this many pairs of runs
  int connections = 64;     // single-event workload
  int senders = 8;          // batch workloads
  int batch_size = 500;     // records per batch request
  int dedup_pool = 100000;  // keys seeded before batch-dedup (and the dedup ceiling)
  double dedup_fraction = 0.9;
  std::string json_path;
  std::string tmp_parent;  // default: $TMPDIR or /tmp
  std::vector<std::string> server_args;
  bool keep_data = false;
  std::uint64_t seed = 42;
  double request_timeout = 30;
  double ready_timeout = 30;
  double max_backoff = 5;
};

struct WorkloadReport {
  std::string name;
  std::vector<PhaseStats> runs;
  std::vector<int> round_of_run;  // 1-based round of each run, one per run (--rounds)
  std::vector<PhaseSummary> summaries;
  std::string error;
  std::string note;
  bool interleaved = false;  // run beside its twin (--interleave): rounds are pairs
};

void Usage() {
  std::cout << R"(usage: bench_ingest [flags]

Measures Causeloop ingestion against a freshly started server per workload, next to the raw
SQLite upsert ceiling measured in the same run. Loopback only.

  --binary PATH          causeloop binary (default: )" CAUSELOOP_DEFAULT_BINARY R"()
  --workloads LIST       comma-separated: single,batch-new,batch-dedup,ceiling, and the
                         server ones with -nocluster (same load, `--clustering off`), which
                         give the clustering overhead (default: all)
  --seconds S            length of each measured run (default 10)
  --warmup S             warm-up before the measured runs (default 2)
  --runs N               measured runs per workload; the median is reported (default 3)
  --rounds N             run the whole workload list N times, each time on fresh servers
                         (default 1); medians are over every run, and clustering on vs off
                         is also compared round by round (the median of the per-round
                         ratios), which a machine whose speed drifts over minutes skews less
  --interleave N         run each workload listed with its -nocluster twin on two servers
                         side by side, driven in turn: N pairs of one --seconds run each
                         (order swapped every pair, 0.5 s settle before each run, --warmup
                         once per server); the on/off ratio is then given pair by pair.
                         Drift over minutes then hits both alike. --runs and --rounds do not
                         apply to those workloads (default 0: off)
  --connections N        keep-alive connections for `single` (default 64)
  --senders N            concurrent senders for the batch workloads (default 8)
  --batch-size N         records per batch request, 1-500 (default 500)
  --dedup-pool N         keys pre-seeded for batch-dedup and the dedup ceiling (default 100000)
  --dedup-fraction F     share of batch-dedup records that reuse a seeded key (default 0.9)
  --json FILE            also write machine-readable results to FILE
  --tmp-dir DIR          where temporary data directories go (default $TMPDIR or /tmp);
                         put it on the disk you mean to measure, never on tmpfs
  --server-arg ARG       extra argument for `causeloop serve` (repeatable), e.g.
                         --server-arg=--rate-limit-per-token --server-arg=0
  --keep-data            keep the temporary directories (data, server.log)
  --seed N               seed of the generated records (default 42)
  --request-timeout S    per request, write to full response (default 30)
  --ready-timeout S      server start until GET /ready is 200 (default 30)
  --max-backoff S        cap on an honoured Retry-After (default 5)
)";
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Parses flags ("--flag value" or "--flag=value"). Returns false after printing why.
bool ParseFlags(int argc, char** argv, Config& c) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (const auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--help" || flag == "-h") {
      Usage();
      std::exit(0);
    }
    if (flag == "--keep-data") {
      c.keep_data = true;
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      std::cerr << "bench_ingest: " << flag << " needs a value\n";
      return false;
    }
    try {
      if (flag == "--binary")
        c.binary = value;
      else if (flag == "--workloads")
        c.workloads = Split(value, ',');
      else if (flag == "--seconds")
        c.seconds = std::stod(value);
      else if (flag == "--warmup")
        c.warmup = std::stod(value);
      else if (flag == "--runs")
        c.runs = std::stoi(value);
      else if (flag == "--rounds")
        c.rounds = std::stoi(value);
      else if (flag == "--interleave")
        c.interleave = std::stoi(value);
      else if (flag == "--connections")
        c.connections = std::stoi(value);
      else if (flag == "--senders")
        c.senders = std::stoi(value);
      else if (flag == "--batch-size")
        c.batch_size = std::stoi(value);
      else if (flag == "--dedup-pool")
        c.dedup_pool = std::stoi(value);
      else if (flag == "--dedup-fraction")
        c.dedup_fraction = std::stod(value);
      else if (flag == "--json")
        c.json_path = value;
      else if (flag == "--tmp-dir")
        c.tmp_parent = value;
      else if (flag == "--server-arg")
        c.server_args.push_back(value);
      else if (flag == "--seed")
        c.seed = std::stoull(value);
      else if (flag == "--request-timeout")
        c.request_timeout = std::stod(value);
      else if (flag == "--ready-timeout")
        c.ready_timeout = std::stod(value);
      else if (flag == "--max-backoff")
        c.max_backoff = std::stod(value);
      else {
        std::cerr << "bench_ingest: unknown flag " << flag << " (see --help)\n";
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << "bench_ingest: bad value for " << flag << ": '" << value << "'\n";
      return false;
    }
  }
  auto bad = [](const std::string& why) {
    std::cerr << "bench_ingest: " << why << "\n";
    return false;
  };
  for (const std::string& w : c.workloads) {
    const std::string base = BaseWorkload(w);
    if (base != "single" && base != "batch-new" && base != "batch-dedup" && w != "ceiling") {
      return bad("unknown workload '" + w + "'");
    }
  }
  if (c.seconds <= 0 || c.seconds > 3600) return bad("--seconds must be in (0, 3600]");
  if (c.warmup < 0 || c.warmup > 600) return bad("--warmup must be in [0, 600]");
  if (c.runs < 1 || c.runs > 100) return bad("--runs must be in [1, 100]");
  if (c.rounds < 1 || c.rounds > 20) return bad("--rounds must be in [1, 20]");
  if (c.interleave < 0 || c.interleave > 50) return bad("--interleave must be in [0, 50]");
  if (c.connections < 1 || c.connections > 4096) return bad("--connections must be in [1, 4096]");
  if (c.senders < 1 || c.senders > 1024) return bad("--senders must be in [1, 1024]");
  if (c.batch_size < 1 || c.batch_size > 500) return bad("--batch-size must be in [1, 500]");
  if (c.dedup_pool < 1 || c.dedup_pool > 100'000'000) return bad("--dedup-pool out of range");
  if (c.dedup_fraction < 0 || c.dedup_fraction > 1) return bad("--dedup-fraction not in [0, 1]");
  if (c.request_timeout <= 0 || c.ready_timeout <= 0 || c.max_backoff < 0) {
    return bad("timeouts must be positive");
  }
  if (c.tmp_parent.empty()) {
    const char* env = std::getenv("TMPDIR");
    c.tmp_parent = env != nullptr && *env != '\0' ? env : "/tmp";
  }
  return true;
}

milliseconds Ms(double seconds) { return milliseconds(static_cast<long long>(seconds * 1000)); }

std::uint64_t SplitMix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Rotates through request templates and patches fresh keys into each request: new keys from
// a counter, or (with a pool) a `reuse` share of keys drawn uniformly from [0, pool).
class TemplateSource : public RequestSource {
 public:
  TemplateSource(const std::vector<RequestTemplate>& templates, std::uint64_t first_new_key,
                 std::uint64_t pool, double reuse, std::uint64_t seed)
      : templates_(templates), next_new_(first_new_key), pool_(pool), reuse_(reuse), rng_(seed) {}

  // Stop once new keys reach `limit` (for seeding); 0 means never.
  void set_new_key_limit(std::uint64_t limit) { limit_ = limit; }
  std::uint64_t next_new_key() const { return next_new_; }

  int Next(std::string& request) override {
    if (limit_ != 0 && next_new_ >= limit_) return 0;
    const RequestTemplate& t = templates_[next_template_++ % templates_.size()];
    request.assign(t.bytes);
    for (const KeySlot& slot : t.slots) WriteKey(request, slot, NextKey());
    return static_cast<int>(t.slots.size());
  }

 private:
  std::uint64_t NextKey() {
    if (pool_ > 0) {
      const std::uint64_t r = SplitMix(rng_);
      if (static_cast<double>(r >> 11) * 0x1.0p-53 < reuse_) return SplitMix(rng_) % pool_;
    }
    return next_new_++;
  }

  const std::vector<RequestTemplate>& templates_;
  std::uint64_t next_new_;
  std::uint64_t pool_;
  double reuse_;
  std::uint64_t rng_;
  std::uint64_t limit_ = 0;
  std::size_t next_template_ = 0;
};

std::vector<milliseconds> Phases(const Config& c) {
  std::vector<milliseconds> phases = {Ms(c.warmup)};
  for (int i = 0; i < c.runs; ++i) phases.push_back(Ms(c.seconds));
  return phases;
}

void Summarize(WorkloadReport& report) {
  report.summaries.clear();
  for (PhaseStats& run : report.runs) report.summaries.push_back(Summarize(run));
}

std::string Fixed(double v, int decimals);

// From the server's causeloop_pattern_assign_seconds histogram (every assignment since the
// server started, warm-up included): the count and the bucket bounds holding p50 and p99.
std::string AssignLatencySummary(const std::string& metrics) {
  const std::string prefix = "causeloop_pattern_assign_seconds_bucket{le=\"";
  std::vector<std::pair<double, double>> buckets;  // (upper bound, cumulative count)
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const std::size_t close = line.find('"', prefix.size());
    const std::size_t space = line.rfind(' ');
    if (close == std::string::npos || space == std::string::npos) continue;
    const std::string le = line.substr(prefix.size(), close - prefix.size());
    const double bound = le == "+Inf" ? 1e9 : std::strtod(le.c_str(), nullptr);
    buckets.emplace_back(bound, std::strtod(line.c_str() + space + 1, nullptr));
  }
  if (buckets.empty() || buckets.back().second <= 0) return "no pattern assignments recorded";
  const double total = buckets.back().second;
  auto quantile = [&](double q) {
    for (const auto& [bound, cumulative] : buckets) {
      if (cumulative >= q * total) {
        return bound >= 1e9 ? std::string("> 100 ms") : "<= " + Fixed(bound * 1e6, 0) + " us";
      }
    }
    return std::string("?");
  };
  return "pattern assignment (server histogram, n=" + Fixed(total, 0) + "): p50 " + quantile(0.5) +
         ", p99 " + quantile(0.99);
}

// A started server for one workload, with its load ready to drive (dedup pool seeded).
struct LiveServer {
  std::string workload;
  std::unique_ptr<TempDir> root;
  std::unique_ptr<ServerProcess> server;
  EngineOptions engine;
  std::vector<RequestTemplate> templates;
  std::unique_ptr<TemplateSource> source;
  std::string note;
};

// Appends `more` to a report's note or error, "; " between parts.
void AppendNote(std::string& to, const std::string& more) {
  if (more.empty()) return;
  if (!to.empty()) to += "; ";
  to += more;
}

// `why`, followed by the end of the server's log.
std::string WithServerLog(const std::string& why, const ServerProcess& server) {
  return why + "\n--- server log (tail) ---\n" + server.LogTail(4000);
}

// Starts the server of `workload` (clustering off for a -nocluster one) and prepares its
// load. nullptr and `report.error` on failure.
std::unique_ptr<LiveServer> StartServerWorkload(const std::string& workload, const Config& c,
                                                WorkloadReport& report) {
  auto live = std::make_unique<LiveServer>();
  live->workload = workload;
  const std::string name = BaseWorkload(workload);
  std::vector<std::string> server_args = c.server_args;
  if (name != workload) {
    server_args.push_back("--clustering");
    server_args.push_back("off");
  }
  std::string error;
  live->root = TempDir::Create(c.tmp_parent, "causeloop-bench-" + workload + "-", error);
  if (!live->root) {
    report.error = error;
    return nullptr;
  }
  if (c.keep_data) live->root->keep();
  const std::filesystem::path data_dir = live->root->path() / "data";

  const auto creds = Bootstrap(c.binary, data_dir, std::chrono::seconds(60), error);
  if (!creds) {
    report.error = error;
    return nullptr;
  }
  ServerProcess::Options server_options{
      .binary = c.binary,
      .data_dir = data_dir,
      .port_file = live->root->path() / "port",
      .log_path = live->root->path() / "server.log",
      .extra_args = server_args,
      .ready_timeout = std::chrono::seconds(static_cast<long long>(c.ready_timeout)),
  };
  live->server = ServerProcess::Start(server_options, error);
  if (!live->server) {
    report.error = error;
    return nullptr;
  }
  const std::string host = "127.0.0.1:" + std::to_string(live->server->port());
  live->engine = EngineOptions{
      .port = live->server->port(),
      .connections = name == "single" ? c.connections : c.senders,
      .request_timeout = Ms(c.request_timeout),
      .drain_timeout = Ms(std::max(15.0, c.request_timeout)),
      .max_backoff = Ms(c.max_backoff),
  };
  RecordFactory factory(c.seed);
  live->templates = name == "single"
                        ? MakeSingleTemplates(factory, 1024, "k", host, creds->token)
                        : MakeBatchTemplates(factory, 16, c.batch_size, "k", host, creds->token);

  std::uint64_t first_new_key = 0;
  std::uint64_t pool = 0;
  double reuse = 0;
  if (name == "batch-dedup") {
    // Seed the pool through the API, bounded in time, then reuse it.
    TemplateSource seed(live->templates, 0, 0, 0, c.seed);
    seed.set_new_key_limit(static_cast<std::uint64_t>(c.dedup_pool));
    const EngineResult seeded =
        RunLoad(live->engine, seed, {milliseconds(300'000)}, live->server.get());
    std::uint64_t accepted = 0;
    for (const PhaseStats& p : seeded.phases) accepted += p.accepted_records;
    if (seeded.aborted || accepted < static_cast<std::uint64_t>(c.dedup_pool)) {
      report.error =
          WithServerLog("seeding the dedup pool failed: " +
                            (seeded.aborted ? seeded.abort_reason
                                            : std::to_string(accepted) + " of " +
                                                  std::to_string(c.dedup_pool) + " keys accepted"),
                        *live->server);
      return nullptr;
    }
    first_new_key = seed.next_new_key();
    pool = static_cast<std::uint64_t>(c.dedup_pool);
    reuse = c.dedup_fraction;
    const double seed_seconds = seeded.phases.empty() ? 0 : seeded.phases[0].seconds;
    live->note = "seeded " + std::to_string(accepted) + " keys in " +
                 std::to_string(seed_seconds).substr(0, 5) + " s";
  }
  live->source =
      std::make_unique<TemplateSource>(live->templates, first_new_key, pool, reuse, c.seed + 7);
  return live;
}

// Stops the server and completes `report` (notes, the assignment histogram, errors).
void FinishServerWorkload(LiveServer& live, WorkloadReport& report) {
  AppendNote(report.note, live.note);
  if (BaseWorkload(live.workload) == live.workload) {
    std::string metrics;
    if (HttpGet(live.server->port(), "/metrics", std::chrono::seconds(10), &metrics) == 200) {
      AppendNote(report.note, AssignLatencySummary(metrics));
    }
  }
  const bool clean_exit = live.server->Stop(std::chrono::seconds(30));
  if (!clean_exit && report.error.empty()) {
    AppendNote(report.note, "server did not exit cleanly on SIGTERM");
  }
}

WorkloadReport RunServerWorkload(const std::string& workload, const Config& c) {
  WorkloadReport report;
  report.name = workload;
  std::unique_ptr<LiveServer> live = StartServerWorkload(workload, c, report);
  if (!live) return report;
  EngineResult result = RunLoad(live->engine, *live->source, Phases(c), live->server.get());
  if (result.aborted) {
    report.error = WithServerLog(result.abort_reason, *live->server);
  }
  if (result.phases.size() > 1) {
    report.runs.assign(std::make_move_iterator(result.phases.begin() + 1),
                       std::make_move_iterator(result.phases.end()));
  }
  FinishServerWorkload(*live, report);
  return report;
}

// --interleave: `workload` and its clustering-off twin on two servers that run side by side,
// driven in turn: after each one's warm-up, `pairs` pairs of one --seconds run on each,
// the order swapped every pair (on-off, off-on, ...) so that a steady drift of the machine
// favours neither. A run starts on fresh connections after a 0.5 s settle that is not
// counted. Run i of each report belongs to "round" i, so the on/off ratio is also given
// pair by pair. The idle server of a pair does nothing but its own background work.
void RunInterleaved(const std::string& workload, const Config& c, int pairs, WorkloadReport& on,
                    WorkloadReport& off) {
  on = WorkloadReport{workload};
  off = WorkloadReport{workload + std::string(kNoCluster)};
  on.interleaved = off.interleaved = true;
  std::unique_ptr<LiveServer> a = StartServerWorkload(on.name, c, on);
  if (!a) return;
  std::unique_ptr<LiveServer> b = StartServerWorkload(off.name, c, off);
  if (!b) {
    FinishServerWorkload(*a, on);
    return;
  }
  auto run = [&](LiveServer& live, WorkloadReport& report, std::vector<milliseconds> phases,
                 int pair) {
    if (!report.error.empty() || g_interrupted.load()) return;
    EngineResult result = RunLoad(live.engine, *live.source, phases, live.server.get());
    if (result.aborted) {
      report.error = WithServerLog(result.abort_reason, *live.server);
      return;
    }
    if (pair > 0 && result.phases.size() > 1) {
      report.runs.push_back(std::move(result.phases[1]));
      report.round_of_run.push_back(pair);
    }
  };
  if (c.warmup > 0) {
    run(*a, on, {Ms(c.warmup)}, 0);
    run(*b, off, {Ms(c.warmup)}, 0);
  }
  for (int pair = 1; pair <= pairs; ++pair) {
    const std::vector<milliseconds> phases = {milliseconds(500), Ms(c.seconds)};
    if (pair % 2 == 1) {
      run(*a, on, phases, pair);
      run(*b, off, phases, pair);
    } else {
      run(*b, off, phases, pair);
      run(*a, on, phases, pair);
    }
  }
  FinishServerWorkload(*a, on);
  FinishServerWorkload(*b, off);
}

void RunCeiling(const Config& c, WorkloadReport& new_keys, WorkloadReport& dedup) {
  new_keys.name = "ceiling-new";
  dedup.name = "ceiling-dedup";
  std::string error;
  auto root = TempDir::Create(c.tmp_parent, "causeloop-bench-ceiling-", error);
  if (!root) {
    new_keys.error = dedup.error = error;
    return;
  }
  if (c.keep_data) root->keep();
  CeilingOptions o{
      .dir = root->path(),
      .rows_per_transaction = c.batch_size,
      .warmup = Ms(c.warmup),
      .run_length = Ms(c.seconds),
      .runs = c.runs,
      .dedup_pool = c.dedup_pool,
      .dedup_fraction = c.dedup_fraction,
      .seed = c.seed,
  };
  CeilingResult r = RunSqliteCeiling(o);
  new_keys.runs = std::move(r.new_keys);
  dedup.runs = std::move(r.dedup);
  if (!r.error.empty()) {
    if (new_keys.runs.size() < static_cast<std::size_t>(c.runs)) new_keys.error = r.error;
    dedup.error = r.error;
  }
}

// ---- output ----

struct Medians {
  double records_per_s = 0, requests_per_s = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  double dedup_fraction = 0, generator_cpu_pct = 0, server_cpu_us_per_record = 0;
  std::uint64_t errors = 0;
  std::map<int, std::uint64_t> non_2xx;
  std::int64_t rss_kib = -1;
};

Medians MedianOf(const WorkloadReport& r) {
  Medians m;
  auto med = [&](auto field) {
    std::vector<double> v;
    for (const PhaseSummary& s : r.summaries) v.push_back(s.*field);
    return Median(v);
  };
  m.records_per_s = med(&PhaseSummary::records_per_s);
  m.requests_per_s = med(&PhaseSummary::requests_per_s);
  m.p50_ms = med(&PhaseSummary::p50_ms);
  m.p99_ms = med(&PhaseSummary::p99_ms);
  m.dedup_fraction = med(&PhaseSummary::dedup_fraction);
  m.generator_cpu_pct = med(&PhaseSummary::generator_cpu_pct);
  m.server_cpu_us_per_record = med(&PhaseSummary::server_cpu_us_per_record);
  for (const PhaseSummary& s : r.summaries) {
    m.max_ms = std::max(m.max_ms, s.max_ms);
    m.errors += s.errors;
  }
  for (const PhaseStats& p : r.runs) {
    for (const auto& [status, count] : p.non_2xx) m.non_2xx[status] += count;
    m.rss_kib = std::max(m.rss_kib, p.server_rss_kib);
  }
  return m;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Thousands(double v) {
  std::string digits = Fixed(v, 0);
  std::string out;
  const int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    out.push_back(digits[static_cast<std::size_t>(i)]);
    if ((n - i - 1) % 3 == 0 && i != n - 1 && digits[0] != '-') out.push_back(',');
  }
  return out;
}

void PrintRow(const std::string& name, const std::string& run, double rps, double qps, double p50,
              double p99, double max, double dedup, const std::string& non2xx, std::uint64_t errors,
              double gen_cpu, double srv_us, std::int64_t rss_kib) {
  std::printf("%-14s %-6s %11s %9s %8s %8s %8s %6s %-12s %6llu %6s %8s %7s\n", name.c_str(),
              run.c_str(), Thousands(rps).c_str(), Thousands(qps).c_str(), Fixed(p50, 2).c_str(),
              Fixed(p99, 2).c_str(), Fixed(max, 1).c_str(), Fixed(100 * dedup, 0).c_str(),
              non2xx.c_str(), static_cast<unsigned long long>(errors), Fixed(gen_cpu, 0).c_str(),
              srv_us > 0 ? Fixed(srv_us, 1).c_str() : "-",
              rss_kib >= 0 ? Fixed(rss_kib / 1024.0, 0).c_str() : "-");
}

const WorkloadReport* Find(const std::vector<WorkloadReport>& reports, const std::string& name) {
  for (const WorkloadReport& r : reports) {
    if (r.name == name && !r.summaries.empty()) return &r;
  }
  return nullptr;
}

struct Ratio {
  std::string server, ceiling;
  double value;
};

std::vector<Ratio> Ratios(const std::vector<WorkloadReport>& reports) {
  std::vector<Ratio> out;
  const std::pair<const char*, const char*> pairs[] = {
      {"single", "ceiling-new"}, {"batch-new", "ceiling-new"}, {"batch-dedup", "ceiling-dedup"}};
  for (const auto& [server, ceiling] : pairs) {
    const WorkloadReport* s = Find(reports, server);
    const WorkloadReport* c = Find(reports, ceiling);
    if (s == nullptr || c == nullptr) continue;
    const double denominator = MedianOf(*c).records_per_s;
    if (denominator > 0) out.push_back({server, ceiling, MedianOf(*s).records_per_s / denominator});
  }
  return out;
}

// The bars of TARGETS.md, for a one-word verdict next to each median.
std::string Verdict(const std::string& name, const Medians& m) {
  double min_rate = 0, max_p99 = 0;
  if (name == "single")
    min_rate = 15000, max_p99 = 15;
  else if (name == "batch-new")
    min_rate = 60000, max_p99 = 100;
  else if (name == "batch-dedup")
    min_rate = 30000;
  else
    return "";
  const bool ok =
      m.records_per_s >= min_rate && (max_p99 == 0 || m.p99_ms <= max_p99) && m.errors == 0;
  std::string bar = ">= " + Thousands(min_rate) + " rec/s";
  if (max_p99 > 0) bar += ", p99 <= " + Fixed(max_p99, 0) + " ms";
  bar += ", no errors";
  return std::string(ok ? "meets" : "BELOW") + " the bar (" + bar + ")";
}

// The median records/s of each round's runs.
std::map<int, double> RoundRates(const WorkloadReport& r) {
  std::map<int, std::vector<double>> rates;
  for (std::size_t i = 0; i < r.summaries.size(); ++i) {
    rates[r.round_of_run[i]].push_back(r.summaries[i].records_per_s);
  }
  std::map<int, double> out;
  for (auto& [round, v] : rates) out[round] = Median(v);
  return out;
}

// On / off within each round both ran in.
std::vector<double> RoundRatios(const WorkloadReport& on, const WorkloadReport& off) {
  const std::map<int, double> a = RoundRates(on), b = RoundRates(off);
  std::vector<double> out;
  for (const auto& [round, rate] : a) {
    auto it = b.find(round);
    if (it != b.end() && it->second > 0) out.push_back(rate / it->second);
  }
  return out;
}

void PrintReport(const std::vector<WorkloadReport>& reports) {
  std::printf("\n%-14s %-6s %11s %9s %8s %8s %8s %6s %-12s %6s %6s %8s %7s\n", "workload", "run",
              "records/s", "req/s", "p50 ms", "p99 ms", "max ms", "dedup%", "non-2xx", "errors",
              "gen%", "srv us/r", "rss MiB");
  for (const WorkloadReport& r : reports) {
    const bool rounds = !r.round_of_run.empty() && r.round_of_run.back() > 1;
    int run_in_round = 0;
    for (std::size_t i = 0; i < r.summaries.size(); ++i) {
      const PhaseSummary& s = r.summaries[i];
      const PhaseStats& p = r.runs[i];
      const int round = r.round_of_run[i];
      run_in_round = i > 0 && r.round_of_run[i - 1] == round ? run_in_round + 1 : 1;
      PrintRow(r.name,
               rounds ? std::to_string(round) + "." + std::to_string(run_in_round)
                      : std::to_string(i + 1),
               s.records_per_s, s.requests_per_s, s.p50_ms, s.p99_ms, s.max_ms, s.dedup_fraction,
               FormatStatusCounts(p.non_2xx), s.errors, s.generator_cpu_pct,
               s.server_cpu_us_per_record, p.server_rss_kib);
    }
    if (!r.summaries.empty()) {
      const Medians m = MedianOf(r);
      PrintRow(r.name, "MEDIAN", m.records_per_s, m.requests_per_s, m.p50_ms, m.p99_ms, m.max_ms,
               m.dedup_fraction, FormatStatusCounts(m.non_2xx), m.errors, m.generator_cpu_pct,
               m.server_cpu_us_per_record, m.rss_kib);
    }
    if (!r.note.empty()) std::printf("%-14s note: %s\n", r.name.c_str(), r.note.c_str());
    if (!r.error.empty()) std::printf("%-14s FAILED: %s\n", r.name.c_str(), r.error.c_str());
    std::printf("\n");
  }
  bool any_overhead = false;
  for (const WorkloadReport& off : reports) {
    const std::string base = BaseWorkload(off.name);
    if (base == off.name || off.summaries.empty()) continue;
    const WorkloadReport* on = Find(reports, base);
    if (on == nullptr) continue;
    if (!any_overhead)
      std::printf("Clustering on vs off (medians; TARGETS.md bar: within 15 %%):\n");
    any_overhead = true;
    const Medians m_on = MedianOf(*on), m_off = MedianOf(off);
    std::printf("  %-12s %11s vs %11s rec/s = %.3f, p99 %s vs %s ms\n", base.c_str(),
                Thousands(m_on.records_per_s).c_str(), Thousands(m_off.records_per_s).c_str(),
                m_off.records_per_s > 0 ? m_on.records_per_s / m_off.records_per_s : 0.0,
                Fixed(m_on.p99_ms, 2).c_str(), Fixed(m_off.p99_ms, 2).c_str());
    const std::vector<double> per_round = RoundRatios(*on, off);
    if (per_round.size() > 1) {
      std::printf("  %-12s per %s:", "", on->interleaved ? "pair" : "round");
      for (double v : per_round) std::printf(" %.3f", v);
      std::printf("; median %.3f\n", Median(per_round));
    }
  }
  if (any_overhead) std::printf("\n");
  const std::vector<Ratio> ratios = Ratios(reports);
  if (!ratios.empty()) {
    std::printf("Server vs the raw SQLite upsert ceiling measured in this run (medians):\n");
    for (const Ratio& r : ratios) {
      std::printf("  %-12s / %-14s %11s / %11s rows/s = %.2f\n", r.server.c_str(),
                  r.ceiling.c_str(),
                  Thousands(MedianOf(*Find(reports, r.server)).records_per_s).c_str(),
                  Thousands(MedianOf(*Find(reports, r.ceiling)).records_per_s).c_str(), r.value);
    }
    std::printf("\n");
  }
  bool any_verdict = false;
  for (const WorkloadReport& r : reports) {
    if (r.summaries.empty()) continue;
    const std::string v = Verdict(r.name, MedianOf(r));
    if (v.empty()) continue;
    if (!any_verdict) std::printf("Against TARGETS.md:\n");
    any_verdict = true;
    std::printf("  %-12s %s\n", r.name.c_str(), v.c_str());
  }
}

std::string JsonStatuses(const std::map<int, std::uint64_t>& counts) {
  std::string out = "{";
  for (const auto& [status, count] : counts) {
    if (out.size() > 1) out += ",";
    out += '"';
    out += std::to_string(status);
    out += "\":";
    out += std::to_string(count);
  }
  return out + "}";
}

std::string JsonNumber(double v) { return Fixed(v, 3); }

bool WriteJson(const std::string& path, const Config& c, const std::string& started_at,
               const std::string& host_info, const std::vector<WorkloadReport>& reports) {
  std::ostringstream o;
  o << "{\n  \"started_at\": " << JsonQuote(started_at)
    << ",\n  \"machine\": " << JsonQuote(host_info) << ",\n  \"binary\": " << JsonQuote(c.binary)
    << ",\n  \"config\": {\"seconds\": " << JsonNumber(c.seconds)
    << ", \"warmup\": " << JsonNumber(c.warmup) << ", \"runs\": " << c.runs
    << ", \"rounds\": " << c.rounds << ", \"interleave\": " << c.interleave
    << ", \"connections\": " << c.connections << ", \"senders\": " << c.senders
    << ", \"batch_size\": " << c.batch_size << ", \"dedup_pool\": " << c.dedup_pool
    << ", \"dedup_fraction\": " << JsonNumber(c.dedup_fraction) << ", \"seed\": " << c.seed
    << "},\n  \"workloads\": [";
  bool first = true;
  for (const WorkloadReport& r : reports) {
    o << (first ? "\n" : ",\n") << "    {\"name\": " << JsonQuote(r.name);
    first = false;
    if (!r.error.empty()) o << ", \"error\": " << JsonQuote(r.error);
    if (!r.note.empty()) o << ", \"note\": " << JsonQuote(r.note);
    if (!r.summaries.empty()) {
      const Medians m = MedianOf(r);
      o << ",\n     \"median\": {\"records_per_s\": " << JsonNumber(m.records_per_s)
        << ", \"requests_per_s\": " << JsonNumber(m.requests_per_s)
        << ", \"p50_ms\": " << JsonNumber(m.p50_ms) << ", \"p99_ms\": " << JsonNumber(m.p99_ms)
        << ", \"max_ms\": " << JsonNumber(m.max_ms)
        << ", \"dedup_fraction\": " << JsonNumber(m.dedup_fraction) << ", \"errors\": " << m.errors
        << ", \"non_2xx\": " << JsonStatuses(m.non_2xx)
        << ", \"generator_cpu_pct\": " << JsonNumber(m.generator_cpu_pct)
        << ", \"server_cpu_us_per_record\": " << JsonNumber(m.server_cpu_us_per_record)
        << ", \"server_rss_kib\": " << m.rss_kib << "},\n     \"runs\": [";
      for (std::size_t i = 0; i < r.summaries.size(); ++i) {
        const PhaseSummary& s = r.summaries[i];
        const PhaseStats& p = r.runs[i];
        o << (i ? ",\n       " : "\n       ") << "{\"round\": " << r.round_of_run[i]
          << ", \"seconds\": " << JsonNumber(p.seconds)
          << ", \"records_per_s\": " << JsonNumber(s.records_per_s)
          << ", \"requests_per_s\": " << JsonNumber(s.requests_per_s)
          << ", \"p50_ms\": " << JsonNumber(s.p50_ms) << ", \"p99_ms\": " << JsonNumber(s.p99_ms)
          << ", \"max_ms\": " << JsonNumber(s.max_ms) << ", \"ok_requests\": " << p.ok_requests
          << ", \"accepted_records\": " << p.accepted_records
          << ", \"deduplicated_records\": " << p.deduplicated_records
          << ", \"rejected_records\": " << p.rejected_records
          << ", \"bad_bodies\": " << p.bad_bodies
          << ", \"transport_errors\": " << p.transport_errors << ", \"timeouts\": " << p.timeouts
          << ", \"connects\": " << p.connects
          << ", \"missing_retry_after\": " << p.missing_retry_after
          << ", \"non_2xx\": " << JsonStatuses(p.non_2xx)
          << ", \"generator_cpu_seconds\": " << JsonNumber(p.generator_cpu_seconds)
          << ", \"server_cpu_seconds\": " << JsonNumber(p.server_cpu_seconds)
          << ", \"server_rss_kib\": " << p.server_rss_kib << "}";
      }
      o << "\n     ]";
    }
    o << "}";
  }
  o << "\n  ],\n  \"ratios\": {";
  first = true;
  for (const Ratio& r : Ratios(reports)) {
    o << (first ? "" : ", ") << JsonQuote(r.server + "/" + r.ceiling) << ": "
      << JsonNumber(r.value);
    first = false;
  }
  o << "}\n}\n";
  std::ofstream out(path);
  out << o.str();
  return static_cast<bool>(out);
}

std::string HostInfo() {
  std::string model = "unknown cpu";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  char hostname[256] = "?";
  gethostname(hostname, sizeof hostname - 1);
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const double mem_gib = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                         static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024 * 1024);
  return std::string(hostname) + ", " + std::to_string(cpus) + " cpus (" + model + "), " +
         Fixed(mem_gib, 0) + " GiB";
}

void OnSignal(int) { g_interrupted.store(true); }

int Main(int argc, char** argv) {
  Config c;
  if (!ParseFlags(argc, argv, c)) return 2;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const bool needs_server = std::any_of(c.workloads.begin(), c.workloads.end(),
                                        [](const std::string& w) { return w != "ceiling"; });
  if (needs_server && access(c.binary.c_str(), X_OK) != 0) {
    std::cerr << "bench_ingest: no executable causeloop binary at " << c.binary
              << " (build it, or pass --binary)\n";
    return 2;
  }
  struct statfs fs {};
  if (statfs(c.tmp_parent.c_str(), &fs) == 0 && fs.f_type == 0x01021994 /* TMPFS_MAGIC */) {
    std::cerr << "bench_ingest: warning: " << c.tmp_parent
              << " is tmpfs, so fsync is free and durable figures mean nothing; use --tmp-dir\n";
  }
  const std::string started_at = causeloop::FormatRfc3339(causeloop::RealClock().Now());
  const std::string host_info = HostInfo();
  const double per_workload = c.warmup + c.runs * c.seconds;
  std::printf("bench_ingest %s on %s\n  binary %s, data under %s\n", started_at.c_str(),
              host_info.c_str(), c.binary.c_str(), c.tmp_parent.c_str());
  std::printf("  %d x %.0f s measured after %.0f s warm-up per workload (~%.0f s of load each)\n",
              c.runs, c.seconds, c.warmup, per_workload);
  std::fflush(stdout);

  std::vector<WorkloadReport> reports;
  // A later round's runs join the report of the same name.
  auto add = [&reports, &c](WorkloadReport r, int round) {
    auto it = std::find_if(reports.begin(), reports.end(),
                           [&](const WorkloadReport& x) { return x.name == r.name; });
    if (it == reports.end()) it = reports.insert(reports.end(), WorkloadReport{r.name});
    for (PhaseStats& run : r.runs) {
      it->runs.push_back(std::move(run));
      it->round_of_run.push_back(round);
    }
    auto join = [&c, round](std::string& to, const std::string& more) {
      if (more.empty()) return;
      AppendNote(to, (c.rounds > 1 ? "round " + std::to_string(round) + ": " : "") + more);
    };
    join(it->note, r.note);
    join(it->error, r.error);
  };
  std::set<std::string> interleaved;
  for (const std::string& w : c.workloads) {
    if (c.interleave == 0 || BaseWorkload(w) != w || g_interrupted.load()) continue;
    const std::string twin = w + std::string(kNoCluster);
    if (std::find(c.workloads.begin(), c.workloads.end(), twin) == c.workloads.end()) continue;
    std::printf("running %s and %s interleaved, %d pairs...\n", w.c_str(), twin.c_str(),
                c.interleave);
    std::fflush(stdout);
    WorkloadReport on, off;
    RunInterleaved(w, c, c.interleave, on, off);
    reports.push_back(std::move(on));
    reports.push_back(std::move(off));
    interleaved.insert(w);
    interleaved.insert(twin);
  }
  for (int round = 1; round <= c.rounds; ++round) {
    for (const std::string& w : c.workloads) {
      if (g_interrupted.load()) break;
      if (interleaved.count(w) != 0) continue;
      std::printf("running %s%s...\n", w.c_str(),
                  c.rounds > 1 ? (" (round " + std::to_string(round) + ")").c_str() : "");
      std::fflush(stdout);
      if (w == "ceiling") {
        WorkloadReport new_keys, dedup;
        RunCeiling(c, new_keys, dedup);
        add(std::move(new_keys), round);
        add(std::move(dedup), round);
      } else {
        add(RunServerWorkload(w, c), round);
      }
    }
  }
  for (WorkloadReport& r : reports) Summarize(r);
  PrintReport(reports);
  if (!c.json_path.empty() && !WriteJson(c.json_path, c, started_at, host_info, reports)) {
    std::cerr << "bench_ingest: could not write " << c.json_path << "\n";
    return 1;
  }
  const bool failed = std::any_of(reports.begin(), reports.end(),
                                  [](const WorkloadReport& r) { return !r.error.empty(); });
  if (g_interrupted.load()) return 130;
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace causeloop::bench

int main(int argc, char** argv) { return causeloop::bench::Main(argc, argv); }
