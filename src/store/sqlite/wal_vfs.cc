#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "store/sqlite/vfs_shim.h"

namespace causeloop::store::sqlite {
namespace {

// A large group commit is a few MiB of frames; beyond that the buffer is written and
// starts again.
constexpr int kWalBufferBytes = 4 << 20;

std::atomic<int64_t> g_sqlite_writes{0};
std::atomic<int64_t> g_file_writes{0};
thread_local bool t_defer_sync = false;  // see DeferWalSync

// A WAL file (the default VFS's file right behind this struct) and the appended bytes not
// yet written.
struct WalFile : ShimFile {
  char* buffer;
  sqlite3_int64 start;  // file offset of buffer[0]
  int size;             // bytes in buffer
};
// SQLite's allocations are 8-byte aligned; the base VFS's file follows at `this + 1`.
static_assert(sizeof(WalFile) % 8 == 0 && alignof(WalFile) <= 8);

// The unix VFS writes at most 128 KiB per call (it assumes a page at a time and masks the
// length), so the buffer goes out in pieces of kMaxWrite.
constexpr int kMaxWrite = 64 << 10;

int Flush(WalFile* f) {
  int rc = SQLITE_OK;
  for (int done = 0; done < f->size && rc == SQLITE_OK; done += kMaxWrite) {
    int n = std::min(kMaxWrite, f->size - done);
    rc = f->real->pMethods->xWrite(f->real, f->buffer + done, n, f->start + done);
    g_file_writes.fetch_add(1, std::memory_order_relaxed);
  }
  f->size = 0;
  return rc;
}

WalFile* Wal(sqlite3_file* file) { return reinterpret_cast<WalFile*>(file); }

int Close(sqlite3_file* file) {
  WalFile* f = Wal(file);
  int rc = Flush(f);
  int close_rc = f->real->pMethods->xClose(f->real);
  sqlite3_free(f->buffer);
  f->buffer = nullptr;
  return rc != SQLITE_OK ? rc : close_rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* f = Wal(file);
  g_sqlite_writes.fetch_add(1, std::memory_order_relaxed);
  bool appends = f->size > 0 && offset == f->start + f->size;
  if (appends && f->size + amount <= kWalBufferBytes) {
    std::memcpy(f->buffer + f->size, data, static_cast<size_t>(amount));
    f->size += amount;
    return SQLITE_OK;
  }
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  if (f->buffer == nullptr && amount < kMaxWrite) {
    f->buffer = static_cast<char*>(sqlite3_malloc(kWalBufferBytes));
  }
  if (f->buffer == nullptr || amount >= kMaxWrite) {
    g_file_writes.fetch_add(1, std::memory_order_relaxed);
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  std::memcpy(f->buffer, data, static_cast<size_t>(amount));
  f->start = offset;
  f->size = amount;
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  if (t_defer_sync) return SQLITE_OK;  // the frames are in the file; the caller syncs it
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xLock(f->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xUnlock(f->real, level);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  WalFile* f = Wal(file);
  *out = nullptr;  // "not mapped": SQLite then reads
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

// SQLite maps no shared memory and no pages of a WAL file; those methods only forward.
const sqlite3_io_methods kWalMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    ShimCheckReservedLock,
    FileControl,
    ShimSectorSize,
    ShimDeviceCharacteristics,
    ShimShmMap,
    ShimShmLock,
    ShimShmBarrier,
    ShimShmUnmap,
    Fetch,
    ShimUnfetch,
};

int Open(sqlite3_vfs* /*vfs*/, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    sqlite3_vfs* base = BaseVfs();
    return base->xOpen(base, name, file, flags, out_flags);
  }
  return OpenWrapped(name, file, sizeof(WalFile), flags, out_flags, &kWalMethods);
}

sqlite3_vfs g_vfs;

}  // namespace

const char* WalBatchingVfs() {
  static const char* registered =
      RegisterShimVfs(g_vfs, "causeloop-wal-batching", sizeof(WalFile), Open);
  return registered;
}

DeferWalSync::DeferWalSync() { t_defer_sync = true; }
DeferWalSync::~DeferWalSync() { t_defer_sync = false; }

WalVfsStats WalBatchingVfsStats() {
  return {g_sqlite_writes.load(std::memory_order_relaxed),
          g_file_writes.load(std::memory_order_relaxed)};
}

}  // namespace causeloop::store::sqlite
