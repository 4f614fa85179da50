#pragma once

#include <cstddef>
#include <vector>

#include "core/result.h"
#include "store/sqlite/sqlite_db.h"

namespace causeloop::store::sqlite {

// The order of issues by last_seen_at, kept as an append-mostly log instead of an index.
//
// An index on (workspace key, last_seen_at) moves an issue's entry on every re-sent record:
// the old entry is deleted from a random leaf page. Under a dedup-heavy load every group
// commit rewrote nearly every leaf of that index (~800 pages per commit at 100,000 issues),
// about a sixth of all pages written; without the index batch-dedup ran ~17 % faster.
// Here each new last_seen_at of an issue adds (key, last_seen_at, rowid) to issue_seen,
// where new entries land at the end, and the entry it replaces stays behind, stale, until it
// is deleted a batch at a time in key order (Compact), so a compaction round rewrites each
// leaf page once for tens of thousands of updates.
//
// Invariants: every issue has the entry (its ws_key, its last_seen_at, its rowid); an entry
// is live when its issue's last_seen_at equals its seen_at, stale otherwise. last_seen_at
// never goes back (the store keeps the later of the old and the new time), so a stale entry
// never becomes live again and is deleted without looking at the issue. Lists sorted by
// last_seen_at read issue_seen in key order and keep the live entries.
//
// The stale entries of this process are remembered in memory; those of a process that died
// before deleting them are found by Repair when the next first store opens the database
// (the entry count no longer matches the issue count). Lists stay correct either way:
// stale entries are skipped.
//
// Writer thread only.
class SeenLog {
 public:
  struct Key {
    long long ws_key = 0;
    long long seen_at = 0;  // Unix ms
    long long rowid = 0;
    auto operator<=>(const Key&) const = default;
  };

  // Stale entries that start a compaction round; a round deletes them over the following
  // transactions, twice as many per transaction as that transaction left stale.
  explicit SeenLog(size_t round_keys = 65536) : round_keys_(round_keys) {}

  // The entry of a new issue, or of an issue whose last_seen_at moved from `stale`.
  Status Add(Conn& c, const Key& key);
  void Stale(const Key& key) { txn_stale_.push_back(key); }

  // Before COMMIT: deletes the next stale entries of the round; with `all`, every stale
  // entry this process knows of.
  Status Compact(Conn& c, bool all);
  void Committed();
  void RolledBack();
  // Stale entries this process knows of and has not deleted (committed).
  [[nodiscard]] size_t waiting() const { return pending_.size() + (round_.size() - done_); }

  // When a store opens: if issue_seen does not hold exactly one entry per issue (a process
  // died with stale entries undeleted), deletes every stale entry and adds any missing one.
  // Returns whether it changed anything. Runs in its own transaction.
  static Result<bool> Repair(Conn& c);

 private:
  size_t round_keys_;
  std::vector<Key> txn_stale_;  // left stale by the open transaction
  std::vector<Key> pending_;    // committed, not yet in a round
  std::vector<Key> round_;      // sorted; [done_, end) still to delete
  size_t done_ = 0;
  size_t txn_done_ = 0;  // done_ once the open transaction commits
};

}  // namespace causeloop::store::sqlite
