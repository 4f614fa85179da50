// The causeloop binary: the composition root. Only this module picks concrete
// implementations (real clock, SQLite, the Beast server) and reads the environment.

#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "app/bootstrap.h"
#include "app/config.h"
#include "app/import.h"
#include "auth/crypto.h"
#include "auth/secretbox.h"
#include "cluster/eval/eval.h"
#include "cluster/service/pattern_service.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "http/api/api.h"
#include "http/api/idempotency.h"
#include "http/server.h"
#include "net/http_client.h"
#include "store/sqlite/sqlite_store.h"
#include "stream/event_hub.h"
#include "webhooks/outbound/dispatcher.h"

#ifndef CAUSELOOP_VERSION
#define CAUSELOOP_VERSION "0.0.0"
#endif

namespace causeloop::app {
namespace {

constexpr const char* kUsage = R"(causeloop — finds the patterns behind recurring failures

Usage:
  causeloop serve [settings]                 run the API server (SQLite under --data-dir by default)
  causeloop admin bootstrap [--data-dir DIR] [--name N]
                                             create an organization, a workspace and a token with
                                             every scope; prints {"organization_id","workspace_id","token"}
  causeloop admin create-token [--data-dir DIR] --workspace ID --scopes a,b [--name N]
                                             prints {"id","token"}
  causeloop import FILE.jsonl --workspace ID [--data-dir DIR] [--batch-size N]
                                             bulk-load canonical records (one JSON object a line)
  causeloop eval cluster --dataset PATH [--labels original|corrected|loghub2] [--json] [--repeat N]
                                             clustering quality (GA, FGA, pairwise F1, ARI) and
                                             speed on labelled logs (Loghub-2k dir or .jsonl)
  causeloop version                          print the version
  causeloop help | --help                    this text

)";

int Usage(int code) {
  std::fputs(kUsage, code == 0 ? stdout : stderr);
  std::fputs(SettingsHelp().c_str(), code == 0 ? stdout : stderr);
  return code;
}

int Die(const std::string& message) {
  log::Error(message);
  std::fprintf(stderr, "causeloop: %s\n", message.c_str());
  return 1;
}

Result<std::unique_ptr<store::Store>> OpenStore(const Config& config, const Clock& clock,
                                                Random& random) {
  if (!config.Get("--database-url").empty()) {
    return Fail(ErrorCode::kUnavailable,
                "--database-url: the PostgreSQL backend is not available in this build yet; "
                "omit it to use the embedded SQLite store");
  }
  std::string dir = config.Get("--data-dir");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "cannot create data directory " + dir);
  store::StoreOptions options;
  auto queued = config.GetInt("--max-queued-records");
  if (!queued) return Fail(queued.error());
  options.max_queued_records = static_cast<size_t>(std::max(1LL, *queued));
  return store::OpenSqliteStore(dir + "/causeloop.db", options, clock, random);
}

std::string BootstrapJson(const Bootstrapped& b) {
  JsonWriter w;
  w.BeginObject().Field("organization_id", b.organization_id);
  w.Field("workspace_id", b.workspace_id).Field("token", b.token).EndObject();
  return w.Take();
}

bool WritePortFile(const std::string& path, uint16_t port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << port << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// The live stream's settings (--stream-*).
Result<stream::HubOptions> StreamHubOptions(const Config& config, std::chrono::seconds* ping) {
  auto ping_seconds = config.GetInt("--stream-ping-seconds");
  auto events = config.GetInt("--stream-buffer-events");
  auto bytes = config.GetInt("--stream-buffer-bytes");
  auto wakes = config.GetInt("--stream-wakes-per-second");
  for (const auto* r : {&ping_seconds, &events, &bytes, &wakes}) {
    if (!*r) return Fail(r->error());
  }
  if (*ping_seconds < 0) return Fail(ErrorCode::kValidation, "--stream-ping-seconds must be >= 0");
  *ping = std::chrono::seconds(*ping_seconds);
  stream::HubOptions options;
  options.max_buffered_events = static_cast<size_t>(std::max(0LL, *events));
  options.max_buffered_bytes = static_cast<size_t>(std::max(0LL, *bytes));
  options.max_wakes_per_second = static_cast<size_t>(std::max(0LL, *wakes));
  if (Status valid = options.Validate(); !valid) {
    return Fail(ErrorCode::kValidation,
                "--stream-buffer-" + valid.error().details[0].first + ": " + valid.error().message);
  }
  return options;
}

int Serve(const Config& config) {
  // Signals are taken synchronously by this thread (sigwait); every thread started below
  // inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::string level = config.Get("--log-level");
  log::SetLevel(level == "debug"   ? log::Level::kDebug
                : level == "warn"  ? log::Level::kWarn
                : level == "error" ? log::Level::kError
                                   : log::Level::kInfo);

  RealClock clock;
  SecureRandom random;   // tokens, secrets, keys
  FastRandom id_random;  // ids
  // The live stream's hub observes the store's commits, so it outlives the store.
  std::chrono::seconds stream_ping{30};
  auto hub_options = StreamHubOptions(config, &stream_ping);
  if (!hub_options) return Die(hub_options.error().message);
  stream::EventHub hub(*hub_options);
  auto store = OpenStore(config, clock, id_random);
  if (!store) return Die(store.error().message);
  (*store)->AddCommitObserver(&hub);
  auto master = LoadOrCreateMasterKey(config.Get("--data-dir"), config.Get("--master-key"), random);
  if (!master) return Die(master.error().message);
  auth::CursorSigner cursors(
      std::string(auth::AsChars(auth::HmacSha256(*master, "causeloop cursor v1"))));

  std::string clustering = config.Get("--clustering");
  if (clustering != "on" && clustering != "off") return Die("--clustering must be on or off");
  // The engine is attached to the store before the first write (the store calls it inside
  // each ingest transaction).
  http::Metrics metrics;
  std::unique_ptr<cluster::PatternService> patterns;
  if (clustering == "on") {
    patterns = std::make_unique<cluster::PatternService>(**store, clock, id_random);
    http::Histogram& assign_seconds = metrics.Histogram(
        "causeloop_pattern_assign_seconds",
        "Time to assign one new issue to a pattern inside its ingest transaction", {},
        {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1});
    patterns->SetLatencyObserver([&assign_seconds](double s) { assign_seconds.Observe(s); });
    (*store)->SetPatternAssigner(patterns.get());
  }
  // Outbound webhooks: the delivery engine learns of every committed event.
  net::HttpClientOptions http_options;
  http_options.allow_private_targets = config.GetBool("--allow-private-webhook-targets");
  http_options.ca_file = config.Get("--ca-file");
  http_options.user_agent = std::string("causeloop/") + CAUSELOOP_VERSION;
  auto http_client = net::HttpClient::Create(http_options);
  if (!http_client) return Die(http_client.error().message);
  webhooks::DispatcherOptions dispatch_options;
  dispatch_options.version = CAUSELOOP_VERSION;
  dispatch_options.secret_key = auth::DeriveKey(*master, "causeloop webhook secrets v1");
  webhooks::Dispatcher dispatcher(**store, **http_client, clock, id_random, dispatch_options);
  (*store)->AddCommitObserver(&dispatcher);

  ingest::Ingestor ingestor(**store, clock, id_random);
  http::api::TokenAuthenticator tokens(**store, clock);
  http::api::StoreIdempotency idempotency(**store, clock);
  http::Router router;
  http::api::ApiContext ctx{**store, ingestor,          tokens,        cursors, metrics, clock,
                            random,  CAUSELOOP_VERSION, patterns.get()};
  ctx.webhooks = &dispatcher;
  ctx.secret_key = dispatch_options.secret_key;
  ctx.allow_private_webhook_targets = http_options.allow_private_targets;
  ctx.events = &hub;
  ctx.stream_ping = stream_ping;
  ctx.connector_key = auth::DeriveKey(*master, "causeloop connector secrets v1");
  ctx.http = http_client->get();
  ctx.public_url = config.Get("--public-url");
  http::api::RegisterRoutes(router, ctx);

  auto has_orgs = (*store)->HasOrganizations();
  if (!has_orgs) return Die(has_orgs.error().message);
  std::optional<Bootstrapped> first;
  if (!*has_orgs) {
    auto b = BootstrapWorkspace(**store, clock, random, "default");
    if (!b) return Die(b.error().message);
    first = *b;
  }

  http::ServerOptions options;
  std::string listen = config.Get("--listen");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Die("--listen must be HOST:PORT");
  options.host = listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[') {
    options.host = options.host.substr(1, options.host.size() - 2);
  }
  options.port = static_cast<uint16_t>(std::atoi(listen.substr(colon + 1).c_str()));
  auto threads = config.GetInt("--io-threads");
  auto per_token = config.GetInt("--rate-limit-per-token");
  auto per_ip = config.GetInt("--rate-limit-per-ip");
  for (const auto* r : {&threads, &per_token, &per_ip}) {
    if (!*r) return Die(r->error().message);
  }
  options.io_threads = static_cast<int>(std::max(1LL, *threads));
  options.rate_limit_per_token_per_minute = std::max(0LL, *per_token);
  options.rate_limit_per_ip_per_minute = std::max(0LL, *per_ip);

  if (auto started = dispatcher.Start(); !started) return Die(started.error().message);
  auto server = http::Server::Create(options, router, tokens, &idempotency, metrics, clock);
  if (!server) return Die(server.error().message);
  (*server)->Start();
  uint16_t port = (*server)->port();
  std::string url =
      "http://" +
      (options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host) +
      ":" + std::to_string(port);
  log::Info("listening", {{"url", url}, {"version", CAUSELOOP_VERSION}});
  std::printf("Causeloop %s is listening on %s\n", CAUSELOOP_VERSION, url.c_str());
  if (first) {
    std::printf(
        "First start: created organization %s and workspace %s.\n"
        "Admin token (shown once, keep it safe):\n  %s\n"
        "Try: curl -H 'Authorization: Bearer %s' %s/v1/issues\n",
        first->organization_id.c_str(), first->workspace_id.c_str(), first->token.c_str(),
        first->token.c_str(), url.c_str());
  }
  std::fflush(stdout);
  std::string port_file = config.Get("--port-file");
  if (!port_file.empty() && !WritePortFile(port_file, port)) {
    return Die("cannot write --port-file " + port_file);
  }

  // last_used_at is written in the background, once a second, never on the request path.
  std::jthread toucher([&tokens](const std::stop_token& st) {
    NameThisThread("cl-token-touch");
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    while (!st.stop_requested()) {
      cv.wait_for(lock, st, std::chrono::seconds(1), [] { return false; });
      tokens.FlushLastUsed();
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  hub.Shutdown();     // live streams end (after what they buffered) and take no new events
  (*server)->Stop();  // stop accepting, finish in-flight requests
  toucher.request_stop();
  toucher.join();
  tokens.FlushLastUsed();
  dispatcher.Stop();  // attempts in flight are recorded; the rest resume on next start
  (*http_client)->Stop();
  (*store)->Close();  // commit whatever is queued
  log::Info("stopped");
  return 0;
}

int AdminBootstrap(const Config& config) {
  RealClock clock;
  SecureRandom random;
  auto store = OpenStore(config, clock, random);
  if (!store) return Die(store.error().message);
  std::string name = config.Get("--name");
  auto b = BootstrapWorkspace(**store, clock, random, name.empty() ? "default" : name);
  if (!b) return Die(b.error().message);
  (*store)->Close();
  std::printf("%s\n", BootstrapJson(*b).c_str());
  return 0;
}

int AdminCreateToken(const Config& config) {
  RealClock clock;
  SecureRandom random;
  std::string ws = config.Get("--workspace");
  std::string scopes_arg = config.Get("--scopes");
  if (ws.empty() || scopes_arg.empty()) return Die("--workspace and --scopes are required");
  std::vector<std::string> scopes;
  size_t start = 0;
  while (start <= scopes_arg.size()) {
    size_t end = scopes_arg.find(',', start);
    if (end == std::string::npos) end = scopes_arg.size();
    if (end > start) scopes.push_back(scopes_arg.substr(start, end - start));
    start = end + 1;
  }
  auto store = OpenStore(config, clock, random);
  if (!store) return Die(store.error().message);
  auto t = CreateToken(**store, clock, random, ws, scopes, config.Get("--name"));
  if (!t) return Die(t.error().message);
  (*store)->Close();
  JsonWriter w;
  w.BeginObject().Field("id", t->id).Field("token", t->token).EndObject();
  std::printf("%s\n", w.str().c_str());
  return 0;
}

int Import(const Config& config) {
  if (config.positional().empty()) return Die("import needs a FILE");
  std::string ws = config.Get("--workspace");
  if (ws.empty()) return Die("--workspace is required");
  auto batch = config.GetInt("--batch-size");
  if (!batch || *batch < 1 || *batch > 5000) return Die("--batch-size must be 1 to 5000");
  RealClock clock;
  SecureRandom random;
  auto store = OpenStore(config, clock, random);
  if (!store) return Die(store.error().message);
  if (auto w = (*store)->GetWorkspace(ws); !w) return Die("no workspace " + ws);
  cluster::PatternService patterns(**store, clock, random);
  (*store)->SetPatternAssigner(&patterns);
  ingest::Ingestor ingestor(**store, clock, random);
  auto summary = ImportJsonl(config.positional().front(), ws, ingestor, static_cast<size_t>(*batch),
                             isatty(2) != 0);
  (*store)->Close();
  if (!summary) return Die(summary.error().message);
  JsonWriter w;
  w.BeginObject().Field("lines", summary->lines).Field("accepted", summary->accepted);
  w.Field("rejected", summary->rejected).Field("created", summary->created);
  w.Field("deduplicated", summary->deduplicated).EndObject();
  std::printf("%s\n", w.str().c_str());
  return summary->rejected > 0 ? 3 : 0;
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    return Usage(args.empty() ? 2 : 0);
  }
  std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "version" || command == "--version") {
    std::printf("causeloop %s\n", CAUSELOOP_VERSION);
    return 0;
  }
  if (command == "eval") {
    if (rest.empty() || rest[0] != "cluster") return Usage(2);
    return cluster::eval::RunEvalCluster({rest.begin() + 1, rest.end()}, std::cout, std::cerr);
  }
  if (command == "admin") {
    if (rest.empty()) return Usage(2);
    command += " " + rest[0];
    rest.erase(rest.begin());
  }
  auto config = Config::Parse(rest);
  if (!config) {
    std::fprintf(stderr, "causeloop: %s\n", config.error().message.c_str());
    return 2;
  }
  if (config->help()) return Usage(0);
  if (command == "serve") return Serve(*config);
  if (command == "admin bootstrap") return AdminBootstrap(*config);
  if (command == "admin create-token") return AdminCreateToken(*config);
  if (command == "import") return Import(*config);
  std::fprintf(stderr, "causeloop: unknown command '%s'\n\n", command.c_str());
  return Usage(2);
}

}  // namespace causeloop::app

int main(int argc, char** argv) { return causeloop::app::Main(argc, argv); }
