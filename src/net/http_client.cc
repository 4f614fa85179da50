#include "net/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <stop_token>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/log.h"
#include "core/thread_name.h"
#include "net/ssrf.h"

namespace causeloop::net {
namespace {

constexpr size_t kBodyExcerptBytes = 1024;
constexpr size_t kMaxResponseHeaders = 100;
// How long the loop sleeps when nothing happens; wakeups and libcurl's own timers cut it short.
constexpr int kIdlePollMs = 1000;

struct CurlEasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct Pending {
  uint64_t seq = 0;
  HttpRequest request;
  HttpClient::Callback done;
};

// One running request. Owned by the client thread; libcurl holds a pointer to it (PRIVATE,
// WRITEDATA, HEADERDATA, OPENSOCKETDATA) for as long as the easy handle is in the multi.
struct Transfer {
  Pending pending;  // keeps the body alive: POSTFIELDS points into it
  CurlEasy easy;
  CurlSlist header_list;
  CurlSlist resolve_list;
  HttpResult result;
  bool allow_private = false;
  std::string refused;  // why the open-socket callback refused an address
  char error_buffer[CURL_ERROR_SIZE] = {};
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  std::string& excerpt = t->result.body_excerpt;
  size_t room = kBodyExcerptBytes - std::min(kBodyExcerptBytes, excerpt.size());
  excerpt.append(data, std::min(room, len));
  return len;  // the rest is read and dropped, so the connection stays reusable
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  std::string_view line = Trim(std::string_view(data, len));
  auto& headers = t->result.headers;
  if (line.starts_with("HTTP/")) {
    headers.clear();  // a new response (after 100 Continue): only the final one's headers count
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;  // blank or obsolete folding
  if (headers.size() >= kMaxResponseHeaders) return len;
  std::string name(Trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  headers.emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
  return len;
}

std::string FormatAddress(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
  } else {
    return "a non-internet address";
  }
  return text;
}

// The SSRF check on the address actually connected to: libcurl calls this for every address it
// tries (both families, every A/AAAA record, CURLOPT_RESOLVE pins included), after DNS.
curl_socket_t OnOpenSocket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->allow_private) {
    if (const char* reason = ForbiddenAddressReason(&address->addr)) {
      t->refused = "connecting to " + FormatAddress(&address->addr) + " is forbidden: " + reason;
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// Header values must not smuggle a second header or request.
bool IsSafeHeaderValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient(HttpClientOptions options, CurlMulti multi)
      : options_(std::move(options)),
        multi_(std::move(multi)),
        thread_([this](const std::stop_token& stop) { Run(stop); }) {}
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;
  ~CurlHttpClient() override { Stop(); }

  void Send(HttpRequest request, Callback done) override {
    in_flight_.fetch_add(1);
    bool queued = false;
    {
      std::lock_guard lock(mu_);
      if (!stopped_) {
        incoming_.push_back(Pending{next_seq_++, std::move(request), std::move(done)});
        queued = true;
      }
    }
    if (queued) {
      curl_multi_wakeup(multi_.get());
      return;
    }
    HttpResult result;
    result.error = "stopped";
    Complete(done, std::move(result));
  }

  void Stop() override {
    if (std::this_thread::get_id() == thread_.get_id()) {
      // From a callback: the loop winds down after the callback returns.
      thread_.request_stop();
      return;
    }
    std::lock_guard stop_lock(stop_mu_);
    if (!thread_.joinable()) return;
    thread_.request_stop();
    curl_multi_wakeup(multi_.get());
    thread_.join();
  }

  [[nodiscard]] size_t in_flight() const override { return in_flight_.load(); }

 private:
  struct Pool {
    size_t running = 0;
    std::deque<Pending> waiting;
  };

  void Run(const std::stop_token& stop) {
    NameThisThread("cl-http-client");
    while (!stop.stop_requested()) {
      std::vector<Pending> batch;
      {
        std::lock_guard lock(mu_);
        batch.swap(incoming_);
      }
      for (Pending& p : batch) Enqueue(std::move(p));
      Admit();
      int still_running = 0;
      curl_multi_perform(multi_.get(), &still_running);
      // Completions free slots; requests admitted into them must be performed before polling.
      if (DrainCompletions() && Admit()) continue;
      curl_multi_poll(multi_.get(), nullptr, 0, kIdlePollMs, nullptr);
    }
    Shutdown();
  }

  void Enqueue(Pending p) {
    if (Status ok = CheckOutboundUrl(p.request.url, options_.allow_private_targets); !ok) {
      HttpResult result;
      result.refused = true;
      result.error = "refused: " + ok.error().message;
      Complete(p.done, std::move(result));
      return;
    }
    if (std::string problem = Validate(p.request); !problem.empty()) {
      HttpResult result;
      result.error = "invalid request: " + problem;
      Complete(p.done, std::move(result));
      return;
    }
    std::string key = p.request.pool_key;
    Pool& pool = pools_[key];
    pool.waiting.push_back(std::move(p));
    if (pool.running < options_.max_per_pool) eligible_.emplace(pool.waiting.front().seq, key);
  }

  static std::string Validate(const HttpRequest& request) {
    if (!IsToken(request.method)) return "method is not an HTTP token";
    for (const auto& [name, value] : request.headers) {
      if (!IsToken(name)) return "header name is not an HTTP token";
      if (!IsSafeHeaderValue(value)) return "header value contains CR, LF or NUL";
    }
    for (const std::string& entry : request.resolve) {
      if (!IsSafeHeaderValue(entry)) return "resolve entry contains CR, LF or NUL";
    }
    return {};
  }

  // Starts queued requests while there is room, oldest first across pools. True when any
  // started.
  bool Admit() {
    bool started = false;
    while (running_ < options_.max_concurrent && !eligible_.empty()) {
      std::string key = eligible_.begin()->second;
      eligible_.erase(eligible_.begin());
      Pool& pool = pools_[key];
      Pending p = std::move(pool.waiting.front());
      pool.waiting.pop_front();
      ++pool.running;
      ++running_;
      if (!pool.waiting.empty() && pool.running < options_.max_per_pool) {
        eligible_.emplace(pool.waiting.front().seq, key);
      }
      Start(std::move(p));
      started = true;
    }
    return started;
  }

  void Release(const std::string& key) {
    --running_;
    auto it = pools_.find(key);
    Pool& pool = it->second;
    --pool.running;
    if (!pool.waiting.empty() && pool.running < options_.max_per_pool) {
      eligible_.emplace(pool.waiting.front().seq, key);
    }
    if (pool.running == 0 && pool.waiting.empty()) pools_.erase(it);
  }

  void Start(Pending p) {
    auto t = std::make_unique<Transfer>();
    t->pending = std::move(p);
    t->allow_private = options_.allow_private_targets;
    t->easy.reset(curl_easy_init());
    std::string problem;
    if (!t->easy) {
      problem = "curl_easy_init failed";
    } else if (CURLcode rc = Configure(*t); rc != CURLE_OK) {
      problem = std::string("cannot configure the request: ") + curl_easy_strerror(rc);
    } else if (CURLMcode mrc = curl_multi_add_handle(multi_.get(), t->easy.get());
               mrc != CURLM_OK) {
      problem = std::string("cannot start the request: ") + curl_multi_strerror(mrc);
    }
    if (!problem.empty()) {
      Release(t->pending.request.pool_key);
      HttpResult result;
      result.error = std::move(problem);
      Complete(t->pending.done, std::move(result));
      return;
    }
    Transfer* raw = t.get();
    transfers_.emplace(raw, std::move(t));
  }

  CURLcode Configure(Transfer& t) {
    CURL* easy = t.easy.get();
    const HttpRequest& req = t.pending.request;
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
    };
    const char* protocols = options_.allow_private_targets ? "http,https" : "https";
    set(CURLOPT_PRIVATE, static_cast<void*>(&t));
    set(CURLOPT_URL, req.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, protocols);
    set(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_TCP_NODELAY, 1L);
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
    set(CURLOPT_PROXY, "");  // ignore *_proxy variables: the guard must see the real peer
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, req.timeout.count())));
    set(CURLOPT_USERAGENT, options_.user_agent.c_str());
    set(CURLOPT_ERRORBUFFER, t.error_buffer);
    set(CURLOPT_WRITEFUNCTION, &OnBody);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_HEADERFUNCTION, &OnHeader);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
    set(CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&t));

    bool has_expect = false;
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : req.headers) {
      has_expect = has_expect || EqualsIgnoreCase(name, "expect");
      // "Name;" is libcurl's spelling of a header with an empty value.
      std::string line = name;
      line.append(value.empty() ? ";" : ": ").append(value);
      curl_slist* next = curl_slist_append(headers, line.c_str());
      if (next == nullptr) {
        curl_slist_free_all(headers);
        return CURLE_OUT_OF_MEMORY;
      }
      headers = next;
    }
    // No "Expect: 100-continue" round trip before larger bodies.
    if (!has_expect) {
      curl_slist* next = curl_slist_append(headers, "Expect:");
      if (next == nullptr) {
        curl_slist_free_all(headers);
        return CURLE_OUT_OF_MEMORY;
      }
      headers = next;
    }
    t.header_list.reset(headers);
    set(CURLOPT_HTTPHEADER, t.header_list.get());

    if (!req.resolve.empty()) {
      curl_slist* resolve = nullptr;
      for (const std::string& entry : req.resolve) {
        curl_slist* next = curl_slist_append(resolve, entry.c_str());
        if (next == nullptr) {
          curl_slist_free_all(resolve);
          return CURLE_OUT_OF_MEMORY;
        }
        resolve = next;
      }
      t.resolve_list.reset(resolve);
      set(CURLOPT_RESOLVE, t.resolve_list.get());
    }

    if (req.method == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else if (req.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else {
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      set(CURLOPT_POSTFIELDS, req.body.data());
      if (req.method != "POST") set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    return rc;
  }

  // Finishes every transfer libcurl reports done. True when any finished.
  bool DrainCompletions() {
    bool any = false;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      // Copied out: msg dies with curl_multi_remove_handle.
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;
      Finish(easy, code);
      any = true;
    }
    return any;
  }

  void Finish(CURL* easy, CURLcode code) {
    char* private_data = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_data);
    auto it = transfers_.find(reinterpret_cast<Transfer*>(private_data));
    if (it == transfers_.end()) return;  // not ours; cannot happen
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_.get(), easy);

    HttpResult& result = t->result;
    curl_off_t total_us = 0;
    if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK) {
      result.latency = std::chrono::microseconds(total_us);
    }
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      result.status = static_cast<int>(status);
    } else {
      // A response cut short (timeout while reading the body, reset) is no response: success
      // means a complete response within the timeout.
      result.status = 0;
      result.headers.clear();
      result.body_excerpt.clear();
      if (!t->refused.empty()) {
        result.refused = true;
        result.error = "refused: " + t->refused;
      } else {
        result.error = curl_easy_strerror(code);
        if (t->error_buffer[0] != '\0') result.error += std::string(": ") + t->error_buffer;
      }
    }
    Release(t->pending.request.pool_key);
    Complete(t->pending.done, std::move(result));
  }

  void Complete(Callback& done, HttpResult result) {
    in_flight_.fetch_sub(1);
    if (!done) return;
    try {
      done(std::move(result));
    } catch (const std::exception& e) {
      log::Error("http client: completion callback threw", {{"error", e.what()}});
    } catch (...) {
      log::Error("http client: completion callback threw");
    }
  }

  void Shutdown() {
    std::vector<Pending> batch;
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      batch.swap(incoming_);
    }
    auto stopped = [] {
      HttpResult result;
      result.error = "stopped";
      return result;
    };
    for (auto& [raw, t] : transfers_) {
      curl_multi_remove_handle(multi_.get(), t->easy.get());
      Complete(t->pending.done, stopped());
    }
    transfers_.clear();
    for (auto& [key, pool] : pools_) {
      for (Pending& p : pool.waiting) Complete(p.done, stopped());
    }
    pools_.clear();
    eligible_.clear();
    running_ = 0;
    for (Pending& p : batch) Complete(p.done, stopped());
  }

  const HttpClientOptions options_;
  const CurlMulti multi_;

  std::mutex mu_;
  std::vector<Pending> incoming_;  // guarded by mu_
  uint64_t next_seq_ = 0;          // guarded by mu_
  bool stopped_ = false;           // guarded by mu_; set once the thread takes no more

  std::atomic<size_t> in_flight_{0};

  // Owned by the client thread.
  std::unordered_map<std::string, Pool> pools_;
  // (seq of the head, pool key) of every pool with a waiting request and a free slot.
  std::set<std::pair<uint64_t, std::string>> eligible_;
  size_t running_ = 0;
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> transfers_;

  std::mutex stop_mu_;   // serialises Stop()
  std::jthread thread_;  // last: started once everything above exists
};

std::once_flag curl_init_once;
CURLcode curl_init_result = CURLE_OK;

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  if (options.max_concurrent == 0 || options.max_per_pool == 0) {
    return Fail(ErrorCode::kValidation,
                "http client: max_concurrent and max_per_pool must be >= 1");
  }
  if (!options.ca_file.empty() && access(options.ca_file.c_str(), R_OK) != 0) {
    return Fail(ErrorCode::kValidation, "http client: ca_file is not readable: " + options.ca_file);
  }
  // curl_global_init is not thread-safe on every build; once per process, never cleaned up.
  std::call_once(curl_init_once, [] { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (curl_init_result != CURLE_OK) {
    return Fail(ErrorCode::kInternal, std::string("http client: curl_global_init: ") +
                                          curl_easy_strerror(curl_init_result));
  }
  // CURLOPT_PROTOCOLS_STR needs 7.85; curl_multi_wakeup 7.68.
  if (curl_version_info(CURLVERSION_NOW)->version_num < 0x075500) {
    return Fail(ErrorCode::kInternal, "http client: libcurl 7.85 or newer is required");
  }
  CurlMulti multi(curl_multi_init());
  if (!multi) return Fail(ErrorCode::kInternal, "http client: curl_multi_init failed");
  // Keep idle connections for reuse: the default cache (4 per transfer running) drops them
  // between bursts, and every delivery would pay a new TLS handshake.
  curl_multi_setopt(multi.get(), CURLMOPT_MAXCONNECTS,
                    static_cast<long>(std::max<size_t>(options.max_concurrent, 16)));
  return std::unique_ptr<HttpClient>(
      std::make_unique<CurlHttpClient>(std::move(options), std::move(multi)));
}

}  // namespace causeloop::net
