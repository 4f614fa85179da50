#pragma once
// Every handler: decode, call one use case, encode. Registered in routes.cc.

#include "http/api/api.h"
#include "http/types.h"

namespace causeloop::http::api {

using ReadHandler = void (*)(ApiContext&, const Request&, const Responder&);
// Runs `read` once pattern counters that wait in memory under load are written
// (Store::SettlePatternCounters): at once when nothing waits, else after one commit, on the
// store's completion thread. So a reader of patterns or of the event log finds every issue
// acknowledged before its request counted. The request stays valid until `respond` runs.
void AfterCountersSettle(ApiContext& ctx, const Request& req, const Responder& respond,
                         ReadHandler read);

void GetHealth(ApiContext& ctx, const Request& req, const Responder& respond);
void GetReady(ApiContext& ctx, const Request& req, const Responder& respond);
void GetMetrics(ApiContext& ctx, const Request& req, const Responder& respond);
void GetOpenApi(ApiContext& ctx, const Request& req, const Responder& respond);

void GetScopes(ApiContext& ctx, const Request& req, const Responder& respond);
void PostToken(ApiContext& ctx, const Request& req, const Responder& respond);
void ListTokens(ApiContext& ctx, const Request& req, const Responder& respond);
void RotateToken(ApiContext& ctx, const Request& req, const Responder& respond);
void DeleteToken(ApiContext& ctx, const Request& req, const Responder& respond);

void PostIngestEvent(ApiContext& ctx, const Request& req, const Responder& respond);
void PostIngestBatch(ApiContext& ctx, const Request& req, const Responder& respond);
void PostIngestNative(ApiContext& ctx, const Request& req, const Responder& respond);
void GetIngestStatus(ApiContext& ctx, const Request& req, const Responder& respond);

void ListIssues(ApiContext& ctx, const Request& req, const Responder& respond);
void GetIssue(ApiContext& ctx, const Request& req, const Responder& respond);
void PostIssue(ApiContext& ctx, const Request& req, const Responder& respond);
void PatchIssue(ApiContext& ctx, const Request& req, const Responder& respond);
void ResolveIssue(ApiContext& ctx, const Request& req, const Responder& respond);
void BulkIssues(ApiContext& ctx, const Request& req, const Responder& respond);

void ListPatterns(ApiContext& ctx, const Request& req, const Responder& respond);
void GetPattern(ApiContext& ctx, const Request& req, const Responder& respond);
void GetPatternIssues(ApiContext& ctx, const Request& req, const Responder& respond);
void PatchPattern(ApiContext& ctx, const Request& req, const Responder& respond);
void MergePattern(ApiContext& ctx, const Request& req, const Responder& respond);
void LinkIssuePattern(ApiContext& ctx, const Request& req, const Responder& respond);
void UnlinkIssuePattern(ApiContext& ctx, const Request& req, const Responder& respond);
void GetSimilarIssues(ApiContext& ctx, const Request& req, const Responder& respond);
void GetPatternExplanation(ApiContext& ctx, const Request& req, const Responder& respond);

// webhooks_api.cc
void CreateWebhook(ApiContext& ctx, const Request& req, const Responder& respond);
void CreateWebhookSubscription(ApiContext& ctx, const Request& req, const Responder& respond);
void ListWebhooks(ApiContext& ctx, const Request& req, const Responder& respond);
void GetWebhook(ApiContext& ctx, const Request& req, const Responder& respond);
void PatchWebhook(ApiContext& ctx, const Request& req, const Responder& respond);
void DeleteWebhook(ApiContext& ctx, const Request& req, const Responder& respond);
void RotateWebhookSecret(ApiContext& ctx, const Request& req, const Responder& respond);
void TestWebhook(ApiContext& ctx, const Request& req, const Responder& respond);
void ListWebhookDeliveries(ApiContext& ctx, const Request& req, const Responder& respond);
void RedeliverWebhookDelivery(ApiContext& ctx, const Request& req, const Responder& respond);
void RecoverWebhook(ApiContext& ctx, const Request& req, const Responder& respond);

// connectors_api.cc
void CreateConnector(ApiContext& ctx, const Request& req, const Responder& respond);
void ListConnectors(ApiContext& ctx, const Request& req, const Responder& respond);
void GetConnector(ApiContext& ctx, const Request& req, const Responder& respond);
void PatchConnector(ApiContext& ctx, const Request& req, const Responder& respond);
void DeleteConnector(ApiContext& ctx, const Request& req, const Responder& respond);
void SetConnectorInbound(ApiContext& ctx, const Request& req, const Responder& respond);
void RotateConnectorInboundSecret(ApiContext& ctx, const Request& req, const Responder& respond);
void GetAlertWebhookSettings(ApiContext& ctx, const Request& req, const Responder& respond);
void PatchAlertWebhookSettings(ApiContext& ctx, const Request& req, const Responder& respond);
void RotateAlertWebhookSecret(ApiContext& ctx, const Request& req, const Responder& respond);

// inbound_api.cc
void PostConnectorInbound(ApiContext& ctx, const Request& req, const Responder& respond);
void PostAlertWebhook(ApiContext& ctx, const Request& req, const Responder& respond);

void ListEvents(ApiContext& ctx, const Request& req, const Responder& respond);
void GetNotificationStream(ApiContext& ctx, const Request& req, const Responder& respond);

// The embedded OpenAPI document (generated from openapi.json at build time).
extern const char* const kOpenApiJson;

}  // namespace causeloop::http::api
