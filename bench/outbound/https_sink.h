// An in-process HTTPS webhook receiver for bench_outbound: keep-alive TLS connections,
// answers every request 200 at once and records when it arrived and which event it carried.
// It does as little as it can per request so that it is not what limits the measurement.
#ifndef CAUSELOOP_BENCH_OUTBOUND_HTTPS_SINK_H_
#define CAUSELOOP_BENCH_OUTBOUND_HTTPS_SINK_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace causeloop::bench {

// One request the sink received.
struct Receipt {
  int endpoint = -1;             // N of the path /hook/N; -1 for any other path
  std::int64_t received_us = 0;  // system clock, Unix microseconds, once the request was read
  std::string webhook_id;        // the webhook-id header
  std::string timestamp;         // the body's top-level "timestamp" (RFC 3339), raw
  long long sequence = -1;       // the body's "sequence"; -1 when absent
  std::string pattern_id;        // the body's "pattern_id" string; "" when null or absent
};

struct SinkOptions {
  std::filesystem::path cert_file;  // PEM certificate chain for 127.0.0.1
  std::filesystem::path key_file;   // its PEM private key
  int threads = 1;                  // io threads
};

// Thread-safe: the accessors may be called from any thread while the sink runs.
class HttpsSink {
 public:
  explicit HttpsSink(SinkOptions options);
  ~HttpsSink();  // stops the io threads and closes every connection
  HttpsSink(const HttpsSink&) = delete;
  HttpsSink& operator=(const HttpsSink&) = delete;

  // Loads the certificate, listens on 127.0.0.1:0 and starts the io threads. False and
  // `error` on failure. Call once.
  bool Start(std::string& error);
  [[nodiscard]] int port() const { return port_; }
  // Requests received so far (also those not yet taken).
  [[nodiscard]] std::uint64_t received() const { return received_.load(); }
  // Connections accepted so far.
  [[nodiscard]] std::uint64_t connections() const { return connections_.load(); }
  // Moves out the receipts recorded since the last call.
  std::vector<Receipt> TakeReceipts();

  // Called by the sessions.
  void Record(Receipt receipt);
  void CountConnection() { connections_.fetch_add(1); }

 private:
  struct Impl;
  SinkOptions options_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::mutex mu_;
  std::vector<Receipt> receipts_;  // guarded by mu_
  std::vector<std::jthread> threads_;
};

}  // namespace causeloop::bench

#endif  // CAUSELOOP_BENCH_OUTBOUND_HTTPS_SINK_H_
