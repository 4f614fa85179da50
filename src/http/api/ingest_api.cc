#include <string>

#include "core/time.h"
#include "http/api/common.h"
#include "http/api/handlers.h"
#include "http/api/ingest_replies.h"
#include "ingest/json_input.h"
#include "normalize/normalize.h"

namespace causeloop::http::api {
namespace {

void WriteRejected(JsonWriter& w, const std::vector<ingest::Rejection>& rejected) {
  w.Key("rejected").BeginArray();
  for (const auto& r : rejected) {
    w.BeginObject().Field("index", r.index).Field("reason", r.reason);
    w.FieldOrNull("field", r.field).EndObject();
  }
  w.EndArray();
}

// Stores one decoded record and answers 202 with the single-record body.
void IngestOne(ApiContext& ctx, const Request& req, const Responder& respond,
               Result<model::IssueRecord> record) {
  if (!record) return ReplyError(req, respond, record.error());
  std::vector<ingest::Decoded> decoded;
  decoded.push_back(ingest::Decoded{0, std::move(record)});
  ctx.ingestor.Ingest(Who(req).workspace_id, std::move(decoded), "",
                      [&req, respond](Result<ingest::Outcome> out) {
                        if (!out) return ReplyError(req, respond, out.error());
                        respond(JsonResponse(202, EncodeIngestSingle(*out)));
                      });
}

}  // namespace

// The single-record answer (SPEC §5.2), shared by /ingest/events and the native shapes.
std::string EncodeIngestSingle(const ingest::Outcome& o) {
  JsonWriter w;
  w.BeginObject().Field("accepted", o.accepted);
  WriteRejected(w, o.rejected);
  const auto& r = o.results.at(0);
  w.FieldOrNull("issue_id", r.issue_id).FieldOrNull("pattern_id", r.pattern_id);
  w.Field("deduplicated", r.deduplicated).Field("job_id", o.job_id).EndObject();
  return w.Take();
}

std::string EncodeIngestBatch(const ingest::Outcome& o) {
  JsonWriter w;
  w.BeginObject().Field("accepted", o.accepted);
  WriteRejected(w, o.rejected);
  w.Key("results").BeginArray();
  for (const auto& r : o.results) {
    w.BeginObject().Field("index", r.index).FieldOrNull("issue_id", r.issue_id);
    w.FieldOrNull("pattern_id", r.pattern_id).Field("deduplicated", r.deduplicated).EndObject();
  }
  w.EndArray().Field("job_id", o.job_id).EndObject();
  return w.Take();
}

Result<std::vector<ingest::Decoded>> DecodeBatchRecords(simdjson::dom::array records) {
  size_t n = records.size();
  if (n == 0 || n > static_cast<size_t>(kMaxBatchRecords)) {
    return FailField("records", "a batch holds 1 to 500 records; got " + std::to_string(n));
  }
  std::vector<ingest::Decoded> decoded;
  decoded.reserve(n);
  int index = 0;
  for (simdjson::dom::element e : records) {
    decoded.push_back(ingest::Decoded{index++, normalize::DecodeRecord(e)});
  }
  return decoded;
}

void PostIngestEvent(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto root = ingest::ParseJsonBody(req.body);
  if (!root) return ReplyError(req, respond, root.error());
  IngestOne(ctx, req, respond, normalize::DecodeRecord(*root));
}

void PostIngestNative(ApiContext& ctx, const Request& req, const Responder& respond) {
  std::string source(req.Param("source"));
  if (!normalize::IsNativeSource(source)) {
    return ReplyError(
        req, respond,
        Error{ErrorCode::kNotFound, "no native shape for source '" + source + "'", {}});
  }
  auto root = ingest::ParseJsonBody(req.body);
  if (!root) return ReplyError(req, respond, root.error());
  IngestOne(ctx, req, respond, normalize::NormalizeNative(source, *root));
}

void PostIngestBatch(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto root = ingest::ParseJsonBody(req.body);
  if (!root) return ReplyError(req, respond, root.error());
  simdjson::dom::array records;
  if ((*root)["records"].get(records) != simdjson::SUCCESS) {
    return ReplyError(req, respond,
                      FieldError("records", "expected {\"records\": [ … ]} with 1 to 500 records"));
  }
  auto decoded = DecodeBatchRecords(records);
  if (!decoded) return ReplyError(req, respond, decoded.error());
  ctx.ingestor.Ingest(Who(req).workspace_id, std::move(*decoded), "",
                      [&req, respond](Result<ingest::Outcome> out) {
                        if (!out) return ReplyError(req, respond, out.error());
                        respond(JsonResponse(202, EncodeIngestBatch(*out)));
                      });
}

void GetIngestStatus(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto job = ctx.store.GetIngestJob(Who(req).workspace_id, std::string(req.Param("job_id")));
  if (!job) return ReplyError(req, respond, job.error());
  JsonWriter w;
  w.BeginObject().Field("id", job->id).Field("status", job->status);
  w.Field("accepted", job->accepted).Field("rejected", job->rejected);
  w.Field("created_at", FormatRfc3339(job->created_at));
  w.Field("completed_at", FormatRfc3339(job->completed_at)).EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace causeloop::http::api
