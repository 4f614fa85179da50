#pragma once
// The HTTP API: thin handlers that decode, call one use case, and encode (SPEC §3–§5, §7.1).

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
#include "store/store.h"

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
};

// Registers every route with its scope and limits.
void RegisterRoutes(Router& router, ApiContext& ctx);

// Maximum body of the batch endpoint (8 MiB) and of single-record endpoints (1 MiB).
inline constexpr size_t kMaxBatchBody = 8u << 20;
inline constexpr size_t kMaxSingleBody = 1u << 20;
inline constexpr int kMaxBatchRecords = 500;

}  // namespace causeloop::http::api
