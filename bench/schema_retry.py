"""`python -m bench.schema_retry [SEARCHES=10000] [RUNS=3]`: full-text searches, each on a
connection of its own, while another process commits merge batch after merge batch (each sets
the triggers aside: DROP and CREATE TRIGGER, a schema change) and two more keep the cores busy,
with plain sqlite3 connections and with the store's (`store.SchemaRetryingConnection`, which
prepares a statement again when SQLite refuses it with SQLITE_SCHEMA), side by side on a fresh
store. Prints the failures of each run; tests/test_batched_triggers.py holds the store's
connections to none."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from gazetteer import store


# Processes that only keep a core busy, as a loaded server's other work does (the load test:
# gunicorn, the job worker and 40 clients on 2 cores). The reader is then interrupted in the
# middle of a statement: with one writer on an otherwise quiet machine, plain connections met
# the fault 0-1 times in 10,000 searches; with 2 busy processes beside them, 7-22 times in
# 2,000.
BUSY_PROCESSES = 2


def keep_a_core_busy_until(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def set_triggers_aside_until(path: Path, stop, batches) -> None:
    """What the merge does to the schema in every batch, batch after batch, until stopped."""
    db = store.open_db(path)
    while not stop.is_set():
        with store.transaction(db), store.deferred_search(db), \
                store.batched_row_triggers(db, [], []):
            pass
        with batches.get_lock():
            batches.value += 1
    store.close(db)


def searches_during_batches(path: Path, factory: type[sqlite3.Connection],
                            searches: int) -> tuple[list[str], int]:
    """(the errors of the searches, the batches committed meanwhile)."""
    context = multiprocessing.get_context("fork")
    stop, batches = context.Event(), context.Value("i", 0)
    writer = context.Process(target=set_triggers_aside_until, args=(path, stop, batches))
    busy = [context.Process(target=keep_a_core_busy_until, args=(stop,))
            for _ in range(BUSY_PROCESSES)]
    for process in [writer, *busy]:
        process.start()
    failures: list[str] = []
    try:
        while batches.value < 10 and writer.is_alive():  # the writer is under way
            time.sleep(0.01)
        for _ in range(searches):
            reader = sqlite3.connect(path, isolation_level=None, factory=factory)
            try:  # the full-text statement alone: the API's search prepares others first,
                # which load the schema and make the fault rarer
                reader.execute("SELECT count(*) FROM entities_fts WHERE entities_fts MATCH ?",
                               ["aleppo"]).fetchone()
            except sqlite3.OperationalError as exc:
                failures.append(str(exc))
            reader.close()
    finally:
        stop.set()
        for process in [writer, *busy]:
            process.join(timeout=30)
    if writer.exitcode != 0:
        raise RuntimeError(f"the writer process failed (exit code {writer.exitcode})")
    return failures, batches.value


def main() -> None:
    searches = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        store.close(store.open_db(path))
        for run in range(1, runs + 1):
            for factory in (sqlite3.Connection, store.SchemaRetryingConnection):
                failures, batches = searches_during_batches(path, factory, searches)
                print(f"run {run}: {factory.__name__:25s} {searches:,} searches, "
                      f"{len(failures)} failed, {batches:,} batches committed meanwhile"
                      + (f" ({failures[0]})" if failures else ""), flush=True)


if __name__ == "__main__":
    main()
