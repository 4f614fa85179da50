#include "ingest/records.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/json_writer.h"

namespace causeloop::bench {
namespace {

constexpr std::array<std::string_view, 12> kSources = {
    "datadog",  "pagerduty", "sentry", "alertmanager", "grafana", "cloudwatch",
    "opsgenie", "jira",      "github", "servicenow",   "gitlab",  "custom_api"};
// Width of the quoted source value; shorter names are padded with JSON whitespace after the
// closing quote, so every key patch has the same length and Content-Length never changes.
constexpr std::size_t kSourceWidth = 14;

constexpr std::array<std::string_view, 12> kServices = {
    "db",     "api",   "checkout", "payments", "search",  "auth",
    "ingest", "cache", "queue",    "web",      "billing", "notifications"};
constexpr std::array<std::string_view, 8> kSeverities = {"critical", "high", "medium", "low",
                                                         "info",     "p2",   "P3",     "high"};
constexpr std::array<std::string_view, 3> kEnvs = {"prod", "staging", "prod"};
constexpr std::array<std::string_view, 5> kRegions = {"eu-west-1", "us-east-1", "us-west-2",
                                                      "ap-southeast-2", "eu-central-1"};
constexpr std::array<std::string_view, 6> kTeams = {"sre",    "platform", "payments-core",
                                                    "search", "identity", "data"};
constexpr std::array<std::string_view, 8> kExceptions = {
    "NullPointerException",  "TimeoutError",     "ConnectionResetError", "KeyError",
    "IllegalStateException", "OutOfMemoryError", "PSQLException",        "DeadlineExceeded"};
constexpr std::array<std::string_view, 8> kWords = {"upstream", "replica",   "primary", "shard",
                                                    "worker",   "scheduler", "gateway", "consumer"};

template <typename Array>
std::string_view Pick(std::mt19937_64& rng, const Array& values) {
  return values[rng() % values.size()];
}

int Num(std::mt19937_64& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

std::string Host(std::mt19937_64& rng, std::string_view service) {
  return std::string(service) + "-" + std::to_string(Num(rng, 1, 40));
}

// A title and a body in the shapes alerting tools send: metric alerts, crash reports, deploy
// and certificate warnings. The numbers vary so the same template yields many distinct texts.
void MakeText(std::mt19937_64& rng, std::string_view service, std::string& title,
              std::string& body) {
  const std::string host = Host(rng, service);
  const std::string svc(service);
  switch (rng() % 10) {
    case 0:
      title = "Disk full on " + host + " (/var/lib/" + svc + " " +
              std::to_string(Num(rng, 91, 100)) + "%)";
      body = "Filesystem /var/lib/" + svc + " on " + host + " is " +
             std::to_string(Num(rng, 91, 100)) + "% full (" + std::to_string(Num(rng, 1, 40)) +
             " GiB free of " + std::to_string(Num(rng, 200, 2000)) +
             " GiB). Growth over the last hour: " + std::to_string(Num(rng, 1, 30)) +
             " GiB. Largest directories: wal/, logs/, tmp/. Runbook: rotate logs, check for "
             "stuck compaction, expand the volume if the trend continues.";
      break;
    case 1:
      title = "High latency on " + svc + ": p99 " + std::to_string(Num(rng, 300, 9000)) + " ms";
      body = "p99 latency of " + svc + " has been above " + std::to_string(Num(rng, 200, 800)) +
             " ms for " + std::to_string(Num(rng, 5, 30)) + " minutes (current " +
             std::to_string(Num(rng, 300, 9000)) + " ms, baseline " +
             std::to_string(Num(rng, 20, 150)) +
             " ms). Affected endpoints: /v2/orders, "
             "/v2/cart. Upstream " +
             std::string(Pick(rng, kWords)) +
             " saturation suspected; check connection pool usage and recent deploys.";
      break;
    case 2: {
      const std::string ex(Pick(rng, kExceptions));
      title = ex + " in " + svc + "." + std::string(Pick(rng, kWords)) + ".handle";
      body = ex + ": request " + std::to_string(rng() % 1000000000) + " failed\n  at " + svc + "." +
             std::string(Pick(rng, kWords)) +
             ".handle(Handler.java:" + std::to_string(Num(rng, 10, 900)) + ")\n  at " + svc +
             ".router.dispatch(Router.java:" + std::to_string(Num(rng, 10, 400)) +
             ")\n  at io.netty.channel.AbstractChannel" +
             "HandlerContext.invokeChannelRead(AbstractChannelHandlerContext.java:379)\n" +
             "Seen " + std::to_string(Num(rng, 1, 5000)) + " times in the last hour on " + host +
             ".";
      break;
    }
    case 3:
      title = "5xx rate above " + std::to_string(Num(rng, 2, 40)) + "% on " + svc;
      body = "The share of 5xx responses served by " + svc + " reached " +
             std::to_string(Num(rng, 2, 40)) + "." + std::to_string(Num(rng, 0, 9)) +
             "% over 5 minutes (threshold 2%). Top status: 503 from " + host +
             ". Load balancer reports " + std::to_string(Num(rng, 1, 12)) +
             " unhealthy targets. Recent change: config push " + std::to_string(rng() % 100000) +
             ". Consider rolling back if the rate does not recover.";
      break;
    case 4:
      title = "Pod " + svc + "-" + std::to_string(rng() % 100000) + " CrashLoopBackOff";
      body = "Container " + svc + " in namespace " + std::string(Pick(rng, kTeams)) +
             " restarted " + std::to_string(Num(rng, 3, 80)) +
             " times in 10 minutes. Last state: Terminated, reason OOMKilled, exit code 137. "
             "Memory limit 512Mi, peak usage " +
             std::to_string(Num(rng, 480, 530)) + "Mi. Node " + host +
             ". Events: Back-off restarting failed container.";
      break;
    case 5:
      title = "Replication lag " + std::to_string(Num(rng, 30, 3600)) + "s on " + host;
      body = "Replica " + host + " is " + std::to_string(Num(rng, 30, 3600)) +
             " seconds behind the primary. WAL receiver state: streaming; replay paused: no. "
             "Write rate on the primary is " +
             std::to_string(Num(rng, 2, 40)) + "k tx/s, above the usual " +
             std::to_string(Num(rng, 1, 10)) +
             "k. Reads routed to this replica may return stale data.";
      break;
    case 6:
      title = "Certificate for " + svc + ".example.com expires in " +
              std::to_string(Num(rng, 1, 14)) + " days";
      body = "The TLS certificate served by " + host + " for " + svc +
             ".example.com (issuer R3, serial " + std::to_string(rng()) + ") expires in " +
             std::to_string(Num(rng, 1, 14)) +
             " days. Automatic renewal failed: ACME challenge returned 403 Forbidden. Check the "
             "DNS record and the HTTP-01 route on the ingress controller.";
      break;
    case 7:
      title = "Queue " + svc + "-events depth " + std::to_string(Num(rng, 10000, 900000)) +
              " over threshold";
      body = "Queue " + svc + "-events holds " + std::to_string(Num(rng, 10000, 900000)) +
             " messages (threshold 10000); consumers: " + std::to_string(Num(rng, 0, 16)) +
             ", ack rate " + std::to_string(Num(rng, 0, 900)) + "/s, publish rate " +
             std::to_string(Num(rng, 500, 5000)) + "/s. Oldest message is " +
             std::to_string(Num(rng, 60, 7200)) + " seconds old. Consumer group " +
             std::string(Pick(rng, kWords)) + " is lagging.";
      break;
    case 8:
      title = "Connection refused to " + host + ":" + std::to_string(Num(rng, 1024, 9999));
      body = "Health check from " + std::string(Pick(rng, kRegions)) + " could not connect to " +
             host + " (" + std::to_string(Num(rng, 3, 10)) +
             " consecutive failures, errno ECONNREFUSED). The process is not listening; systemd "
             "reports the unit as activating. Last log line: bind: address already in use.";
      break;
    default:
      title = "Deploy of " + svc + " v" + std::to_string(Num(rng, 1, 9)) + "." +
              std::to_string(Num(rng, 0, 40)) + "." + std::to_string(Num(rng, 0, 99)) +
              " failed health checks";
      body = "Rollout of " + svc + " stopped at " + std::to_string(Num(rng, 1, 99)) +
             "% after readiness probes failed on " + std::to_string(Num(rng, 1, 9)) +
             " pods: GET /ready returned 503 for 120 s. Previous revision is still serving. "
             "Changed: dependency upgrade, new feature flag " +
             std::string(Pick(rng, kWords)) + "_v2. Owner team: " + std::string(Pick(rng, kTeams)) +
             ".";
  }
}

}  // namespace

std::string_view SourceForKey(std::uint64_t key) { return kSources[key % kSources.size()]; }

RecordFields RecordFactory::MakeFields() {
  RecordFields f;
  f.service = Pick(rng_, kServices);
  MakeText(rng_, f.service, f.title, f.body);
  f.severity = Pick(rng_, kSeverities);
  f.labels_json = "{\"env\":";
  AppendJsonString(f.labels_json, Pick(rng_, kEnvs));
  f.labels_json += ",\"region\":";
  AppendJsonString(f.labels_json, Pick(rng_, kRegions));
  f.labels_json += ",\"team\":";
  AppendJsonString(f.labels_json, Pick(rng_, kTeams));
  f.labels_json += "}";
  return f;
}

std::string RecordFactory::MakeRecord(std::string_view key_prefix, KeySlot& slot) {
  const RecordFields f = MakeFields();
  std::string out;
  out.reserve(256 + f.title.size() + f.body.size());
  out += "{\"source\":";
  slot.source_offset = out.size();
  out.append(kSourceWidth, ' ');
  out += ",\"external_id\":\"";
  out += key_prefix;
  out += '-';
  slot.id_offset = out.size();
  out.append(kKeyDigits, '0');
  out += "\",\"title\":";
  AppendJsonString(out, f.title);
  out += ",\"body\":";
  AppendJsonString(out, f.body);
  out += ",\"severity\":";
  AppendJsonString(out, f.severity);
  out += ",\"service\":";
  AppendJsonString(out, f.service);
  out += ",\"labels\":";
  out += f.labels_json;
  out += "}";
  // The source region must hold a valid value even before the first patch.
  WriteKey(out, slot, 0);
  return out;
}

void WriteKey(std::string& bytes, const KeySlot& slot, std::uint64_t key) {
  char* src = bytes.data() + slot.source_offset;
  const std::string_view name = kSources[key % kSources.size()];
  std::memset(src, ' ', kSourceWidth);
  src[0] = '"';
  std::memcpy(src + 1, name.data(), name.size());
  src[1 + name.size()] = '"';
  char* digits = bytes.data() + slot.id_offset;
  for (int i = kKeyDigits - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + key % 10);
    key /= 10;
  }
}

std::string MakeHttpPost(std::string_view target, std::string_view host, std::string_view token,
                         std::string_view body) {
  std::string out;
  out.reserve(body.size() + 256);
  out += "POST ";
  out += target;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\nAuthorization: Bearer ";
  out += token;
  out += "\r\nContent-Type: application/json\r\nUser-Agent: causeloop-bench-ingest\r\n";
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

std::vector<RequestTemplate> MakeSingleTemplates(RecordFactory& factory, int count,
                                                 std::string_view key_prefix, std::string_view host,
                                                 std::string_view token) {
  std::vector<RequestTemplate> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    KeySlot slot;
    const std::string record = factory.MakeRecord(key_prefix, slot);
    RequestTemplate t;
    t.bytes = MakeHttpPost("/v1/ingest/events", host, token, record);
    const std::size_t body_start = t.bytes.size() - record.size();
    t.slots.push_back({body_start + slot.source_offset, body_start + slot.id_offset});
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<RequestTemplate> MakeBatchTemplates(RecordFactory& factory, int count,
                                                int records_per_batch, std::string_view key_prefix,
                                                std::string_view host, std::string_view token) {
  std::vector<RequestTemplate> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    std::string body = "{\"records\":[";
    std::vector<KeySlot> slots;
    for (int r = 0; r < records_per_batch; ++r) {
      if (r > 0) body.push_back(',');
      KeySlot slot;
      const std::size_t base = body.size();
      body += factory.MakeRecord(key_prefix, slot);
      slots.push_back({base + slot.source_offset, base + slot.id_offset});
    }
    body += "]}";
    RequestTemplate t;
    t.bytes = MakeHttpPost("/v1/ingest/batch", host, token, body);
    const std::size_t body_start = t.bytes.size() - body.size();
    for (KeySlot& s : slots) {
      s.source_offset += body_start;
      s.id_offset += body_start;
    }
    t.slots = std::move(slots);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace causeloop::bench
