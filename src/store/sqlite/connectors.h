#pragma once
// Connector rows for the SQLite store, with what inbound receivers keep: the workspace's
// alert-webhook settings, the delivery ids remembered for replay protection and the hourly
// receiver statistics. Every function runs on the connection it is given (the writer's, inside
// its transaction, or a reader's).

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/connector.h"
#include "store/sqlite/sqlite_db.h"

namespace causeloop::store::sqlite {

Status InsertConnector(Conn& c, const model::Connector& con);
// Writes the mutable fields and updated_at. kNotFound when (workspace_id, id) does not exist.
Status UpdateConnector(Conn& c, const model::Connector& con);
// Deletes the connector, its receiver statistics and remembered delivery ids. false when the
// row did not exist (nothing else is touched then).
Result<bool> DeleteConnector(Conn& c, const std::string& ws, const std::string& id);
Result<std::optional<model::Connector>> SelectConnector(Conn& c, const std::string& ws,
                                                        const std::string& id);
// By id alone, in whichever workspace holds it.
Result<std::optional<model::Connector>> SelectConnectorAnyWorkspace(Conn& c, const std::string& id);
// The workspace's connectors by creation time.
Result<std::vector<model::Connector>> SelectConnectors(Conn& c, const std::string& ws);

// The stored settings, or the defaults (no secret, no overrides, no updated_at).
Result<model::AlertWebhookSettings> SelectAlertSettings(Conn& c, const std::string& ws);
// Inserts or replaces the workspace's row; `s.updated_at` must be set.
Status UpsertAlertSettings(Conn& c, const model::AlertWebhookSettings& s);

// Remembers (ws, receiver, delivery_id) as received at `now`. false when it was already
// remembered (nothing changes then).
Result<bool> RememberDelivery(Conn& c, const std::string& ws, const std::string& receiver,
                              const std::string& delivery_id, SystemTime now);
// Forgets at most `limit` delivery ids received before `before`.
Status ForgetDeliveries(Conn& c, SystemTime before, int limit);

// Counts one delivery at `at` in its hour bucket and records it as the receiver's latest
// success or failure (with `reason`). Drops the receiver's buckets older than 48 hours.
Status CountReceiverDelivery(Conn& c, const std::string& ws, const std::string& receiver,
                             SystemTime at, bool signature_ok, const std::string& reason);
// Sums the 24 hour buckets up to and including the one holding `now`.
Result<model::ReceiverStats> SelectReceiverStats(Conn& c, const std::string& ws,
                                                 const std::string& receiver, SystemTime now);

}  // namespace causeloop::store::sqlite
