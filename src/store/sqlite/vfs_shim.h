#pragma once

#include <sqlite3.h>

#include <cstddef>

namespace causeloop::store::sqlite {

// The plumbing the store's VFSs share (wal_vfs.h, writeback_vfs.h): each wraps some files of
// the platform's default VFS with methods of its own and passes everything else through.

// The front of a wrapped file: our methods, then the default VFS's file, which lives in the
// same allocation right behind the wrapping struct. A shim's file struct derives from it.
struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real;
};

// The default VFS the shims wrap; nullptr before the first RegisterShimVfs.
sqlite3_vfs* BaseVfs();

// For a shim's xOpen: opens `name` with the default VFS into the memory `wrapper_bytes` past
// `file` (the shim's struct, zeroed here) and puts `methods` in front.
int OpenWrapped(const char* name, sqlite3_file* file, size_t wrapper_bytes, int flags,
                int* out_flags, const sqlite3_io_methods* methods);

// Pass-through methods for what a shim does not change (files derived from ShimFile).
int ShimRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset);
int ShimTruncate(sqlite3_file* file, sqlite3_int64 size);
int ShimFileSize(sqlite3_file* file, sqlite3_int64* size);
int ShimLock(sqlite3_file* file, int level);
int ShimUnlock(sqlite3_file* file, int level);
int ShimFileControl(sqlite3_file* file, int op, void* arg);
int ShimFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out);
int ShimCheckReservedLock(sqlite3_file* file, int* out);
int ShimSectorSize(sqlite3_file* file);
int ShimDeviceCharacteristics(sqlite3_file* file);
int ShimShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out);
int ShimShmLock(sqlite3_file* file, int offset, int n, int flags);
void ShimShmBarrier(sqlite3_file* file);
int ShimShmUnmap(sqlite3_file* file, int del);
int ShimUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page);

// Fills and registers `vfs` (not as the default): `open` for xOpen, the default VFS for every
// other method; room for `wrapper_bytes` plus the default VFS's file. Returns the name, or
// nullptr if SQLite has no usable default VFS or registration failed.
using OpenFn = int (*)(sqlite3_vfs*, const char*, sqlite3_file*, int, int*);
const char* RegisterShimVfs(sqlite3_vfs& vfs, const char* name, size_t wrapper_bytes, OpenFn open);

}  // namespace causeloop::store::sqlite
