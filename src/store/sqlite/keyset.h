#pragma once
// Keyset paging shared by the issue and pattern lists: the column list qualified for a join,
// the "after this row" condition, and its bindings. Lists sort by one column and then by a
// unique tie-break (patterns: id; issues: rowid), both in the same direction; a cursor holds
// the sort value and the id of the last row.

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
// last one of the previous page. Binds with BindKeyset, in this order. A list that breaks
// ties by another column names it in `tie`, and in `tie_value` how to get its value from
// the bound id (one parameter).
inline std::string KeysetCondition(std::string_view alias, std::string_view column, bool descending,
                                   std::string_view tie = "id", std::string_view tie_value = "?") {
  std::string a(alias), col(column);
  const char* cmp = descending ? "<" : ">";
  return " AND (" + a + "." + col + cmp + "? OR (" + a + "." + col + "=? AND " + a + "." +
         std::string(tie) + cmp + std::string(tie_value) + "))";
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
