"""A cheap probe that the database can be read: every table's first and last row."""

from __future__ import annotations

import sqlite_utils


def probe_tables(db: sqlite_utils.Database) -> int:
    """Read the first and the last row of every table (the pages at both ends of each
    b-tree), raising sqlite3.DatabaseError on a damaged page; returns the tables read."""
    tables = db.execute(
        "SELECT name, sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'").fetchall()
    for table, without_rowid in tables:
        orders = ("",) if without_rowid else (" ORDER BY rowid", " ORDER BY rowid DESC")
        for order in orders:
            db.execute(f'SELECT * FROM "{table}"{order} LIMIT 1').fetchall()
    return len(tables)
