#include "http/api/common.h"
#include "http/api/handlers.h"

namespace causeloop::http::api {

void GetHealth(ApiContext& ctx, const Request&, const Responder& respond) {
  JsonWriter w;
  w.BeginObject().Field("status", "ok").Field("version", ctx.version).EndObject();
  respond(JsonResponse(200, w.Take()));
}

void GetReady(ApiContext& ctx, const Request& req, const Responder& respond) {
  if (!ctx.store.Ready()) {
    return ReplyError(req, respond, Error{ErrorCode::kUnavailable, "the store is not ready", {}});
  }
  respond(JsonResponse(200, R"({"status":"ready"})"));
}

void GetMetrics(ApiContext& ctx, const Request&, const Responder& respond) {
  store::StoreStats s = ctx.store.Stats();
  ctx.metrics.Gauge("causeloop_store_write_queue_records", "Records waiting for the writer")
      .Set(static_cast<double>(s.write_queue_depth));
  ctx.metrics.Gauge("causeloop_store_transactions", "Group transactions committed")
      .Set(static_cast<double>(s.transactions));
  ctx.metrics.Gauge("causeloop_store_records_committed", "Records committed by the writer")
      .Set(static_cast<double>(s.records_committed));
  ctx.metrics.Gauge("causeloop_store_wal_restarts", "Times the write-ahead log started over")
      .Set(static_cast<double>(s.wal_restarts));
  Response r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4";
  r.body = ctx.metrics.Render();
  respond(std::move(r));
}

void GetOpenApi(ApiContext&, const Request&, const Responder& respond) {
  respond(JsonResponse(200, kOpenApiJson));
}

}  // namespace causeloop::http::api
