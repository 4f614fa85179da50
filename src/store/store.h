#pragma once
// The storage interface. Every backend (SQLite now, PostgreSQL later) implements it and
// passes the one conformance suite (store/store_conformance_test.cc).
//
// Writes are group-committed: concurrent writes share transactions through a single writer,
// and a write's callback runs only after its transaction has COMMITted (or failed). Callbacks
// run on the writer thread and must not block: post the real work elsewhere.
// Reads are synchronous and may run concurrently with writes from any thread.
//
// Workspace isolation: every call takes the workspace id, and an object of another workspace
// is reported exactly like a missing one (kNotFound).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/connector.h"
#include "model/event.h"
#include "model/issue.h"
#include "model/pattern.h"
#include "model/tenancy.h"
#include "model/webhook.h"

namespace causeloop::store {

template <typename T>
using Callback = std::function<void(Result<T>)>;

// The result of one record's upsert.
struct UpsertOutcome {
  std::string issue_id;
  std::string pattern_id;  // empty until clustering lands
  bool deduplicated = false;
  model::IssueStatus status = model::IssueStatus::kOpen;
  model::Severity severity = model::Severity::kP3;
  std::string title;
};

struct IngestJob {
  std::string id;  // ing_job_…
  std::string workspace_id;
  std::string status;  // completed | partial | failed
  long long accepted = 0;
  long long rejected = 0;
  SystemTime created_at{};
  SystemTime completed_at{};
  // Replay protection for inbound webhooks (SPEC §6.1): when `delivery_id` is set, the store
  // remembers (workspace, delivery_receiver, delivery_id) in the same transaction as the
  // records; if it was seen before, nothing is written and Ingest fails with kConflict whose
  // details hold {"delivery_id", <id>}. Remembered for at least 72 hours.
  std::string delivery_receiver;  // "connector:<id>" or "alert:<provider>"
  std::string delivery_id;
};

enum class IssueSort { kCreatedAt, kLastSeenAt, kSeverity, kRiskScore };

struct IssueQuery {
  std::optional<model::IssueStatus> status;
  std::optional<model::Severity> severity;
  std::string source, service, team, pattern_id, connector_id;  // empty = no filter
  std::string q;                                                // full text over title and body
  std::optional<SystemTime> created_after, created_before;
  IssueSort sort = IssueSort::kCreatedAt;
  bool descending = true;
  int limit = 25;
  // Keyset position: the sort value and id of the last row of the previous page.
  std::optional<std::string> after_value;  // the sort value, as text
  std::string after_id;
};

struct IssuePage {
  std::vector<model::Issue> items;
  bool has_more = false;
  long long total = 0;
};

// Fields a PATCH or a bulk edit may change; unset ones stay as they are.
struct IssuePatch {
  std::optional<model::IssueStatus> status;
  std::optional<model::Severity> severity;
  std::optional<std::string> assignee;
  std::optional<std::string> team;
  std::optional<std::map<std::string, std::string>> labels;
  std::optional<std::string> pattern_id;  // "" unlinks
};

struct BulkOutcome {
  std::vector<std::string> updated;    // ids changed
  std::vector<std::string> not_found;  // ids unknown in this workspace
};

struct StoredResponse {
  std::string request_hash;
  int status = 200;
  std::string body;
  std::string content_type;
};

// --- Patterns ----------------------------------------------------------------------------

// What the clustering engine decided for one new issue.
struct PatternChoice {
  std::string pattern_id;     // the pattern the issue joins (after merges)
  bool manual = false;        // decided by a manual override, not the engine
  long long cluster = 0;      // the engine cluster that took the issue; 0 when manual
  std::string cluster_state;  // that cluster's state after the assignment, to persist
  std::string template_text;  // that cluster's template after the assignment
  std::string fingerprint;    // the issue's masked-form hash (16 hex digits)
  double score = 0;           // similarity to the cluster, 0..1
};

// The clustering engine as the store sees it. The store calls it on the writer thread, inside
// the transaction that writes the issue or the manual change, in commit order — so two
// requests carrying the same new failure are assigned one after the other and meet in one
// pattern, and persisted engine state always matches the committed assignments.
class PatternAssigner {
 public:
  // The state-free, costly part of assigning one record (masking, error signature), which the
  // store computes on the caller's thread before the write is queued, so the single writer
  // only does the part that needs the engine's state. Opaque to the store.
  struct Prepared {
    virtual ~Prepared() = default;
  };

  virtual ~PatternAssigner() = default;
  // Thread-safe, stateless: may run on any thread, concurrently with everything else.
  virtual std::shared_ptr<const Prepared> Prepare(const model::IssueRecord& record) = 0;
  // A new issue (ingest or manual create). The store creates the pattern row when
  // `pattern_id` does not exist yet (title and first-seen from `record`). `prepared` is
  // Prepare(record)'s result, or null (then it is computed here).
  virtual Result<PatternChoice> Assign(const std::string& workspace_id,
                                       const model::IssueRecord& record,
                                       const Prepared* prepared) = 0;
  // The fingerprint (16 hex digits) of an existing issue, for manual overrides.
  virtual std::string Fingerprint(const model::Issue& issue) = 0;
  // A manual change was written (the transaction may still roll back, in which case the
  // store calls Reload for the workspace).
  virtual void OnOverride(const std::string& workspace_id, const std::string& fingerprint,
                          const std::string& pattern_id) = 0;
  virtual void OnMerge(const std::string& workspace_id, const std::string& from,
                       const std::string& into) = 0;
  // In-memory state may be ahead of the database (a transaction rolled back): drop it.
  virtual void Reload(const std::string& workspace_id) = 0;
};

// One pattern's persisted engine state, for rebuilding the engine at start.
struct PatternStateRow {
  std::string pattern_id;
  long long cluster = 0;  // 0 for a manual pattern
  std::string state;
  std::string merged_into;
};

enum class PatternSort { kLastSeenAt, kIssueCount, kRiskScore };

struct PatternQuery {
  std::optional<model::PatternStatus> status;
  std::string service, source;  // empty = no filter
  std::string q;                // substring of title or template
  bool include_merged = false;
  PatternSort sort = PatternSort::kLastSeenAt;
  bool descending = true;
  int limit = 25;
  std::optional<std::string> after_value;
  std::string after_id;
};

struct PatternPage {
  std::vector<model::Pattern> items;
  bool has_more = false;
  long long total = 0;
};

struct PatternPatch {
  std::optional<std::string> title;
  std::optional<model::PatternStatus> status;
};

struct StoreStats {
  long long write_queue_depth = 0;     // records waiting for the writer
  long long transactions = 0;          // committed group transactions
  long long records_committed = 0;     // records (issues) written
  long long wal_restarts = 0;          // times the write-ahead log started over (SQLite)
  long long durable_transactions = 0;  // of `transactions`, those known synced to disk (SQLite)
};

// One delivery attempt's outcome, written by RecordAttempt.
struct AttemptRecord {
  std::string workspace_id;
  std::string endpoint_id;
  std::string delivery_id;
  model::WebhookAttempt attempt;
  model::DeliveryStatus status = model::DeliveryStatus::kPending;
  int cycle_attempts = 0;
  SystemTime next_attempt_at{};
  // The endpoint: a 2xx ends its failing streak; a failure starts one (if none is running);
  // a non-empty reason disables it and emits webhook.endpoint_disabled.
  bool endpoint_ok = false;
  std::string disable_reason;
};

// Told about every event once the transaction that wrote it is committed and durable, before
// its requests are answered (outbound webhooks, the live stream). Called on the store's
// completion thread, in sequence order per workspace: implementations must only copy and
// hand off, never block or call the store.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  virtual void OnCommitted(const std::vector<model::Event>& events) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Lifecycle -------------------------------------------------------------------
  // True when migrations are applied and the database answers.
  virtual bool Ready() = 0;
  // Stops accepting writes, drains and commits the queue, stops the writer. Idempotent.
  virtual void Close() = 0;
  [[nodiscard]] virtual StoreStats Stats() const = 0;

  // --- Tenancy and tokens (synchronous: low rate) -------------------------------------
  virtual Result<bool> HasOrganizations() = 0;
  virtual Status CreateOrganization(const model::Organization& org,
                                    const model::Workspace& workspace) = 0;
  virtual Result<model::Workspace> GetWorkspace(const std::string& workspace_id) = 0;
  virtual Status InsertToken(const model::ApiToken& token) = 0;
  // The token whose current hash — or previous hash, while its grace lasts — is `hash_hex`,
  // regardless of revocation/expiry (the caller decides). nullopt when none.
  virtual Result<std::optional<model::ApiToken>> FindTokenByHash(const std::string& hash_hex) = 0;
  virtual Result<std::vector<model::ApiToken>> ListTokens(const std::string& workspace_id) = 0;
  virtual Result<model::ApiToken> GetToken(const std::string& workspace_id,
                                           const std::string& token_id) = 0;
  // Replaces the token's hash; the old one keeps working until `previous_expires_at` (or
  // stops at once when nullopt).
  virtual Result<model::ApiToken> RotateToken(const std::string& workspace_id,
                                              const std::string& token_id,
                                              const std::string& new_hash_hex,
                                              const std::string& new_prefix,
                                              std::optional<SystemTime> previous_expires_at) = 0;
  virtual Status RevokeToken(const std::string& workspace_id, const std::string& token_id,
                             SystemTime at) = 0;
  // Best effort, batched by the backend.
  virtual void TouchTokens(const std::map<std::string, SystemTime>& last_used) = 0;

  // --- Ingest (group-committed) -----------------------------------------------------
  // Upserts each record by (workspace, source, external_id) and writes its event and the job
  // row, all in one transaction. Records are applied in order; a repeated key within one
  // call updates the issue the earlier record created. kUnavailable when the write queue is
  // full (nothing was written).
  virtual void Ingest(const std::string& workspace_id, std::vector<model::IssueRecord> records,
                      IngestJob job, Callback<std::vector<UpsertOutcome>> done) = 0;
  virtual Result<IngestJob> GetIngestJob(const std::string& workspace_id,
                                         const std::string& job_id) = 0;

  // --- Issues ------------------------------------------------------------------------
  // Manual create: kConflict (details: issue_id) when (source, external_id) exists.
  virtual void CreateIssue(const std::string& workspace_id, model::IssueRecord record,
                           Callback<model::Issue> done) = 0;
  virtual Result<model::Issue> GetIssue(const std::string& workspace_id,
                                        const std::string& issue_id) = 0;
  virtual Result<IssuePage> ListIssues(const std::string& workspace_id,
                                       const IssueQuery& query) = 0;
  virtual void PatchIssue(const std::string& workspace_id, const std::string& issue_id,
                          IssuePatch patch, Callback<model::Issue> done) = 0;
  virtual void ResolveIssue(const std::string& workspace_id, const std::string& issue_id,
                            model::Resolution resolution, Callback<model::Issue> done) = 0;
  virtual void BulkUpdateIssues(const std::string& workspace_id, std::vector<std::string> ids,
                                IssuePatch patch, Callback<BulkOutcome> done) = 0;

  // --- Patterns ----------------------------------------------------------------------
  // The engine that assigns new issues to patterns; set once, before the first write.
  // Without one, issues get no pattern.
  virtual void SetPatternAssigner(PatternAssigner* assigner) = 0;
  // Every pattern of the workspace with its engine state, ordered by engine cluster (manual
  // patterns, cluster 0, first).
  virtual Result<std::vector<PatternStateRow>> LoadPatternStates(
      const std::string& workspace_id) = 0;
  // fingerprint -> pattern id, from manual link/unlink.
  virtual Result<std::map<std::string, std::string>> LoadPatternOverrides(
      const std::string& workspace_id) = 0;
  virtual Result<model::Pattern> GetPattern(const std::string& workspace_id,
                                            const std::string& pattern_id) = 0;
  // Services, sources and the per-day histogram of issues first seen over the last
  // `days` days up to `now`.
  virtual Result<model::PatternDetail> GetPatternDetail(const std::string& workspace_id,
                                                        const std::string& pattern_id, int days,
                                                        SystemTime now) = 0;
  virtual Result<PatternPage> ListPatterns(const std::string& workspace_id,
                                           const PatternQuery& query) = 0;
  // Under load a pattern's issue_count and last_seen_at may wait in memory for a later
  // transaction (SQLite: PatternBatch). Calls `then` once every issue committed before this
  // call is counted in its pattern's row: at once when nothing waits, else after a commit
  // that writes the waiting counters (then on the store's completion thread). Readers of
  // pattern rows that must see their own writes settle first.
  virtual void SettlePatternCounters(std::function<void()> then) = 0;
  // The full-text index may hold an issue's text a little after the issue is committed
  // (SQLite: see docs/api-choices.md, "Search index"). Calls `then` once every issue
  // committed before this call is searchable as committed: at once when nothing waits, else
  // on the indexing thread (or after a bounded wait while the index is being rebuilt).
  virtual void SettleSearchIndex(std::function<void()> then) = 0;
  virtual void PatchPattern(const std::string& workspace_id, const std::string& pattern_id,
                            PatternPatch patch, Callback<model::Pattern> done) = 0;
  // Moves the issue into `pattern_id` (a merged pattern resolves to the one it was merged
  // into) and records that the issue's fingerprint maps there from now on. With an empty
  // `pattern_id` (unlink) the issue moves into a new manual pattern of its own, which its
  // fingerprint then maps to. kNotFound for an unknown issue or pattern.
  virtual void LinkIssue(const std::string& workspace_id, const std::string& issue_id,
                         const std::string& pattern_id, Callback<model::Issue> done) = 0;
  // Moves every issue of `from` into `into`; `from` keeps existing with merged_into set and
  // every later assignment to it goes to `into`. kValidation when merging into itself or
  // into a pattern merged into `from`; kNotFound for unknown ids. Returns `into`.
  virtual void MergePatterns(const std::string& workspace_id, const std::string& from,
                             const std::string& into, Callback<model::Pattern> done) = 0;

  // --- Event log ---------------------------------------------------------------------
  // Adds an observer of committed events; set before the first write. Not owned; it must
  // outlive the store's Close().
  virtual void AddCommitObserver(CommitObserver* observer) = 0;
  // Events with sequence > after, ascending, at most `limit`.
  virtual Result<std::vector<model::Event>> ListEvents(const std::string& workspace_id,
                                                       long long after, int limit) = 0;
  virtual Result<long long> LastSequence(const std::string& workspace_id) = 0;

  // --- Outbound webhooks (SPEC §7.2) -------------------------------------------------
  // Creates the endpoint. The workspace's dispatch cursor starts at its current last event
  // when it has none, so an endpoint receives events from its creation on.
  virtual void CreateWebhookEndpoint(model::WebhookEndpoint endpoint,
                                     Callback<model::WebhookEndpoint> done) = 0;
  // Replaces the endpoint's mutable fields (url, description, filters, enabled, reason,
  // secrets, failing_since). kNotFound when (workspace_id, id) does not exist.
  virtual void UpdateWebhookEndpoint(model::WebhookEndpoint endpoint,
                                     Callback<model::WebhookEndpoint> done) = 0;
  // Deletes the endpoint with its deliveries and attempts. kNotFound when absent.
  virtual void DeleteWebhookEndpoint(const std::string& workspace_id, const std::string& id,
                                     Callback<bool> done) = 0;
  virtual Result<std::optional<model::WebhookEndpoint>> GetWebhookEndpoint(
      const std::string& workspace_id, const std::string& id) = 0;
  // The workspace's endpoints by creation; every workspace's when `workspace_id` is empty.
  virtual Result<std::vector<model::WebhookEndpoint>> ListWebhookEndpoints(
      const std::string& workspace_id) = 0;
  // Fan-out: inserts `deliveries` (skipping any whose (endpoint, event) exists) and, when
  // `cursor` >= 0, moves the workspace's dispatch cursor to it, in one transaction.
  // Returns how many were inserted.
  virtual void AddDeliveries(const std::string& workspace_id,
                             std::vector<model::WebhookDelivery> deliveries, long long cursor,
                             Callback<size_t> done) = 0;
  // Every workspace's dispatch cursor.
  virtual Result<std::vector<std::pair<std::string, long long>>> ListDispatchCursors() = 0;
  // Pending deliveries of every workspace after `after_rowid` in insertion order; a page of
  // at most `limit` with each one's rowid (for the next page).
  virtual Result<std::vector<std::pair<long long, model::WebhookDelivery>>> ListPendingDeliveries(
      long long after_rowid, int limit) = 0;
  // The outcome of one attempt: the attempt row, the delivery's new state and its effect on
  // the endpoint (failing streak, disabling with a webhook.endpoint_disabled event).
  virtual void RecordAttempt(AttemptRecord record, Callback<model::WebhookDelivery> done) = 0;
  // Deliveries of one endpoint, newest first, with their attempts; `before` is the id the
  // previous page ended with.
  virtual Result<std::vector<model::WebhookDelivery>> ListDeliveries(
      const std::string& workspace_id, const std::string& endpoint_id, const std::string& before,
      int limit) = 0;
  virtual Result<std::optional<model::WebhookDelivery>> GetDelivery(
      const std::string& workspace_id, const std::string& endpoint_id,
      const std::string& delivery_id) = 0;
  // Makes deliveries pending again with a fresh schedule, due at `now`: the one named
  // `delivery_id` (whatever its status: a pending one is tried now), or, when it is empty, every
  // failed delivery of the endpoint created at or after `failed_since`. Returns the requeued
  // deliveries.
  virtual void RequeueDeliveries(const std::string& workspace_id, const std::string& endpoint_id,
                                 const std::string& delivery_id, SystemTime failed_since,
                                 Callback<std::vector<model::WebhookDelivery>> done) = 0;

  // --- Connectors and inbound receivers (SPEC §6, §8.2) -------------------------------
  // kConflict never: ids are unique. Emits no event (connector.* events come with polling).
  virtual void CreateConnector(model::Connector connector, Callback<model::Connector> done) = 0;
  // Replaces the mutable fields (display_name, status, config, schedule, backfill_days,
  // credentials, inbound_enabled, inbound_secrets). kNotFound when (workspace_id, id) is absent.
  virtual void UpdateConnector(model::Connector connector, Callback<model::Connector> done) = 0;
  // Deletes the connector with its receiver statistics. kNotFound when absent. Issues it
  // ingested stay (their connector_id keeps the old id).
  virtual void DeleteConnector(const std::string& workspace_id, const std::string& id,
                               Callback<bool> done) = 0;
  virtual Result<std::optional<model::Connector>> GetConnector(const std::string& workspace_id,
                                                               const std::string& id) = 0;
  // The connector with this id in whichever workspace holds it: the inbound receiver has only
  // the id from its URL.
  virtual Result<std::optional<model::Connector>> FindConnector(const std::string& id) = 0;
  // The workspace's connectors by creation time.
  virtual Result<std::vector<model::Connector>> ListConnectors(const std::string& workspace_id) = 0;

  // The workspace's alert-webhook settings; defaults (no secret, every provider requires a
  // signature) when never saved.
  virtual Result<model::AlertWebhookSettings> GetAlertWebhookSettings(
      const std::string& workspace_id) = 0;
  // Replaces them (secrets and require_signature).
  virtual void SaveAlertWebhookSettings(model::AlertWebhookSettings settings,
                                        Callback<model::AlertWebhookSettings> done) = 0;

  // Counts one delivery to a receiver at `at`: verified (`signature_ok`) or refused with
  // `reason`. Best effort: group-committed, `done` may be empty.
  virtual void RecordReceiverDelivery(const std::string& workspace_id, const std::string& receiver,
                                      SystemTime at, bool signature_ok, const std::string& reason,
                                      std::function<void(Status)> done) = 0;
  // The receiver's statistics over the 24 hours before `now` (zeros when never seen).
  virtual Result<model::ReceiverStats> GetReceiverStats(const std::string& workspace_id,
                                                        const std::string& receiver,
                                                        SystemTime now) = 0;

  // --- Idempotency ---------------------------------------------------------------------
  virtual Result<std::optional<StoredResponse>> FindIdempotent(const std::string& workspace_id,
                                                               const std::string& key,
                                                               const std::string& method,
                                                               const std::string& path,
                                                               SystemTime not_before) = 0;
  virtual void SaveIdempotent(const std::string& workspace_id, const std::string& key,
                              const std::string& method, const std::string& path,
                              StoredResponse response, std::function<void(Status)> done) = 0;
};

struct StoreOptions {
  // Maximum records waiting for the writer before writes answer kUnavailable.
  size_t max_queued_records = size_t{64} * 1024;
  // Most records one group transaction takes.
  size_t max_records_per_transaction = 8192;
  // Read connections kept open (SQLite).
  int read_connections = 4;
  // How long a writer waits on a lock held by another process (e.g. `admin bootstrap`).
  std::chrono::milliseconds busy_timeout{5000};
  // WAL frames (pages) waiting to be copied back into the database that wake the
  // checkpointer (SQLite); 4000 frames of 4 KiB is ~16 MiB.
  int checkpoint_pages = 4000;
  // Text of committed changes handed to the search indexer in memory (SQLite); changes
  // past it are read back from the database.
  size_t search_queue_bytes = size_t{64} << 20;
  // Stale entries of the last-seen order (SQLite, sqlite::SeenLog) that start a round of
  // deleting them; lists skip at most about twice this many.
  size_t seen_round_keys = 65536;
};

}  // namespace causeloop::store
