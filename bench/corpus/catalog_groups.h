// Template groups shared by several root causes: one monitor, alert rule or tool format
// reused with the cause's parameters, the way one Datadog monitor template covers many
// services. Sharing them is what makes distinct causes read alike.
#ifndef CAUSELOOP_BENCH_CORPUS_CATALOG_GROUPS_H_
#define CAUSELOOP_BENCH_CORPUS_CATALOG_GROUPS_H_

#include <vector>

#include "corpus/catalog.h"

namespace causeloop::corpus {

// Service-level 5xx monitors. Optional parameter: err_hint.
std::vector<Template> ErrorRateGroup();
// Service-level latency monitors. Optional parameter: lat_hint.
std::vector<Template> LatencyGroup();
// Error-tracker issues built from the cause's error profiles.
std::vector<Template> SentryGroup();
// Human tickets (Jira, ServiceNow). Parameters: tk (title), tkb (body).
std::vector<Template> TicketGroup();
// A dependency refusing connections. Parameters: dep, port, dep_alert, dep_job, exp_port,
// conn_line.
std::vector<Template> ConnRefusedGroup();
// Containers killed by the kernel OOM killer. Parameters: container, mem_limit, mem_peak.
std::vector<Template> OomGroup();
// Pods in CrashLoopBackOff. Parameters: container, crash_log.
std::vector<Template> CrashLoopGroup();
// A filesystem filling up. Parameters: disk_host, mount, device, disk_log.
std::vector<Template> DiskGroup();
// Kafka consumer lag. Parameters: group, topic.
std::vector<Template> ConsumerLagGroup();
// Failed CI runs. Parameters: repo, workflow, job, ci_log.
std::vector<Template> CiGroup();
// One Datadog log monitor on Oracle errors. Parameters: ora_job, ora_line.
std::vector<Template> OracleLogMonitorGroup();
// CloudWatch alarm e-mails. Parameters: cw_alarm, cw_ns, cw_metric, cw_dim, cw_thr, cw_value.
std::vector<Template> CloudWatchGroup();

}  // namespace causeloop::corpus

#endif  // CAUSELOOP_BENCH_CORPUS_CATALOG_GROUPS_H_
