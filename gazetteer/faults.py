"""Storage faults in words: an SQLite or OS error -> the StorageFault naming its cause and
what to do (the API's 503 and the CLI's one line), or None for anything else."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from .errors import (DatabaseCorrupt, DatabaseLocked, DiskFull, StorageFault,
                     StorageReadOnly)

# Free space below this is reported by /healthz before a write fails on it.
LOW_DISK_BYTES = 16 * 1024 * 1024


def storage_fault(exc: BaseException, database: Path | str) -> StorageFault | None:
    """The fault behind exc, or None when exc is not about the storage."""
    path = Path(database)
    if isinstance(exc, sqlite3.Error):
        return _sqlite_fault(str(exc).lower(), path)
    if isinstance(exc, OSError):
        return _os_fault(exc.errno, path)
    return None


def _sqlite_fault(text: str, path: Path) -> StorageFault | None:
    if "disk is full" in text or "database or disk is full" in text:
        return disk_full(path)
    if "readonly" in text or "read-only" in text:
        return read_only(path)
    if "locked" in text or "busy" in text:
        return DatabaseLocked(
            f"{path} is locked by another writer for longer than the 30 s busy timeout: "
            f"retry shortly; if it persists, look for a stuck process holding it")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return corrupt(path)
    if "unable to open" in text:
        return read_only(path) if path.exists() else None
    if "disk i/o error" in text:
        return StorageFault(f"the disk holding {path} failed a read or write (I/O error): "
                            f"check the disk and the file system, then retry")
    return None


def _os_fault(code: int | None, path: Path) -> StorageFault | None:
    if code in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(path)
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return read_only(path)
    return None


def disk_full(path: Path) -> DiskFull:
    return DiskFull(f"the disk holding {path} is full: free some space (or move the "
                    f"database), then retry; nothing already stored was lost")


def read_only(path: Path) -> StorageReadOnly:
    return StorageReadOnly(
        f"{path} or its folder cannot be written (read-only file, folder or mount, or an "
        f"immutable file): make both writable (chmod, chattr -i, remount), or serve a "
        f"snapshot with `gazetteer serve --read-only`")


def corrupt(path: Path) -> DatabaseCorrupt:
    return DatabaseCorrupt(
        f"{path} is damaged (SQLite reports a malformed database): stop writers, restore it "
        f"from a copy made by `gazetteer backup`, then replay curations with `gazetteer "
        f"curations import`")


def write_fault(database: Path | str) -> StorageFault | None:
    """A fault that would stop the next write, seen without writing: a read-only or
    immutable file or folder, or a nearly full disk."""
    path = Path(database)
    folder = path.parent
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return read_only(path)
    if shutil.disk_usage(folder).free < LOW_DISK_BYTES:
        return disk_full(path)
    return None
