#include "store/sqlite/seen_log.h"

#include <algorithm>
#include <cstddef>

namespace causeloop::store::sqlite {

Status SeenLog::Add(Conn& c, const Key& key) {
  auto s =
      c.Prepare("INSERT OR IGNORE INTO issue_seen(ws_key, seen_at, issue_rowid) VALUES(?,?,?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, key.ws_key).Bind(2, key.seen_at).Bind(3, key.rowid);
  return StepDone(c, **s, "add issue_seen entry");
}

Status SeenLog::Compact(Conn& c, bool all) {
  txn_done_ = done_;
  if (all && !pending_.empty() && done_ < round_.size()) {
    // Everything goes: the rest of the round joins what waits, as one round.
    pending_.insert(pending_.end(), round_.begin() + static_cast<std::ptrdiff_t>(done_),
                    round_.end());
    round_.clear();
    done_ = txn_done_ = 0;
  }
  if (done_ == round_.size()) {
    // Starting a round takes nothing away: a rollback leaves its keys to delete.
    if (pending_.size() >= round_keys_ || (all && !pending_.empty())) {
      round_ = std::move(pending_);
      pending_.clear();
      std::sort(round_.begin(), round_.end());
      done_ = txn_done_ = 0;
    } else {
      return {};
    }
  }
  size_t left = round_.size() - done_;
  size_t n = all ? left : std::min(left, std::max<size_t>(2 * txn_stale_.size(), 256));
  auto s = c.Prepare("DELETE FROM issue_seen WHERE ws_key=? AND seen_at=? AND issue_rowid=?");
  if (!s) return Fail(s.error());
  for (size_t k = done_; k < done_ + n; ++k) {
    (*s)->Reset();
    (*s)->Bind(1, round_[k].ws_key).Bind(2, round_[k].seen_at).Bind(3, round_[k].rowid);
    if (auto step = StepDone(c, **s, "delete stale issue_seen entry"); !step) return step;
  }
  txn_done_ = done_ + n;
  return {};
}

void SeenLog::Committed() {
  done_ = txn_done_;
  if (done_ == round_.size()) {
    round_.clear();
    done_ = txn_done_ = 0;
  }
  pending_.insert(pending_.end(), txn_stale_.begin(), txn_stale_.end());
  txn_stale_.clear();
}

void SeenLog::RolledBack() {
  txn_done_ = done_;
  txn_stale_.clear();
}

Result<bool> SeenLog::Repair(Conn& c) {
  auto count = [&](const char* sql) -> Result<long long> {
    auto s = c.Prepare(sql);
    if (!s) return Fail(s.error());
    if (int rc = (*s)->Step(); rc != SQLITE_ROW) return Fail(SqliteError(c.raw(), rc, sql));
    long long n = (*s)->Int(0);
    (*s)->Reset();
    return n;
  };
  auto entries = count("SELECT COUNT(*) FROM issue_seen");
  if (!entries) return Fail(entries.error());
  auto issues = count("SELECT COUNT(*) FROM issues");
  if (!issues) return Fail(issues.error());
  if (*entries == *issues) return false;
  for (const char* sql : {"BEGIN IMMEDIATE",
                          "DELETE FROM issue_seen WHERE NOT EXISTS (SELECT 1 FROM issues i WHERE "
                          "i.rowid = issue_seen.issue_rowid AND i.ws_key = issue_seen.ws_key AND "
                          "i.last_seen_at = issue_seen.seen_at)",
                          "INSERT OR IGNORE INTO issue_seen(ws_key, seen_at, issue_rowid) "
                          "SELECT ws_key, last_seen_at, rowid FROM issues",
                          "COMMIT"}) {
    if (auto s = c.Exec(sql); !s) {
      (void)c.Exec("ROLLBACK");
      return Fail(s.error());
    }
  }
  return true;
}

}  // namespace causeloop::store::sqlite
