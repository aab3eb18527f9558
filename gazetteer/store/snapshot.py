"""Copies of the database: online backups, compact read-only snapshots, and connections
to a published snapshot (immutable: no locks, no WAL, never written)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from ..errors import BadInput, DatabaseMissing, DatabaseUnreadable
from .export import render_export_rows
from .schema import BUSY_TIMEOUT_MS, get_meta

# The whole file in one step: in WAL mode that step is a read transaction, so writers go on
# (into the WAL) while it runs and the copy is one consistent moment. Copying in small steps
# restarts whenever another connection writes, and under steady writes never finishes.
BACKUP_PAGES_PER_STEP = -1


def backup(db: sqlite_utils.Database, target: Path) -> int:
    """Copy the database to target with SQLite's online backup (safe while others read and
    write); returns the pages copied."""
    _refuse_existing(target)
    dest = sqlite3.connect(str(target))
    try:
        db.conn.backup(dest, pages=BACKUP_PAGES_PER_STEP)
        dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        return dest.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dest.close()


def snapshot(db: sqlite_utils.Database, target: Path) -> int:
    """Write a compact copy (VACUUM INTO: defragmented, no WAL) for read-only serving;
    returns its size in bytes."""
    _refuse_existing(target)
    render_export_rows(db)  # a snapshot is never written: its downloads read rendered rows
    db.execute("VACUUM INTO ?", [str(target)])
    return target.stat().st_size


def open_snapshot(path: Path | str) -> sqlite_utils.Database:
    """A connection to a published copy, opened mode=ro&immutable=1: SQLite takes no locks
    and never looks for a journal, so any number of servers can read the same file."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseMissing(f"no database file at {path}")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000)
        db = sqlite_utils.Database(conn)
        if get_meta(db, "schema_version") is None:
            raise DatabaseUnreadable(f"{path} is not a gazetteer database (no schema version)")
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnreadable(f"cannot open {path} as a gazetteer database ({exc})") from exc
    return db


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise BadInput(f"{target} exists already: give a new file name")
