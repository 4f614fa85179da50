#pragma once
// Pattern rows for the SQLite store: reads, list queries, and the per-transaction batch of
// pattern changes that ingest accumulates and writes once before COMMIT.

#include <functional>
#include <map>
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
class PatternBatch {
 public:
  // A new issue joined `choice.pattern_id`.
  void AddIssue(const std::string& ws, const PatternChoice& choice, const model::Issue& issue);
  // An issue of `pattern_id` occurred again (dedup): only last_seen_at moves.
  void Touch(const std::string& ws, const std::string& pattern_id, SystemTime at);
  [[nodiscard]] bool empty() const { return entries_.empty() && clusters_.empty(); }
  // Forgets the queued changes (Flush does so itself).
  void clear();
  // After COMMIT: the facet rows the last Flush wrote exist from now on, so later flushes
  // skip them (facet rows are never deleted). After ROLLBACK: they may not exist.
  void Committed();
  void RolledBack();
  // Writes every change and its events (pattern.detected for a new row, pattern.updated
  // when issues joined). Leaves the batch empty.
  Status Flush(Conn& c, SystemTime now, const AppendEventFn& append);

 private:
  struct Entry {
    std::string ws, pattern_id;
    // For a row that may not exist yet.
    std::string title, fingerprint;
    long long cluster = 0;
    long long new_issues = 0;
    std::vector<std::string> issue_ids;  // the first few, for the event
    SystemTime first_seen{}, last_seen{};
    std::vector<std::pair<std::string, std::string>> facets;  // (kind, value), unique
  };
  struct ClusterState {
    std::string state, template_text;
  };
  Entry& EntryFor(const std::string& ws, const std::string& pattern_id);

  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;  // ws + '\n' + pattern id -> entry
  std::map<std::pair<std::string, long long>, ClusterState> clusters_;
  // Facet rows known to be committed, "ws\npattern\nkind\nvalue" (bounded: dropped when
  // it grows past kMaxKnownFacets), and those written by the open transaction.
  std::unordered_set<std::string> known_facets_;
  std::vector<std::string> written_facets_;
  static constexpr size_t kMaxKnownFacets = size_t{1} << 17;  // ~15 MB at most
};

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
