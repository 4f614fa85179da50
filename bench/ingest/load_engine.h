// A closed-loop HTTP load engine: N keep-alive connections on one io thread, each with one
// request in flight, sending pre-serialized requests from a RequestSource and verifying the
// ingest responses. Time is split into phases (warm-up, then measured runs); each phase gets
// its own PhaseStats.
#ifndef CAUSELOOP_BENCH_INGEST_LOAD_ENGINE_H_
#define CAUSELOOP_BENCH_INGEST_LOAD_ENGINE_H_

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "ingest/stats.h"

namespace causeloop::bench {

class ServerProcess;

// Supplies requests. Called from the io thread only.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // Writes the next complete HTTP request into `request` (reusing its capacity) and returns
  // how many records it carries (the "accepted" a correct server answers), or 0 when the
  // source is exhausted.
  virtual int Next(std::string& request) = 0;
};

struct EngineOptions {
  int port = 0;                                      // server port on 127.0.0.1
  int connections = 1;                               // concurrent connections, one request each
  std::chrono::milliseconds request_timeout{30000};  // write + full response read
  std::chrono::milliseconds drain_timeout{15000};    // after the last phase, for in-flight work
  std::chrono::milliseconds max_backoff{5000};       // cap on an honoured Retry-After
  std::chrono::milliseconds reconnect_delay{100};    // after a transport error
};

struct EngineResult {
  std::vector<PhaseStats> phases;  // one per completed phase, in order
  bool aborted = false;            // interrupted or the server died
  std::string abort_reason;
};

// Set from a signal handler to stop every engine promptly.
extern std::atomic<bool> g_interrupted;

// Runs `phases` back to back (the load is continuous across phase boundaries; a response
// counts in the phase it completes in). Ends early, with the phase cut short, when the source
// is exhausted on every connection. `server` (may be null) is watched for exit and sampled
// for CPU and RSS at every phase boundary.
EngineResult RunLoad(const EngineOptions& options, RequestSource& source,
                     const std::vector<std::chrono::milliseconds>& phases, ServerProcess* server);

// Parses the non-negative integer after `"key":` in `body`; -1 when absent.
long long JsonIntField(std::string_view body, std::string_view key);

// How many times `"key": true` occurs in `body`.
std::uint64_t CountJsonTrue(std::string_view body, std::string_view key);

}  // namespace causeloop::bench

#endif  // CAUSELOOP_BENCH_INGEST_LOAD_ENGINE_H_
