#pragma once
// Outbound webhook rows for the SQLite store: endpoints, deliveries, attempts and the
// per-workspace dispatch cursor. Every function runs on the connection it is given (the
// writer's, inside its transaction, or a reader's).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "model/webhook.h"
#include "store/sqlite/sqlite_db.h"

namespace causeloop::store::sqlite {

Status InsertEndpoint(Conn& c, const model::WebhookEndpoint& e);
// kNotFound when the row does not exist.
Status UpdateEndpoint(Conn& c, const model::WebhookEndpoint& e);
// false when the row did not exist.
Result<bool> DeleteEndpoint(Conn& c, const std::string& ws, const std::string& id);
Result<std::optional<model::WebhookEndpoint>> SelectEndpoint(Conn& c, const std::string& ws,
                                                             const std::string& id);
// Empty `ws`: every workspace.
Result<std::vector<model::WebhookEndpoint>> SelectEndpoints(Conn& c, const std::string& ws);

// Sets the workspace's cursor to `sequence` unless it has one already.
Status EnsureCursor(Conn& c, const std::string& ws, long long sequence);
Status SetCursor(Conn& c, const std::string& ws, long long sequence);
Result<std::vector<std::pair<std::string, long long>>> SelectCursors(Conn& c);

// INSERT OR IGNORE on (endpoint, event): the number inserted.
Result<size_t> InsertDeliveries(Conn& c, const std::vector<model::WebhookDelivery>& deliveries);
Result<std::vector<std::pair<long long, model::WebhookDelivery>>> SelectPending(Conn& c,
                                                                                long long after,
                                                                                int limit);
Result<std::optional<model::WebhookDelivery>> SelectDelivery(Conn& c, const std::string& ws,
                                                             const std::string& endpoint_id,
                                                             const std::string& id,
                                                             bool with_attempts);
// Newest first, after the delivery `before` (exclusive) when it is not empty.
Result<std::vector<model::WebhookDelivery>> SelectDeliveries(Conn& c, const std::string& ws,
                                                             const std::string& endpoint_id,
                                                             const std::string& before, int limit);
Status InsertAttempt(Conn& c, const std::string& delivery_id, const model::WebhookAttempt& a);
Status UpdateDeliveryState(Conn& c, const model::WebhookDelivery& d);
// Failed deliveries of the endpoint created at or after `since`.
Result<std::vector<model::WebhookDelivery>> SelectFailedSince(Conn& c, const std::string& ws,
                                                              const std::string& endpoint_id,
                                                              SystemTime since);

// {"endpoint": {id, url, disabled_reason, …}} for webhook.endpoint_disabled.
std::string EndpointEventData(const model::WebhookEndpoint& e);

}  // namespace causeloop::store::sqlite
