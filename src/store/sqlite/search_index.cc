#include "store/sqlite/search_index.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "core/log.h"
#include "core/thread_name.h"

namespace causeloop::store::sqlite {
namespace {

// Contentless (content=''): the index holds no copy of the text; detail=none,
// columnsize=0: matches by document only, as the issue lists need.
constexpr const char* kCreateIndex =
    "CREATE VIRTUAL TABLE issues_fts USING fts5(title, body, content='', detail=none, "
    "columnsize=0);"
    // Merge 16 segments of a level at a time, a little after every commit; at 64 segments
    // on a level a commit merges them at once.
    "INSERT INTO issues_fts(issues_fts, rank) VALUES('automerge', 16);"
    "INSERT INTO issues_fts(issues_fts, rank) VALUES('crisismerge', 64);";

Result<long long> ReadValue(Conn& c, const char* sql, long long missing) {
  auto s = c.Prepare(sql);
  if (!s) return Fail(s.error());
  int rc = (*s)->Step();
  long long v = missing;
  if (rc == SQLITE_ROW) {
    v = (*s)->Int(0);
  } else if (rc != SQLITE_DONE) {
    return Fail(SqliteError(c.raw(), rc, sql));
  }
  (*s)->Reset();
  return v;
}

Status SetState(Conn& c, const char* name, long long value) {
  auto s = c.Prepare("INSERT OR REPLACE INTO search_state(name, value) VALUES(?1, ?2)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, name).Bind(2, value);
  return StepDone(c, **s, "write search_state");
}

// What a queued change holds, roughly.
size_t Size(const SearchIndexer::Change& c) {
  size_t n = sizeof c + c.now.title.size() + c.now.body.size();
  if (c.old) n += c.old->title.size() + c.old->body.size();
  return n;
}

// The last seq the writer gave in search_changes (AUTOINCREMENT: never given twice).
Result<long long> LastChange(Conn& source) {
  return ReadValue(source, "SELECT seq FROM sqlite_sequence WHERE name='search_changes'", 0);
}

}  // namespace

namespace {

// Opens the index file and makes sure its tables exist.
Result<std::unique_ptr<Conn>> OpenIndexFile(const std::string& path,
                                            std::chrono::milliseconds busy_timeout) {
  auto index = Conn::Open(path, busy_timeout);
  if (!index) return Fail(index.error());
  // The index's commits need not survive a power cut: its state and the seq it applied
  // through commit together, so it resumes from an earlier seq (or is rebuilt, when the
  // writer trimmed those changes already). Page cache: the index's segments and merges.
  for (const char* sql : {"PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-16384",
                          "CREATE TABLE IF NOT EXISTS search_state (name TEXT PRIMARY KEY, value "
                          "INTEGER NOT NULL)"}) {
    if (auto s = (*index)->Exec(sql); !s) return Fail(s.error());
  }
  // The table exists from here on (readers attach it at once); Rebuild fills it.
  auto exists = ReadValue(**index, "SELECT COUNT(*) FROM sqlite_schema WHERE name='issues_fts'", 0);
  if (!exists) return Fail(exists.error());
  if (*exists == 0) {
    if (auto s = (*index)->Exec(kCreateIndex); !s) return Fail(s.error());
  }
  (*index)->ResetUsed();
  return index;
}

}  // namespace

Result<std::unique_ptr<SearchIndexer>> SearchIndexer::Open(const std::string& database,
                                                           std::chrono::milliseconds busy_timeout,
                                                           long long trimmed, size_t queue_bytes) {
  auto source = Conn::Open(database, busy_timeout);
  if (!source) return Fail(source.error());
  // Page cache of the main database: a few recent issue rows.
  if (auto s = (*source)->Exec("PRAGMA cache_size=-4096"); !s) return Fail(s.error());
  // One process at a time keeps the index (another, e.g. `causeloop import` beside the
  // server, only records its changes; the keeper recovers them): an flock on a file of its
  // own, since closing any other descriptor of a database file drops SQLite's locks on it.
  const std::string lock_path = PathFor(database) + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    return Fail(ErrorCode::kUnavailable, "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  auto index = OpenIndexFile(PathFor(database), busy_timeout);
  if (!index && ::flock(lock_fd, LOCK_EX | LOCK_NB) == 0) {
    // Unreadable (not a database, or damaged) and no other process uses it: the index is
    // disposable, so it starts over empty and is rebuilt from the issues.
    log::Warn("search index unreadable, rebuilding it", {{"error", index.error().message}});
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ignored;
      std::filesystem::remove(PathFor(database) + suffix, ignored);
    }
    index = OpenIndexFile(PathFor(database), busy_timeout);
  }
  if (!index) {
    ::close(lock_fd);
    return Fail(index.error());
  }
  std::unique_ptr<SearchIndexer> out(  // NOLINT(cppcoreguidelines-owning-memory)
      new SearchIndexer(std::move(*index), std::move(*source), queue_bytes));
  out->lock_fd_ = lock_fd;
  if (auto s = out->TryToKeep(trimmed); !s) return Fail(s.error());
  return out;
}

Status SearchIndexer::TryToKeep(long long trimmed) {
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) return {};
  auto built = ReadValue(*index_, "SELECT value FROM search_state WHERE name='built'", 0);
  if (!built) return Fail(built.error());
  auto applied = ReadValue(*index_, "SELECT value FROM search_state WHERE name='applied'", -1);
  if (!applied) return Fail(applied.error());
  auto last = LastChange(*source_);
  if (!last) return Fail(last.error());
  if (trimmed < 0) {
    auto t = ReadValue(*source_, "SELECT value FROM store_flags WHERE name='search_trimmed'", 0);
    if (!t) return Fail(t.error());
    trimmed = *t;
  }
  index_->ResetUsed();
  source_->ResetUsed();
  // Rebuilt when it was never finished, or does not fit this database: made from a newer
  // copy of it (applied past what it ever committed), or behind changes already trimmed.
  rebuild_ = *built != 1 || *applied > *last || *applied < trimmed;
  std::lock_guard lock(mu_);
  keeper_ = true;
  committed_ = std::max(committed_, *last);
  applied_ = rebuild_ ? -1 : *applied;
  return {};
}

SearchIndexer::SearchIndexer(std::unique_ptr<Conn> index, std::unique_ptr<Conn> source,
                             size_t queue_bytes)
    : index_(std::move(index)), source_(std::move(source)), max_queued_bytes_(queue_bytes) {}

SearchIndexer::~SearchIndexer() {
  Stop();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status SearchIndexer::Attach(Conn& reader, const std::string& database) {
  auto s = reader.Prepare("ATTACH DATABASE ?1 AS search");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, PathFor(database));
  return StepDone(reader, **s, "attach the search index");
}

void SearchIndexer::Start() {
  thread_ = std::jthread([this](const std::stop_token& st) { Loop(st); });
}

void SearchIndexer::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    cv_.notify_all();
    thread_.join();
  }
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  ReleaseWaiters(true);
}

void SearchIndexer::Committed(std::vector<Change> changes) {
  if (changes.empty()) return;
  bool wake = true;
  {
    std::lock_guard lock(mu_);
    committed_ = std::max(committed_, changes.back().seq);
    // Past the bound the changes are left to Recover, which reads them from the table.
    size_t bytes = 0;
    for (const Change& c : changes) bytes += Size(c);
    if (keeper_ && queued_bytes_ + bytes <= max_queued_bytes_) {
      // Changes that join a gathering queue need no wake-up (one per commit was ~1,000 a
      // second under single-event load), until the queue is large enough.
      wake = queue_.empty() || queue_.size() + changes.size() >= kGatherChanges;
      if (queue_.empty()) queued_since_ = std::chrono::steady_clock::now();
      for (Change& c : changes) queue_.push_back(std::move(c));
      queued_bytes_ += bytes;
    }
  }
  if (wake) cv_.notify_all();
}

void SearchIndexer::Settle(std::function<void()> then) {
  {
    std::lock_guard lock(mu_);
    if (keeper_ && !stopped_ && applied_ < committed_) {
      waiters_.push_back(
          {committed_, std::chrono::steady_clock::now() + kSettleLimit, std::move(then)});
      then = nullptr;
    }
  }
  if (then) {
    then();
  } else {
    cv_.notify_all();
  }
}

long long SearchIndexer::applied() const {
  std::lock_guard lock(mu_);
  return applied_;
}

void SearchIndexer::ReleaseWaiters(bool all) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (all || applied_ >= it->seq || now >= it->deadline) {
        ready.push_back(std::move(it->then));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& then : ready) then();
}

void SearchIndexer::Loop(const std::stop_token& st) {
  NameThisThread("cl-search-index");
  while (!st.stop_requested()) {
    Status done;
    bool more = false;
    if (!keeping()) {
      // Another process keeps the index; take over when it stops.
      done = TryToKeep(-1);
      if (done && !keeping()) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, st, std::chrono::seconds(1), [] { return false; });
        continue;
      }
    } else if (rebuild_) {
      done = Rebuild();
      if (done) rebuild_ = false;
      more = done.has_value();
    } else {
      // The changes right after the last applied, from memory; when the next one is not
      // there (a restart, a full queue), everything committed, from the table.
      std::vector<Change> batch;
      bool recover = false;
      {
        std::unique_lock lock(mu_);
        // A few changes at a time would each cost a segment and merge work: they gather
        // for up to kGather unless a search waits for them.
        while (!st.stop_requested() && !queue_.empty() && queue_.size() < kGatherChanges &&
               waiters_.empty() && queue_.front().seq == applied_ + 1) {
          const auto due = queued_since_ + kGather;
          if (std::chrono::steady_clock::now() >= due) break;
          cv_.wait_until(lock, st, due,
                         [this] { return queue_.size() >= kGatherChanges || !waiters_.empty(); });
        }
        while (!queue_.empty() && queue_.front().seq <= applied_) {
          queued_bytes_ -= Size(queue_.front());
          queue_.pop_front();
        }
        long long next = applied_ + 1;
        while (!queue_.empty() && batch.size() < kBatch && queue_.front().seq == next) {
          queued_bytes_ -= Size(queue_.front());
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
          ++next;
        }
        queued_since_ = std::chrono::steady_clock::now();  // for what is left
        recover = batch.empty() && committed_ > applied_;
      }
      if (!batch.empty()) {
        done = WriteIndex(batch, batch.back().seq);
        more = true;
      } else if (recover) {
        done = Recover();
        more = done.has_value();
      }
    }
    if (!done) {
      log::Warn("search index", {{"error", done.error().message}});
      (void)index_->Exec("ROLLBACK");
      (void)source_->Exec("ROLLBACK");
      index_->ResetUsed();
      source_->ResetUsed();
    }
    ReleaseWaiters(false);
    if (more) continue;
    bool woken = false;
    {
      std::unique_lock lock(mu_);
      // Waiters are released at their deadline even while nothing new is applied.
      const auto wait = !done || waiters_.empty() ? std::chrono::milliseconds(1000)
                                                  : std::chrono::milliseconds(50);
      woken = cv_.wait_for(lock, st, wait, [this, &done] { return done && committed_ > applied_; });
    }
    if (!woken && done) {
      // Changes another process (an import beside the server) committed: found about once
      // a second, applied by Recover.
      if (auto last = LastChange(*source_); last) {
        source_->ResetUsed();
        std::lock_guard lock(mu_);
        committed_ = std::max(committed_, *last);
      }
    }
  }
}

// Indexes every issue from one snapshot of the main database, and the last seq given in it.
Status SearchIndexer::Rebuild() {
  // In one transaction: readers always find the table.
  if (auto s = index_->Exec("BEGIN IMMEDIATE"); !s) return s;
  if (auto s = index_->Exec("DROP TABLE IF EXISTS issues_fts"); !s) return s;
  if (auto s = index_->Exec(kCreateIndex); !s) return s;
  if (auto s = SetState(*index_, "built", 0); !s) return s;
  if (auto s = index_->Exec("COMMIT"); !s) return s;
  index_->ResetUsed();
  if (auto s = source_->Exec("BEGIN"); !s) return s;
  auto last = LastChange(*source_);  // starts the snapshot
  if (!last) return Fail(last.error());
  long long after = 0;
  std::vector<Change> rows;
  while (!thread_.get_stop_token().stop_requested()) {
    rows.clear();
    {
      auto s = source_->Prepare(
          "SELECT rowid, title, body FROM issues WHERE rowid > ?1 ORDER BY rowid LIMIT ?2");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, after).Bind(2, static_cast<long long>(kBatch));
      int rc;
      while ((rc = (*s)->Step()) == SQLITE_ROW) {
        rows.push_back({0, (*s)->Int(0), std::nullopt, {(*s)->Text(1), (*s)->Text(2)}});
      }
      (*s)->Reset();
      if (rc != SQLITE_DONE) return Fail(SqliteError(source_->raw(), rc, "read issues"));
    }
    if (rows.empty()) break;
    if (auto s = WriteIndex(rows, -1); !s) return s;
    after = rows.back().rowid;
    ReleaseWaiters(false);  // at their deadlines
  }
  if (auto s = source_->Exec("COMMIT"); !s) return s;
  source_->ResetUsed();
  if (thread_.get_stop_token().stop_requested()) return {};  // rebuilt again next time
  if (auto s = index_->Exec("BEGIN IMMEDIATE"); !s) return s;
  if (auto s = SetState(*index_, "applied", *last); !s) return s;
  if (auto s = SetState(*index_, "built", 1); !s) return s;
  if (auto s = index_->Exec("COMMIT"); !s) return s;
  index_->ResetUsed();
  std::lock_guard lock(mu_);
  applied_ = *last;
  return {};
}

// Applies every change committed after the last applied, from one snapshot of the main
// database: per issue, out with the old text of its first such change (what the index
// holds), in with its current text. Issues are never deleted, so each has a row.
Status SearchIndexer::Recover() {
  long long from = applied();
  if (auto s = source_->Exec("BEGIN"); !s) return s;
  auto last = LastChange(*source_);  // starts the snapshot
  if (!last) return Fail(last.error());
  std::vector<Change> changes;
  {
    auto s = source_->Prepare(
        "SELECT c.issue_rowid, c.old_title IS NOT NULL, c.old_title, c.old_body, i.title, "
        "i.body FROM search_changes c JOIN issues i ON i.rowid = c.issue_rowid WHERE c.seq IN "
        "(SELECT MIN(seq) FROM search_changes WHERE seq > ?1 AND seq <= ?2 GROUP BY "
        "issue_rowid)");
    if (!s) return Fail(s.error());
    (*s)->Bind(1, from).Bind(2, *last);
    int rc;
    while ((rc = (*s)->Step()) == SQLITE_ROW) {
      Change& c = changes.emplace_back();
      c.rowid = (*s)->Int(0);
      if ((*s)->Int(1) != 0) c.old = Text{(*s)->Text(2), (*s)->Text(3)};
      c.now = {(*s)->Text(4), (*s)->Text(5)};
    }
    (*s)->Reset();
    if (rc != SQLITE_DONE) return Fail(SqliteError(source_->raw(), rc, "read search_changes"));
  }
  if (auto s = source_->Exec("COMMIT"); !s) return s;
  source_->ResetUsed();
  if (*last <= from) return {};
  return WriteIndex(changes, *last);
}

// One index transaction: per issue (in rowid order: FTS5 writes out its pending entries
// whenever a lower rowid comes after a higher one), the old text of its first change out
// and the new text of its last in; then `last` (unless -1) as the last seq applied.
Status SearchIndexer::WriteIndex(const std::vector<Change>& changes, long long last) {
  struct Net {
    const std::optional<Text>* old = nullptr;
    const Text* now = nullptr;
  };
  std::map<long long, Net> net;
  for (const Change& c : changes) {
    Net& n = net[c.rowid];
    if (n.now == nullptr) n.old = &c.old;
    n.now = &c.now;
  }
  Conn& c = *index_;
  if (auto s = c.Exec("BEGIN IMMEDIATE"); !s) return s;
  auto del = c.Prepare(
      "INSERT INTO issues_fts(issues_fts, rowid, title, body) VALUES('delete', ?1, ?2, ?3)");
  if (!del) return Fail(del.error());
  auto ins = c.Prepare("INSERT INTO issues_fts(rowid, title, body) VALUES(?1, ?2, ?3)");
  if (!ins) return Fail(ins.error());
  for (const auto& [rowid, n] : net) {
    const std::optional<Text>& old = *n.old;
    if (old && *old == *n.now) continue;
    if (old) {
      (*del)->Bind(1, rowid).BindRef(2, old->title).BindRef(3, old->body);
      if (auto s = StepDone(c, **del, "unindex issue"); !s) return s;
      (*del)->Reset();
    }
    (*ins)->Bind(1, rowid).BindRef(2, n.now->title).BindRef(3, n.now->body);
    if (auto s = StepDone(c, **ins, "index issue"); !s) return s;
    (*ins)->Reset();
  }
  if (last >= 0) {
    if (auto s = SetState(c, "applied", last); !s) return s;
  }
  if (auto s = c.Exec("COMMIT"); !s) return s;
  c.ResetUsed();
  if (last >= 0) {
    std::lock_guard lock(mu_);
    applied_ = last;
  }
  return {};
}

}  // namespace causeloop::store::sqlite
