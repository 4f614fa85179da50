#pragma once
// The HTTP API: thin handlers that decode, call one use case, and encode (SPEC §3–§5, §7.1).

#include <chrono>
#include <memory>
#include <string>

#include "auth/cursor.h"
#include "cluster/service/pattern_service.h"
#include "core/clock.h"
#include "core/random.h"
#include "http/api/token_auth.h"
#include "http/metrics.h"
#include "http/router.h"
#include "ingest/ingestor.h"
#include "net/http_client.h"
#include "store/store.h"
#include "stream/event_hub.h"
#include "webhooks/outbound/dispatcher.h"

namespace causeloop::http::api {

// Everything the handlers use. Owned by the composition root; outlives the server.
struct ApiContext {
  store::Store& store;
  ingest::Ingestor& ingestor;
  TokenAuthenticator& tokens;
  const auth::CursorSigner& cursors;
  Metrics& metrics;
  const Clock& clock;
  Random& random;
  std::string version;
  // The clustering engine, for explanations; null when clustering is off.
  cluster::PatternService* patterns = nullptr;
  // Outbound webhooks: the delivery engine (null: endpoints are stored but nothing is sent),
  // the key that seals signing secrets at rest, and whether private targets are allowed.
  webhooks::Dispatcher* webhooks = nullptr;
  std::string secret_key;
  bool allow_private_webhook_targets = false;
  // The live stream's hub (null: GET /v1/notifications/stream answers 503) and how long a
  // stream may be silent before a ping comment is sent.
  stream::EventHub* events = nullptr;
  std::chrono::milliseconds stream_ping{30'000};
  // Connectors and inbound receivers: the key that seals connector credentials and inbound
  // signing secrets, the client that confirms SNS subscriptions (null: not confirmed), and
  // the externally visible base URL for receiver URLs ("" = from the request's Host).
  std::string connector_key;
  net::HttpClient* http = nullptr;
  std::string public_url;
};

// Registers every route with its scope and limits.
void RegisterRoutes(Router& router, ApiContext& ctx);

// Maximum body of the batch endpoint (8 MiB) and of single-record endpoints (1 MiB).
inline constexpr size_t kMaxBatchBody = 8u << 20;
inline constexpr size_t kMaxSingleBody = 1u << 20;
inline constexpr int kMaxBatchRecords = 500;

}  // namespace causeloop::http::api
