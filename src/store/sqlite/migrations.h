#pragma once
// Versioned schema migrations for the SQLite backend. Append only: never edit a released step.

#include <span>
#include <string_view>

namespace causeloop::store::sqlite {

struct Migration {
  int version;
  std::string_view sql;
};

std::span<const Migration> Migrations();

}  // namespace causeloop::store::sqlite
