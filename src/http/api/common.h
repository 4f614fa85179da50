#pragma once
// Helpers shared by the handlers: replies, list envelopes, query and body field decoding.

#include <simdjson.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/cursor.h"
#include "core/json_writer.h"
#include "core/random.h"
#include "core/result.h"
#include "http/types.h"
#include "model/webhook.h"

namespace causeloop::http::api {

// Sends `r` on success, the error envelope otherwise.
inline void Reply(const Request& req, const Responder& respond, Result<Response> r) {
  if (r) {
    respond(std::move(*r));
  } else {
    respond(ErrorResponse(r.error(), req.request_id));
  }
}

inline void ReplyError(const Request& req, const Responder& respond, const Error& e) {
  respond(ErrorResponse(e, req.request_id));
}

// ?limit= within [1, max], default `def`.
Result<int> ParseLimit(const Request& req, int def = 25, int max = 100);

// Writes {"data": <items written by fill>, "page": {...}}.
template <typename Fill>
std::string ListEnvelope(Fill&& fill, const std::string& next_cursor, bool has_more,
                         long long total) {
  JsonWriter w;
  w.BeginObject().Key("data").BeginArray();
  fill(w);
  w.EndArray();
  w.Key("page").BeginObject();
  w.FieldOrNull("next_cursor", next_cursor);
  w.Field("has_more", has_more);
  w.Field("total", total);
  w.EndObject().EndObject();
  return w.Take();
}

// Body decoding helpers: each returns a field validation error naming `key`.
// Absent or null leaves `out` untouched.
Status OptString(simdjson::dom::object obj, std::string_view key, std::optional<std::string>& out,
                 size_t max_len = 1000);
Status OptInt(simdjson::dom::object obj, std::string_view key, std::optional<long long>& out);
Result<simdjson::dom::object> RequireObject(simdjson::dom::element e);
// Parses a request body that must be one JSON object (valid until the next parse on this
// thread).
Result<simdjson::dom::object> ParseObjectBody(std::string_view body);

// A short hash of the list-defining query parameters `keys` (everything but paging) plus
// `scope` (e.g. a path parameter), so a cursor can be bound to the query that made it.
std::string QueryFingerprint(const Request& req, std::initializer_list<std::string_view> keys,
                             std::string_view scope = {});

// A list cursor sealed from "<version>|<fingerprint>|<sort value>|<id>": the sort value and
// id to continue after, once checked against the query's `fingerprint` (kValidation naming
// `cursor` for another query's cursor or a tampered one).
struct ListPosition {
  std::string after_value;
  std::string after_id;
};
Result<ListPosition> OpenListCursor(const auth::CursorSigner& cursors, std::string_view cursor,
                                    std::string_view version, std::string_view fingerprint);

// `{"grace_seconds": N}` of a secret rotation (the body may be empty): 0 to 604,800, default
// 86,400. kValidation naming grace_seconds otherwise.
Result<long long> ParseGraceSeconds(const Request& req);

// A rotation of sealed signing secrets (newest first): `secret`, sealed with `key`, becomes the
// current one; the current one stays valid until now + `grace_seconds` (dropped when 0); older
// ones are dropped.
std::vector<model::WebhookSecret> RotateSecrets(std::string_view key, Random& random,
                                                SystemTime now,
                                                const std::vector<model::WebhookSecret>& current,
                                                const std::string& secret, long long grace_seconds);

// The requesting principal (the server guarantees one on authenticated routes).
inline const Principal& Who(const Request& req) { return *req.principal; }

}  // namespace causeloop::http::api
