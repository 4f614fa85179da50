#pragma once
// The full-text index changes of one write transaction, applied together before COMMIT in
// ascending rowid order.
//
// FTS5 keeps a transaction's new index entries in an in-memory hash and must write that
// hash out as a new segment whenever a change arrives for a rowid lower than the last one
// it took (its doclists are delta-encoded in rowid order). Updates of older issues arrive in
// random rowid order, so indexing each as it happened wrote a tiny segment per update and
// then merged them all: under a dedup-heavy load that was half the writer's time. Sorted,
// a transaction fills the hash once and writes it at COMMIT. An issue changed several times
// in one transaction is re-indexed once, from the text indexed before it to the last.

#include <map>
#include <optional>
#include <string>

#include "core/result.h"
#include "store/sqlite/sqlite_db.h"

namespace causeloop::store::sqlite {

class FtsQueue {
 public:
  // Row `rowid` was inserted with this text.
  void Added(long long rowid, const std::string& title, const std::string& body);
  // Row `rowid`, indexed with `old_title`/`old_body` (unless it was added or changed earlier
  // in this transaction), now holds `title`/`body`.
  void Changed(long long rowid, const std::string& old_title, const std::string& old_body,
               const std::string& title, const std::string& body);
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  // The rows added (not changed) in this transaction: the lowest rowid (0 if none) and how
  // many. Added rows are new: their rowids are above every row committed before.
  struct AddedRows {
    long long first = 0;
    long long count = 0;
  };
  [[nodiscard]] AddedRows NewRows() const;
  // Writes the queued changes into `table` (an external-content FTS5 table with the columns
  // title and body) and empties the queue.
  Status Apply(Conn& c, const char* table);
  // Writes the queued changes of rows from `from` up to `below` (no bound when 0), in rowid
  // order, and keeps the queue (clear() it when done): the caller leaves the other rows out,
  // or writes them itself in between.
  Status Write(Conn& c, const char* table, long long from, long long below);
  // Forgets the queued changes (after ROLLBACK).
  void clear() { rows_.clear(); }

 private:
  struct Text {
    std::string title, body;
    bool operator==(const Text&) const = default;
  };
  struct Row {
    std::optional<Text> indexed;  // what the index holds for the row; none for a new row
    Text now;
  };
  std::map<long long, Row> rows_;
};

}  // namespace causeloop::store::sqlite
