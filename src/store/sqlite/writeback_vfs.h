#pragma once

#include <cstdint>

namespace causeloop::store::sqlite {

// The name of a VFS whose database files start writing their pages to disk while they are
// being written, instead of all at once at the next fsync.
//
// A checkpoint copies thousands of WAL pages into the database file and then fsyncs it. On
// its own that fsync queues every copied page at the disk in one burst (tens of MiB), and the
// WAL fsync that acknowledges the next commits waits behind it: measured, batch ingest p99
// went from ~85 ms to ~115-185 ms once checkpoints copied ~26,000 pages at a time. Through
// this VFS, every kWritebackBytes written to a main database file hand the range written
// since the last time to the kernel for writeback (sync_file_range with
// SYNC_FILE_RANGE_WRITE: start, do not wait), so the disk sees a steady stream and the final
// fsync has little left. Durability is unchanged: SQLite still fsyncs where it always does;
// this only starts some writes earlier. WAL, journal and shared-memory files are the default
// VFS's own, untouched.
//
// The store opens its checkpoint connection with it. Registered once (not as the default);
// returns nullptr if registration failed, in which case callers open with the default VFS.
const char* EarlyWritebackVfs();

// Bytes written to a database file between two writeback requests.
inline constexpr int64_t kWritebackBytes = int64_t{1} << 20;

// Since start: the writeback requests made (for tests).
int64_t EarlyWritebackRequests();

}  // namespace causeloop::store::sqlite
