#pragma once
// Thin RAII wrappers over the SQLite C API: a connection with a prepared-statement cache.
// Not thread-safe: one thread uses a Conn at a time.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace causeloop::store::sqlite {

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Resets and clears bindings; call before reuse.
  Stmt& Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Binds `v` without copying it (SQLITE_STATIC): the caller keeps the characters alive and
  // unchanged until it has stepped the statement for the last time. Conn::Prepare clears
  // the bindings before the statement is used again. For the writer's large per-record
  // values, where SQLite's copy (a malloc and a memcpy per value) showed in profiles.
  Stmt& BindRef(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& BindOptRef(int i, std::string_view v) { return v.empty() ? BindNull(i) : BindRef(i, v); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, long long v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<long long>(v)); }
  Stmt& Bind(int i, bool v) { return Bind(i, static_cast<long long>(v ? 1 : 0)); }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // Empty string binds NULL.
  Stmt& BindOptText(int i, std::string_view v) { return v.empty() ? BindNull(i) : Bind(i, v); }
  template <typename T>
  Stmt& BindOpt(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }

  [[nodiscard]] bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  [[nodiscard]] long long Int(int col) const { return sqlite3_column_int64(s_, col); }
  [[nodiscard]] double Double(int col) const { return sqlite3_column_double(s_, col); }
  [[nodiscard]] std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(s_, col);
    if (p == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  // The column's text, valid until the next Step, Reset or column read of this statement.
  [[nodiscard]] std::string_view TextView(int col) const {
    const unsigned char* p = sqlite3_column_text(s_, col);
    if (p == nullptr) return {};
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col))};
  }
  [[nodiscard]] std::optional<long long> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }

 private:
  sqlite3_stmt* s_;
};

// The file layer a connection goes through (see wal_vfs.h and writeback_vfs.h).
enum class ConnVfs {
  kDefault,
  kWalBatching,     // appends to the WAL in one write per commit: the store's writer
  kEarlyWriteback,  // starts database writeback while pages are copied: the checkpointer
};

class Conn {
 public:
  // Opens (creating when allowed) the database file and applies the connection pragmas.
  static Result<std::unique_ptr<Conn>> Open(const std::string& path,
                                            std::chrono::milliseconds busy_timeout,
                                            ConnVfs vfs = ConnVfs::kDefault);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // A cached prepared statement for `sql`, reset and unbound. Errors only on bad SQL.
  Result<Stmt*> Prepare(std::string_view sql);
  Status Exec(const char* sql);
  // Resets every statement handed out since the last call. An un-reset statement that
  // returned a row keeps its read transaction (and so a stale snapshot) open.
  void ResetUsed() {
    for (Stmt* s : used_) s->Reset();
    used_.clear();
  }
  [[nodiscard]] std::string LastError() const { return sqlite3_errmsg(db_); }
  sqlite3* raw() { return db_; }

 private:
  // The statement cache's hash: the length and at most 48 bytes from each end; statements
  // are then told apart by their whole text. Hashing every byte of a 500-byte statement,
  // as std::hash does, on each of the several statements a record runs cost the writer 1-2 %
  // (and the std::string made from a literal for the lookup as much again).
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const noexcept;
  };
  explicit Conn(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>, SqlHash, std::equal_to<>> cache_;
  std::vector<Stmt*> used_;
};

// kUnavailable for busy/locked/IO failures, kInternal for the rest.
Error SqliteError(sqlite3* db, int rc, std::string_view what);

// The integer key of a pattern id kept in issues.pattern_key (and by every connection as the
// SQL function causeloop_key(text)): the pattern index holds 8-byte keys instead of two text
// ids, so adding an issue to a pattern touches fewer, denser index pages.
int64_t PatternKey(std::string_view pattern_id);

// The condition selecting the issues of the pattern whose key is the SQL expression `key`
// (e.g. "causeloop_key(?2)"; it appears three times) in a query over `issues` (named
// `alias`, or unnamed): the issues listed in pattern_members (a view over the runs of
// pattern_member_runs, searched by its pattern_key index) or, not moved there yet, in
// pattern_members_new (issues that changed pattern) or above store_flags'
// members_listed_through (new issues since the last MoveMembers, found by rowid).
// Pair it with a pattern_id test (the key is a hash, and an issue that
// changed pattern may still be listed under its old one), and write the workspace test as
// `+workspace_id=?`: without statistics SQLite would otherwise walk the whole workspace
// through a workspace index.
std::string IssuesOfPattern(std::string_view key, std::string_view alias = "");

// The rowid up to which new issues are listed in pattern_members (a scalar SQL expression);
// issues above it wait to be listed (migration v10, MoveMembers).
inline constexpr const char* kMembersListedThrough =
    "(SELECT value FROM store_flags WHERE name='members_listed_through')";

// Steps a statement that returns no row; its failure named `what`.
Status StepDone(Conn& c, Stmt& s, std::string_view what);

}  // namespace causeloop::store::sqlite
