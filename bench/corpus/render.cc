#include "corpus/render.h"

#include <array>
#include <cstdio>
#include <string>
#include <vector>

namespace causeloop::corpus {
namespace {

constexpr int kMaxDepth = 8;
// The corpus window starts on Monday 2024-05-06 00:00:00 UTC.
constexpr int64_t kEpochDays = 19849;  // days from 1970-01-01

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {
    "Thursday", "Friday",  "Saturday", "Sunday",
    "Monday",   "Tuesday", "Wednesday"};  // 1970-01-01 was a Thursday
constexpr std::array<std::string_view, 24> kFirstNames = {
    "anna",  "ben",   "carlos", "dmitri", "elena", "farah",  "george", "hana",
    "ivan",  "julia", "kenji",  "lucia",  "maria", "nikhil", "olga",   "pedro",
    "quinn", "rahul", "sara",   "tomas",  "uma",   "victor", "wei",    "yusuf"};
constexpr std::array<std::string_view, 16> kLastNames = {
    "schmidt", "okafor",  "tanaka", "rossi", "nguyen", "kowalski", "silva",  "haddad",
    "jensen",  "morales", "kim",    "patel", "novak",  "fischer",  "duarte", "larsen"};
constexpr std::array<std::string_view, 6> kMailDomains = {"gmail.com", "outlook.com", "yahoo.co.uk",
                                                          "web.de",    "icloud.com",  "proton.me"};
constexpr std::array<std::string_view, 9> kAppServices = {
    "payments-api", "checkout",      "cart",        "orders",   "search-api",
    "user-profile", "notifications", "api-gateway", "inventory"};
constexpr std::string_view kPodAlphabet = "bcdfghjklmnpqrstvwxz2456789";
constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

struct Civil {
  int year, month, day, hour, minute, second, weekday;
};

// Howard Hinnant's civil_from_days, exact for the proleptic Gregorian calendar.
Civil ToCivil(int64_t at_seconds) {
  const int64_t total = kEpochDays * 86400 + at_seconds;
  int64_t days = total / 86400;
  const int64_t secs = total % 86400;
  const int weekday = static_cast<int>(days % 7);
  days += 719468;
  const int64_t era = days / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year,
          month,
          day,
          static_cast<int>(secs / 3600),
          static_cast<int>(secs / 60 % 60),
          static_cast<int>(secs % 60),
          weekday};
}

std::string Format(const char* fmt, auto... args) {
  char buf[128];
  const int n = std::snprintf(buf, sizeof buf, fmt, args...);
  return std::string(buf, n < 0 ? 0 : static_cast<size_t>(n));
}

// Index of the '}' closing the '{' at `open`, or npos.
size_t MatchClose(std::string_view text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Splits on '|' outside nested braces and escapes.
std::vector<std::string_view> SplitAlternatives(std::string_view inner) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < inner.size(); ++i) {
    const char c = inner[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    } else if (c == '|' && depth == 0) {
      parts.push_back(inner.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(inner.substr(start));
  return parts;
}

bool ParseRange(std::string_view spec, long long& lo, long long& hi) {
  const size_t dash = spec.find('-', 1);
  if (dash == std::string_view::npos) return false;
  lo = 0;
  hi = 0;
  for (char c : spec.substr(0, dash)) {
    if (c < '0' || c > '9') return false;
    lo = lo * 10 + (c - '0');
  }
  for (char c : spec.substr(dash + 1)) {
    if (c < '0' || c > '9') return false;
    hi = hi * 10 + (c - '0');
  }
  return lo <= hi;
}

struct Frame {
  std::string_view func;
  std::string_view file;
};

std::vector<Frame> ParseFrames(std::string_view frames) {
  std::vector<Frame> out;
  while (!frames.empty()) {
    const size_t semi = frames.find(';');
    std::string_view item = frames.substr(0, semi);
    frames = semi == std::string_view::npos ? std::string_view{} : frames.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t at = item.rfind('@');
    if (at == std::string_view::npos) continue;
    out.push_back({item.substr(0, at), item.substr(at + 1)});
  }
  return out;
}

// The frames a web framework or runtime adds below the application's, per service flavour.
std::string_view RuntimeFrames(std::string_view lang, std::string_view service) {
  const bool alt = StableHash(service) % 2 == 1;
  if (lang == "py") {
    return alt ? "__protected_call__@/usr/local/lib/python3.11/site-packages/celery/app/trace.py;"
                 "trace_task@/usr/local/lib/python3.11/site-packages/celery/app/trace.py"
               : "dispatch_request@/usr/local/lib/python3.11/site-packages/flask/app.py;"
                 "full_dispatch_request@/usr/local/lib/python3.11/site-packages/flask/app.py;"
                 "wsgi_app@/usr/local/lib/python3.11/site-packages/flask/app.py";
  }
  if (lang == "java") {
    return alt ? "org.springframework.kafka.listener.KafkaMessageListenerContainer$"
                 "ListenerConsumer.doInvokeOnMessage@KafkaMessageListenerContainer.java;"
                 "java.base/java.lang.Thread.run@Thread.java"
               : "org.springframework.web.servlet.FrameworkServlet.service@FrameworkServlet.java;"
                 "jakarta.servlet.http.HttpServlet.service@HttpServlet.java;"
                 "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter@"
                 "ApplicationFilterChain.java;"
                 "java.base/java.lang.Thread.run@Thread.java";
  }
  if (lang == "go") {
    return "net/http.HandlerFunc.ServeHTTP@/usr/local/go/src/net/http/server.go;"
           "net/http.serverHandler.ServeHTTP@/usr/local/go/src/net/http/server.go;"
           "net/http.(*conn).serve@/usr/local/go/src/net/http/server.go";
  }
  if (lang == "js") {
    return "renderWithHooks@webpack:///node_modules/react-dom/cjs/react-dom.production.min.js;"
           "beginWork@webpack:///node_modules/react-dom/cjs/react-dom.production.min.js;"
           "performUnitOfWork@webpack:///node_modules/react-dom/cjs/react-dom.production.min.js";
  }
  if (lang == "node") {
    return "Layer.handle [as handle_request]@/app/node_modules/express/lib/router/layer.js;"
           "next@/app/node_modules/express/lib/router/route.js;"
           "processTicksAndRejections@node:internal/process/task_queues";
  }
  return "";
}

std::string TitleCase(std::string_view service) {
  std::string out;
  bool start = true;
  for (size_t i = 0; i < service.size(); ++i) {
    const char c = service[i];
    if (c == '-') {
      out.push_back(' ');
      start = true;
      continue;
    }
    if (start && service.substr(i, 3) == "api" && (i + 3 == service.size())) {
      out += "API";
      break;
    }
    out.push_back(start && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    start = false;
  }
  return out;
}

std::string_view TeamOf(std::string_view service) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTeams = {{
      {"payments-api", "payments"},
      {"billing-worker", "payments"},
      {"ledger", "payments"},
      {"checkout", "checkout"},
      {"cart", "checkout"},
      {"web-checkout", "checkout"},
      {"orders", "fulfilment"},
      {"inventory", "fulfilment"},
      {"search-api", "search"},
      {"search-indexer", "search"},
      {"auth", "identity"},
      {"user-profile", "identity"},
      {"notifications", "messaging"},
      {"recommendations", "discovery"},
  }};
  for (const auto& [svc, team] : kTeams) {
    if (svc == service) return team;
  }
  return "sre";
}

}  // namespace

std::string FormatCorpusTime(int64_t at_seconds) {
  const Civil c = ToCivil(at_seconds);
  return Format("%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
}

Renderer::Renderer(Rng& rng, const Cause& cause, std::string_view service,
                   const ErrorProfile* error, int64_t at_seconds)
    : rng_(rng),
      cause_(cause),
      service_(service),
      error_(error),
      at_seconds_(at_seconds),
      line_drift_(rng.Percent(15) ? static_cast<int>(rng.Range(1, 14)) : 0) {}

std::string Renderer::Render(std::string_view text) {
  std::string out;
  RenderInto(text, 0, out);
  return out;
}

void Renderer::RenderInto(std::string_view text, int depth, std::string& out) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      out.push_back(text[++i]);
    } else if (c == '{') {
      const size_t close = MatchClose(text, i);
      if (close == std::string_view::npos) {
        out.append(text.substr(i));
        return;
      }
      Expand(text.substr(i + 1, close - i - 1), depth, out);
      i = close;
    } else {
      out.push_back(c);
    }
  }
}

void Renderer::Expand(std::string_view inner, int depth, std::string& out) {
  if (depth >= kMaxDepth) {
    out += "<?depth?>";
    return;
  }
  if (inner.starts_with('?')) {
    const size_t colon = inner.find(':');
    int percent = 0;
    for (char c : inner.substr(1, colon == std::string_view::npos ? 0 : colon - 1)) {
      percent = percent * 10 + (c - '0');
    }
    if (colon != std::string_view::npos && rng_.Percent(percent)) {
      RenderInto(inner.substr(colon + 1), depth + 1, out);
    }
    return;
  }
  std::vector<std::string_view> alternatives = SplitAlternatives(inner);
  if (alternatives.size() > 1) {
    RenderInto(rng_.Pick(alternatives), depth + 1, out);
    return;
  }
  if (inner.starts_with('#') || inner.starts_with('.')) {
    const size_t at = inner.find('@');
    std::string_view spec = inner.substr(1, at == std::string_view::npos ? inner.npos : at - 1);
    std::string key;
    if (at != std::string_view::npos) {
      key.assign("@").append(inner.substr(at + 1));
      if (auto it = cache_.find(key); it != cache_.end()) {
        out += it->second;
        return;
      }
    }
    long long lo = 0, hi = 0;
    std::string value;
    if (!ParseRange(spec, lo, hi)) {
      value = "<?" + std::string(inner) + "?>";
    } else if (inner.front() == '#') {
      value = std::to_string(rng_.Range(lo, hi));
    } else {
      const long long tenths = rng_.Range(lo * 10, hi * 10);
      value = std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
    }
    if (!key.empty()) cache_[key] = value;
    out += value;
    return;
  }
  const bool optional = inner.starts_with('~');
  if (optional) inner.remove_prefix(1);
  out += Lookup(inner, optional, depth);
}

std::string Renderer::Lookup(std::string_view name, bool optional, int depth) {
  if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  std::string value;
  bool found = false;
  std::string_view text;
  if (error_ != nullptr) {
    if (name == "exc") text = error_->exc, found = true;
    if (name == "msg") text = error_->msg, found = true;
    if (name == "lang") text = error_->lang, found = true;
  }
  for (const auto& [key, param] : cause_.params) {
    if (!found && key == name) text = param, found = true;
  }
  if (found) {
    RenderInto(text, depth + 1, value);
  } else {
    value = Builtin(name);
    if (value.empty()) {
      std::string_view base = name;
      while (!base.empty() && base.back() >= '0' && base.back() <= '9') base.remove_suffix(1);
      if (base.size() != name.size()) value = Builtin(base);
    }
    if (value.empty() && !optional) value = "<?" + std::string(name) + "?>";
  }
  cache_.emplace(std::string(name), value);
  return value;
}

int Renderer::LineOf(std::string_view frame) {
  const int base = 18 + static_cast<int>(StableHash(cause_.id, frame) % 880);
  return frame.find("site-packages") != frame.npos || frame.find("node_modules") != frame.npos ||
                 frame.find("/usr/local/go") != frame.npos
             ? base
             : base + line_drift_;
}

std::string Renderer::Trace() {
  if (error_ == nullptr) return {};
  const std::string msg = Lookup("msg", false, 0);
  const std::string_view lang = error_->lang;
  std::vector<Frame> frames = ParseFrames(error_->frames);
  for (const Frame& f : ParseFrames(RuntimeFrames(lang, service_))) frames.push_back(f);
  std::string out;
  auto line = [&](const Frame& f) {
    return LineOf(std::string(f.func) + "@" + std::string(f.file));
  };
  if (lang == "py") {
    out = "Traceback (most recent call last):\n";
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      out += "  File \"" + std::string(it->file) + "\", line " + std::to_string(line(*it)) +
             ", in " + std::string(it->func) + "\n";
    }
    out += std::string(error_->exc) + ": " + msg;
  } else if (lang == "java") {
    out = std::string(error_->exc) + ": " + msg;
    for (const Frame& f : frames) {
      out += "\n\tat " + std::string(f.func) + "(" + std::string(f.file) + ":" +
             std::to_string(line(f)) + ")";
    }
    out += "\n\t... " + std::to_string(rng_.Range(18, 96)) + " common frames omitted";
  } else if (lang == "go") {
    out = std::string(error_->exc) + ": " + msg + "\n\ngoroutine " +
          std::to_string(rng_.Range(7, 48000)) + " [running]:";
    for (const Frame& f : frames) {
      out += "\n" + std::string(f.func) + "(...)\n\t" + std::string(f.file) + ":" +
             std::to_string(line(f)) + " +0x" + Format("%llx", rng_.Range(0x1a, 0x4ff));
    }
  } else {
    out = std::string(error_->exc) + ": " + msg;
    for (const Frame& f : frames) {
      out += "\n    at " + std::string(f.func) + " (" + std::string(f.file) + ":" +
             std::to_string(line(f)) + ":" + std::to_string(5 + StableHash(f.func) % 40) + ")";
    }
  }
  return out;
}

std::string Renderer::TopFrame() {
  if (error_ == nullptr) return {};
  std::vector<Frame> frames = ParseFrames(error_->frames);
  if (frames.empty()) return {};
  const Frame& f = frames.front();
  return std::string(f.func) + " (" + std::string(f.file) + ":" +
         std::to_string(LineOf(std::string(f.func) + "@" + std::string(f.file))) + ")";
}

std::string Renderer::Culprit() {
  if (error_ == nullptr) return {};
  std::vector<Frame> frames = ParseFrames(error_->frames);
  if (frames.empty()) return {};
  const Frame& f = frames.front();
  if (error_->lang == "py") {
    std::string module(f.file);
    if (module.starts_with("/app/")) module.erase(0, 5);
    if (module.ends_with(".py")) module.resize(module.size() - 3);
    for (char& c : module) {
      if (c == '/') c = '.';
    }
    return module + " in " + std::string(f.func);
  }
  if (error_->lang == "node") return std::string(f.func) + "(" + std::string(f.file) + ")";
  return std::string(f.func);
}

std::string Renderer::Builtin(std::string_view name) {
  auto random_of = [this](std::string_view alphabet, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(alphabet[rng_.Below(alphabet.size())]);
    return s;
  };
  auto pod_of = [&](std::string_view deployment) {
    // A deployment has a few live replica sets (rollouts); the hash is stable per set.
    const uint64_t h = StableHash(deployment, std::to_string(rng_.Below(3)));
    std::string rs;
    for (int i = 0; i < 9; ++i) rs.push_back(kPodAlphabet[(h >> (i * 5)) % kPodAlphabet.size()]);
    return std::string(deployment) + "-" + rs + "-" + random_of(kPodAlphabet, 5);
  };
  const Civil c = ToCivil(at_seconds_);
  if (name == "svc") return service_;
  if (name == "svc_title") return TitleCase(service_);
  if (name == "team") return std::string(TeamOf(service_));
  if (name == "pod") return pod_of(service_);
  if (name == "any_pod") return pod_of(rng_.Pick(kAppServices));
  if (name == "node") {
    return Format("ip-10-%d-%d-%d.ec2.internal", static_cast<int>(rng_.Range(0, 31)),
                  static_cast<int>(rng_.Range(0, 255)), static_cast<int>(rng_.Range(1, 254)));
  }
  if (name == "ip") {
    return Format("10.%d.%d.%d", static_cast<int>(rng_.Range(0, 31)),
                  static_cast<int>(rng_.Range(0, 255)), static_cast<int>(rng_.Range(1, 254)));
  }
  if (name == "ext_ip") {
    return Format("%d.%d.%d.%d", static_cast<int>(rng_.Pick(std::array{34, 35, 52, 54, 18, 3})),
                  static_cast<int>(rng_.Range(0, 255)), static_cast<int>(rng_.Range(0, 255)),
                  static_cast<int>(rng_.Range(1, 254)));
  }
  if (name == "host") {
    return std::string(service_) + "-" + Format("%02d", static_cast<int>(rng_.Range(1, 24))) +
           ".prod." + std::string(rng_.Pick(std::array{"use1", "use1", "euw1"})) + ".internal";
  }
  if (name == "instance_id") return "i-0" + random_of(kHex, 16);
  if (name == "uuid") {
    return random_of(kHex, 8) + "-" + random_of(kHex, 4) + "-4" + random_of(kHex, 3) + "-" +
           std::string(1, "89ab"[rng_.Below(4)]) + random_of(kHex, 3) + "-" + random_of(kHex, 12);
  }
  if (name == "hex32" || name == "traceid") return random_of(kHex, 32);
  if (name == "hex16") return random_of(kHex, 16);
  if (name == "hex8") return random_of(kHex, 8);
  if (name == "sha") return random_of(kHex, 40);
  if (name == "sha7") return random_of(kHex, 7);
  if (name == "reqid") {
    switch (rng_.Below(3)) {
      case 0:
        return "req_" + random_of(kAlnum, 24);
      case 1:
        return random_of(kHex, 8) + "-" + random_of(kHex, 4) + "-" + random_of(kHex, 4) + "-" +
               random_of(kHex, 4) + "-" + random_of(kHex, 12);
      default:
        return "Root=1-" + random_of(kHex, 8) + "-" + random_of(kHex, 24);
    }
  }
  if (name == "ts") return FormatCorpusTime(at_seconds_);
  if (name == "ts_ms") {
    return Format("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day, c.hour, c.minute,
                  c.second, static_cast<int>(rng_.Below(1000)));
  }
  if (name == "ts_log") {
    return Format("%04d-%02d-%02d %02d:%02d:%02d,%03d", c.year, c.month, c.day, c.hour, c.minute,
                  c.second, static_cast<int>(rng_.Below(1000)));
  }
  if (name == "ts_syslog") {
    return Format("%s %2d %02d:%02d:%02d", std::string(kMonths[c.month - 1]).c_str(), c.day, c.hour,
                  c.minute, c.second);
  }
  if (name == "ts_cw") {
    return Format("%s %d %s, %d %02d:%02d:%02d UTC", std::string(kWeekdays[c.weekday]).c_str(),
                  c.day, std::string(kMonths[c.month - 1]).c_str(), c.year, c.hour, c.minute,
                  c.second);
  }
  if (name == "date") return Format("%04d-%02d-%02d", c.year, c.month, c.day);
  if (name == "hms") return Format("%02d:%02d:%02d", c.hour, c.minute, c.second);
  if (name == "user")
    return std::string(rng_.Pick(kFirstNames)) + "." + std::string(rng_.Pick(kLastNames));
  if (name == "user_name") {
    std::string first(rng_.Pick(kFirstNames));
    std::string last(rng_.Pick(kLastNames));
    first[0] = static_cast<char>(first[0] - 'a' + 'A');
    last[0] = static_cast<char>(last[0] - 'a' + 'A');
    return first + " " + last;
  }
  if (name == "email") {
    return std::string(rng_.Pick(kFirstNames)) + std::string(rng_.Pick(std::array{".", "_", ""})) +
           std::string(rng_.Pick(kLastNames)) + std::to_string(rng_.Range(1, 99)) + "@" +
           std::string(rng_.Pick(kMailDomains));
  }
  if (name == "ver") {
    // A service ships a handful of releases a month: major and minor base are its own.
    const uint64_t h = StableHash(service_, "ver");
    return Format("%d.%d.%d", static_cast<int>(1 + h % 4),
                  static_cast<int>((h >> 8) % 40 + rng_.Below(3)), static_cast<int>(rng_.Below(8)));
  }
  if (name == "sentry_ctx") {
    if (error_ != nullptr && error_->lang == "js") {
      return "browser: " +
             std::string(rng_.Pick(std::array{"Chrome 124.0.0", "Safari 17.4", "Firefox 125.0",
                                              "Mobile Safari 17.4", "Edge 124.0.0"})) +
             "\nos: " +
             std::string(rng_.Pick(
                 std::array{"Windows 10", "Mac OS X 10.15.7", "iOS 17.4.1", "Android 14"})) +
             "\nurl: https://www.example-shop.com/" +
             (service_ == "web-account" ? std::string("account/addresses")
                                        : std::string(rng_.Pick(std::array{"cart", "checkout"})));
    }
    return "server_name: " + Builtin("pod");
  }
  if (name == "branch") {
    switch (rng_.Below(6)) {
      case 0:
      case 1:
      case 2:
        return "main";
      case 3:
        return Format("release/2024.%02d", static_cast<int>(rng_.Range(4, 6)));
      case 4:
        return "feature/" +
               std::string(rng_.Pick(std::array{"PAY", "CHK", "SRCH", "OPS", "IAM", "FUL"})) + "-" +
               std::to_string(rng_.Range(100, 4999)) + "-" +
               std::string(rng_.Pick(std::array{"refunds", "retry-budget", "new-tax-engine",
                                                "bulk-reindex", "sso-login", "split-shipments"}));
      default:
        return "dependabot/" +
               std::string(rng_.Pick(std::array{"npm_and_yarn/axios-1.6.8", "pip/requests-2.32.0",
                                                "go_modules/golang.org/x/net-0.23.0",
                                                "maven/org.postgresql-postgresql-42.7.3"}));
    }
  }
  if (name == "run") return std::to_string(rng_.Range(8000000000LL, 9999999999LL));
  if (name == "inc") return Format("INC%07d", static_cast<int>(rng_.Range(10000, 999999)));
  if (name == "pd_id") return "Q" + random_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 13);
  if (name == "az") return "us-east-1" + std::string(1, "abcdf"[rng_.Below(5)]);
  if (name == "trace") return Trace();
  if (name == "top_frame") return TopFrame();
  if (name == "culprit") return Culprit();
  return {};
}

}  // namespace causeloop::corpus
