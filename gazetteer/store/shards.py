"""Shard files (one SQLite file per unit of cluster work: analysed documents, not yet merged)
and the read-only copy of the reference the cluster's workers resolve against."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils


_SHARD_SCHEMA = """
CREATE TABLE analysed (seq INTEGER PRIMARY KEY, document_id TEXT NOT NULL, new_keys TEXT NOT NULL,
                       document TEXT NOT NULL, mentions TEXT NOT NULL, entities TEXT NOT NULL);
CREATE TABLE skipped (source TEXT NOT NULL, reason TEXT NOT NULL);
"""
# What a shard row holds, in order (merge.encode_analysed writes it). new_keys is small: the
# merge reads it alone to give unknown names their ids before it decodes the documents.
SHARD_COLUMNS = "document_id, new_keys, document, mentions, entities"
# Raised whenever what a shard holds changes: an interrupted ingest resumed by a newer version
# writes its shards afresh instead of reading ones it cannot (cluster._work_dir).
SHARD_FORMAT = 2  # 2: the new_keys column, and mentions' entity_key


def write_shard(path: Path, rows: list[tuple[str, str, str, str, str]],
                skipped: list[tuple[str, str]]) -> None:
    """Write a shard (rows of SHARD_COLUMNS: the document id, then JSON) under a
    temporary name and rename it into place: a killed or retried task leaves either the whole
    shard or no shard at that path (at most a stray temporary file, never read)."""
    temporary = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex}")
    conn = sqlite3.connect(temporary, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")  # a fresh file: nothing to roll back into
        conn.executescript(_SHARD_SCHEMA)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO analysed ({SHARD_COLUMNS}) VALUES (?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO skipped VALUES (?, ?)", skipped)
        conn.execute("COMMIT")
    finally:
        conn.close()
    with open(temporary, "rb") as stream:
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def shard_rows(path: Path, columns: str = SHARD_COLUMNS) -> Iterator[tuple]:
    """The given columns of the shard's analysed documents, in the order the worker wrote
    them."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield from conn.execute(f"SELECT {columns} FROM analysed ORDER BY seq")
    finally:
        conn.close()


def shard_skipped(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT source, reason FROM skipped ORDER BY rowid").fetchall()
    finally:
        conn.close()


def copy_reference(db: sqlite_utils.Database, path: Path) -> None:
    """A consistent copy of db at path for the workers to read with immutable=1 (VACUUM INTO:
    116 MB in ~0.3 s here, against ~18 s to copy the reference tables row by row), written
    under a temporary name and renamed when whole, in rollback-journal mode (no WAL beside
    it). It holds the documents too: a one-off cost per run, shared by every worker."""
    temporary = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex}")
    db.execute("VACUUM INTO ?", [str(temporary)])
    conn = sqlite3.connect(temporary)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    os.replace(temporary, path)


# ---- what the merge asks of the gazetteer ----------------------------------------------------

def first_documents(db: sqlite_utils.Database, entity_ids: list[str]) -> dict[str, str | None]:
    """entity id -> the lowest id of the documents mentioning it (None for an entity with no
    mention yet); entities not stored are left out. The merge keeps the fields written from
    the lowest document, so the answer must not depend on the order documents came in."""
    return dict(db.execute("SELECT e.id, (SELECT min(m.document_id) FROM mentions m "
                           "WHERE m.entity_id = e.id) FROM entities e "
                           "WHERE e.id IN (SELECT value FROM json_each(?))",
                           [json.dumps(entity_ids)]).fetchall())
