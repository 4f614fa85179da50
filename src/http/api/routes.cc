#include "http/api/api.h"
#include "http/api/handlers.h"

namespace causeloop::http::api {

void RegisterRoutes(Router& router, ApiContext& ctx) {
  using M = Method;
  auto bind = [&ctx](void (*fn)(ApiContext&, const Request&, const Responder&)) -> Handler {
    return [&ctx, fn](const Request& req, const Responder& respond) { fn(ctx, req, respond); };
  };
  auto open = RouteOptions{.scope = "", .authenticate = false, .idempotent = false};
  auto scoped = [](std::string scope, size_t max_body = kMaxSingleBody) {
    return RouteOptions{.scope = std::move(scope),
                        .authenticate = true,
                        .max_body_bytes = max_body,
                        .idempotent = true};
  };

  router.Add(M::kGet, "/health", open, bind(GetHealth));
  router.Add(M::kGet, "/ready", open, bind(GetReady));
  router.Add(M::kGet, "/metrics", open, bind(GetMetrics));
  router.Add(M::kGet, "/openapi.json", open, bind(GetOpenApi));

  router.Add(M::kGet, "/v1/api-tokens/scopes", scoped("tokens:admin"), bind(GetScopes));
  router.Add(M::kPost, "/v1/api-tokens", scoped("tokens:admin"), bind(PostToken));
  router.Add(M::kGet, "/v1/api-tokens", scoped("tokens:admin"), bind(ListTokens));
  router.Add(M::kPost, "/v1/api-tokens/{id}/rotate", scoped("tokens:admin"), bind(RotateToken));
  router.Add(M::kDelete, "/v1/api-tokens/{id}", scoped("tokens:admin"), bind(DeleteToken));

  router.Add(M::kPost, "/v1/ingest/events", scoped("ingest:write"), bind(PostIngestEvent));
  router.Add(M::kPost, "/v1/ingest/batch", scoped("ingest:write", kMaxBatchBody),
             bind(PostIngestBatch));
  router.Add(M::kGet, "/v1/ingest/status/{job_id}", scoped("ingest:write"), bind(GetIngestStatus));
  router.Add(M::kPost, "/v1/ingest/{source}/issues", scoped("ingest:write"),
             bind(PostIngestNative));

  router.Add(M::kGet, "/v1/issues", scoped("issues:read"), bind(ListIssues));
  router.Add(M::kPost, "/v1/issues", scoped("issues:write"), bind(PostIssue));
  router.Add(M::kPost, "/v1/issues/bulk", scoped("issues:write"), bind(BulkIssues));
  router.Add(M::kGet, "/v1/issues/{id}", scoped("issues:read"), bind(GetIssue));
  router.Add(M::kPatch, "/v1/issues/{id}", scoped("issues:write"), bind(PatchIssue));
  router.Add(M::kPost, "/v1/issues/{id}/resolve", scoped("issues:write"), bind(ResolveIssue));

  router.Add(M::kGet, "/v1/issues/{id}/similar", scoped("issues:read"), bind(GetSimilarIssues));
  router.Add(M::kGet, "/v1/issues/{id}/pattern-explanation", scoped("issues:read"),
             bind(GetPatternExplanation));
  router.Add(M::kPost, "/v1/issues/{id}/link-pattern", scoped("issues:write"),
             bind(LinkIssuePattern));
  router.Add(M::kPost, "/v1/issues/{id}/unlink-pattern", scoped("issues:write"),
             bind(UnlinkIssuePattern));

  router.Add(M::kGet, "/v1/patterns", scoped("patterns:read"), bind(ListPatterns));
  router.Add(M::kGet, "/v1/patterns/{id}", scoped("patterns:read"), bind(GetPattern));
  router.Add(M::kGet, "/v1/patterns/{id}/issues", scoped("patterns:read"), bind(GetPatternIssues));
  router.Add(M::kPatch, "/v1/patterns/{id}", scoped("patterns:write"), bind(PatchPattern));
  router.Add(M::kPost, "/v1/patterns/{id}/merge", scoped("patterns:write"), bind(MergePattern));

  router.Add(M::kPost, "/v1/webhooks", scoped("webhooks:admin"), bind(CreateWebhook));
  router.Add(M::kGet, "/v1/webhooks", scoped("webhooks:read"), bind(ListWebhooks));
  router.Add(M::kGet, "/v1/webhooks/{id}", scoped("webhooks:read"), bind(GetWebhook));
  router.Add(M::kPatch, "/v1/webhooks/{id}", scoped("webhooks:admin"), bind(PatchWebhook));
  router.Add(M::kDelete, "/v1/webhooks/{id}", scoped("webhooks:admin"), bind(DeleteWebhook));
  router.Add(M::kPost, "/v1/webhook-subscriptions", scoped("webhooks:admin"),
             bind(CreateWebhookSubscription));
  router.Add(M::kPost, "/v1/webhooks/{id}/test", scoped("webhooks:admin"), bind(TestWebhook));
  router.Add(M::kGet, "/v1/webhooks/{id}/deliveries", scoped("webhooks:read"),
             bind(ListWebhookDeliveries));
  router.Add(M::kPost, "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
             scoped("webhooks:admin"), bind(RedeliverWebhookDelivery));
  router.Add(M::kPost, "/v1/webhooks/{id}/recover", scoped("webhooks:admin"), bind(RecoverWebhook));
  router.Add(M::kPost, "/v1/webhooks/{id}/rotate-secret", scoped("webhooks:admin"),
             bind(RotateWebhookSecret));

  router.Add(M::kPost, "/v1/connectors", scoped("connectors:admin"), bind(CreateConnector));
  router.Add(M::kGet, "/v1/connectors", scoped("connectors:read"), bind(ListConnectors));
  router.Add(M::kGet, "/v1/connectors/{id}", scoped("connectors:read"), bind(GetConnector));
  router.Add(M::kPatch, "/v1/connectors/{id}", scoped("connectors:admin"), bind(PatchConnector));
  router.Add(M::kDelete, "/v1/connectors/{id}", scoped("connectors:admin"), bind(DeleteConnector));
  router.Add(M::kPost, "/v1/connectors/{id}/inbound", scoped("connectors:admin"),
             bind(SetConnectorInbound));
  router.Add(M::kPost, "/v1/connectors/{id}/inbound/rotate-secret", scoped("connectors:admin"),
             bind(RotateConnectorInboundSecret));
  router.Add(M::kGet, "/v1/settings/alert-webhooks", scoped("workspace:admin"),
             bind(GetAlertWebhookSettings));
  router.Add(M::kPatch, "/v1/settings/alert-webhooks", scoped("workspace:admin"),
             bind(PatchAlertWebhookSettings));
  router.Add(M::kPost, "/v1/settings/alert-webhooks/rotate-secret", scoped("workspace:admin"),
             bind(RotateAlertWebhookSecret));

  // The receivers authenticate themselves (a signature, or an API key and a signature): the
  // server applies only its per-IP rate limit. Senders retry, so no Idempotency-Key either.
  auto receiver = RouteOptions{
      .scope = "", .authenticate = false, .max_body_bytes = kMaxBatchBody, .idempotent = false};
  router.Add(M::kPost, "/v1/webhooks/inbound/{connector_id}", receiver, bind(PostConnectorInbound));
  router.Add(M::kPost, "/v1/webhooks/{workspace_id}/{provider}", receiver, bind(PostAlertWebhook));

  router.Add(M::kGet, "/v1/events", scoped("events:read"), bind(ListEvents));
  router.Add(M::kGet, "/v1/notifications/stream", scoped("events:read"),
             bind(GetNotificationStream));
}

}  // namespace causeloop::http::api
