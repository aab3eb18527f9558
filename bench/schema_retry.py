"""`python -m bench.schema_retry [SEARCHES=10000] [RUNS=3]`: full-text searches, each on a
connection of its own, while another process commits merge batch after merge batch (each sets
the triggers aside: DROP and CREATE TRIGGER, a schema change), with plain sqlite3 connections
and with the store's (`store.SchemaRetryingConnection`, which prepares a statement again when
SQLite refuses it with SQLITE_SCHEMA), side by side on a fresh store. Prints the failures of
each run; tests/test_batched_triggers.py holds the store's connections to none."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from gazetteer import store


def set_triggers_aside_until(path: Path, stop, batches) -> None:
    """What the merge does to the schema in every batch, batch after batch, until stopped."""
    db = store.open_db(path)
    while not stop.is_set():
        with store.transaction(db), store.deferred_search(db), \
                store.batched_row_triggers(db, [], []):
            pass
        with batches.get_lock():
            batches.value += 1
    db.conn.close()


def searches_during_batches(path: Path, factory: type[sqlite3.Connection],
                            searches: int) -> tuple[list[str], int]:
    """(the errors of the searches, the batches committed meanwhile)."""
    context = multiprocessing.get_context("fork")
    stop, batches = context.Event(), context.Value("i", 0)
    writer = context.Process(target=set_triggers_aside_until, args=(path, stop, batches))
    writer.start()
    failures: list[str] = []
    try:
        while batches.value < 10 and writer.is_alive():  # the writer is under way
            time.sleep(0.01)
        for _ in range(searches):
            reader = sqlite3.connect(path, isolation_level=None, factory=factory)
            try:
                reader.execute("SELECT count(*) FROM entities_fts WHERE entities_fts MATCH ?",
                               ["aleppo"]).fetchone()
            except sqlite3.OperationalError as exc:
                failures.append(str(exc))
            reader.close()
    finally:
        stop.set()
        writer.join(timeout=30)
    if writer.exitcode != 0:
        raise RuntimeError(f"the writer process failed (exit code {writer.exitcode})")
    return failures, batches.value


def main() -> None:
    searches = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        store.open_db(path).conn.close()
        for run in range(1, runs + 1):
            for factory in (sqlite3.Connection, store.SchemaRetryingConnection):
                failures, batches = searches_during_batches(path, factory, searches)
                print(f"run {run}: {factory.__name__:25s} {searches:,} searches, "
                      f"{len(failures)} failed, {batches:,} batches committed meanwhile"
                      + (f" ({failures[0]})" if failures else ""), flush=True)


if __name__ == "__main__":
    main()
