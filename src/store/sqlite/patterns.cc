#include "store/sqlite/patterns.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/json_writer.h"
#include "core/time.h"
#include "model/json.h"
#include "store/sqlite/keyset.h"

namespace causeloop::store::sqlite {
namespace {

constexpr size_t kEventIssueIds = 20;  // issue ids listed in one pattern.updated event

// The status after adding ?1 issues, in SQL (SET expressions see the old row): emerging and
// active follow the count; watching and resolved stay.
constexpr const char* kStatusAfterAdding =
    "status=CASE WHEN status IN ('emerging','active') THEN CASE WHEN issue_count+?1 < 3 THEN "
    "'emerging' ELSE 'active' END ELSE status END";

Error StepError(Conn& c, int rc, std::string_view what) { return SqliteError(c.raw(), rc, what); }

// Runs an UPDATE … RETURNING kPatternColumns that must touch one row.
Result<std::optional<model::Pattern>> StepReturning(Conn& c, Stmt& s, std::string_view what) {
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<model::Pattern>{};
  if (rc != SQLITE_ROW) return Fail(StepError(c, rc, what));
  model::Pattern p = ReadPattern(s);
  // Finish the statement so its changes are complete before the next one runs.
  while ((rc = s.Step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, what));
  return std::optional<model::Pattern>{std::move(p)};
}

// Adds `delta` issues, last seen at `last_seen_ms`, to a live pattern's row (emerging/active
// follow the count) and returns the row; nullopt when it is missing or merged away.
Result<std::optional<model::Pattern>> AddIssuesToRow(Conn& c, const std::string& ws,
                                                     const std::string& id, long long delta,
                                                     long long last_seen_ms, long long now_ms) {
  auto up = c.Prepare(std::string("UPDATE patterns SET issue_count=issue_count+?1, "
                                  "last_seen_at=MAX(last_seen_at, ?2), updated_at=?3, ") +
                      kStatusAfterAdding +
                      " WHERE workspace_id=?4 AND id=?5 AND merged_into IS NULL RETURNING " +
                      kPatternColumns);
  if (!up) return Fail(up.error());
  (*up)->Bind(1, delta).Bind(2, last_seen_ms).Bind(3, now_ms).Bind(4, ws).Bind(5, id);
  return StepReturning(c, **up, "update pattern");
}

const char* SortColumn(PatternSort s) {
  switch (s) {
    case PatternSort::kLastSeenAt:
      return "last_seen_at";
    case PatternSort::kIssueCount:
      return "issue_count";
    case PatternSort::kRiskScore:
      return "risk_score";
  }
  return "last_seen_at";
}

// LIKE pattern matching `text` literally anywhere (escape character '\').
std::string LikeContains(std::string_view text) {
  std::string out = "%";
  for (char ch : text) {
    if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '%';
  return out;
}

}  // namespace

model::Pattern ReadPattern(const Stmt& s) {
  model::Pattern p;
  p.id = s.Text(0);
  p.workspace_id = s.Text(1);
  p.title = s.Text(2);
  p.title_overridden = s.Int(3) != 0;
  p.template_text = s.Text(4);
  p.fingerprint = s.Text(5);
  p.status = model::ParsePatternStatus(s.Text(6)).value_or(model::PatternStatus::kEmerging);
  p.issue_count = s.Int(7);
  p.risk_score = s.Double(8);
  p.merged_into = s.Text(9);
  p.engine_cluster = s.Int(10);
  p.first_seen_at = FromUnixMillis(s.Int(11));
  p.last_seen_at = FromUnixMillis(s.Int(12));
  p.created_at = FromUnixMillis(s.Int(13));
  p.updated_at = FromUnixMillis(s.Int(14));
  return p;
}

std::string PatternEventData(const model::Pattern& p,
                             const std::function<void(JsonWriter&)>& extra) {
  JsonWriter w;
  w.BeginObject();
  w.Key("pattern").BeginObject();
  model::WritePatternFields(w, p);
  w.EndObject();
  if (extra) extra(w);
  w.EndObject();
  return w.Take();
}

PatternBatch::Entry& PatternBatch::EntryFor(const std::string& ws, const std::string& pattern_id) {
  // Called for every issue a transaction adds. Pattern ids are unique across workspaces, so
  // the id alone is the key.
  auto it = index_.find(pattern_id);
  if (it != index_.end()) return entries_[it->second];
  index_.emplace(pattern_id, entries_.size());
  Entry& e = entries_.emplace_back();
  e.ws = ws;
  e.pattern_id = pattern_id;
  // Issues that waited come first in the pattern's next event: once they fill it, this
  // transaction's ids would be dropped, so they are not collected (most busy patterns).
  if (auto w = deferred_.find(pattern_id);
      w != deferred_.end() && w->second.issue_ids.size() >= kEventIssueIds) {
    e.ids_full = true;
  }
  return e;
}

void PatternBatch::AddIssue(const std::string& ws, const PatternChoice& choice,
                            const model::Issue& issue) {
  Entry& e = EntryFor(ws, choice.pattern_id);
  if (e.title.empty()) {
    // Everything a row needs if this is the pattern's first issue.
    e.title = issue.title;
    e.fingerprint = choice.fingerprint;
    e.cluster = choice.cluster;
    e.first_seen = issue.first_seen_at;
  }
  ++e.new_issues;
  if (!e.ids_full && e.issue_ids.size() < kEventIssueIds) e.issue_ids.push_back(issue.id);
  e.first_seen = std::min(e.first_seen, issue.first_seen_at);
  e.last_seen = std::max(e.last_seen, issue.last_seen_at);
  auto add_facet = [&e](const char* kind, const std::string& value) {
    if (value.empty()) return;
    auto same = [&](const std::pair<std::string, std::string>& f) {
      return f.second == value && f.first == kind;
    };
    if (std::none_of(e.facets.begin(), e.facets.end(), same)) e.facets.emplace_back(kind, value);
  };
  add_facet("service", issue.service);
  add_facet("source", issue.source);
  if (choice.cluster != 0 && !choice.cluster_state.empty()) {
    clusters_[{ws, choice.cluster}] = {choice.cluster_state, choice.template_text};
  }
}

void PatternBatch::Touch(const std::string& ws, const std::string& pattern_id, SystemTime at) {
  Entry& e = EntryFor(ws, pattern_id);
  e.last_seen = std::max(e.last_seen, at);
}

void PatternBatch::Waiting::Add(long long n, const std::vector<std::string>& ids, SystemTime seen) {
  new_issues += n;
  for (const auto& id : ids) {
    if (issue_ids.size() >= kEventIssueIds) break;
    issue_ids.push_back(id);
  }
  last_seen = std::max(last_seen, seen);
}

void PatternBatch::clear() {
  entries_.clear();
  index_.clear();
  clusters_.clear();
}

void PatternBatch::Committed() {
  if (known_facets_.size() + written_facets_.size() > kMaxKnownFacets) known_facets_.clear();
  for (auto& key : written_facets_) known_facets_.insert(std::move(key));
  written_facets_.clear();
  if (last_written_.size() + txn_written_.size() > kMaxLastWritten) last_written_.clear();
  for (auto& key : txn_written_) {
    deferred_.erase(key);
    last_written_[key] = txn_now_;
  }
  txn_written_.clear();
  for (auto& [key, w] : txn_deferred_) {
    if (auto it = deferred_.find(key); it != deferred_.end()) {
      it->second.Add(w.new_issues, w.issue_ids, w.last_seen);
    } else {
      deferred_.emplace(std::move(key), std::move(w));
    }
  }
  txn_deferred_.clear();
  if (txn_flag_) stale_flag_ = *txn_flag_;
  txn_flag_.reset();
}

void PatternBatch::RolledBack() {
  clear();
  written_facets_.clear();
  txn_written_.clear();
  txn_deferred_.clear();
  txn_flag_.reset();
}

Status PatternBatch::SetStaleFlag(Conn& c, bool stale) {
  auto s = c.Prepare(
      "INSERT INTO store_flags(name, value) VALUES('pattern_counts_stale', ?1) "
      "ON CONFLICT(name) DO UPDATE SET value=excluded.value");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, stale ? 1 : 0);
  if (int rc = (*s)->Step(); rc != SQLITE_DONE) return Fail(StepError(c, rc, "store flag"));
  txn_flag_ = stale;
  return {};
}

Status PatternBatch::WriteRow(Conn& c, Entry& e, long long now_ms, const AppendEventFn& append) {
  // A merged-away pattern's row stays as the merge left it: its issues (those waiting here
  // included) moved to the target, which counted them.
  auto row = AddIssuesToRow(c, e.ws, e.pattern_id, e.new_issues, ToUnixMillis(e.last_seen), now_ms);
  if (!row) return Fail(row.error());
  bool created = false;
  if (!*row) {
    if (e.title.empty()) return {};  // only waiting issues, and the row is gone or merged
    auto exists = c.Prepare("SELECT 1 FROM patterns WHERE workspace_id=?1 AND id=?2");
    if (!exists) return Fail(exists.error());
    (*exists)->Bind(1, e.ws).Bind(2, e.pattern_id);
    int rc = (*exists)->Step();
    (*exists)->Reset();
    if (rc == SQLITE_ROW) return {};  // merged away
    if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "find pattern"));
    // The pattern's first committed issue: create its row with the engine state.
    model::Pattern p;
    p.id = e.pattern_id;
    p.workspace_id = e.ws;
    p.title = e.title;
    p.fingerprint = e.fingerprint;
    p.engine_cluster = e.cluster;
    p.issue_count = e.new_issues;
    p.status = model::StatusForCount(model::PatternStatus::kEmerging, p.issue_count);
    p.first_seen_at = e.first_seen;
    p.last_seen_at = e.last_seen;
    p.created_at = p.updated_at = FromUnixMillis(now_ms);
    std::string state;
    if (auto it = clusters_.find({e.ws, e.cluster}); e.cluster != 0 && it != clusters_.end()) {
      p.template_text = it->second.template_text;
      state = std::move(it->second.state);
      clusters_.erase(it);
    }
    if (p.template_text.empty()) p.template_text = p.title;
    if (auto s = InsertPattern(c, p, state); !s) return s;
    *row = std::move(p);
    created = true;
  }
  auto ids = [&](JsonWriter& w) {
    w.Key("issue_ids").BeginArray();
    for (const auto& id : e.issue_ids) w.String(id);
    w.EndArray();
  };
  if (created) return append(e.ws, "pattern.detected", PatternEventData(**row, ids));
  if (e.new_issues == 0) return {};
  return append(e.ws, "pattern.updated", PatternEventData(**row, [&](JsonWriter& w) {
                  w.Field("reason", "issues_joined");
                  w.Field("joined", e.new_issues);
                  ids(w);
                }));
}

Status PatternBatch::Flush(Conn& c, SystemTime now, FlushMode mode, const AppendEventFn& append) {
  long long now_ms = ToUnixMillis(now);
  txn_now_ = now;
  size_t waiting_written = 0;  // keys of deferred_ written by this transaction
  for (Entry& e : entries_) {
    const std::string& key = e.pattern_id;
    // Facet rows are written at once (idempotent, and cached once known).
    for (const auto& [kind, value] : e.facets) {
      key_.assign(key).append(1, '\n').append(kind).append(1, '\n').append(value);
      if (known_facets_.count(key_) != 0) continue;
      if (auto s = InsertFacet(c, e.ws, e.pattern_id, kind.c_str(), value); !s) return s;
      written_facets_.push_back(key_);
    }
    auto last = last_written_.find(key);
    bool recent = last != last_written_.end() && now - last->second < kMinRowInterval;
    if (recent && mode == FlushMode::kBusy) {
      txn_deferred_.emplace_back(
          key, Waiting{e.ws, e.pattern_id, e.new_issues, std::move(e.issue_ids), e.last_seen});
      continue;
    }
    if (auto it = deferred_.find(key); it != deferred_.end()) {
      ++waiting_written;
      // Issues that waited come first in the event, as they joined first.
      Waiting all = it->second;
      all.Add(e.new_issues, e.issue_ids, e.last_seen);
      e.new_issues = all.new_issues;
      e.issue_ids = std::move(all.issue_ids);
      e.last_seen = all.last_seen;
    }
    if (auto s = WriteRow(c, e, now_ms, append); !s) return s;
    txn_written_.push_back(key);
  }
  // Waiting patterns this transaction did not touch (one it touched was written above, or
  // deferred again): all of them, or those that are due, looked for every kDueScan.
  if (mode == FlushMode::kAll || (!deferred_.empty() && now >= next_due_scan_)) {
    if (mode != FlushMode::kAll) next_due_scan_ = now + kDueScan;
    for (const auto& [key, w] : deferred_) {
      if (index_.count(key) != 0) continue;
      if (mode != FlushMode::kAll) {
        auto last = last_written_.find(key);
        if (last != last_written_.end() && now - last->second < kMinRowInterval) continue;
      }
      Entry e;
      e.ws = w.ws;
      e.pattern_id = w.pattern_id;
      e.new_issues = w.new_issues;
      e.issue_ids = w.issue_ids;
      e.last_seen = w.last_seen;
      ++waiting_written;
      if (auto s = WriteRow(c, e, now_ms, append); !s) return s;
      txn_written_.push_back(key);
    }
  }
  // The flag is 1 exactly while committed issues wait for their pattern's row: something
  // deferred now, or something that waited and was not written (each waiting key is written
  // at most once per transaction).
  bool waiting_after = !txn_deferred_.empty() || waiting_written < deferred_.size();
  if (waiting_after != stale_flag_) {
    if (auto s = SetStaleFlag(c, waiting_after); !s) return s;
  }
  // Engine state of clusters whose rows already existed (a merged-away pattern's cluster
  // keeps learning in its own row).
  for (const auto& [ckey, cs] : clusters_) {
    auto s = c.Prepare(
        "UPDATE patterns SET state=?1, template=?2 WHERE workspace_id=?3 AND engine_cluster=?4");
    if (!s) return Fail(s.error());
    (*s)->Bind(1, cs.state).Bind(2, cs.template_text).Bind(3, ckey.first).Bind(4, ckey.second);
    if (int rc = (*s)->Step(); rc != SQLITE_DONE) return Fail(StepError(c, rc, "pattern state"));
  }
  clear();
  return {};
}

Status RecountPatternsIfStale(Conn& c, SystemTime now, const AppendEventFn& append) {
  {
    auto flag = c.Prepare("SELECT value FROM store_flags WHERE name='pattern_counts_stale'");
    if (!flag) return Fail(flag.error());
    int rc = (*flag)->Step();
    bool stale = rc == SQLITE_ROW && (*flag)->Int(0) != 0;
    (*flag)->Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail(StepError(c, rc, "store flag"));
    if (!stale) return {};
  }
  struct Row {
    std::string ws, id;
    long long count = 0, last_seen = 0;
  };
  std::vector<Row> rows;
  {
    auto s = c.Prepare(
        "SELECT workspace_id, id, issue_count, last_seen_at FROM patterns "
        "WHERE merged_into IS NULL");
    if (!s) return Fail(s.error());
    int rc;
    while ((rc = (*s)->Step()) == SQLITE_ROW) {
      rows.push_back({(*s)->Text(0), (*s)->Text(1), (*s)->Int(2), (*s)->Int(3)});
    }
    (*s)->Reset();
    if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "list patterns"));
  }
  long long now_ms = ToUnixMillis(now);
  for (const Row& r : rows) {
    auto count =
        c.Prepare("SELECT COUNT(*), COALESCE(MAX(last_seen_at), 0) FROM issues WHERE " +
                  IssuesOfPattern("causeloop_key(?2)") + " AND +workspace_id=?1 AND pattern_id=?2");
    if (!count) return Fail(count.error());
    (*count)->Bind(1, r.ws).Bind(2, r.id);
    if (int rc = (*count)->Step(); rc != SQLITE_ROW) return Fail(StepError(c, rc, "count"));
    long long actual = (*count)->Int(0);
    long long last_seen = (*count)->Int(1);
    (*count)->Reset();
    if (actual == r.count && last_seen <= r.last_seen) continue;
    // Nothing else writes during start-up, so the difference is exact.
    long long joined = actual - r.count;
    auto row = AddIssuesToRow(c, r.ws, r.id, joined, last_seen, now_ms);
    if (!row) return Fail(row.error());
    if (!*row) continue;
    if (auto s = append(r.ws, "pattern.updated",
                        PatternEventData(**row,
                                         [&](JsonWriter& w) {
                                           w.Field("reason", "recounted");
                                           if (joined > 0) w.Field("joined", joined);
                                         }));
        !s) {
      return s;
    }
  }
  auto clear = c.Prepare("UPDATE store_flags SET value=0 WHERE name='pattern_counts_stale'");
  if (!clear) return Fail(clear.error());
  if (int rc = (*clear)->Step(); rc != SQLITE_DONE) return Fail(StepError(c, rc, "store flag"));
  return {};
}

Status InsertPattern(Conn& c, const model::Pattern& p, const std::string& state) {
  auto s = c.Prepare(
      "INSERT INTO patterns(id, workspace_id, title, title_overridden, template, fingerprint, "
      "status, issue_count, risk_score, merged_into, engine_cluster, state, first_seen_at, "
      "last_seen_at, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s) return Fail(s.error());
  Stmt& st = **s;
  st.Bind(1, p.id).Bind(2, p.workspace_id).Bind(3, p.title).Bind(4, p.title_overridden);
  st.Bind(5, p.template_text).Bind(6, p.fingerprint).Bind(7, model::PatternStatusName(p.status));
  st.Bind(8, p.issue_count).Bind(9, p.risk_score).BindOptText(10, p.merged_into);
  if (p.engine_cluster != 0) {
    st.Bind(11, p.engine_cluster);
  } else {
    st.BindNull(11);
  }
  st.BindOptText(12, state);
  st.Bind(13, ToUnixMillis(p.first_seen_at)).Bind(14, ToUnixMillis(p.last_seen_at));
  st.Bind(15, ToUnixMillis(p.created_at)).Bind(16, ToUnixMillis(p.updated_at));
  if (int rc = st.Step(); rc != SQLITE_DONE) return Fail(StepError(c, rc, "insert pattern"));
  return {};
}

Status InsertFacet(Conn& c, const std::string& ws, const std::string& pattern_id, const char* kind,
                   const std::string& value) {
  auto s = c.Prepare(
      "INSERT OR IGNORE INTO pattern_facets(workspace_id, kind, value, pattern_id) "
      "VALUES(?,?,?,?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, kind).Bind(3, value).Bind(4, pattern_id);
  if (int rc = (*s)->Step(); rc != SQLITE_DONE) return Fail(StepError(c, rc, "pattern facet"));
  return {};
}

Result<model::Pattern> AdjustIssueCount(Conn& c, const std::string& ws, const std::string& id,
                                        long long delta, SystemTime now) {
  auto s = c.Prepare(std::string("UPDATE patterns SET issue_count=MAX(issue_count+?1, 0), "
                                 "updated_at=?2, ") +
                     kStatusAfterAdding + " WHERE workspace_id=?3 AND id=?4 RETURNING " +
                     kPatternColumns);
  if (!s) return Fail(s.error());
  (*s)->Bind(1, delta).Bind(2, ToUnixMillis(now)).Bind(3, ws).Bind(4, id);
  auto row = StepReturning(c, **s, "pattern count");
  if (!row) return Fail(row.error());
  if (!*row) return Fail(ErrorCode::kNotFound, "pattern not found");
  return std::move(**row);
}

Result<model::Pattern> SelectPattern(Conn& c, const std::string& ws, const std::string& id) {
  auto s = c.Prepare(std::string("SELECT ") + kPatternColumns +
                     " FROM patterns WHERE id=? AND workspace_id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, id).Bind(2, ws);
  int rc = (*s)->Step();
  if (rc == SQLITE_DONE) return Fail(ErrorCode::kNotFound, "pattern not found");
  if (rc != SQLITE_ROW) return Fail(StepError(c, rc, "get pattern"));
  model::Pattern p = ReadPattern(**s);
  (*s)->Reset();
  return p;
}

Result<model::Pattern> SelectLivePattern(Conn& c, const std::string& ws, const std::string& id) {
  auto p = SelectPattern(c, ws, id);
  // Merges keep chains flat (merging re-points everything merged into the source), so this
  // loop runs at most twice; the bound guards against a corrupted cycle.
  for (int hops = 0; p && !p->merged_into.empty() && hops < 16; ++hops) {
    p = SelectPattern(c, ws, p->merged_into);
  }
  return p;
}

Result<PatternPage> SelectPatterns(Conn& c, const std::string& ws, const PatternQuery& q) {
  std::string where = " WHERE p.workspace_id=?";
  std::vector<std::string> texts;  // bound in order after the workspace
  if (!q.include_merged) where += " AND p.merged_into IS NULL";
  if (q.status) {
    where += " AND p.status=?";
    texts.emplace_back(model::PatternStatusName(*q.status));
  }
  for (auto [kind, value] : {std::pair{"service", &q.service}, std::pair{"source", &q.source}}) {
    if (value->empty()) continue;
    where += std::string(" AND EXISTS (SELECT 1 FROM pattern_facets f WHERE f.workspace_id=") +
             "p.workspace_id AND f.kind='" + kind + "' AND f.value=? AND f.pattern_id=p.id)";
    texts.push_back(*value);
  }
  if (!q.q.empty()) {
    where += " AND (p.title LIKE ? ESCAPE '\\' OR p.template LIKE ? ESCAPE '\\')";
    texts.push_back(LikeContains(q.q));
    texts.push_back(LikeContains(q.q));
  }
  long long total = 0;
  {
    auto s = c.Prepare("SELECT COUNT(*) FROM patterns p" + where);
    if (!s) return Fail(s.error());
    int idx = 1;
    (*s)->Bind(idx++, ws);
    for (const auto& t : texts) (*s)->Bind(idx++, t);
    if ((*s)->Step() == SQLITE_ROW) total = (*s)->Int(0);
    (*s)->Reset();
  }
  const char* col = SortColumn(q.sort);
  const char* dir = q.descending ? " DESC" : " ASC";
  std::string keyset = q.after_value ? KeysetCondition("p", col, q.descending) : "";
  static const std::string cols = QualifyColumns(kPatternColumns, "p");
  auto s = c.Prepare("SELECT " + cols + " FROM patterns p" + where + keyset + " ORDER BY p." + col +
                     dir + ", p.id" + dir + " LIMIT ?");
  if (!s) return Fail(s.error());
  Stmt& st = **s;
  int idx = 1;
  st.Bind(idx++, ws);
  for (const auto& t : texts) st.Bind(idx++, t);
  if (q.after_value) {
    BindKeyset(st, idx, *q.after_value, q.after_id, q.sort == PatternSort::kRiskScore);
  }
  int limit = std::clamp(q.limit, 1, 100);
  st.Bind(idx++, limit + 1);
  PatternPage page;
  page.total = total;
  while (st.Step() == SQLITE_ROW) page.items.push_back(ReadPattern(st));
  st.Reset();
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    page.has_more = true;
  }
  return page;
}

Result<model::PatternDetail> SelectPatternDetail(Conn& c, const std::string& ws,
                                                 const std::string& id, int days, SystemTime now) {
  model::PatternDetail d;
  for (auto [column, out] : {std::pair{"service", &d.services}, std::pair{"source", &d.sources}}) {
    auto s = c.Prepare(std::string("SELECT DISTINCT ") + column + " FROM issues WHERE " +
                       IssuesOfPattern("causeloop_key(?2)") +
                       " AND +workspace_id=?1 AND pattern_id=?2 AND " + column +
                       " IS NOT NULL ORDER BY " + column + " LIMIT 50");
    if (!s) return Fail(s.error());
    (*s)->Bind(1, ws).Bind(2, id);
    while ((*s)->Step() == SQLITE_ROW) out->push_back((*s)->Text(0));
    (*s)->Reset();
  }
  // Issues per UTC day, by when each was first seen; every day of the window is listed.
  constexpr long long kDayMs = 86'400'000;
  long long today = ToUnixMillis(now) / kDayMs;
  long long first_day = today - days + 1;
  std::vector<long long> counts(static_cast<size_t>(days), 0);
  auto s =
      c.Prepare("SELECT first_seen_at / 86400000 AS day, COUNT(*) FROM issues WHERE " +
                IssuesOfPattern("causeloop_key(?2)") +
                " AND +workspace_id=?1 AND pattern_id=?2 AND first_seen_at >= ?3 GROUP BY day");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, id).Bind(3, first_day * kDayMs);
  while ((*s)->Step() == SQLITE_ROW) {
    long long day = (*s)->Int(0);
    if (day >= first_day && day <= today)
      counts[static_cast<size_t>(day - first_day)] += (*s)->Int(1);
  }
  (*s)->Reset();
  for (int i = 0; i < days; ++i) {
    std::string date = FormatRfc3339(FromUnixMillis((first_day + i) * kDayMs)).substr(0, 10);
    d.occurrences.emplace_back(std::move(date), counts[static_cast<size_t>(i)]);
  }
  return d;
}

Result<std::vector<PatternStateRow>> SelectPatternStates(Conn& c, const std::string& ws) {
  auto s = c.Prepare(
      "SELECT id, COALESCE(engine_cluster, 0), COALESCE(state, ''), COALESCE(merged_into, '') "
      "FROM patterns WHERE workspace_id=? ORDER BY COALESCE(engine_cluster, 0), rowid");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws);
  std::vector<PatternStateRow> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    out.push_back({(*s)->Text(0), (*s)->Int(1), (*s)->Text(2), (*s)->Text(3)});
  }
  (*s)->Reset();
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "pattern states"));
  return out;
}

Result<std::map<std::string, std::string>> SelectPatternOverrides(Conn& c, const std::string& ws) {
  auto s = c.Prepare("SELECT fingerprint, pattern_id FROM pattern_overrides WHERE workspace_id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws);
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) out.emplace((*s)->Text(0), (*s)->Text(1));
  (*s)->Reset();
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "pattern overrides"));
  return out;
}

}  // namespace causeloop::store::sqlite
