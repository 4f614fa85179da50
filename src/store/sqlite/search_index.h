#pragma once
// The issues' full-text index, kept in a database file of its own (`<database>.search`) by
// a thread of its own, so that tokenizing and FTS5's segment writes and merges run beside
// the single writer instead of inside its transactions (under a dedup-heavy load they were
// ~20 % of the writer's time).
//
// The index is contentless FTS5: it holds no copy of the text, so taking an issue's old
// entries out needs the text they were made from. The writer gives every change of an
// issue's text a seq in the table search_changes of the main database (issue rowid and the
// text before the change; nothing for a new issue), in the transaction that makes it, and
// after COMMIT hands the change, old and new text, to the indexer in memory. The indexer
// applies changes in seq order, each issue's old entries out and new ones in, and records
// the last seq applied in the same transaction of the index database.
//
// Changes it did not get in memory (committed before a restart, or dropped while its queue
// was full) it recovers from search_changes: in one snapshot of the main database, for each
// issue changed after the last applied seq, the old text of its first such change (what the
// index holds) and the current text. An index that does not fit the database
// (missing, unfinished, made from a newer copy of it, or behind changes the writer already
// trimmed from search_changes) is rebuilt from the issues table.
//
// One process keeps the index at a time (an flock on `<database>.search.lock`); another
// process on the same database (`causeloop import` beside the server) records its changes
// in search_changes only, and the keeper finds them within about a second.
//
// Readers attach the index as schema `search` (Attach) and join search.issues_fts.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "store/sqlite/sqlite_db.h"

namespace causeloop::store::sqlite {

class SearchIndexer {
 public:
  struct Text {
    std::string title, body;
    bool operator==(const Text&) const = default;
  };
  // One change of an issue's text, as committed under `seq`.
  struct Change {
    long long seq = 0;
    long long rowid = 0;
    std::optional<Text> old;  // none for a new issue
    Text now;
  };

  // The index of the database at `database` (migrated, with search_changes). `trimmed`:
  // the seq through which the writer has deleted applied changes; `queue_bytes`: text of committed
  // changes held in memory, past which they are left to Recover.
  static Result<std::unique_ptr<SearchIndexer>> Open(const std::string& database,
                                                     std::chrono::milliseconds busy_timeout,
                                                     long long trimmed, size_t queue_bytes);
  ~SearchIndexer();
  SearchIndexer(const SearchIndexer&) = delete;
  SearchIndexer& operator=(const SearchIndexer&) = delete;

  static std::string PathFor(const std::string& database) { return database + ".search"; }
  // Attaches the index of `database` to a reader's connection as schema `search`.
  static Status Attach(Conn& reader, const std::string& database);

  // Starts the indexing thread.
  void Start();
  // Stops it (after its current batch), and runs every waiting Settle callback.
  void Stop();
  // The writer committed `changes` (ascending seqs, right after those of the previous call).
  void Committed(std::vector<Change> changes);
  // Runs `then` once the index holds every change committed before this call, or after
  // kSettleLimit (an index being rebuilt may take longer): at once, or on the indexing thread.
  // Without it a change is searchable within about kGather.
  void Settle(std::function<void()> then);
  // The last seq applied and committed to the index (-1 while it is being rebuilt, or kept
  // by another process).
  [[nodiscard]] long long applied() const;
  // Whether this process keeps the index (holds its lock); other processes on the same
  // database do not.
  [[nodiscard]] bool keeping() const {
    std::lock_guard lock(mu_);
    return keeper_;
  }

  static constexpr std::chrono::seconds kSettleLimit{2};
  static constexpr size_t kBatch = 8192;  // changes per index transaction
  // Changes gather until this many wait, for at most kGather, unless a search waits.
  static constexpr size_t kGatherChanges = 2048;
  static constexpr std::chrono::milliseconds kGather{200};

 private:
  SearchIndexer(std::unique_ptr<Conn> index, std::unique_ptr<Conn> source, size_t queue_bytes);
  void Loop(const std::stop_token& st);
  Status Rebuild();
  Status Recover();
  Status WriteIndex(const std::vector<Change>& changes, long long last);
  void ReleaseWaiters(bool all);
  // Takes the index over when no other process keeps it: loads its state (`trimmed`: the
  // writer's, or -1 to read it from the database) and decides whether to rebuild.
  Status TryToKeep(long long trimmed);

  std::unique_ptr<Conn> index_;   // the index database, written by the thread only
  std::unique_ptr<Conn> source_;  // the main database, read by the thread only
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  long long committed_ = 0;  // guarded by mu_; read from the database by TryToKeep
  long long applied_ = -1;   // guarded by mu_
  bool stopped_ = false;     // guarded by mu_
  bool keeper_ = false;      // guarded by mu_; this process keeps the index (its flock)
  int lock_fd_ = -1;
  std::deque<Change> queue_;  // guarded by mu_; ascending seqs
  size_t queued_bytes_ = 0;   // guarded by mu_
  const size_t max_queued_bytes_;
  std::chrono::steady_clock::time_point queued_since_;  // guarded by mu_
  bool rebuild_ = false;                                // thread only
  struct Waiter {
    long long seq;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> then;
  };
  std::vector<Waiter> waiters_;  // guarded by mu_
  std::jthread thread_;
};

}  // namespace causeloop::store::sqlite
