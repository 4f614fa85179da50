// A minimal blocking HTTP/1.1 client for the server's API on 127.0.0.1: one keep-alive
// connection, Bearer auth, a deadline per request. Not thread-safe; use one per thread.
#ifndef CAUSELOOP_BENCH_OUTBOUND_API_CLIENT_H_
#define CAUSELOOP_BENCH_OUTBOUND_API_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace causeloop::bench {

class ApiClient {
 public:
  ApiClient(int port, std::string token);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Sends `method target` with a JSON `body` (none when empty) and returns the status code,
  // with the response body in `response`; -1 (and the reason in `response`) on a transport
  // error or when no full answer came within `timeout`. Reconnects as needed.
  int Call(std::string_view method, std::string_view target, std::string_view body,
           std::string& response,
           std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace causeloop::bench

#endif  // CAUSELOOP_BENCH_OUTBOUND_API_CLIENT_H_
