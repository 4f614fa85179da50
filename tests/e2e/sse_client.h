#pragma once
// Clients of the live stream for the end-to-end tests: a raw-socket SSE client that shows the
// wire exactly (chunk framing, comments, the end of the stream), and a child process whose
// stdout is read line by line (curl -N, the Node EventSource client). Every read has a
// deadline; nothing sleeps.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace causeloop::e2e {

// One message of the stream: an event frame, a comment (": ping") or a field-only block
// ("retry: 2000").
struct SseMessage {
  std::string id;
  std::string event;
  std::string data;
  std::string comment;  // text after ':' for a comment line
  std::string retry;
  std::string raw;  // the block as received, without its terminating blank line
};

class SseConnection {
 public:
  // Connects to 127.0.0.1:`port` and sends `GET target` with `headers` (HTTP/1.1, or 1.0
  // when `http10`). `receive_buffer` > 0 sets SO_RCVBUF before connecting. nullptr and
  // `error` on failure.
  static std::unique_ptr<SseConnection> Open(
      int port, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers, std::string& error,
      int receive_buffer = 0, bool http10 = false);
  ~SseConnection();
  SseConnection(const SseConnection&) = delete;
  SseConnection& operator=(const SseConnection&) = delete;

  // Reads the response head (status line + headers). False on deadline, EOF or garbage.
  bool ReadHead(std::chrono::milliseconds timeout);
  [[nodiscard]] int status() const { return status_; }
  // Lower-case name; "" when absent.
  [[nodiscard]] std::string Header(const std::string& lower_name) const;
  // The body of a non-stream answer (e.g. an error envelope), read to its Content-Length.
  std::string ReadBody(std::chrono::milliseconds timeout);

  // The next message, or nullopt when the deadline passes or the stream ended first.
  std::optional<SseMessage> Next(std::chrono::milliseconds timeout);
  // The next event frame (skipping comments and retry blocks).
  std::optional<SseMessage> NextEvent(std::chrono::milliseconds timeout);

  // True once the server closed the connection (EOF or reset) — reading continues until then.
  bool WaitClosed(std::chrono::milliseconds timeout);
  [[nodiscard]] bool closed() const { return closed_; }
  // Whether the terminating chunk (0 CRLF CRLF) arrived: the server ended the stream cleanly.
  [[nodiscard]] bool saw_last_chunk() const { return last_chunk_; }
  [[nodiscard]] size_t bytes_received() const { return bytes_received_; }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  explicit SseConnection(int fd) : fd_(fd) {}
  // Reads what is available within `deadline` into raw_; false on deadline or close.
  bool Fill(std::chrono::steady_clock::time_point deadline);
  // Moves decoded body bytes from raw_ to body_ (chunked or not).
  void Decode();

  int fd_ = -1;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool chunked_ = false;
  bool head_done_ = false;
  bool closed_ = false;
  bool last_chunk_ = false;
  size_t chunk_left_ = 0;       // body bytes left in the current chunk
  bool chunk_trailer_ = false;  // expecting the CRLF after a chunk's data
  std::string raw_;             // received, not yet decoded
  std::string body_;            // decoded, not yet parsed into messages
  size_t bytes_received_ = 0;
};

// A child process with its stdout on a pipe, read line by line with deadlines. The
// destructor SIGKILLs and reaps it if it is still running.
class ChildProcess {
 public:
  // Runs `argv[0]` (looked up in PATH) with the rest as arguments. nullptr and `error` on
  // failure.
  static std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& argv,
                                             std::string& error);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of stdout (without '\n'); nullopt on deadline or EOF.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // SIGTERM, then waits; the exit status (128 + signal when killed).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits for exit; nullopt when it is still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Everything read from stdout so far, for failure messages.
  [[nodiscard]] const std::string& transcript() const { return transcript_; }

 private:
  ChildProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string pending_;
  std::string transcript_;
  bool eof_ = false;
};

}  // namespace causeloop::e2e
