#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace causeloop::store::sqlite {
namespace {

// A large group commit is a few MiB of frames; beyond that the buffer is written and
// starts again.
constexpr int kWalBufferBytes = 4 << 20;

sqlite3_vfs* g_base = nullptr;  // the default VFS, set once before registration
std::atomic<int64_t> g_sqlite_writes{0};
std::atomic<int64_t> g_file_writes{0};
thread_local bool t_defer_sync = false;  // see DeferWalSync

// A WAL file: our methods in front, the base VFS's file right behind this struct, and the
// appended bytes not yet written.
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
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

int CheckReservedLock(sqlite3_file* file, int* out) {
  WalFile* f = Wal(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  WalFile* f = Wal(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int SectorSize(sqlite3_file* file) {
  WalFile* f = Wal(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int DeviceCharacteristics(sqlite3_file* file) {
  WalFile* f = Wal(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

// SQLite maps no shared memory and no pages of a WAL file; these only forward.
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  WalFile* f = Wal(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  WalFile* f = Wal(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) {
  WalFile* f = Wal(file);
  if (f->real->pMethods->iVersion >= 2) f->real->pMethods->xShmBarrier(f->real);
}

int ShmUnmap(sqlite3_file* file, int del) {
  WalFile* f = Wal(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_OK;
  return f->real->pMethods->xShmUnmap(f->real, del);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  WalFile* f = Wal(file);
  *out = nullptr;  // "not mapped": SQLite then reads
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  WalFile* f = Wal(file);
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

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
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* /*vfs*/, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) return g_base->xOpen(g_base, name, file, flags, out_flags);
  WalFile* f = Wal(file);
  std::memset(f, 0, sizeof(WalFile));
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  std::memset(f->real, 0, static_cast<size_t>(g_base->szOsFile));
  int rc = g_base->xOpen(g_base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->base.pMethods = nullptr;
    return rc;
  }
  f->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// Everything else is the base VFS's, called with the base VFS itself (the unix VFS keeps
// state in its own pAppData).
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_base->xDlSym(g_base, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_base->xDlClose(g_base, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int Sleep(sqlite3_vfs*, int micros) { return g_base->xSleep(g_base, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_base->xGetLastError != nullptr ? g_base->xGetLastError(g_base, n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}

sqlite3_vfs g_vfs;

}  // namespace

const char* WalBatchingVfs() {
  static const char* registered = []() -> const char* {
    if (sqlite3_initialize() != SQLITE_OK) return nullptr;
    g_base = sqlite3_vfs_find(nullptr);
    if (g_base == nullptr || g_base->iVersion < 2 || g_base->xCurrentTimeInt64 == nullptr) {
      return nullptr;
    }
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 2;
    g_vfs.szOsFile =
        std::max(g_base->szOsFile, static_cast<int>(sizeof(WalFile)) + g_base->szOsFile);
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = "causeloop-wal-batching";
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.xAccess = Access;
    g_vfs.xFullPathname = FullPathname;
    g_vfs.xDlOpen = DlOpen;
    g_vfs.xDlError = DlError;
    g_vfs.xDlSym = DlSym;
    g_vfs.xDlClose = DlClose;
    g_vfs.xRandomness = Randomness;
    g_vfs.xSleep = Sleep;
    g_vfs.xCurrentTime = CurrentTime;
    g_vfs.xGetLastError = GetLastError;
    g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    if (sqlite3_vfs_register(&g_vfs, 0) != SQLITE_OK) return nullptr;
    return g_vfs.zName;
  }();
  return registered;
}

DeferWalSync::DeferWalSync() { t_defer_sync = true; }
DeferWalSync::~DeferWalSync() { t_defer_sync = false; }

WalVfsStats WalBatchingVfsStats() {
  return {g_sqlite_writes.load(std::memory_order_relaxed),
          g_file_writes.load(std::memory_order_relaxed)};
}

}  // namespace causeloop::store::sqlite
