#pragma once

#include <cstdint>

namespace causeloop::store::sqlite {

// The name of a VFS that gathers the frames SQLite appends to a WAL file into one write.
//
// SQLite writes each WAL frame with two pwrite calls (its 24-byte header, then the page), so
// a commit of 150 pages costs 300 system calls before its fsync, a fifth of the writer's
// time in small group commits. This VFS wraps the platform default and, for WAL files only,
// keeps contiguous appended writes in a buffer (up to kWalBufferBytes) and hands them to the
// file in as few writes as it can (64 KiB each) before any other operation on that file:
// xSync above all, and xRead, xTruncate, xFileSize, xFileControl, xLock/xUnlock, xFetch and
// xClose. Every other file (database,
// journal, shared memory) is the default VFS's own, untouched.
//
// Correct only for connections whose every commit syncs the WAL (PRAGMA synchronous=FULL or
// EXTRA): other connections read frames once the WAL index names them, and SQLite updates
// the index after the commit's xSync, by which time the frames are in the file. Conn::Open
// uses it for the store's writer connection, which always runs with synchronous=FULL.
//
// Registered once (not as the default); returns nullptr if registration failed, in which
// case callers open with the default VFS.
const char* WalBatchingVfs();

// While one lives on a thread, syncs of WAL files opened through WalBatchingVfs on that
// thread write out the buffered frames but skip the fsync: the caller syncs the WAL file
// itself before it tells anyone the transaction is durable. The store's writer holds one
// around COMMIT only, and its completion thread fsyncs the WAL (one fsync for every commit
// made meanwhile) before it answers any of their requests, so the writer starts the next
// transaction while the last one's fsync runs. Readers may see a transaction before its
// fsync has returned (it is in the file, so it survives the process, not a power cut); no
// write is acknowledged before.
class DeferWalSync {
 public:
  DeferWalSync();
  ~DeferWalSync();
  DeferWalSync(const DeferWalSync&) = delete;
  DeferWalSync& operator=(const DeferWalSync&) = delete;
};

// Since start: the writes SQLite handed to WAL files opened through WalBatchingVfs, and the
// writes those became (for tests).
struct WalVfsStats {
  int64_t sqlite_writes = 0;
  int64_t file_writes = 0;
};
WalVfsStats WalBatchingVfsStats();

}  // namespace causeloop::store::sqlite
