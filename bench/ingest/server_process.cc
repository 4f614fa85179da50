#include "ingest/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace causeloop::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

// Forks and execs `argv` with CAUSELOOP_* stripped from the environment. stdout goes to
// `stdout_fd`, stderr to `stderr_fd` (both closed in the parent by the caller).
pid_t Spawn(const std::vector<std::string>& args, int stdout_fd, int stderr_fd) {
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "CAUSELOOP_", 10) != 0) env_storage.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_storage = args;
  std::vector<char*> argv;
  for (std::string& s : arg_storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;  // parent, or -1
  // Child: only async-signal-safe calls from here on.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  dup2(stdout_fd, STDOUT_FILENO);
  dup2(stderr_fd, STDERR_FILENO);
  execve(argv[0], argv.data(), envp.data());
  _exit(127);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

std::unique_ptr<TempDir> TempDir::Create(const std::filesystem::path& parent,
                                         std::string_view prefix, std::string& error) {
  std::string templ = (parent / (std::string(prefix) + "XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr) {
    error = "mkdtemp " + templ + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<TempDir>(new TempDir(templ));
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string JsonStringField(std::string_view json, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\"";
  std::size_t pos = json.find(needle);
  if (pos == std::string_view::npos) return "";
  pos += needle.size();
  while (pos < json.size() && (json[pos] == ' ' || json[pos] == ':' || json[pos] == '\t')) ++pos;
  if (pos >= json.size() || json[pos] != '"') return "";
  const std::size_t end = json.find('"', pos + 1);
  if (end == std::string_view::npos) return "";
  return std::string(json.substr(pos + 1, end - pos - 1));
}

std::optional<Credentials> Bootstrap(const std::string& binary,
                                     const std::filesystem::path& data_dir,
                                     std::chrono::seconds timeout, std::string& error) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  const pid_t pid = Spawn({binary, "admin", "bootstrap", "--data-dir", data_dir.string()},
                          out_pipe[1], out_pipe[1]);
  close(out_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    error = std::string("fork: ") + std::strerror(errno);
    return std::nullopt;
  }
  // stdout and stderr share the pipe so a failure shows its message; the JSON line is found
  // by its "token" field wherever it is.
  std::string output;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out_pipe[0], POLLIN, 0};
    const int r = poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    const ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < (1 << 20)) output.append(buf, static_cast<std::size_t>(n));
  }
  close(out_pipe[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    error =
        "bootstrap timed out after " + std::to_string(timeout.count()) + " s; output:\n" + output;
    return std::nullopt;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = binary + " admin bootstrap failed (" + DescribeStatus(status) + "); output:\n" + output;
    return std::nullopt;
  }
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    Credentials c{JsonStringField(line, "organization_id"), JsonStringField(line, "workspace_id"),
                  JsonStringField(line, "token")};
    if (!c.token.empty()) return c;
  }
  error = "bootstrap printed no token; output:\n" + output;
  return std::nullopt;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const Options& options, std::string& error) {
  const int log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    error = "open " + options.log_path.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  std::vector<std::string> args = {
      options.binary, "serve",       "--data-dir",  options.data_dir.string(),
      "--listen",     "127.0.0.1:0", "--port-file", options.port_file.string()};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  const pid_t pid = Spawn(args, log_fd, log_fd);
  close(log_fd);
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<ServerProcess> server(new ServerProcess(pid, options));

  const auto deadline = Clock::now() + options.ready_timeout;
  auto fail = [&](const std::string& why) {
    error = why + "\n--- server log (tail) ---\n" + server->LogTail(4000);
    server->Stop(std::chrono::seconds(5));
    return nullptr;
  };
  // The port file is written atomically, but accept only a complete "<digits>\n".
  while (server->port_ == 0) {
    if (server->Exited())
      return fail("server exited before writing the port file (" +
                  DescribeStatus(server->exit_status_) + ")");
    if (Clock::now() > deadline) return fail("no port file after the ready timeout");
    const std::string text = ReadFile(options.port_file);
    if (!text.empty() && text.back() == '\n') {
      try {
        server->port_ = std::stoi(text);
      } catch (const std::exception&) {
        return fail("unreadable port file: '" + text + "'");
      }
      if (server->port_ <= 0 || server->port_ > 65535) return fail("bad port: '" + text + "'");
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  for (;;) {
    if (server->Exited())
      return fail("server exited while starting (" + DescribeStatus(server->exit_status_) + ")");
    const int status = HttpGetStatus(server->port_, "/ready", std::chrono::milliseconds(1000));
    if (status == 200) return server;
    if (Clock::now() > deadline) {
      return fail("GET /ready did not return 200 within the ready timeout (last: " +
                  std::to_string(status) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ServerProcess::~ServerProcess() { Stop(std::chrono::seconds(10)); }

bool ServerProcess::Exited() {
  if (exited_) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    exit_status_ = status;
  }
  return exited_;
}

bool ServerProcess::Stop(std::chrono::seconds grace) {
  if (Exited()) return false;
  kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (!Exited() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (Exited()) return WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exited_ = true;
  exit_status_ = status;
  return false;
}

double ServerProcess::CpuSeconds() const {
  if (exited_) return 0;
  const std::string stat = ReadFile("/proc/" + std::to_string(pid_) + "/stat");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const std::size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream in(stat.substr(close_paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::int64_t ServerProcess::RssKib() const {
  if (exited_) return -1;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

std::string ServerProcess::LogTail(std::size_t max_bytes) const {
  const std::string log = ReadFile(options_.log_path);
  return log.size() <= max_bytes ? log : log.substr(log.size() - max_bytes);
}

int HttpGetStatus(int port, std::string_view target, std::chrono::milliseconds timeout) {
  return HttpGet(port, target, timeout, nullptr);
}

int HttpGet(int port, std::string_view target, std::chrono::milliseconds timeout,
            std::string* body) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  int status = -1;
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<unsigned short>(port));
  stream.expires_after(timeout);
  stream.async_connect(endpoint, [&](beast::error_code ec) {
    if (ec) return;
    http::async_write(stream, req, [&](beast::error_code ec2, std::size_t) {
      if (ec2) return;
      http::async_read(stream, buffer, res, [&](beast::error_code ec3, std::size_t) {
        if (ec3) return;
        status = static_cast<int>(res.result_int());
        if (body != nullptr) *body = res.body();
      });
    });
  });
  io.run();
  return status;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace causeloop::bench
