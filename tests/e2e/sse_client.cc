#include "e2e/sse_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace causeloop::e2e {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  return s.substr(start);
}

// Waits until `fd` is readable or the deadline passes.
bool WaitReadable(int fd, SteadyClock::time_point deadline) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::unique_ptr<SseConnection> SseConnection::Open(
    int port, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string& error,
    int receive_buffer, bool http10) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  if (receive_buffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  std::string request = "GET " + target + (http10 ? " HTTP/1.0" : " HTTP/1.1") +
                        "\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  request += "\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      error = std::string("send: ") + std::strerror(errno);
      ::close(fd);
      return nullptr;
    }
    sent += static_cast<size_t>(n);
  }
  return std::unique_ptr<SseConnection>(new SseConnection(fd));
}

SseConnection::~SseConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool SseConnection::Fill(SteadyClock::time_point deadline) {
  if (closed_) return false;
  if (!WaitReadable(fd_, deadline)) return false;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    closed_ = true;
    return false;
  }
  bytes_received_ += static_cast<size_t>(n);
  raw_.append(buf, static_cast<size_t>(n));
  return true;
}

bool SseConnection::ReadHead(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  size_t end;
  while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline)) return false;
  }
  std::string head = raw_.substr(0, end);
  raw_.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return false;
  status_ = std::atoi(status_line.c_str() + 9);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      headers_.emplace_back(Lower(line.substr(0, colon)), Trim(line.substr(colon + 1)));
    }
    pos = next + 2;
  }
  chunked_ = Lower(Header("transfer-encoding")).find("chunked") != std::string::npos;
  head_done_ = true;
  return true;
}

std::string SseConnection::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers_) {
    if (k == lower_name) return v;
  }
  return "";
}

std::string SseConnection::ReadBody(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  const size_t length = static_cast<size_t>(std::atoll(Header("content-length").c_str()));
  while (raw_.size() < length && Fill(deadline)) {
  }
  return raw_.substr(0, std::min(length, raw_.size()));
}

void SseConnection::Decode() {
  if (!chunked_) {
    body_ += raw_;
    raw_.clear();
    return;
  }
  for (;;) {
    if (last_chunk_) {
      raw_.clear();
      return;
    }
    if (chunk_left_ > 0) {
      size_t take = std::min(chunk_left_, raw_.size());
      body_.append(raw_, 0, take);
      raw_.erase(0, take);
      chunk_left_ -= take;
      if (chunk_left_ > 0) return;
      chunk_trailer_ = true;
    }
    if (chunk_trailer_) {
      if (raw_.size() < 2) return;
      raw_.erase(0, 2);
      chunk_trailer_ = false;
    }
    size_t eol = raw_.find("\r\n");
    if (eol == std::string::npos) return;
    size_t size = std::strtoul(raw_.substr(0, eol).c_str(), nullptr, 16);
    raw_.erase(0, eol + 2);
    if (size == 0) {
      last_chunk_ = true;  // (no trailers are sent)
      continue;
    }
    chunk_left_ = size;
  }
}

std::optional<SseMessage> SseConnection::Next(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    Decode();
    size_t end = body_.find("\n\n");
    if (end != std::string::npos) {
      SseMessage m;
      m.raw = body_.substr(0, end);
      body_.erase(0, end + 2);
      size_t pos = 0;
      while (pos <= m.raw.size()) {
        size_t next = m.raw.find('\n', pos);
        if (next == std::string::npos) next = m.raw.size();
        std::string line = m.raw.substr(pos, next - pos);
        pos = next + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          m.comment = Trim(line.substr(1));
          continue;
        }
        size_t colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id") m.id = value;
        if (field == "event") m.event = value;
        if (field == "data") m.data += (m.data.empty() ? "" : "\n") + value;
        if (field == "retry") m.retry = value;
      }
      return m;
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

std::optional<SseMessage> SseConnection::NextEvent(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<SseMessage> m = Next(left);
    if (!m) return std::nullopt;
    if (!m->event.empty() || !m->data.empty()) return m;
  }
}

bool SseConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!closed_) {
    if (!Fill(deadline) && !closed_) return false;
    Decode();
  }
  Decode();
  return true;
}

std::unique_ptr<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv,
                                                  std::string& error) {
  if (argv.empty()) {
    error = "no program";
    return nullptr;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  std::vector<std::string> storage(argv);
  std::vector<char*> ptrs;
  for (auto& s : storage) ptrs.push_back(s.data());
  ptrs.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return nullptr;
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execvp(ptrs[0], ptrs.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, fds[0]));
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    if (eof_ || !WaitReadable(fd_, deadline)) return std::nullopt;
    char buf[8192];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      continue;
    }
    pending_.append(buf, static_cast<size_t>(n));
    transcript_.append(buf, static_cast<size_t>(n));
  }
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return DecodeStatus(status);
    }
    if (SteadyClock::now() >= deadline) return std::nullopt;
    // Poll the pipe as the clock: it wakes early when the child writes or exits.
    char c;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0 && !eof_) {
      ssize_t n = ::read(fd_, &c, 1);
      if (n == 1) {
        pending_ += c;
        transcript_ += c;
      } else if (n == 0) {
        eof_ = true;
      }
    } else if (eof_) {
      pollfd none{-1, 0, 0};
      ::poll(&none, 1, 20);
    }
  }
}

int ChildProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  if (auto status = Wait(timeout)) return *status;
  ::kill(pid_, SIGKILL);
  return Wait(std::chrono::seconds(10)).value_or(-1);
}

}  // namespace causeloop::e2e
