#pragma once
// Keyset paging shared by the issue and pattern lists: the column list qualified for a join,
// the "after this row" condition, and its bindings. Lists sort by one column and then by id,
// both in the same direction, so the position of a row is (sort value, id).

#include <cstdlib>
#include <string>
#include <string_view>

#include "store/sqlite/sqlite_db.h"

namespace causeloop::store::sqlite {

// "a, b, c" -> "i.a, i.b, i.c" for alias "i".
inline std::string QualifyColumns(std::string_view columns, std::string_view alias) {
  std::string out;
  size_t start = 0;
  while (start < columns.size()) {
    size_t end = columns.find(',', start);
    if (end == std::string_view::npos) end = columns.size();
    size_t name = columns.find_first_not_of(' ', start);
    if (!out.empty()) out += ", ";
    out.append(alias).append(".").append(columns.substr(name, end - name));
    start = end + 1;
  }
  return out;
}

// " AND (i.col < ? OR (i.col = ? AND i.id < ?))" (">" when ascending): the rows after the
// last one of the previous page. Binds with BindKeyset, in this order.
inline std::string KeysetCondition(std::string_view alias, std::string_view column,
                                   bool descending) {
  std::string a(alias), col(column);
  const char* cmp = descending ? "<" : ">";
  return " AND (" + a + "." + col + cmp + "? OR (" + a + "." + col + "=? AND " + a + ".id" + cmp +
         "?))";
}

// The three values of KeysetCondition from the cursor's text: the sort value (a REAL for
// `real_column`, else an INTEGER) twice, then the id.
inline void BindKeyset(Stmt& st, int& idx, const std::string& after_value,
                       const std::string& after_id, bool real_column) {
  for (int rep = 0; rep < 2; ++rep) {
    if (real_column) {
      st.Bind(idx++, std::strtod(after_value.c_str(), nullptr));
    } else {
      st.Bind(idx++, std::strtoll(after_value.c_str(), nullptr, 10));
    }
  }
  st.Bind(idx++, after_id);
}

}  // namespace causeloop::store::sqlite
