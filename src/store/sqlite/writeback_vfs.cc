#include "store/sqlite/writeback_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "store/sqlite/vfs_shim.h"

namespace causeloop::store::sqlite {
namespace {

std::atomic<int64_t> g_requests{0};

// A main database file (the default VFS's file right behind this struct) and the range
// written since the last writeback request.
struct DbFile : ShimFile {
  int fd;             // our own descriptor of the same file, for sync_file_range; -1 if none
  sqlite3_int64 low;  // [low, high): written since the last request
  sqlite3_int64 high;
  sqlite3_int64 bytes;  // written since the last request
};
// SQLite's allocations are 8-byte aligned; the default VFS's file follows at `this + 1`.
static_assert(sizeof(DbFile) % 8 == 0 && alignof(DbFile) <= 8);

DbFile* Db(sqlite3_file* file) { return reinterpret_cast<DbFile*>(file); }

int Close(sqlite3_file* file) {
  DbFile* f = Db(file);
  if (f->fd >= 0) ::close(f->fd);
  f->fd = -1;
  return f->real->pMethods->xClose(f->real);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  DbFile* f = Db(file);
  int rc = f->real->pMethods->xWrite(f->real, data, amount, offset);
  if (rc != SQLITE_OK || f->fd < 0) return rc;
  if (f->bytes == 0) {
    f->low = offset;
    f->high = offset + amount;
  } else {
    f->low = std::min(f->low, offset);
    f->high = std::max(f->high, offset + amount);
  }
  f->bytes += amount;
  if (f->bytes >= kWritebackBytes) {
    // Best effort: a failure only leaves the pages to the next fsync, as without this VFS.
    (void)::sync_file_range(f->fd, f->low, f->high - f->low, SYNC_FILE_RANGE_WRITE);
    g_requests.fetch_add(1, std::memory_order_relaxed);
    f->bytes = 0;
  }
  return SQLITE_OK;
}

int Sync(sqlite3_file* file, int flags) {
  DbFile* f = Db(file);
  f->bytes = 0;  // everything written so far goes out with this sync
  return f->real->pMethods->xSync(f->real, flags);
}

// Only Close, Write and Sync are this VFS's own. The main database file also carries the
// WAL index (shared memory) and memory maps.
const sqlite3_io_methods kDbMethods = {
    3,
    Close,
    ShimRead,
    Write,
    ShimTruncate,
    Sync,
    ShimFileSize,
    ShimLock,
    ShimUnlock,
    ShimCheckReservedLock,
    ShimFileControl,
    ShimSectorSize,
    ShimDeviceCharacteristics,
    ShimShmMap,
    ShimShmLock,
    ShimShmBarrier,
    ShimShmUnmap,
    ShimFetch,
    ShimUnfetch,
};

int Open(sqlite3_vfs* /*vfs*/, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* base = BaseVfs();
  if ((flags & SQLITE_OPEN_MAIN_DB) == 0 || name == nullptr) {
    return base->xOpen(base, name, file, flags, out_flags);
  }
  int rc = OpenWrapped(name, file, sizeof(DbFile), flags, out_flags, &kDbMethods);
  DbFile* f = Db(file);
  f->fd = -1;
  if (rc == SQLITE_OK) f->fd = ::open(name, O_RDONLY | O_CLOEXEC);  // -1: writes pass through
  return rc;
}

sqlite3_vfs g_vfs;

}  // namespace

const char* EarlyWritebackVfs() {
  static const char* registered =
      RegisterShimVfs(g_vfs, "causeloop-early-writeback", sizeof(DbFile), Open);
  return registered;
}

int64_t EarlyWritebackRequests() { return g_requests.load(std::memory_order_relaxed); }

}  // namespace causeloop::store::sqlite
