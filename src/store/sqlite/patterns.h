#pragma once
// Pattern rows for the SQLite store: reads, list queries, and the per-transaction batch of
// pattern changes that ingest accumulates and writes once before COMMIT.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/json_writer.h"
#include "core/result.h"
#include "model/issue.h"
#include "model/pattern.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace causeloop::store::sqlite {

inline constexpr const char* kPatternColumns =
    "id, workspace_id, title, title_overridden, template, fingerprint, status, issue_count, "
    "risk_score, merged_into, engine_cluster, first_seen_at, last_seen_at, created_at, "
    "updated_at";

// Reads a pattern from a row selected with kPatternColumns starting at column 0.
model::Pattern ReadPattern(const Stmt& s);

// {"pattern": {...}} plus the extra fields `extra` writes.
std::string PatternEventData(const model::Pattern& p,
                             const std::function<void(JsonWriter&)>& extra = {});

// Appends an event in the writer's transaction (the store's gap-free sequence).
using AppendEventFn =
    std::function<Status(const std::string& ws, const char* type, const std::string& data)>;

// Pattern changes made by one transaction, written together before it commits: one UPDATE
// per touched pattern instead of one per issue.
//
// Under sustained load the counters go further: while the writer is busy, a pattern whose
// row was written less than kMinRowInterval ago keeps its new issues (count, last_seen_at,
// the ids for the event) in memory, and a later transaction writes them with one
// pattern.updated event: the next one that touches the pattern once it is due, or the due
// scan (every kDueScan, for patterns no transaction touches). A transaction while the
// writer is not busy writes its own patterns at once (so without load nothing waits) but
// leaves other waiting patterns to their due time: a writer that alternates between busy
// and not busy does not write every waiting pattern each time it is briefly not busy.
// Everything is written when the writer has been idle for kIdleFlush, a reader asks to
// settle, or it stops (FlushMode::kAll). New patterns, their pattern.detected event,
// facets and engine state are always written at once. While anything waits, the flag row
// store_flags.pattern_counts_stale is 1, so a crash is followed by a recount
// (RecountPatterns).
class PatternBatch {
 public:
  // Each pattern.updated goes to every webhook endpoint and live-stream client: during a
  // storm over hundreds of patterns, one per pattern per second was hundreds of deliveries
  // a second per endpoint, and a pattern row plus an event written per pattern per second
  // was about 2 % of the writer's time (batch-new, 526 busy patterns). Readers are not
  // affected: they settle the counters first.
  static constexpr std::chrono::milliseconds kMinRowInterval{5000};
  // How long the writer stays idle before it writes the counters that wait.
  static constexpr std::chrono::milliseconds kIdleFlush{20};
  // How often waiting patterns that no transaction touches are checked for being due.
  static constexpr std::chrono::milliseconds kDueScan{1000};

  // kBusy: patterns written less than kMinRowInterval ago wait. kNotBusy: the
  // transaction's own patterns are written; others that wait, when due. kAll: everything.
  enum class FlushMode { kBusy, kNotBusy, kAll };

  // A new issue joined `choice.pattern_id`.
  void AddIssue(const std::string& ws, const PatternChoice& choice, const model::Issue& issue);
  // An issue of `pattern_id` occurred again (dedup): only last_seen_at moves.
  void Touch(const std::string& ws, const std::string& pattern_id, SystemTime at);
  [[nodiscard]] bool empty() const { return entries_.empty() && clusters_.empty(); }
  // Committed changes still waiting to be written.
  [[nodiscard]] bool has_deferred() const { return !deferred_.empty(); }
  // Forgets the queued changes of the open transaction (Flush does so itself).
  void clear();
  // After COMMIT: what the last Flush deferred now waits, what it wrote is done, and the
  // facet rows it wrote exist from now on (facet rows are never deleted). After ROLLBACK:
  // the transaction's changes are gone and everything that waited still waits.
  void Committed();
  void RolledBack();
  // Writes the transaction's pattern changes and waiting ones as `mode` says, with their
  // events (pattern.detected for a new row, pattern.updated when issues joined). Leaves the
  // transaction's batch empty.
  Status Flush(Conn& c, SystemTime now, FlushMode mode, const AppendEventFn& append);

 private:
  struct Entry {
    std::string ws, pattern_id;
    // For a row that may not exist yet.
    std::string title, fingerprint;
    long long cluster = 0;
    long long new_issues = 0;
    std::vector<std::string> issue_ids;  // the first few, for the event
    bool ids_full = false;               // the waiting ones fill the event (EntryFor)
    SystemTime first_seen{}, last_seen{};
    std::vector<std::pair<std::string, std::string>> facets;  // (kind, value), unique
  };
  struct ClusterState {
    std::string state, template_text;
  };
  // Issues that joined a pattern in committed transactions, not yet in its row.
  struct Waiting {
    std::string ws, pattern_id;
    long long new_issues = 0;
    std::vector<std::string> issue_ids;
    SystemTime last_seen{};
    void Add(long long n, const std::vector<std::string>& ids, SystemTime seen);
  };
  Entry& EntryFor(const std::string& ws, const std::string& pattern_id);
  // UPDATE (or INSERT, for a new pattern) of one row, and its event.
  Status WriteRow(Conn& c, Entry& e, long long now_ms, const AppendEventFn& append);
  Status SetStaleFlag(Conn& c, bool stale);

  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;  // pattern id -> entry
  std::string key_;                                // scratch for Flush's facet keys
  std::map<std::pair<std::string, long long>, ClusterState> clusters_;
  // Facet rows known to be committed, "pattern\nkind\nvalue" (bounded: dropped when
  // it grows past kMaxKnownFacets), and those written by the open transaction.
  std::unordered_set<std::string> known_facets_;
  std::vector<std::string> written_facets_;
  static constexpr size_t kMaxKnownFacets = size_t{1} << 17;  // ~15 MB at most

  // Committed, waiting (key as index_), and what the open transaction adds to or takes
  // from it.
  std::unordered_map<std::string, Waiting> deferred_;
  std::vector<std::pair<std::string, Waiting>> txn_deferred_;
  std::vector<std::string> txn_written_;  // keys whose row the open transaction wrote
  SystemTime txn_now_{};
  // When each pattern's row was last written by a committed transaction (bounded like
  // known_facets_; a forgotten pattern is simply due).
  std::unordered_map<std::string, SystemTime> last_written_;
  static constexpr size_t kMaxLastWritten = size_t{1} << 16;
  SystemTime next_due_scan_{};    // when Flush next looks for waiting patterns that are due
  bool stale_flag_ = false;       // committed value of store_flags.pattern_counts_stale
  std::optional<bool> txn_flag_;  // written by the open transaction
};

// After an unclean stop with pattern counters waiting (store_flags.pattern_counts_stale = 1):
// recounts every live pattern's issue_count and last_seen_at from its issues, appending a
// pattern.updated event {"reason": "recounted"} for each row that changed, and clears the
// flag. Runs in the caller's transaction.
Status RecountPatternsIfStale(Conn& c, SystemTime now, const AppendEventFn& append);

// Reads one pattern; kNotFound when missing or in another workspace.
Result<model::Pattern> SelectPattern(Conn& c, const std::string& ws, const std::string& id);
// Follows merged_into to the pattern that now holds the issues.
Result<model::Pattern> SelectLivePattern(Conn& c, const std::string& ws, const std::string& id);
Result<PatternPage> SelectPatterns(Conn& c, const std::string& ws, const PatternQuery& q);
Result<model::PatternDetail> SelectPatternDetail(Conn& c, const std::string& ws,
                                                 const std::string& id, int days, SystemTime now);
Result<std::vector<PatternStateRow>> SelectPatternStates(Conn& c, const std::string& ws);
Result<std::map<std::string, std::string>> SelectPatternOverrides(Conn& c, const std::string& ws);

// Adds `delta` issues to a pattern (negative to remove), recomputing emerging/active, and
// returns the updated row.
Result<model::Pattern> AdjustIssueCount(Conn& c, const std::string& ws, const std::string& id,
                                        long long delta, SystemTime now);
Status InsertFacet(Conn& c, const std::string& ws, const std::string& pattern_id, const char* kind,
                   const std::string& value);
Status InsertPattern(Conn& c, const model::Pattern& p, const std::string& state);

}  // namespace causeloop::store::sqlite
