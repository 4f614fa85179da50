#include "e2e/harness.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/json_writer.h"

namespace causeloop::e2e {
namespace fs = std::filesystem;

#ifndef CAUSELOOP_BINARY
#define CAUSELOOP_BINARY ""
#endif

std::string BinaryPath() {
  if (const char* env = std::getenv("CAUSELOOP_BINARY"); env != nullptr && *env != '\0') {
    return env;
  }
  return CAUSELOOP_BINARY;
}

bool PollUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(interval);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& s, size_t max_bytes) {
  return s.size() <= max_bytes ? s : "…" + s.substr(s.size() - max_bytes);
}

namespace {

// argv for execv, built before fork (only async-signal-safe calls happen in the child).
struct Argv {
  std::vector<std::string> storage;
  std::vector<char*> ptrs;
  Argv(const std::string& path, const std::vector<std::string>& args) {
    storage.push_back(path);
    storage.insert(storage.end(), args.begin(), args.end());
    for (auto& s : storage) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
};

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` up to `timeout`; the decoded status, or nullopt when still running.
std::optional<int> WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  std::optional<int> result;
  PollUntil(
      [&] {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
          result = DecodeWaitStatus(status);
          return true;
        }
        if (r < 0 && errno != EINTR) {
          result = -1;
          return true;
        }
        return false;
      },
      timeout, 5ms);
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Processes

ProcessResult RunProcess(const std::string& path, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout) {
  ProcessResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  Argv argv(path, args);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execv(argv.ptrs[0], argv.ptrs.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  if (timed_out) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    result.exit_code = -1;
    result.stderr_text += "\n[harness] killed after timeout";
    return result;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  std::optional<int> status = WaitFor(pid, std::max(left, std::chrono::milliseconds(1000)));
  if (!status) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    result.exit_code = -1;
  } else {
    result.exit_code = *status;
  }
  return result;
}

ProcessResult RunCli(const std::vector<std::string>& args) {
  return RunProcess(BinaryPath(), args);
}

ServerProcess::ServerProcess() : ServerProcess(Options{}) {}

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {
  if (options_.binary.empty()) options_.binary = BinaryPath();
  std::string tmpl = (fs::temp_directory_path() / "causeloop-e2e-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
  }
  root_ = tmpl;
  std::error_code ec;
  fs::create_directories(data_dir(), ec);
}

ServerProcess::~ServerProcess() {
  Kill9();
  if (std::getenv("CAUSELOOP_E2E_KEEP_DIRS") == nullptr && !root_.empty()) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

std::string ServerProcess::BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string ServerProcess::LogTail(size_t max_bytes) const {
  return Tail(ReadFile(log_path()), max_bytes);
}

::testing::AssertionResult ServerProcess::Start() {
  if (running()) return ::testing::AssertionFailure() << "server already running";
  if (access(options_.binary.c_str(), X_OK) != 0) {
    return ::testing::AssertionFailure() << "causeloop binary not found or not executable at '"
                                         << options_.binary << "' (set CAUSELOOP_BINARY)";
  }
  const std::string port_file = root_ + "/port";
  std::error_code ec;
  fs::remove(port_file, ec);
  port_ = 0;

  std::vector<std::string> args = {"serve",       "--data-dir",  data_dir(), "--listen",
                                   "127.0.0.1:0", "--port-file", port_file};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  Argv argv(options_.binary, args);
  const std::string log = log_path();
  {
    std::ofstream marker(log, std::ios::app);
    marker << "\n[harness] starting " << options_.binary << " serve\n";
  }
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execv(argv.ptrs[0], argv.ptrs.data());
    _exit(127);
  }
  if (pid < 0) return ::testing::AssertionFailure() << "fork failed: " << std::strerror(errno);
  pid_ = pid;

  std::optional<int> exited;
  bool ready = PollUntil(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          exited = DecodeWaitStatus(status);
          return true;
        }
        std::string text = ReadFile(port_file);
        if (text.empty() || text.back() != '\n') return false;
        port_ = std::atoi(text.c_str());
        return port_ > 0;
      },
      options_.start_timeout, 5ms);
  if (exited) {
    pid_ = -1;
    return ::testing::AssertionFailure()
           << "server exited with status " << *exited << " before writing its port file; log:\n"
           << LogTail();
  }
  if (!ready || port_ <= 0) {
    Kill9();
    return ::testing::AssertionFailure() << "server did not write a valid port file within "
                                         << options_.start_timeout.count() << " ms; log:\n"
                                         << LogTail();
  }
  return ::testing::AssertionSuccess();
}

void ServerProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

::testing::AssertionResult ServerProcess::Terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return ::testing::AssertionFailure() << "server not running";
  kill(pid_, SIGTERM);
  std::optional<int> status = WaitFor(pid_, timeout);
  if (!status) {
    Kill9();
    return ::testing::AssertionFailure()
           << "server did not exit within " << timeout.count() << " ms of SIGTERM; log:\n"
           << LogTail();
  }
  pid_ = -1;
  if (*status != 0) {
    return ::testing::AssertionFailure()
           << "server exited with status " << *status << " after SIGTERM; log:\n"
           << LogTail();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServerProcess::Restart() {
  Kill9();
  return Start();
}

std::optional<Credentials> ServerProcess::Bootstrap() {
  ProcessResult r = RunProcess(options_.binary, {"admin", "bootstrap", "--data-dir", data_dir()});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "admin bootstrap exited " << r.exit_code << "\nstdout: " << r.stdout_text
                  << "\nstderr: " << r.stderr_text;
    return std::nullopt;
  }
  Json j = Json::Parse(r.stdout_text);
  Credentials c;
  if (j.ok()) {
    c.organization_id = j.Str("/organization_id").value_or("");
    c.workspace_id = j.Str("/workspace_id").value_or("");
    c.token = j.Str("/token").value_or("");
  }
  if (c.organization_id.empty() || c.workspace_id.empty() || c.token.empty()) {
    ADD_FAILURE() << "admin bootstrap printed no {organization_id, workspace_id, token}: "
                  << r.stdout_text;
    return std::nullopt;
  }
  return c;
}

std::optional<CreatedToken> ServerProcess::CreateToken(const std::string& workspace_id,
                                                       const std::vector<std::string>& scopes,
                                                       const std::string& name) {
  std::string joined;
  for (const auto& s : scopes) joined += (joined.empty() ? "" : ",") + s;
  ProcessResult r =
      RunProcess(options_.binary, {"admin", "create-token", "--data-dir", data_dir(), "--workspace",
                                   workspace_id, "--scopes", joined, "--name", name});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "admin create-token --scopes " << joined << " exited " << r.exit_code
                  << "\nstdout: " << r.stdout_text << "\nstderr: " << r.stderr_text;
    return std::nullopt;
  }
  Json j = Json::Parse(r.stdout_text);
  CreatedToken t;
  if (j.ok()) {
    t.id = j.Str("/id").value_or("");
    t.token = j.Str("/token").value_or("");
  }
  if (t.id.empty() || t.token.empty()) {
    ADD_FAILURE() << "admin create-token printed no {id, token}: " << r.stdout_text;
    return std::nullopt;
  }
  return t;
}

std::string IngestEvent(const Http& http, const std::string& body) {
  HttpResponse r = http.Post("/v1/ingest/events", body);
  Json j = Json::Parse(r.body);
  std::string id = j.Str("/issue_id").value_or("");
  if (r.status != 202 || id.empty()) {
    ADD_FAILURE() << "POST /v1/ingest/events " << body.substr(0, 300) << " -> " << r.Describe();
    return "";
  }
  return id;
}

std::optional<std::vector<std::string>> ListAll(const Http& http, const std::string& path,
                                                int limit) {
  std::vector<std::string> items;
  std::string cursor;
  const char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (int page = 0; page < 10000; ++page) {
    std::string url = path + sep + "limit=" + std::to_string(limit);
    if (!cursor.empty()) url += "&cursor=" + UrlEncode(cursor);
    HttpResponse r = http.Get(url);
    Json j = Json::Parse(r.body);
    auto data = j.At("/data");
    if (r.status != 200 || !data || !data->is_array()) {
      ADD_FAILURE() << "GET " << url << " -> " << r.Describe();
      return std::nullopt;
    }
    for (auto item : Elements(*data)) items.push_back(RawOf(item));
    if (j.Bool("/page/has_more") != true) return items;
    cursor = j.Str("/page/next_cursor").value_or("");
    if (cursor.empty()) {
      ADD_FAILURE() << "has_more is true but next_cursor is empty: GET " << url;
      return std::nullopt;
    }
  }
  ADD_FAILURE() << "GET " << path << " never ended";
  return std::nullopt;
}

std::unique_ptr<SuiteServer> SuiteServer::Start(ServerProcess::Options options) {
  auto s = std::make_unique<SuiteServer>();
  s->server = std::make_unique<ServerProcess>(std::move(options));
  // Bootstrap before the first start (SPEC §2 allows both orders); first start on an empty
  // store and bootstrap while running have tests of their own in service_test.cc.
  std::optional<Credentials> c = s->server->Bootstrap();
  if (!c) {
    s->error = "admin bootstrap on an empty data dir failed";
    return s;
  }
  s->admin = *c;
  if (auto started = s->server->Start(); !started) {
    s->error = started.message();
    return s;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// HTTP

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_ALL); }
};

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

CURL* ThreadHandle() {
  static CurlGlobal global;
  thread_local std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  return handle.get();
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Transfer {
  HttpResponse* response;
  bool headers_done = false;
  bool headers_only = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {  // a new response (after 100 Continue): start over
    t->response->headers.clear();
    t->headers_done = false;
    return size * count;
  }
  if (line.empty()) {
    t->headers_done = true;
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  auto& slot = t->response->headers[name];
  if (!slot.empty()) slot += ", ";
  slot += value;
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->headers_only) return 0;  // abort: the caller wanted the headers only
  t->response->body.append(data, size * count);
  return size * count;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return (t->headers_only && t->headers_done) ? 1 : 0;
}

bool HasHeaderNamed(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::HasHeader(const std::string& name) const { return headers.count(name) > 0; }

std::string HttpResponse::Describe() const {
  std::string s = std::to_string(status);
  if (status == 0) s += " (transport error: " + transport_error + ")";
  s += " " + (body.size() > 1500 ? body.substr(0, 1500) + "…" : body);
  return s;
}

HttpResponse Http::Request(std::string_view method, std::string_view path, std::string_view body,
                           const Headers& headers, const RequestOptions& options) const {
  HttpResponse response;
  CURL* h = ThreadHandle();
  if (h == nullptr) {
    response.transport_error = "curl_easy_init failed";
    return response;
  }
  curl_easy_reset(h);  // keeps the connection cache: keep-alive survives across requests
  const std::string url = base_url_ + std::string(path);
  const std::string verb(method);
  Transfer transfer{&response};
  transfer.headers_only = options.headers_only;

  std::unique_ptr<curl_slist, SlistDeleter> list;
  auto add = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next != nullptr) {
      list.release();
      list.reset(next);
    }
  };
  for (const auto& [k, v] : headers) add(k + ": " + v);
  if (!token_.empty() && !HasHeaderNamed(headers, "authorization")) {
    add("Authorization: Bearer " + token_);
  }
  const bool sends_body = !body.empty() || verb == "POST" || verb == "PUT" || verb == "PATCH";
  if (sends_body && !HasHeaderNamed(headers, "content-type")) {
    add("Content-Type: application/json");
  }
  if (!HasHeaderNamed(headers, "expect")) add("Expect:");  // no 100-continue round trip

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  if (options.headers_only) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  }
  if (verb == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (sends_body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, verb.c_str());
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, verb.c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());

  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  const bool aborted_on_purpose = options.headers_only && transfer.headers_done && status > 0;
  if (rc != CURLE_OK && !aborted_on_purpose) {
    response.status = 0;
    response.transport_error = curl_easy_strerror(rc);
    // A partial response is not a response: callers see status 0 and the curl error.
  } else {
    response.status = status;
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  return response;
}

// ---------------------------------------------------------------------------------------------
// JSON

Json Json::Parse(std::string_view text) {
  Json j;
  j.parser_ = std::make_shared<simdjson::dom::parser>();
  auto result = j.parser_->parse(text.data(), text.size(), true);
  if (result.error() != simdjson::SUCCESS) {
    j.error_ = simdjson::error_message(result.error());
    return j;
  }
  j.root_ = result.value_unsafe();
  j.ok_ = true;
  return j;
}

std::optional<simdjson::dom::element> Json::At(std::string_view pointer) const {
  if (!ok_) return std::nullopt;
  if (pointer.empty()) return root_;
  auto r = root_.at_pointer(pointer);
  if (r.error() != simdjson::SUCCESS) return std::nullopt;
  return r.value_unsafe();
}

std::optional<std::string> StrOf(simdjson::dom::element e, std::string_view pointer) {
  auto v = pointer.empty()
               ? simdjson::simdjson_result<simdjson::dom::element>(simdjson::dom::element(e))
               : e.at_pointer(pointer);
  if (v.error() != simdjson::SUCCESS) return std::nullopt;
  auto s = v.get_string();
  if (s.error() != simdjson::SUCCESS) return std::nullopt;
  return std::string(s.value_unsafe());
}

std::optional<int64_t> IntOf(simdjson::dom::element e, std::string_view pointer) {
  auto v = pointer.empty()
               ? simdjson::simdjson_result<simdjson::dom::element>(simdjson::dom::element(e))
               : e.at_pointer(pointer);
  if (v.error() != simdjson::SUCCESS) return std::nullopt;
  auto i = v.get_int64();
  if (i.error() == simdjson::SUCCESS) return i.value_unsafe();
  auto u = v.get_uint64();
  if (u.error() == simdjson::SUCCESS) return static_cast<int64_t>(u.value_unsafe());
  return std::nullopt;
}

std::string RawOf(simdjson::dom::element e) { return simdjson::minify(e); }

simdjson::dom::array Elements(simdjson::dom::element e) {
  simdjson::dom::array array;
  if (e.get_array().get(array) != simdjson::SUCCESS) return {};
  return array;
}

std::optional<std::string> Json::Str(std::string_view pointer) const {
  if (!ok_) return std::nullopt;
  return StrOf(root_, pointer);
}

std::optional<int64_t> Json::Int(std::string_view pointer) const {
  if (!ok_) return std::nullopt;
  return IntOf(root_, pointer);
}

std::optional<bool> Json::Bool(std::string_view pointer) const {
  auto e = At(pointer);
  if (!e) return std::nullopt;
  auto b = e->get_bool();
  if (b.error() != simdjson::SUCCESS) return std::nullopt;
  return b.value_unsafe();
}

std::optional<double> Json::Num(std::string_view pointer) const {
  auto e = At(pointer);
  if (!e) return std::nullopt;
  auto d = e->get_double();
  if (d.error() == simdjson::SUCCESS) return d.value_unsafe();
  if (auto i = IntOf(*e, ""); i) return static_cast<double>(*i);
  return std::nullopt;
}

bool Json::IsNull(std::string_view pointer) const {
  auto e = At(pointer);
  return e && e->is_null();
}

std::optional<size_t> Json::Size(std::string_view pointer) const {
  auto e = At(pointer);
  if (!e) return std::nullopt;
  if (e->is_array()) return e->get_array().value_unsafe().size();
  if (e->is_object()) return e->get_object().value_unsafe().size();
  return std::nullopt;
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string Json::Raw(std::string_view pointer) const {
  auto e = At(pointer);
  return e ? RawOf(*e) : std::string();
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Rfc3339FromNow(std::chrono::seconds offset) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + offset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string UniqueSuffix() {
  static std::atomic<long> counter{0};
  return std::to_string(getpid()) + "-" + std::to_string(++counter);
}

// ---------------------------------------------------------------------------------------------
// Assertions

::testing::AssertionResult HasStatus(const HttpResponse& response, long status) {
  if (response.status == status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected HTTP " << status << ", got " << response.Describe();
}

::testing::AssertionResult IsErrorEnvelope(const HttpResponse& response, long status,
                                           std::string_view code) {
  if (response.status != status) {
    return ::testing::AssertionFailure()
           << "expected HTTP " << status << " " << code << ", got " << response.Describe();
  }
  const std::string request_id = response.Header("x-request-id");
  if (request_id.empty()) {
    return ::testing::AssertionFailure() << "no X-Request-Id header on " << response.Describe();
  }
  Json j = Json::Parse(response.body);
  if (!j.ok()) {
    return ::testing::AssertionFailure()
           << "error body is not JSON (" << j.error() << "): " << response.Describe();
  }
  if (j.Str("/error/code") != std::string(code)) {
    return ::testing::AssertionFailure()
           << "expected error.code " << code << " in " << response.body;
  }
  if (j.Str("/error/message").value_or("").empty()) {
    return ::testing::AssertionFailure() << "error.message missing or empty in " << response.body;
  }
  if (j.Str("/error/trace_id") != request_id) {
    return ::testing::AssertionFailure() << "error.trace_id differs from X-Request-Id '"
                                         << request_id << "' in " << response.body;
  }
  auto details = j.At("/error/details");
  if (!details || !details->is_object()) {
    return ::testing::AssertionFailure() << "error.details is not an object in " << response.body;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace causeloop::e2e
