#include "corpus/catalog_groups.h"

namespace causeloop::corpus {
namespace {

constexpr Source kDd = Source::kDatadog;
constexpr Source kPd = Source::kPagerDuty;
constexpr Source kAm = Source::kAlertmanager;
constexpr Source kGf = Source::kGrafana;
constexpr Source kCw = Source::kCloudWatch;
constexpr Source kApi = Source::kCustomApi;

// The footer every Datadog monitor notification carries.
#define DD_FOOTER                                                                          \
  "\n\nThe monitor was last triggered at {ts_cw}.\n\n- - -\n\n[[Monitor Status](https://"  \
  "app.datadoghq.com/monitors/{#10000000-99999999}?from_ts={#1714900000-1717500000})] · " \
  "[[Edit Monitor](https://app.datadoghq.com/monitors#{#10000000-99999999}/edit)]\n%%%"

}  // namespace

std::vector<Template> ErrorRateGroup() {
  return {
      {kDd, Kind::kAlert,
       "[{Triggered|Triggered|Triggered|Re-Triggered|Warn}] High error rate on {svc}",
       "%%%\n@pagerduty-{team} @slack-{team}-alerts\n\n"
       "Error rate for **{svc}** is **{.5-45@er}%** over the last 5 minutes (threshold: 5%).\n"
       "{~err_hint}\n\n"
       R"(**sum:trace.http.request.errors\{service:{svc},env:prod\}.as_count())"
       R"( / sum:trace.http.request.hits\{service:{svc},env:prod\}.as_count()** was **> 0.05**)"
       " on average during the **last 5m**." DD_FOOTER,
       4},
      {kDd, Kind::kAlert,
       R"([{Triggered|Re-Triggered}] \{service:{svc},env:prod\} APM: elevated 5xx responses)",
       "%%%\n{svc} is returning HTTP 5xx for {.2-40}% of requests "
       "({#40-9000} errors in {5|10} minutes).\n{~err_hint}\n\n"
       "Owner: @{team}-oncall" DD_FOOTER,
       2},
      {kPd, Kind::kIncident,
       "{[Triggered] High error rate on {svc}|{svc}: HTTP 5xx above SLO|"
       "[{svc}] error budget burn rate critical|{svc_title} - elevated errors}",
       "Incident #{#100000-999999} triggered on service {svc_title} (P{1|2})\n"
       "Urgency: high\nEscalation policy: {team} primary\nAssigned to: {user}\n\n"
       "{~err_hint}\n\nTriggered via {Datadog|Prometheus Alertmanager} integration at {ts}.\n"
       "https://shop.pagerduty.com/incidents/{pd_id}"},
      {kGf, Kind::kAlert, "[FIRING:1] {svc} HTTP 5xx ratio ({team})",
       "**Firing**\n\nValue: B={.0-1}{#0-9}, C=1\nLabels:\n - alertname = {svc} HTTP 5xx ratio\n"
       " - grafana_folder = {team}\n - service = {svc}\n - env = prod\nAnnotations:\n"
       " - summary = 5xx ratio above 5% for 5m\n - runbook_url = "
       "https://runbooks.internal/{team}/{svc}/5xx\n"
       "Source: https://grafana.internal/alerting/grafana/{hex8}/view?orgId=1\n"
       "Dashboard: https://grafana.internal/d/{hex8}/{svc}-overview"},
      {kAm, Kind::kAlert,
       "[FIRING:{#1-4}] {HighErrorRate|SLOErrorBudgetBurn} ({svc} prod {critical|page})",
       "Labels:\n - alertname = {HighErrorRate|SLOErrorBudgetBurn}\n - service = {svc}\n"
       " - namespace = prod\n - severity = critical\n - pod = {pod}\nAnnotations:\n"
       " - summary = {svc} error rate is above {1|2|5}%\n"
       " - description = {.2-40}% of requests to {svc} failed over the last 5m.\n"
       R"(Source: http://prometheus-k8s-0:9090/graph?g0.expr=sum(rate(http_requests_total\{service%3D"{svc}"%2Ccode%3D~"5.."\}[5m])))",
       2},
  };
}

std::vector<Template> LatencyGroup() {
  return {
      {kDd, Kind::kAlert,
       "[{Triggered|Triggered|Re-Triggered|Warn}] {p99|P99} latency above {1|1.5|2}s on {svc}",
       "%%%\n@slack-{team}-alerts\n\n"
       R"(**p99:trace.http.request\{service:{svc},env:prod\}** was **> 1.5s** on average during)"
       " the **last 10m** (current: {.1-14}s).\n{~lat_hint}" DD_FOOTER,
       3},
      {kPd, Kind::kIncident,
       "{[Triggered] p99 latency above 1.5s on {svc}|{svc} slow - p99 over SLO|"
       "{svc_title}: latency SLO at risk}",
       "Incident #{#100000-999999} triggered on service {svc_title} (P{2|3})\nUrgency: "
       "{high|low}\nAssigned to: {user}\n\n{~lat_hint}\n\nhttps://shop.pagerduty.com/incidents/"
       "{pd_id}"},
      {kGf, Kind::kAlert, "[FIRING:1] {svc} p99 latency ({team})",
       "**Firing**\n\nValue: A={.1-14}\nLabels:\n - alertname = {svc} p99 latency\n"
       " - grafana_folder = {team}\n - service = {svc}\nAnnotations:\n"
       " - summary = p99 latency above threshold for 10m\n{?50: - description = {~lat_hint}\n}"
       "Source: https://grafana.internal/alerting/grafana/{hex8}/view?orgId=1"},
      {kAm, Kind::kAlert, "[FIRING:1] {HighLatency|LatencySLOBurn} ({svc} prod warning)",
       "Labels:\n - alertname = {HighLatency|LatencySLOBurn}\n - service = {svc}\n"
       " - severity = warning\nAnnotations:\n - summary = {svc} p99 latency is {.1-14}s\n"
       R"(Source: http://prometheus-k8s-0:9090/graph?g0.expr=histogram_quantile(0.99%2C sum(rate(http_request_duration_seconds_bucket\{service%3D"{svc}"\}[5m])) by (le)))"},
  };
}

std::vector<Template> SentryGroup() {
  return {
      {Source::kSentry, Kind::kError, "{exc}: {msg}",
       "{trace}\n\nculprit: {culprit}\nlevel: {error|error|fatal}\nenvironment: production\n"
       "release: {svc}@{ver}\n{sentry_ctx}\n{?60:user: {email}\n}event_id: {hex32}\n"
       "first_seen: {ts}\nevents: {#1-4000}  users affected: {#0-900}",
       6},
      // Signature partly missing: large events are trimmed and frames dropped.
      {Source::kSentry, Kind::kError, "{exc}: {msg}",
       "{msg}\n\n(stack trace not available: event exceeded the size limit and was "
       "trimmed)\nrelease: {svc}@{ver}\n{sentry_ctx}\nevent_id: {hex32}",
       1},
  };
}

std::vector<Template> TicketGroup() {
  return {
      {Source::kJira, Kind::kTicket, "{tk}",
       "{tkb}\n\n{?50:Environment: prod\n}{?40:Reported by: {user}\n}"
       "{?30:Related: {OPS|INC|SRE}-{#1000-9999}\n}",
       3},
      {Source::kServiceNow, Kind::kTicket, "{tk}",
       "Caller: {user_name}\nCategory: {Software|Application|Database|Network|Inquiry / Help}\n"
       "Configuration item: {svc}\nAssignment group: {team}-oncall\nImpact: {1 - High|2 - "
       "Medium}\n\nDescription:\n{tkb}",
       1},
  };
}

std::vector<Template> ConnRefusedGroup() {
  return {
      {kAm, Kind::kAlert, "[FIRING:1] {dep_alert} ({dep}:{exp_port} {dep_job} critical)",
       "Labels:\n - alertname = {dep_alert}\n - instance = {dep}:{exp_port}\n - job = {dep_job}\n"
       " - severity = critical\nAnnotations:\n - summary = {dep} down\n"
       " - description = {dep} instance is down\n   VALUE = 0\n   LABELS = map[instance:{dep}:"
       "{exp_port} job:{dep_job}]\nSource: http://prometheus-k8s-0:9090/graph?g0.expr=up%3D%3D0",
       3},
      {kDd, Kind::kAlert,
       "[{Triggered|Re-Triggered}] {svc} logs: {connection refused|connection errors} to {dep}",
       "%%%\n"
       R"(Log monitor `service:{svc} status:error "{dep}"` matched {#50-5000} events in the last)"
       " 5 minutes (threshold: 50).\n\nSample:\n```\n{ts_log} ERROR [{svc}] "
       "{conn_line}\n```" DD_FOOTER,
       3},
      {kPd, Kind::kIncident,
       "{[#{#10000-99999}] |}{dep} {down|unreachable} - {svc} {failing requests|erroring|"
       "returning 5xx}",
       "Incident #{#100000-999999} triggered on service {svc_title} (P1)\nUrgency: high\n"
       "Assigned to: {user}\n\n{svc} cannot connect to {dep}:{port}: {conn_line}\n\n"
       "https://shop.pagerduty.com/incidents/{pd_id}",
       2},
      {kGf, Kind::kAlert, "[FIRING:1] {dep} unreachable (blackbox)",
       "**Firing**\n\nValue: A=0\nLabels:\n - alertname = {dep} unreachable\n"
       " - instance = {dep}:{port}\n - module = tcp_connect\nAnnotations:\n"
       " - summary = TCP probe to {dep}:{port} failing: connection refused\n"
       "Source: https://grafana.internal/alerting/grafana/{hex8}/view?orgId=1"},
  };
}

std::vector<Template> OomGroup() {
  return {
      {kAm, Kind::kAlert, "[FIRING:{#1-3}] KubernetesContainerOomKiller ({container} prod)",
       "Labels:\n - alertname = KubernetesContainerOomKiller\n - container = {container}\n"
       " - namespace = prod\n - pod = {pod}\n - severity = warning\nAnnotations:\n"
       " - summary = Kubernetes container oom killer (instance {ip}:8080)\n"
       " - description = Container {container} in pod prod/{pod} has been OOMKilled {#1-6} "
       "times in the last 10 minutes.\n   VALUE = {#1-6}",
       3},
      {kDd, Kind::kAlert,
       "[{Triggered|Re-Triggered}] OOMKilled containers in kube_deployment:{svc}",
       "%%%\n"
       R"(`kubernetes_state.container.status_report.count.terminated\{reason:oomkilled,kube_deployment:{svc}\}`)"
       " > 0\n\nLast State: Terminated (Reason: OOMKilled, Exit Code: 137)\n"
       "Memory limit: {mem_limit}, peak working set: {mem_peak}\nPod: {pod} on {node}" DD_FOOTER,
       2},
      {kPd, Kind::kIncident,
       "{{svc} pods restarting (OOMKilled)|[Triggered] OOMKilled containers in "
       "kube_deployment:{svc}|{svc}: containers killed, exit code 137}",
       "Incident #{#100000-999999} on {svc_title}\nUrgency: {high|low}\nAssigned to: {user}\n\n"
       "Pods of {svc} are being OOMKilled (limit {mem_limit})."},
      {kApi, Kind::kAlert, "Pod {pod} terminated: OOMKilled (exit code 137)",
       "kube-event-exporter: prod/{pod}\n\n  {container}:\n    State:          Running\n"
       "      Started:      {ts}\n    Last State:     Terminated\n      Reason:       OOMKilled\n"
       "      Exit Code:    137\n    Ready:          {True|False}\n    Restart Count:  "
       "{#1-60}\n    Limits:\n      memory:  {mem_limit}\n    Node:           {node}"},
  };
}

std::vector<Template> CrashLoopGroup() {
  return {
      {kAm, Kind::kAlert, "[FIRING:{#1-3}] KubePodCrashLooping ({svc} prod warning)",
       "Labels:\n - alertname = KubePodCrashLooping\n - container = {container}\n"
       " - namespace = prod\n - pod = {pod}\n - severity = warning\nAnnotations:\n"
       R"( - description = Pod prod/{pod} ({container}) is in waiting state (reason: "CrashLoopBackOff").)"
       "\n - runbook_url = https://runbooks.prometheus-operator.dev/runbooks/kubernetes/"
       "kubepodcrashlooping",
       3},
      {kDd, Kind::kAlert, "[Triggered] CrashLoopBackOff on kube_deployment:{svc}",
       "%%%\n{#2-12} pods of {svc} are in CrashLoopBackOff.\n\n{?75:Last log lines of {pod}:\n"
       "```\n{crash_log}\n```}" DD_FOOTER,
       2},
      {kApi, Kind::kAlert, "Back-off restarting failed container {container} in pod {pod}",
       "kube-event-exporter: prod/{pod}\n\nEvents:\n  Warning  BackOff  {#5-59}s (x{#3-80} over "
       "{#2-40}m)  kubelet  Back-off restarting failed container {container} in pod "
       "{pod}_prod({uuid})\n\n{?80:kubectl logs {pod} -c {container} --previous:\n{crash_log}}"},
      {kPd, Kind::kIncident,
       "{{svc} down - pods in CrashLoopBackOff|{svc}: deployment unavailable}",
       "Incident #{#100000-999999} on {svc_title}\nUrgency: high\nAssigned to: {user}\n\n"
       "0/{#3-12} replicas available after rollout of {svc} {ver}."},
  };
}

std::vector<Template> DiskGroup() {
  return {
      {kAm, Kind::kAlert,
       "[FIRING:1] NodeFilesystemAlmostOutOfSpace ({disk_host}:9100 {device} {mount} critical)",
       "Labels:\n - alertname = NodeFilesystemAlmostOutOfSpace\n - device = {device}\n"
       " - fstype = {ext4|xfs}\n - instance = {disk_host}:9100\n - mountpoint = {mount}\n"
       " - severity = critical\nAnnotations:\n - description = Filesystem on {device} at "
       "{disk_host}:9100 has only {.0-4}% available space left.\n"
       " - summary = Filesystem has less than 5% space left.",
       3},
      {kAm, Kind::kAlert,
       "[FIRING:1] NodeFilesystemSpaceFillingUp ({disk_host}:9100 {device} {mount} warning)",
       "Labels:\n - alertname = NodeFilesystemSpaceFillingUp\n - device = {device}\n"
       " - instance = {disk_host}:9100\n - mountpoint = {mount}\n - severity = warning\n"
       "Annotations:\n - description = Filesystem on {device} at {disk_host}:9100 has only "
       "{#5-20}% available space left and is filling up.\n - summary = Filesystem is predicted "
       "to run out of space within the next {4|24} hours."},
      {kDd, Kind::kAlert, "[{Triggered|Warn}] Disk usage above {90|95}% on host:{disk_host}",
       "%%%\n"
       R"(**max:system.disk.in_use\{device:{device},host:{disk_host}\}** was **> 0.9** during the)"
       " **last 5m** (current {.90-100}% of {mount}).\n{?60:\nRecent "
       "log:\n```\n{disk_log}\n```}" DD_FOOTER,
       2},
      {kPd, Kind::kIncident,
       "{{disk_host}: disk {full|almost full} ({mount})|No space left on device on {disk_host}}",
       "Incident #{#100000-999999}\nUrgency: high\nAssigned to: {user}\n\n{disk_host} {mount} "
       "at {.95-100}%.\n{?50:{disk_log}}"},
      {kGf, Kind::kAlert, "[FIRING:1] Disk space {disk_host} {mount}",
       "**Firing**\n\nValue: A={.90-100}\nLabels:\n - alertname = Disk space\n - instance = "
       "{disk_host}\n - mountpoint = {mount}\nSource: https://grafana.internal/alerting/grafana/"
       "{hex8}/view?orgId=1"},
  };
}

std::vector<Template> ConsumerLagGroup() {
  return {
      {kAm, Kind::kAlert, "[FIRING:1] KafkaConsumerGroupLag ({group} {topic} warning)",
       "Labels:\n - alertname = KafkaConsumerGroupLag\n - consumergroup = {group}\n"
       " - topic = {topic}\n - severity = warning\nAnnotations:\n - summary = Kafka consumer "
       "group lag\n - description = Consumer group {group} lag on {topic} is {#20000-3000000} "
       "messages (threshold 10000).",
       3},
      {kDd, Kind::kAlert,
       "[{Triggered|Re-Triggered|Warn}] Kafka consumer lag high for consumer_group:{group}",
       "%%%\n"
       R"(**max:kafka.consumer_lag\{consumer_group:{group},topic:{topic}\}** was **> 10000** during)"
       " the **last 15m** (current {#20000-3000000})." DD_FOOTER,
       2},
      {kGf, Kind::kAlert, "[FIRING:1] {group} lag on {topic}",
       "**Firing**\n\nValue: A={#20000-3000000}\nLabels:\n - alertname = consumer lag\n"
       " - consumergroup = {group}\n - topic = {topic}\nAnnotations:\n - summary = "
       "{group} is {#5-240} minutes behind\nSource: https://grafana.internal/alerting/grafana/"
       "{hex8}/view?orgId=1"},
      {kPd, Kind::kIncident,
       "{{svc} falling behind: consumer lag on {topic}|[Triggered] Kafka consumer lag high for "
       "consumer_group:{group}}",
       "Incident #{#100000-999999} on {svc_title}\nUrgency: low\nAssigned to: {user}\n\nLag "
       "{#20000-3000000} on {topic}, growing."},
  };
}

std::vector<Template> CiGroup() {
  return {
      {Source::kGitHub, Kind::kCi, "{CI failed|Run failed}: {workflow} on {branch}",
       "Workflow run #{#1000-9999} of {repo} failed ({sha7})\nTriggered by: {user} via "
       "{push|pull_request|schedule|merge_group}\nJob: {job} — failed after {#1-25}m "
       "{#0-59}s\n\n```\n{ci_log}\n```\nhttps://github.com/{repo}/actions/runs/{run}",
       5},
      {Source::kGitHub, Kind::kCi, "[{repo}] {workflow} workflow run failed for {branch} branch",
       "{workflow}: Some jobs were not successful\n\n{job}\nFailed in {#1-25} minutes and "
       "{#0-59} seconds\n{?65:\nAnnotations\n  X {job}\n{ci_log}\n}\n  X Process completed with "
       "exit code {1|1|2}.\n\nView workflow run: https://github.com/{repo}/actions/runs/{run}",
       3},
      {kApi, Kind::kCi, "build-bot: {repo}@{branch} {workflow} FAILED ({sha7})",
       R"(\{"pipeline": "{workflow}", "job": "{job}", "status": "failure", "commit": "{sha}", )"
       R"("author": "{user}"\})"
       "\n\nlog tail:\n{ci_log}",
       1},
  };
}

std::vector<Template> OracleLogMonitorGroup() {
  return {
      {kDd, Kind::kAlert, "[{Triggered|Re-Triggered}] ORA- errors in {svc} logs",
       "%%%\n@oracle-dba @slack-{team}-alerts\n\n"
       R"(Log monitor `service:{svc} "ORA-"` matched {#1-400} events in the last 15 minutes)"
       " (threshold: 0).\n\nSample:\n```\n{ts_log} ERROR {ora_job} - {ora_line}\n```\n"
       "[View logs](https://app.datadoghq.com/logs?query=service%3A{svc}%20%22ORA-%22)" DD_FOOTER,
       3},
  };
}

std::vector<Template> CloudWatchGroup() {
  return {
      {kCw, Kind::kAlert, "ALARM: \"{cw_alarm}\" in US East (N. Virginia)",
       "You are receiving this email because your Amazon CloudWatch Alarm \"{cw_alarm}\" in the "
       "US East (N. Virginia) region has entered the ALARM state, because \"Threshold Crossed: "
       "{1 out of the last 1|3 out of the last 3|2 out of the last 5} datapoints [{cw_value} "
       "({date} {hms})] was greater than or equal to the threshold ({cw_thr}) (minimum 1 "
       "datapoint for OK -> ALARM transition).\" at \"{ts_cw}\".\n\nAlarm Details:\n"
       "- Name:                       {cw_alarm}\n- State Change:               OK -> ALARM\n"
       "- Timestamp:                  {ts_cw}\n- AWS Account:                "
       "{#100000000000-999999999999}\n\nThreshold:\n- The alarm is in the ALARM state when the "
       "metric is GreaterThanOrEqualToThreshold {cw_thr} for at least 1 of the last 1 period(s) "
       "of {60|300} seconds.\n\nMonitored Metric:\n- MetricNamespace:            {cw_ns}\n"
       "- MetricName:                 {cw_metric}\n- Dimensions:                 {cw_dim}\n"
       "- Period:                     {60|300} seconds\n- Statistic:                  "
       "{Average|Maximum|Sum}\n",
       3},
  };
}

}  // namespace causeloop::corpus
