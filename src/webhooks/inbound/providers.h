#pragma once
// Provider webhook parsers: one verified delivery, in the provider's native webhook shape,
// becomes the canonical records it carries (SPEC §5.1, §6, §9), each with what it means for
// the issue's lifecycle.
//
// Pure: data in, data out. No IO, no clock, no state; every function is thread-safe. The payload
// element (and its parser) must stay alive for the duration of the call only: the results own
// copies of everything they keep. Signatures are checked before this (verify.h).
//
// Errors: kNotFound for a provider ParseWebhook does not know; otherwise kValidation with
// details = {{<field>, <reason>}} where <field> is the JSON path ("issue.title",
// "alerts[2].labels") or the header name ("x-github-event"), as in normalize.h.
//
// Choices the specification leaves open (copied into docs/api-choices.md):
//
// General
// - kUpsert creates or updates the issue; kResolve marks it over at the source (the record's
//   status says resolved or closed) and should not create an issue that does not exist yet;
//   kIgnore records identify an issue the event is about but must not change (the receiver
//   acknowledges them and stores nothing). Events about things that are not issues (GitHub
//   ping, PagerDuty service.*, Sentry installation/comment/metric_alert, SNS
//   UnsubscribeConfirmation) yield no record at all.
// - Records go through normalize's final step (source, title cleanup/truncation, derived
//   external_id), so they are shaped exactly like POST /v1/ingest/{source}/issues records.
//   connector_id is left empty: the receiver sets it.
// - An ignorable event whose payload does not parse is not an error: it yields no record, so a
//   provider never retries an event Causeloop would not have used anyway. A delivery with
//   several records (Alertmanager, Grafana) is all or nothing: one malformed alert rejects the
//   delivery, naming it ("alerts[1].labels"); real senders never produce one.
//
// github (header X-GitHub-Event; the body is the event payload)
// - issues: opened/edited/reopened -> upsert, closed -> resolve (closed as not_planned or
//   duplicate gives status closed, otherwise resolved), every other action (labeled, assigned,
//   deleted, transferred, …) -> ignore. The record is the embedded issue mapped like the native
//   GitHub issue (external_id "owner/repo#number").
// - workflow_run: one issue per workflow and branch, external_id
//   "owner/repo/actions/workflows/<workflow_id>@<branch>", so a repeated failure re-fires the
//   same issue and the next success resolves it. completed with conclusion failure, timed_out or
//   startup_failure -> upsert (status open; severity p2 on the repository's default branch,
//   unset otherwise); completed with success -> resolve, resolution.fix = the head commit
//   ("Fixed in commit <sha>", fix_url the commit page); every other action or conclusion
//   (requested, in_progress, cancelled, skipped, neutral, action_required, stale) -> ignore. The
//   title is stable across the lifecycle: "Workflow "<name>" failed on <branch>".
// - any other event -> no record. A missing X-GitHub-Event header is a validation error.
//
// jira (body {"webhookEvent", "timestamp", "issue", "changelog"?, "user"?})
// - jira:issue_created / jira:issue_updated -> upsert, or resolve when the issue has a
//   resolution or its status category is done. jira:issue_deleted -> resolve with status
//   closed and no resolution (the issue is gone at the source; nothing was fixed, so nothing
//   feeds recommendations). Other webhookEvents (comments, worklogs, projects…) -> no record.
// - The issue object is mapped like the native Jira issue (description may be ADF or, as Jira
//   sends it in webhooks, a plain string). When the issue has no updated time, and always for a
//   deletion, source_updated_at is the webhook's timestamp.
//
// pagerduty (Webhooks v3 {"event": {id, event_type, occurred_at, agent, data}})
// - incident.triggered/acknowledged/unacknowledged/reopened/escalated/delegated/reassigned/
//   priority_updated -> upsert; incident.resolved -> resolve; other incident.* events whose data
//   is not the incident (annotated, responder.*, status_update_published) -> no record; an
//   unknown incident.* event that carries the incident -> ignore; service.* and other
//   resources -> no record.
// - event.data is mapped like the REST incident (its "number" is the incident_number).
//   source_updated_at = event.occurred_at; a resolve's resolution.resolved_by =
//   event.agent.summary when the incident does not say.
//
// sentry (header Sentry-Hook-Resource; inferred from data.issue / data.event when absent)
// - issue: created/unresolved/assigned -> upsert; resolved -> resolve; ignored/archived ->
//   resolve with status closed. data.issue is mapped like the native Sentry issue;
//   external_url falls back to web_url when permalink is null.
// - event_alert (action triggered) -> upsert, external_id = data.event.issue_id (the same id the
//   issue resource uses, so both deliveries land on one issue); title, level -> severity,
//   culprit and exception type/value -> body, tags -> labels (environment -> environment),
//   service = the project slug from the event's API url, external_url = web_url, triggered_rule
//   in metadata.
// - metric_alert, installation, comment, error and other resources -> no record.
//
// alertmanager (webhook version "4"; a missing version is accepted, another is an error)
// - Each element of alerts[] is one record (mapped like the native Alertmanager alert,
//   external_id = fingerprint); status firing -> upsert, resolved -> resolve (an alert without
//   a status takes the group's). Alerts Alertmanager left out (truncatedAlerts) cannot be
//   recovered; the count only enters the delivery id.
//
// grafana (unified alerting webhook contact point: Alertmanager-shaped, version "1")
// - Same as alertmanager per alert (fingerprint, labels, annotations, firing/resolved), with
//   source grafana. Severity comes from the severity/priority label with Alertmanager's
//   conventions; Grafana's top-level "state" (alerting/ok) only restates the status, so it is
//   not used as a severity. dashboardURL, panelURL, silenceURL and valueString go to metadata.
//
// datadog (the Webhooks integration; the body is whatever template the user configured)
// - Datadog's default template is accepted as is:
//     {"body": "$EVENT_MSG", "last_updated": "$LAST_UPDATED", "event_type": "$EVENT_TYPE",
//      "title": "$EVENT_TITLE", "date": "$DATE", "org": {"id": "$ORG_ID", "name": "$ORG_NAME"},
//      "id": "$ID"}
//   and the template we document for users adds the monitor identity and state:
//     {"id": "$ID", "title": "$EVENT_TITLE", "body": "$EVENT_MSG", "event_type": "$EVENT_TYPE",
//      "date": "$DATE", "last_updated": "$LAST_UPDATED", "link": "$LINK",
//      "alert_id": "$ALERT_ID", "alert_transition": "$ALERT_TRANSITION",
//      "alert_scope": "$ALERT_SCOPE", "alert_cycle_key": "$ALERT_CYCLE_KEY",
//      "alert_type": "$ALERT_TYPE", "alert_priority": "$ALERT_PRIORITY",
//      "priority": "$PRIORITY", "hostname": "$HOSTNAME", "tags": "$TAGS",
//      "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}}
//   Every field is optional except a title or an alert_id; values may be strings or numbers.
// - The transition is alert_transition, or else read from the title's bracket prefix
//   ("[P1] [Triggered on {host:a}] Disk full"). Triggered/Re-Triggered/Renotify/Warn/Re-Warn ->
//   upsert (status open); Recovered -> resolve; No Data/Re-No Data/Null -> ignore (a silent
//   monitor says nothing about the service); no transition at all -> upsert.
// - external_id: "monitor/<alert_id>" plus "/<scope>" when the alert has a scope (alert_scope,
//   or the title's "on {…}" part), so each group of a multi-alert monitor is its own issue and a
//   recovery resolves the trigger. The scope's tags are sorted ("b:2, a:1" -> "a:1,b:2") so
//   the title's and $ALERT_SCOPE's spellings agree. Without alert_id (the default template) it
//   is derived from the title without its bracket prefix plus the scope, so trigger and
//   recovery still meet.
// - title = the event title without its bracket prefix; body = the message without Datadog's
//   "%%%" Markdown fences and "@webhook-…" mentions. Severity: alert_priority or the title's
//   [Pn] (P1..P5), else alert_type error/warning/info, else p3 for Warn; $PRIORITY
//   ("normal"/"low") is not a severity. A recovery never sets a severity. tags ("k:v,k2:v2",
//   or an array) -> labels, with service:/env:/team: -> service/environment/team. date and
//   last_updated accept epoch milliseconds (or seconds, below 10^11) or RFC 3339; a value in
//   neither form is ignored rather than rejected.
//
// cloudwatch (Amazon SNS HTTP/S delivery)
// - Type Notification: Message is the JSON string of a CloudWatch alarm state change.
//   NewStateValue ALARM -> upsert (open), OK -> resolve, INSUFFICIENT_DATA -> ignore (missing
//   data is not a failure by itself). external_id = AlarmArn, else
//   "<AWSAccountId>/<Region>/<AlarmName>". title = AlarmName, body = AlarmDescription and
//   NewStateReason; no severity (CloudWatch has none: p3 by default); labels: namespace, metric,
//   region, account and each metric dimension ("dimension.<Name>"). A Message that is not an
//   alarm (any other SNS publisher) is a validation error on "Message".
// - Type SubscriptionConfirmation: ParseWebhook returns no record; the receiver calls
//   ParseSnsSubscriptionConfirmation and visits SubscribeURL through its SSRF-guarded client.
//   SubscribeURL must be https on an sns.<region>.amazonaws.com(.cn) host, else a validation
//   error. UnsubscribeConfirmation -> no record.
//
// custom (SPEC §6.2 body)
// - title and description required (non-empty strings); sourceAlertId -> external_id (derived
//   from content when absent); severity accepts critical|high|medium|low|info and every other
//   word of the canonical vocabulary (normalize::ParseSeverity), anything else is rejected;
//   service, environment: strings; tags: an object of strings -> labels; metadata: an object,
//   stored as given. Always upsert (the 409 for a repeated sourceAlertId is the receiver's);
//   source custom_api.
//
// Delivery ids (DeliveryId)
// - github X-GitHub-Delivery; jira X-Atlassian-Webhook-Identifier; pagerduty event.id, else the
//   X-Webhook-Id header; sentry Request-ID; cloudwatch the SNS MessageId (SNS reuses it when it
//   retries); datadog the $ID field "id"; custom none. For every provider, a Standard Webhooks
//   webhook-id header is used when the provider's own id is absent.
// - alertmanager/grafana send no delivery id, so one is derived: "h_" + 32 hex of SHA-256 over
//   groupKey, status, truncatedAlerts and, for each alert (order-independent), fingerprint,
//   status, startsAt and endsAt. A retry of the same notification has the same id and is
//   acknowledged as a duplicate; a repeat notification of an unchanged group is too (it carries
//   nothing new); any change to an alert's state or times makes a new id.
// - Ids longer than 200 bytes are replaced by "h_" + 32 hex of their SHA-256.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/issue.h"
#include "webhooks/inbound/headers.h"

namespace causeloop::webhooks::inbound {

enum class Action { kUpsert, kResolve, kIgnore };

// "upsert", "resolve", "ignore".
const char* ActionName(Action action);

struct InboundRecord {
  model::IssueRecord record;
  Action action = Action::kUpsert;
};

// The providers ParseWebhook knows: github, jira, pagerduty, sentry, alertmanager, grafana,
// datadog, cloudwatch, custom (alias custom_api).
bool IsWebhookProvider(std::string_view provider);

// The records one delivery carries, in payload order (see the choices above for each provider).
// An empty vector means the delivery is valid but carries nothing to ingest.
Result<std::vector<InboundRecord>> ParseWebhook(std::string_view provider,
                                                const HeaderLookup& headers,
                                                simdjson::dom::element payload);

// The provider's delivery id for replay protection (SPEC §6.1), or nullopt when the delivery
// has none. Never fails: a payload it cannot read simply has no id.
std::optional<std::string> DeliveryId(std::string_view provider, const HeaderLookup& headers,
                                      simdjson::dom::element payload);

// An Amazon SNS subscription handshake (Type SubscriptionConfirmation).
struct SnsSubscriptionConfirmation {
  std::string subscribe_url;  // visit it (GET) to confirm; https on an SNS host
  std::string topic_arn;
  std::string message_id;
};

// nullopt when `payload` is not an SNS SubscriptionConfirmation; kValidation when it is one but
// lacks SubscribeURL/TopicArn or its SubscribeURL is not an https URL on an SNS host.
Result<std::optional<SnsSubscriptionConfirmation>> ParseSnsSubscriptionConfirmation(
    simdjson::dom::element payload);

}  // namespace causeloop::webhooks::inbound
