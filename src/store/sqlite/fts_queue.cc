#include "store/sqlite/fts_queue.h"

#include <string>

namespace causeloop::store::sqlite {

void FtsQueue::Added(long long rowid, const std::string& title, const std::string& body) {
  rows_[rowid] = Row{std::nullopt, Text{title, body}};
}

void FtsQueue::Changed(long long rowid, const std::string& old_title, const std::string& old_body,
                       const std::string& title, const std::string& body) {
  auto [it, fresh] = rows_.try_emplace(rowid);
  if (fresh) it->second.indexed = Text{old_title, old_body};
  it->second.now = Text{title, body};
}

FtsQueue::AddedRows FtsQueue::NewRows() const {
  AddedRows added;
  for (const auto& [rowid, row] : rows_) {
    if (row.indexed) continue;
    if (added.count++ == 0) added.first = rowid;
  }
  return added;
}

Status FtsQueue::Apply(Conn& c, const char* table) {
  Status out = Write(c, table, 0, 0);
  rows_.clear();
  return out;
}

Status FtsQueue::Write(Conn& c, const char* table, long long from, long long below) {
  auto it = rows_.lower_bound(from);
  if (it == rows_.end() || (below != 0 && it->first >= below)) return {};
  const std::string name(table);
  auto del = c.Prepare("INSERT INTO " + name + "(" + name +
                       ", rowid, title, body) VALUES('delete',?,?,?)");
  if (!del) return Fail(del.error());
  auto add = c.Prepare("INSERT INTO " + name + "(rowid, title, body) VALUES(?,?,?)");
  if (!add) return Fail(add.error());
  for (; it != rows_.end() && (below == 0 || it->first < below); ++it) {
    const auto& [rowid, row] = *it;
    if (row.indexed && *row.indexed == row.now) continue;
    if (row.indexed) {
      (*del)->Bind(1, rowid).BindRef(2, row.indexed->title).BindRef(3, row.indexed->body);
      if (int rc = (*del)->Step(); rc != SQLITE_DONE) {
        return Fail(SqliteError(c.raw(), rc, "unindex issue"));
      }
      (*del)->Reset();
    }
    (*add)->Bind(1, rowid).BindRef(2, row.now.title).BindRef(3, row.now.body);
    if (int rc = (*add)->Step(); rc != SQLITE_DONE) {
      return Fail(SqliteError(c.raw(), rc, "index issue"));
    }
    (*add)->Reset();
  }
  return {};
}

}  // namespace causeloop::store::sqlite
