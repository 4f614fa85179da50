#pragma once
// The embedded SQLite backend: one database file in WAL mode, a single writer thread that
// group-commits queued writes, and a small pool of read connections.

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/random.h"
#include "store/store.h"

namespace causeloop::store {

// Opens (creating if needed) the database at `path`, applies pending migrations and starts
// the writer. `clock` and `random` must outlive the store.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const StoreOptions& options,
                                               const Clock& clock, Random& random);

}  // namespace causeloop::store
