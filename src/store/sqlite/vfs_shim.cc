#include "store/sqlite/vfs_shim.h"

#include <cstring>

namespace causeloop::store::sqlite {
namespace {

sqlite3_file* Real(sqlite3_file* file) { return reinterpret_cast<ShimFile*>(file)->real; }

// Everything but xOpen is the default VFS's, called with the default VFS itself (the unix
// VFS keeps state in its own pAppData).
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return BaseVfs()->xDelete(BaseVfs(), name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return BaseVfs()->xAccess(BaseVfs(), name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return BaseVfs()->xFullPathname(BaseVfs(), name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return BaseVfs()->xDlOpen(BaseVfs(), name); }
void DlError(sqlite3_vfs*, int n, char* out) { BaseVfs()->xDlError(BaseVfs(), n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return BaseVfs()->xDlSym(BaseVfs(), handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { BaseVfs()->xDlClose(BaseVfs(), handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return BaseVfs()->xRandomness(BaseVfs(), n, out); }
int Sleep(sqlite3_vfs*, int micros) { return BaseVfs()->xSleep(BaseVfs(), micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return BaseVfs()->xCurrentTime(BaseVfs(), out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return BaseVfs()->xGetLastError != nullptr ? BaseVfs()->xGetLastError(BaseVfs(), n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return BaseVfs()->xCurrentTimeInt64(BaseVfs(), out);
}

}  // namespace

sqlite3_vfs* BaseVfs() {
  // The default VFS as it is when first asked (the shims never register as the default).
  static sqlite3_vfs* const base = []() -> sqlite3_vfs* {
    if (sqlite3_initialize() != SQLITE_OK) return nullptr;
    sqlite3_vfs* found = sqlite3_vfs_find(nullptr);
    if (found == nullptr || found->iVersion < 2 || found->xCurrentTimeInt64 == nullptr) {
      return nullptr;
    }
    return found;
  }();
  return base;
}

int OpenWrapped(const char* name, sqlite3_file* file, size_t wrapper_bytes, int flags,
                int* out_flags, const sqlite3_io_methods* methods) {
  auto* f = reinterpret_cast<ShimFile*>(file);
  std::memset(static_cast<void*>(file), 0, wrapper_bytes);
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + wrapper_bytes);
  sqlite3_vfs* base = BaseVfs();
  std::memset(f->real, 0, static_cast<size_t>(base->szOsFile));
  int rc = base->xOpen(base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->base.pMethods = nullptr;
    return rc;
  }
  f->base.pMethods = methods;
  return SQLITE_OK;
}

int ShimRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return Real(file)->pMethods->xRead(Real(file), out, amount, offset);
}
int ShimTruncate(sqlite3_file* file, sqlite3_int64 size) {
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int ShimFileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int ShimLock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xLock(Real(file), level);
}
int ShimUnlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int ShimFileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int ShimFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  *out = nullptr;  // "not mapped": SQLite then reads
  if (Real(file)->pMethods->iVersion < 3) return SQLITE_OK;
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, out);
}
int ShimCheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int ShimSectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int ShimDeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int ShimShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  if (Real(file)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
}
int ShimShmLock(sqlite3_file* file, int offset, int n, int flags) {
  if (Real(file)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShimShmBarrier(sqlite3_file* file) {
  if (Real(file)->pMethods->iVersion >= 2) Real(file)->pMethods->xShmBarrier(Real(file));
}
int ShimShmUnmap(sqlite3_file* file, int del) {
  if (Real(file)->pMethods->iVersion < 2) return SQLITE_OK;
  return Real(file)->pMethods->xShmUnmap(Real(file), del);
}
int ShimUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  if (Real(file)->pMethods->iVersion < 3) return SQLITE_OK;
  return Real(file)->pMethods->xUnfetch(Real(file), offset, page);
}

const char* RegisterShimVfs(sqlite3_vfs& vfs, const char* name, size_t wrapper_bytes, OpenFn open) {
  sqlite3_vfs* base = BaseVfs();
  if (base == nullptr) return nullptr;
  vfs = sqlite3_vfs{};
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(wrapper_bytes) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = name;
  vfs.xOpen = open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) return nullptr;
  return name;
}

}  // namespace causeloop::store::sqlite
