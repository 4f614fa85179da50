#include "store/sqlite/writeback_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace causeloop::store::sqlite {
namespace {

sqlite3_vfs* g_base = nullptr;  // the default VFS, set once before registration
std::atomic<int64_t> g_requests{0};

// A main database file: our methods in front, the base VFS's file right behind this struct,
// and the range written since the last writeback request.
struct DbFile {
  sqlite3_file base;
  sqlite3_file* real;
  int fd;             // our own descriptor of the same file, for sync_file_range; -1 if none
  sqlite3_int64 low;  // [low, high): written since the last request
  sqlite3_int64 high;
  sqlite3_int64 bytes;  // written since the last request
};
static_assert(sizeof(DbFile) % 8 == 0 && alignof(DbFile) <= 8);

DbFile* Db(sqlite3_file* file) { return reinterpret_cast<DbFile*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Db(file)->real; }

int Close(sqlite3_file* file) {
  DbFile* f = Db(file);
  if (f->fd >= 0) ::close(f->fd);
  f->fd = -1;
  return f->real->pMethods->xClose(f->real);
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return Real(file)->pMethods->xRead(Real(file), out, amount, offset);
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

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int Sync(sqlite3_file* file, int flags) {
  Db(file)->bytes = 0;  // everything written so far goes out with this sync
  return Real(file)->pMethods->xSync(Real(file), flags);
}
int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
// The main database file carries the WAL index (shared memory) and memory maps.
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  if (Real(file)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  if (Real(file)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  if (Real(file)->pMethods->iVersion >= 2) Real(file)->pMethods->xShmBarrier(Real(file));
}
int ShmUnmap(sqlite3_file* file, int del) {
  if (Real(file)->pMethods->iVersion < 2) return SQLITE_OK;
  return Real(file)->pMethods->xShmUnmap(Real(file), del);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  *out = nullptr;  // "not mapped": SQLite then reads
  if (Real(file)->pMethods->iVersion < 3) return SQLITE_OK;
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  if (Real(file)->pMethods->iVersion < 3) return SQLITE_OK;
  return Real(file)->pMethods->xUnfetch(Real(file), offset, page);
}

const sqlite3_io_methods kDbMethods = {
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
  if ((flags & SQLITE_OPEN_MAIN_DB) == 0 || name == nullptr) {
    return g_base->xOpen(g_base, name, file, flags, out_flags);
  }
  DbFile* f = Db(file);
  std::memset(f, 0, sizeof(DbFile));
  f->fd = -1;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  std::memset(f->real, 0, static_cast<size_t>(g_base->szOsFile));
  int rc = g_base->xOpen(g_base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->base.pMethods = nullptr;
    return rc;
  }
  f->fd = ::open(name, O_RDONLY | O_CLOEXEC);  // -1: writes pass through, nothing else
  f->base.pMethods = &kDbMethods;
  return SQLITE_OK;
}

// Everything else is the base VFS's, called with the base VFS itself.
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

const char* EarlyWritebackVfs() {
  static const char* registered = []() -> const char* {
    if (sqlite3_initialize() != SQLITE_OK) return nullptr;
    g_base = sqlite3_vfs_find(nullptr);
    if (g_base == nullptr || g_base->iVersion < 2 || g_base->xCurrentTimeInt64 == nullptr) {
      return nullptr;
    }
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(DbFile)) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = "causeloop-early-writeback";
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

int64_t EarlyWritebackRequests() { return g_requests.load(std::memory_order_relaxed); }

}  // namespace causeloop::store::sqlite
