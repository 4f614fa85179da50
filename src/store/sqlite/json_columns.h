#pragma once
// JSON column forms shared by the SQLite row code: sealed signing secrets (webhook endpoints,
// connectors, alert-webhook settings) and the per-thread parser that reads them back.

#include <simdjson.h>

#include <string>
#include <vector>

#include "model/webhook.h"

namespace causeloop::store::sqlite {

// One parser per thread: constructing a parser allocates its buffers, far more than a small
// column costs to parse.
simdjson::dom::parser& JsonColumnParser();

// [{"sealed": "…", "expires_at": <unix ms>|null}, …] in the given order.
std::string EncodeSecrets(const std::vector<model::WebhookSecret>& secrets);
// The inverse; entries without "sealed" are skipped, unparsable text reads as none.
std::vector<model::WebhookSecret> DecodeSecrets(const std::string& json);

}  // namespace causeloop::store::sqlite
