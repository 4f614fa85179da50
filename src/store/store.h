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
#include "model/event.h"
#include "model/issue.h"
#include "model/tenancy.h"

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

struct StoreStats {
  long long write_queue_depth = 0;  // records waiting for the writer
  long long transactions = 0;       // committed group transactions
  long long records_committed = 0;  // records (issues) written
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

  // --- Event log ---------------------------------------------------------------------
  // Events with sequence > after, ascending, at most `limit`.
  virtual Result<std::vector<model::Event>> ListEvents(const std::string& workspace_id,
                                                       long long after, int limit) = 0;
  virtual Result<long long> LastSequence(const std::string& workspace_id) = 0;

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
};

}  // namespace causeloop::store
