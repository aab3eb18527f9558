"""Shared bench plumbing: the work folder, the cached reference database, timing, memory."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from gazetteer import store
from gazetteer.config import Settings, load_settings
from gazetteer.reference import build_reference
from gazetteer.types import Document, Entity, Mention

WORK = Path(os.environ.get("GAZETTEER_BENCH_WORK", Path(__file__).resolve().parent / ".work"))


@dataclass
class Row:
    """One line of the table: a figure, its value, the same-run reference and the goal."""

    figure: str
    value: str
    reference: str = ""
    ratio: str = ""
    goal: str = ""
    met: bool | None = None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        print(f"  {row.figure}: {row.value}  [{row.reference}] {row.ratio} {row.goal} "
              f"{'' if row.met is None else ('met' if row.met else 'NOT met')}", flush=True)
        return row


def settings_for(db: Path, **overrides) -> Settings:
    return load_settings({"database": db, **overrides}, environ={})


def reference_db() -> Path:
    """The reference gazetteer (cities500 + supplement), built once (~40 s) and reused."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "reference.db"
    db = store.open_db(path)
    defaults = Settings()
    build_reference(db, defaults.data_dir, defaults.min_city_population)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


def fresh_copy(src: Path, name: str) -> Path:
    """A private copy of a database (and no stale WAL beside it)."""
    dst = WORK / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    shutil.copy(src, dst)
    return dst


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return statistics.median(values)


class PeakRSS:
    """Samples the summed RSS of a process and its children (spaCy workers) until stopped."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.interval = interval

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(_rss(p) for p in procs))
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def _rss(proc: psutil.Process) -> int:
    try:
        return proc.memory_info().rss
    except psutil.Error:
        return 0


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid or os.getpid()).memory_info().rss / 2**20


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


def store_named_often(db, documents: int, per_document: int) -> tuple[Entity, Entity]:
    """Store `documents` reports of `per_document` sentences, each naming one place, every
    other one a group beside it; returns (place, group). The neighbour reads' worst case,
    shared by bench/reports.py and tests/test_reports.py."""
    place = Entity("sup-bench-aleppo", "place", "Aleppo", "aleppo")
    group = Entity("ag-bench-group", "armed_group", "Bench Group", "bench group")
    batch = []
    for n in range(documents):
        sentences = [f"Shelling hit Aleppo ({n}, {i}) as Bench Group advanced."
                     for i in range(per_document)]
        doc = Document(f"bench{n:04d}", " ".join(sentences), f"Report {n}", "bench",
                       published=f"2015-01-{n % 28 + 1:02d}")
        mentions, offset = [], 0
        for i, sentence in enumerate(sentences):
            mentions.append(Mention(doc.id, offset + 13, offset + 19, "Aleppo", "place",
                                    place.id, sentence, "gazetteer", 1.0))
            if i % 2 == 0:
                at = offset + sentence.index("Bench Group")
                mentions.append(Mention(doc.id, at, at + 11, "Bench Group", "armed_group",
                                        group.id, sentence, "rule", 1.0))
            offset += len(sentence) + 1
        batch.append((doc, mentions, [place, group]))
    store.save_documents(db, batch)
    return place, group


def stop(process: subprocess.Popen, seconds: float = 20) -> None:
    """Terminate a child process, killing it when it does not end within seconds."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
