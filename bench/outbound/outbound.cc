// bench_outbound: outbound webhook delivery (SPEC §7.2) against TARGETS.md "Outbound".
//
//   throughput  E endpoints on an in-process HTTPS sink, N new issues ingested in batches as
//               fast as the server takes them; every issue.created event goes to every
//               endpoint. deliveries/s = deliveries / (last - first delivery received).
//   latency     one endpoint, new issues ingested at a steady rate (default 1,000/s, in small
//               batches on a fixed schedule); per delivery, the sink's receive time of its
//               first attempt minus the event's "timestamp" (the commit time, ms).
//
// Each phase gets a fresh server and an empty store. See bench/README.md, "Outbound webhooks".

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/time.h"
#include "ingest/server_process.h"
#include "outbound/api_client.h"
#include "outbound/https_sink.h"

namespace causeloop::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string binary = CAUSELOOP_DEFAULT_BINARY;  // the causeloop binary
  std::filesystem::path tmp_dir;                  // parent of the per-run directory
  bool run_throughput = true;
  bool run_latency = true;
  int endpoints = 8;                     // throughput: endpoints, each gets every event
  int events = 4000;                     // throughput: issues ingested
  int batch_size = 500;                  // throughput: records per ingest request
  double rate = 1000;                    // latency: events per second
  double latency_seconds = 20;           // latency: how long to ingest at `rate`
  int latency_batch = 10;                // latency: records per ingest request
  int sink_threads = 1;                  // io threads of the HTTPS sink
  int drain_timeout_s = 60;              // give up waiting after this long without a new delivery
  bool keep_data = false;                // keep the temporary directory (server logs)
  std::vector<std::string> server_args;  // extra `causeloop serve` flags
};

constexpr const char* kUsage = R"(usage: bench_outbound [flags]
  --binary PATH           causeloop binary (default: this build's)
  --tmp-dir DIR           where the temporary directory goes (default: $TMPDIR or /tmp)
  --phases LIST           throughput,latency (default both)
  --endpoints E           throughput: webhook endpoints, each receives every event (8)
  --events N              throughput: issues ingested (4000)
  --batch-size B          throughput: records per ingest request (500)
  --rate R                latency: events per second (1000)
  --latency-seconds S     latency: how long to ingest at R (20)
  --latency-batch B       latency: records per ingest request, sent every B/R s (10)
  --sink-threads T        io threads of the HTTPS sink (1)
  --drain-timeout S       stop waiting after S s without a new delivery (60)
  --server-arg ARG        extra flag for `causeloop serve` (repeatable)
  --keep-data             keep the temporary directory and the server logs
)";

// Parses argv; nullopt (after printing why) on a bad flag.
std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') {
    o.tmp_dir = tmp;
  } else {
    o.tmp_dir = "/tmp";
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_value = false;
    if (const std::size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      has_value = true;
    }
    auto next = [&]() -> std::optional<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    auto number = [&](auto& out, double min) -> bool {
      auto v = next();
      if (!v) return false;
      char* end = nullptr;
      const double d = std::strtod(v->c_str(), &end);
      if (end == v->c_str() || *end != '\0' || d < min) return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(d);
      return true;
    };
    bool ok = true;
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);  // NOLINT(concurrency-mt-unsafe): no other thread runs yet
    } else if (flag == "--binary") {
      auto v = next();
      ok = v.has_value();
      if (ok) o.binary = *v;
    } else if (flag == "--tmp-dir") {
      auto v = next();
      ok = v.has_value();
      if (ok) o.tmp_dir = *v;
    } else if (flag == "--phases") {
      auto v = next();
      ok = v.has_value();
      if (ok) {
        o.run_throughput = v->find("throughput") != std::string::npos;
        o.run_latency = v->find("latency") != std::string::npos;
        ok = o.run_throughput || o.run_latency;
      }
    } else if (flag == "--endpoints") {
      ok = number(o.endpoints, 1);
    } else if (flag == "--events") {
      ok = number(o.events, 1);
    } else if (flag == "--batch-size") {
      ok = number(o.batch_size, 1) && o.batch_size <= 500;
    } else if (flag == "--rate") {
      ok = number(o.rate, 1);
    } else if (flag == "--latency-seconds") {
      ok = number(o.latency_seconds, 1);
    } else if (flag == "--latency-batch") {
      ok = number(o.latency_batch, 1) && o.latency_batch <= 500;
    } else if (flag == "--sink-threads") {
      ok = number(o.sink_threads, 1);
    } else if (flag == "--drain-timeout") {
      ok = number(o.drain_timeout_s, 1);
    } else if (flag == "--server-arg") {
      auto v = next();
      ok = v.has_value();
      if (ok) o.server_args.push_back(*v);
    } else if (flag == "--keep-data") {
      o.keep_data = true;
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "bench_outbound: bad or incomplete flag '" << args[i] << "'\n" << kUsage;
      return std::nullopt;
    }
  }
  return o;
}

// A running server with a fresh store, and a token for it.
struct Server {
  std::unique_ptr<ServerProcess> process;
  Credentials credentials;
};

std::optional<Server> StartServer(const Options& o, const std::filesystem::path& run_dir,
                                  const std::string& phase, std::string& error) {
  const std::filesystem::path dir = run_dir / phase;
  std::error_code ec;
  std::filesystem::create_directories(dir / "data", ec);
  if (ec) {
    error = "mkdir " + dir.string() + ": " + ec.message();
    return std::nullopt;
  }
  auto credentials = Bootstrap(o.binary, dir / "data", std::chrono::seconds(60), error);
  if (!credentials) return std::nullopt;
  ServerProcess::Options so{.binary = o.binary,
                            .data_dir = dir / "data",
                            .port_file = dir / "port",
                            .log_path = dir / "server.log",
                            .extra_args = {"--allow-private-webhook-targets", "--ca-file",
                                           (run_dir / "pki" / "ca.pem").string()}};
  so.extra_args.insert(so.extra_args.end(), o.server_args.begin(), o.server_args.end());
  auto process = ServerProcess::Start(so, error);
  if (!process) return std::nullopt;
  return Server{std::move(process), std::move(*credentials)};
}

// Registers an endpoint for issue.created at https://127.0.0.1:<sink>/hook/<index>.
bool CreateEndpoint(ApiClient& api, int sink_port, int index, std::string& error) {
  const std::string body = R"({"url":"https://127.0.0.1:)" + std::to_string(sink_port) + "/hook/" +
                           std::to_string(index) +
                           R"(","event_types":["issue.created"],"description":"bench"})";
  std::string response;
  const int status = api.Call("POST", "/v1/webhooks", body, response);
  if (status != 201) {
    error = "POST /v1/webhooks answered " + std::to_string(status) + ": " + response;
    return false;
  }
  return true;
}

// A pronounceable word for `n` ("kabomu"). Titles are built from such words so that they share
// no tokens: numbers alone would be masked by clustering and fold every issue into a few
// patterns, i.e. a few ordered delivery queues per endpoint.
std::string Word(std::uint64_t n) {
  static constexpr std::string_view kConsonants = "bdfgklmnprstvz";
  static constexpr std::string_view kVowels = "aeiou";
  std::string s;
  for (int i = 0; i < 3; ++i) {
    s.push_back(kConsonants[n % kConsonants.size()]);
    n /= kConsonants.size();
    s.push_back(kVowels[n % kVowels.size()]);
    n /= kVowels.size();
  }
  return s;
}

// A batch body of `count` new issues numbered from `first`; every external_id is new.
std::string BatchBody(std::string_view tag, long long first, int count) {
  static constexpr std::array<std::string_view, 8> kServices = {
      "api", "db", "checkout", "payments", "search", "auth", "queue", "web"};
  std::string body = R"({"records":[)";
  for (int k = 0; k < count; ++k) {
    const long long n = first + k;
    if (k > 0) body.push_back(',');
    const std::string_view service = kServices[static_cast<std::size_t>(n) % kServices.size()];
    body.append(R"({"source":"custom_api","external_id":")")
        .append(tag)
        .append("-")
        .append(std::to_string(n))
        .append(R"(","title":")")
        .append(Word(static_cast<std::uint64_t>(n)))
        .append(" ")
        .append(Word(static_cast<std::uint64_t>(n) * 2654435761U + 17))
        .append(" ")
        .append(Word(static_cast<std::uint64_t>(n) * 40503U + 977))
        .append(R"(","service":")")
        .append(service)
        .append(R"(","severity":"high"})");
  }
  body.append("]}");
  return body;
}

// Ingests one batch; the number of records the server accepted, or -1 (with `error`).
long long Ingest(ApiClient& api, std::string_view tag, long long first, int count,
                 std::string& error) {
  std::string response;
  const int status = api.Call("POST", "/v1/ingest/batch", BatchBody(tag, first, count), response);
  if (status != 202 && status != 200) {
    error =
        "POST /v1/ingest/batch answered " + std::to_string(status) + ": " + response.substr(0, 300);
    return -1;
  }
  const std::string needle = "\"accepted\":";
  const std::size_t at = response.find(needle);
  if (at == std::string::npos) {
    error = "ingest answer without accepted: " + response.substr(0, 300);
    return -1;
  }
  return std::atoll(response.c_str() + at + needle.size());
}

// First attempts, one per (endpoint, webhook-id); later ones are retries.
struct Collected {
  std::vector<Receipt> first;
  std::uint64_t retries = 0;
  std::set<std::string> patterns;  // distinct pattern ids seen (ordering keys)
};

// Takes receipts until `expected` first attempts arrived or none came for `drain_timeout`.
void Collect(HttpsSink& sink, std::uint64_t expected, std::chrono::seconds drain_timeout,
             Collected& out, std::unordered_set<std::string>& seen) {
  auto last_progress = SteadyClock::now();
  for (;;) {
    std::vector<Receipt> batch = sink.TakeReceipts();
    if (!batch.empty()) last_progress = SteadyClock::now();
    for (Receipt& r : batch) {
      if (!r.pattern_id.empty()) out.patterns.insert(r.pattern_id);
      if (!seen.insert(std::to_string(r.endpoint) + "/" + r.webhook_id).second) {
        ++out.retries;
        continue;
      }
      out.first.push_back(std::move(r));
    }
    if (out.first.size() >= expected) return;
    if (SteadyClock::now() - last_progress > drain_timeout) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

struct Latency {
  double p50 = 0, p99 = 0, max = 0;
  std::uint64_t unparsed = 0;  // receipts without a readable timestamp
};

// Exact percentiles (nearest rank) of receive time - commit time, in ms.
Latency CommitToReceipt(const std::vector<Receipt>& receipts) {
  Latency out;
  std::vector<double> ms;
  ms.reserve(receipts.size());
  for (const Receipt& r : receipts) {
    auto committed = ParseRfc3339(r.timestamp);
    if (!committed) {
      ++out.unparsed;
      continue;
    }
    ms.push_back(static_cast<double>(r.received_us) / 1000.0 -
                 static_cast<double>(ToUnixMillis(*committed)));
  }
  if (ms.empty()) return out;
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double p) {
    const auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::clamp<std::size_t>(i, 1, ms.size()) - 1];
  };
  out.p50 = rank(0.50);
  out.p99 = rank(0.99);
  out.max = ms.back();
  return out;
}

struct PhaseResult {
  std::string name;
  int endpoints = 0;
  long long events = 0;         // records the server accepted
  std::uint64_t expected = 0;   // endpoints * events
  std::uint64_t delivered = 0;  // distinct first attempts received
  std::uint64_t retries = 0;
  std::size_t patterns = 0;
  double ingest_seconds = 0;    // first ingest request sent -> last answered
  double offered_rate = 0;      // latency: events/s asked for (0: as fast as possible)
  double delivery_seconds = 0;  // first -> last delivery received
  double deliveries_per_s = 0;
  Latency latency;
  double server_cpu_pct = 0;  // of one core, over the phase
  double bench_cpu_pct = 0;   // this process (sink + ingest client)
  std::uint64_t sink_connections = 0;
};

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

void Finish(PhaseResult& r, Collected& c, double wall, double server_cpu, double bench_cpu) {
  r.delivered = c.first.size();
  r.retries = c.retries;
  r.patterns = c.patterns.size();
  if (!c.first.empty()) {
    auto [lo, hi] = std::minmax_element(
        c.first.begin(), c.first.end(),
        [](const Receipt& a, const Receipt& b) { return a.received_us < b.received_us; });
    r.delivery_seconds = static_cast<double>(hi->received_us - lo->received_us) / 1e6;
    if (r.delivery_seconds > 0)
      r.deliveries_per_s = static_cast<double>(r.delivered) / r.delivery_seconds;
  }
  r.latency = CommitToReceipt(c.first);
  r.server_cpu_pct = wall > 0 ? 100 * server_cpu / wall : 0;
  r.bench_cpu_pct = wall > 0 ? 100 * bench_cpu / wall : 0;
}

std::optional<PhaseResult> RunThroughput(const Options& o, const std::filesystem::path& run_dir,
                                         HttpsSink& sink, std::string& error) {
  auto server = StartServer(o, run_dir, "throughput", error);
  if (!server) return std::nullopt;
  ApiClient api(server->process->port(), server->credentials.token);
  for (int e = 0; e < o.endpoints; ++e) {
    if (!CreateEndpoint(api, sink.port(), e, error)) return std::nullopt;
  }
  (void)sink.TakeReceipts();
  const std::uint64_t connections_before = sink.connections();
  PhaseResult r{.name = "throughput", .endpoints = o.endpoints};
  const double server_cpu0 = server->process->CpuSeconds();
  const double bench_cpu0 = SelfCpuSeconds();
  const auto start = SteadyClock::now();
  for (long long first = 0; first < o.events; first += o.batch_size) {
    const int count = static_cast<int>(std::min<long long>(o.batch_size, o.events - first));
    const long long accepted = Ingest(api, "tp", first, count, error);
    if (accepted < 0) return std::nullopt;
    r.events += accepted;
  }
  r.ingest_seconds = Seconds(SteadyClock::now() - start);
  r.expected = static_cast<std::uint64_t>(r.events) * static_cast<std::uint64_t>(o.endpoints);
  Collected c;
  std::unordered_set<std::string> seen;
  Collect(sink, r.expected, std::chrono::seconds(o.drain_timeout_s), c, seen);
  const double wall = Seconds(SteadyClock::now() - start);
  Finish(r, c, wall, server->process->CpuSeconds() - server_cpu0, SelfCpuSeconds() - bench_cpu0);
  r.sink_connections = sink.connections() - connections_before;
  if (!server->process->Stop(std::chrono::seconds(30))) {
    std::cerr << "note: the throughput server did not exit cleanly on SIGTERM\n";
  }
  return r;
}

std::optional<PhaseResult> RunLatency(const Options& o, const std::filesystem::path& run_dir,
                                      HttpsSink& sink, std::string& error) {
  auto server = StartServer(o, run_dir, "latency", error);
  if (!server) return std::nullopt;
  ApiClient api(server->process->port(), server->credentials.token);
  // Its own path, so a late delivery from the throughput phase cannot count here.
  constexpr int kEndpoint = 1000;
  if (!CreateEndpoint(api, sink.port(), kEndpoint, error)) return std::nullopt;
  (void)sink.TakeReceipts();
  const std::uint64_t connections_before = sink.connections();
  PhaseResult r{.name = "latency", .endpoints = 1};
  const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(o.latency_batch / o.rate));
  const long long batches = std::llround(o.latency_seconds * o.rate / o.latency_batch);
  const double server_cpu0 = server->process->CpuSeconds();
  const double bench_cpu0 = SelfCpuSeconds();
  const auto start = SteadyClock::now();
  SteadyClock::duration worst_lag{};
  for (long long k = 0; k < batches; ++k) {
    // A fixed schedule: a slow answer delays the next batch but the rate catches up after.
    const auto due = start + k * interval;
    const auto now = SteadyClock::now();
    if (now < due) {
      std::this_thread::sleep_until(due);
    } else {
      worst_lag = std::max<SteadyClock::duration>(worst_lag, now - due);
    }
    const long long accepted = Ingest(api, "lat", k * o.latency_batch, o.latency_batch, error);
    if (accepted < 0) return std::nullopt;
    r.events += accepted;
  }
  r.ingest_seconds = Seconds(SteadyClock::now() - start);
  r.offered_rate = o.rate;
  r.expected = static_cast<std::uint64_t>(r.events);
  Collected c;
  std::unordered_set<std::string> seen;
  Collect(sink, r.expected, std::chrono::seconds(o.drain_timeout_s), c, seen);
  const double wall = Seconds(SteadyClock::now() - start);
  std::erase_if(c.first, [](const Receipt& x) { return x.endpoint != kEndpoint; });
  Finish(r, c, wall, server->process->CpuSeconds() - server_cpu0, SelfCpuSeconds() - bench_cpu0);
  r.sink_connections = sink.connections() - connections_before;
  std::printf(
      "latency: offered %.0f events/s for %.1f s in batches of %d; achieved %.0f events/s, "
      "worst schedule lag %.1f ms\n",
      o.rate, o.latency_seconds, o.latency_batch, static_cast<double>(r.events) / r.ingest_seconds,
      std::chrono::duration<double, std::milli>(worst_lag).count());
  if (!server->process->Stop(std::chrono::seconds(30))) {
    std::cerr << "note: the latency server did not exit cleanly on SIGTERM\n";
  }
  return r;
}

void PrintTable(const std::vector<PhaseResult>& results) {
  std::printf(
      "\nphase       endp  events  delivered/expected  retries patterns  ingest s  deliver s  "
      "deliveries/s  p50 ms  p99 ms  max ms  srv cpu%%  bench cpu%%  conns\n");
  for (const PhaseResult& r : results) {
    std::printf(
        "%-10s  %4d  %6lld  %9llu/%-9llu %8llu %8zu  %8.2f  %9.2f  %12.0f  %6.1f  %6.1f  "
        "%6.1f  %8.0f  %10.0f  %5llu\n",
        r.name.c_str(), r.endpoints, r.events, static_cast<unsigned long long>(r.delivered),
        static_cast<unsigned long long>(r.expected), static_cast<unsigned long long>(r.retries),
        r.patterns, r.ingest_seconds, r.delivery_seconds, r.deliveries_per_s, r.latency.p50,
        r.latency.p99, r.latency.max, r.server_cpu_pct, r.bench_cpu_pct,
        static_cast<unsigned long long>(r.sink_connections));
  }
}

void PrintVerdicts(const std::vector<PhaseResult>& results) {
  std::printf("\nAgainst TARGETS.md (Outbound):\n");
  for (const PhaseResult& r : results) {
    const bool complete = r.delivered == r.expected;
    if (r.name == "throughput") {
      std::printf(
          "  throughput: %.0f deliveries/s, %llu/%llu delivered -> bar (>= 2,000/s): %s; "
          "goal (>= 10,000/s): %s\n",
          r.deliveries_per_s, static_cast<unsigned long long>(r.delivered),
          static_cast<unsigned long long>(r.expected),
          complete && r.deliveries_per_s >= 2000 ? "MET" : "NOT MET",
          complete && r.deliveries_per_s >= 10000 ? "met" : "not met");
    } else {
      std::printf(
          "  latency at 1k events/s: p99 %.1f ms, %llu/%llu delivered -> bar (p99 <= 250 "
          "ms): %s; goal (p99 <= 50 ms): %s\n",
          r.latency.p99, static_cast<unsigned long long>(r.delivered),
          static_cast<unsigned long long>(r.expected),
          complete && r.latency.p99 <= 250 ? "MET" : "NOT MET",
          complete && r.latency.p99 <= 50 ? "met" : "not met");
      const double achieved = static_cast<double>(r.events) / r.ingest_seconds;
      if (achieved < 0.95 * r.offered_rate) {
        std::printf(
            "    WARNING: ingest reached only %.0f of the %.0f events/s offered, so this is "
            "not a measurement at the offered rate\n",
            achieved, r.offered_rate);
      }
    }
    if (r.latency.unparsed > 0) {
      std::printf("    (%llu deliveries had no readable timestamp)\n",
                  static_cast<unsigned long long>(r.latency.unparsed));
    }
  }
}

int Main(int argc, char** argv) {
  const std::optional<Options> options = ParseArgs(argc, argv);
  if (!options) return 2;
  const Options& o = *options;
  std::string error;
  auto run_dir = TempDir::Create(o.tmp_dir, "bench-outbound-", error);
  if (!run_dir) {
    std::cerr << "bench_outbound: " << error << "\n";
    return 1;
  }
  if (o.keep_data) run_dir->keep();
  const std::filesystem::path pki = run_dir->path() / "pki";
  const std::string pki_command = std::string("bash '") + CAUSELOOP_SOURCE_DIR +
                                  "/tests/node/make_test_pki.sh' '" + pki.string() + "'";
  if (std::system(pki_command.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe): one thread
    std::cerr << "bench_outbound: failed: " << pki_command << "\n";
    return 1;
  }
  HttpsSink sink(SinkOptions{
      .cert_file = pki / "server.pem", .key_file = pki / "server.key", .threads = o.sink_threads});
  if (!sink.Start(error)) {
    std::cerr << "bench_outbound: " << error << "\n";
    return 1;
  }
  std::printf("bench_outbound: server %s, sink on 127.0.0.1:%d (%d io thread%s), dir %s\n",
              o.binary.c_str(), sink.port(), o.sink_threads, o.sink_threads == 1 ? "" : "s",
              run_dir->path().c_str());
  std::fflush(stdout);

  std::vector<PhaseResult> results;
  bool failed = false;
  auto run = [&](const char* name, auto&& phase) {
    std::printf("running %s ...\n", name);
    std::fflush(stdout);
    std::string phase_error;
    std::optional<PhaseResult> r = phase(o, run_dir->path(), sink, phase_error);
    if (!r) {
      std::cerr << "bench_outbound: " << name << " failed: " << phase_error << "\n";
      failed = true;
      return;
    }
    if (r->delivered == 0) {
      std::cerr << "bench_outbound: " << name << ": no delivery arrived (see server.log; "
                << "--keep-data keeps it)\n";
      failed = true;
    }
    results.push_back(std::move(*r));
  };
  if (o.run_throughput) run("throughput", RunThroughput);
  if (o.run_latency) run("latency", RunLatency);

  PrintTable(results);
  std::printf(
      "(delivered = distinct (endpoint, webhook-id) first attempts; deliveries/s = delivered / "
      "(last - first receipt); latency = first attempt received - event timestamp, ms; "
      "patterns = distinct pattern ids seen in bodies)\n");
  PrintVerdicts(results);
  if (failed) run_dir->keep();
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace causeloop::bench

int main(int argc, char** argv) { return causeloop::bench::Main(argc, argv); }
