// Starting and stopping the server under test: temp data directory, `admin bootstrap`,
// `serve` with a port file, readiness, SIGTERM. Everything is bounded in time.
#ifndef CAUSELOOP_BENCH_INGEST_SERVER_PROCESS_H_
#define CAUSELOOP_BENCH_INGEST_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeloop::bench {

// A directory removed (recursively) on destruction unless keep() was called.
class TempDir {
 public:
  // Creates `<parent>/<prefix>XXXXXX`. nullptr (and `error`) on failure.
  static std::unique_ptr<TempDir> Create(const std::filesystem::path& parent,
                                         std::string_view prefix, std::string& error);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  bool keep_ = false;
};

struct Credentials {
  std::string organization_id;
  std::string workspace_id;
  std::string token;
};

// Runs `binary admin bootstrap --data-dir DIR`, parses its JSON line. nullopt and `error`
// (with the command's output) when it fails, times out or prints no token.
std::optional<Credentials> Bootstrap(const std::string& binary,
                                     const std::filesystem::path& data_dir,
                                     std::chrono::seconds timeout, std::string& error);

// The value of the string field `key` in a flat JSON object, or "" (no unescaping; the ids and
// tokens we read contain none).
std::string JsonStringField(std::string_view json, std::string_view key);

// One `causeloop serve` child. Its environment is ours minus CAUSELOOP_* (so a stray
// CAUSELOOP_DATABASE_URL cannot switch the benchmark to another store); stdout and stderr go
// to `log_path`. The child gets SIGKILL if this process dies.
class ServerProcess {
 public:
  struct Options {
    std::string binary;                      // path of the causeloop binary
    std::filesystem::path data_dir;          // --data-dir
    std::filesystem::path port_file;         // --port-file
    std::filesystem::path log_path;          // where the child's output goes
    std::vector<std::string> extra_args;     // appended after the fixed flags
    std::chrono::seconds ready_timeout{30};  // port file + GET /ready 200
  };

  // Starts the server and waits until GET /ready answers 200. nullptr and `error` otherwise.
  static std::unique_ptr<ServerProcess> Start(const Options& options, std::string& error);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // True once the child has exited (reaps it; never blocks).
  bool Exited();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns true when it exited on SIGTERM alone
  // with status 0.
  bool Stop(std::chrono::seconds grace);
  // User+system CPU seconds of the child so far, from /proc; 0 when unavailable.
  double CpuSeconds() const;
  // Resident set size in KiB from /proc, -1 when unavailable.
  std::int64_t RssKib() const;
  // The last `max_bytes` of the child's log.
  std::string LogTail(std::size_t max_bytes) const;

 private:
  ServerProcess(pid_t pid, Options options) : pid_(pid), options_(std::move(options)) {}
  pid_t pid_;
  Options options_;
  int port_ = 0;
  bool exited_ = false;
  int exit_status_ = 0;
};

// GET `target` on 127.0.0.1:`port`; the status code, or -1 on any failure within `timeout`.
int HttpGetStatus(int port, std::string_view target, std::chrono::milliseconds timeout);
// The same, keeping the response body in `body` (when not null).
int HttpGet(int port, std::string_view target, std::chrono::milliseconds timeout,
            std::string* body);

// User+system CPU seconds of this process.
double SelfCpuSeconds();

}  // namespace causeloop::bench

#endif  // CAUSELOOP_BENCH_INGEST_SERVER_PROCESS_H_
