#include "app/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace causeloop::app {

const std::vector<Setting>& AllSettings() {
  static const std::vector<Setting> kSettings = {
      {"--listen", "CAUSELOOP_LISTEN", "127.0.0.1:4000",
       "Address to listen on, HOST:PORT (port 0 picks a free port)"},
      {"--data-dir", "CAUSELOOP_DATA_DIR", "./causeloop-data",
       "Directory for the SQLite database and the master key"},
      {"--database-url", "CAUSELOOP_DATABASE_URL", "",
       "postgresql://… to use PostgreSQL instead of SQLite (not available in this build yet)"},
      {"--allow-private-webhook-targets", "CAUSELOOP_ALLOW_PRIVATE_WEBHOOK_TARGETS", "0",
       "Allow outbound webhooks to private/loopback addresses (tests, on-prem)", true},
      {"--public-url", "CAUSELOOP_PUBLIC_URL", "",
       "Base URL senders reach this server at, for receiver URLs (default: from the Host "
       "header)"},
      {"--ca-file", "CAUSELOOP_CA_FILE", "",
       "Extra CA certificates (PEM) for outbound TLS; default is the system trust store"},
      {"--rate-limit-per-token", "CAUSELOOP_RATE_LIMIT_PER_TOKEN", "1200000",
       "Requests per minute per API token (0 disables)"},
      {"--rate-limit-per-ip", "CAUSELOOP_RATE_LIMIT_PER_IP", "6000",
       "Requests per minute per client IP for requests without a token (0 disables)"},
      {"--master-key", "CAUSELOOP_MASTER_KEY", "",
       "32-byte master key, base64; default: generated into <data-dir>/master.key (mode 0600)"},
      {"--io-threads", "CAUSELOOP_IO_THREADS", "2", "HTTP worker threads"},
      {"--clustering", "CAUSELOOP_CLUSTERING", "on",
       "Assign issues to patterns while ingesting: on or off (off is for benchmarks)"},
      {"--max-queued-records", "CAUSELOOP_MAX_QUEUED_RECORDS", "65536",
       "Records waiting for the database writer before writes answer 503"},
      {"--stream-ping-seconds", "CAUSELOOP_STREAM_PING_SECONDS", "30",
       "Live stream: send a ': ping' comment after this many silent seconds (0 disables)"},
      {"--stream-buffer-events", "CAUSELOOP_STREAM_BUFFER_EVENTS", "10000",
       "Live stream: events a connection may fall behind before it is closed (it resumes)"},
      {"--stream-buffer-bytes", "CAUSELOOP_STREAM_BUFFER_BYTES", "16777216",
       "Live stream: bytes of events a connection may fall behind before it is closed"},
      {"--stream-wakes-per-second", "CAUSELOOP_STREAM_WAKES_PER_SECOND", "20000",
       "Live stream: budget of connection writes per second; under load events are batched "
       "so that N streams get one write each per N/budget seconds (0: no batching)"},
      {"--port-file", "CAUSELOOP_PORT_FILE", "",
       "Write the bound port to this file once ready (for scripts and tests)"},
      {"--log-level", "CAUSELOOP_LOG_LEVEL", "info", "debug, info, warn or error"},
      {"--config", "CAUSELOOP_CONFIG", "",
       "Config file of KEY=VALUE lines using the environment names above"},
      {"--workspace", "CAUSELOOP_WORKSPACE", "", "Workspace id (admin create-token, import)"},
      {"--scopes", "", "", "Comma-separated scopes (admin create-token)"},
      {"--name", "", "", "A name (admin create-token, admin bootstrap)"},
      {"--batch-size", "", "500", "Records per transaction (import)"},
  };
  return kSettings;
}

namespace {
const Setting* FindSetting(const std::string& flag) {
  for (const auto& s : AllSettings()) {
    if (s.flag == flag) return &s;
  }
  return nullptr;
}
}  // namespace

Result<Config> Config::Parse(const std::vector<std::string>& args) {
  Config c;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      c.help_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      c.positional_.push_back(a);
      continue;
    }
    std::string flag = a, value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      flag = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    const Setting* s = FindSetting(flag);
    if (!s) return Fail(ErrorCode::kValidation, "unknown flag " + flag + " (see --help)");
    if (s->is_switch) {
      c.flags_.emplace_back(flag, has_value ? value : "1");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return Fail(ErrorCode::kValidation, flag + " needs a value");
      value = args[++i];
    }
    c.flags_.emplace_back(flag, value);
  }
  std::string file = c.Get("--config");
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return Fail(ErrorCode::kValidation, "cannot read config file " + file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      c.file_.emplace_back(line.substr(0, eq), line.substr(eq + 1));
    }
  }
  return c;
}

std::string Config::Get(const std::string& flag) const {
  for (auto it = flags_.rbegin(); it != flags_.rend(); ++it) {
    if (it->first == flag) return it->second;
  }
  const Setting* s = FindSetting(flag);
  if (!s) return "";
  if (!s->env.empty()) {
    if (const char* v = std::getenv(s->env.c_str()); v != nullptr) return v;
    for (const auto& [k, v] : file_) {
      if (k == s->env) return v;
    }
  }
  return s->default_value;
}

bool Config::GetBool(const std::string& flag) const {
  std::string v = Get(flag);
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

Result<long long> Config::GetInt(const std::string& flag) const {
  std::string v = Get(flag);
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || end == nullptr || *end != '\0') {
    return Fail(ErrorCode::kValidation, flag + " must be an integer, got '" + v + "'");
  }
  return n;
}

std::string SettingsHelp() {
  std::ostringstream out;
  out << "Settings (flag, environment variable, default). Precedence: flag > environment > "
         "config file > default.\n";
  for (const auto& s : AllSettings()) {
    out << "  " << s.flag << (s.is_switch ? "" : " VALUE");
    if (!s.env.empty()) out << "   [" << s.env << "]";
    out << "\n      " << s.help;
    if (!s.default_value.empty()) out << " (default: " << s.default_value << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace causeloop::app
