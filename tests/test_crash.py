"""Crashes: `gazetteer ingest` is killed (SIGKILL) at random points of a large ingest; after
each kill the database is intact and holds only whole documents, and a re-run ends with the
same content as an uninterrupted run.

Small by default; more: GAZETTEER_CRASH_KILLS=10 GAZETTEER_CRASH_DOCS=3000
python -m pytest tests/test_crash.py -s (GAZETTEER_CRASH_SEED replays a run)."""

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gazetteer.merge import MERGE_BATCH
from gazetteer.pipeline import run

from .conftest import make_engine, stored_content
from .serving import PROJECT

KILLS = int(os.environ.get("GAZETTEER_CRASH_KILLS", "2"))
DOCS = int(os.environ.get("GAZETTEER_CRASH_DOCS", str(3 * MERGE_BATCH)))  # room for two kills
SEED = int(os.environ.get("GAZETTEER_CRASH_SEED", str(int(time.time()))))
PLACES = ["Idlib", "Aleppo", "Jisr al-Shughour", "Kessab", "Raqqa", "Palmyra", "Homs", "Hama",
          "Deir ez-Zor", "Douma", "Tal Abyad", "Latakia", "Maarat al-Numan", "Qardaha"]
GROUPS = ["Jabhat al-Nusra", "Ahrar ash-Sham", "Daesh", "the Free Syrian Army", "Jaish al-Islam",
          "Liwa al-Tawhid", "the Omar al-Mukhtar Brigade", "Liwa Suqur al-Ghab"]
# What a run must reproduce: every column but the clock's.

pytestmark = [pytest.mark.stress, pytest.mark.slow]


def write_corpus(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        place, other, third = (PLACES[(n * k) % len(PLACES)] for k in (1, 3, 5))
        group, rival = GROUPS[n % len(GROUPS)], GROUPS[(n * 3 + 1) % len(GROUPS)]
        (folder / f"report-{n:05}.txt").write_text(
            f"Report {n}\n\nFighters of {group} entered {place} at dawn on day {n}, residents "
            f"said. Shelling followed near {other}, and {rival} sent reinforcements from "
            f"{third}. Families fled towards {other} as the clashes went on into the night; "
            f"local sources counted {n % 17 + 2} dead.\n", encoding="utf-8")


def mentions_by_document(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    found: dict[str, list[tuple]] = {d: [] for (d,) in conn.execute("SELECT id FROM documents")}
    for row in conn.execute("SELECT * FROM mentions ORDER BY id"):
        found.setdefault(row[1], []).append(row)
    conn.close()
    return found


def stored_documents(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    finally:
        conn.close()


def ingest_command(db: Path, corpus: Path) -> list[str]:
    return [sys.executable, "-m", "gazetteer.cli", "--db", str(db), "ingest", str(corpus)]


def child_env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
            "PYTHONPATH": str(PROJECT)}


def kill_mid_ingest(db: Path, corpus: Path, target: int, rng: random.Random) -> int:
    """Start an ingest, SIGKILL it once `target` documents are stored (plus a random few
    milliseconds, to land anywhere in a write); return its exit code."""
    child = subprocess.Popen(ingest_command(db, corpus), env=child_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while child.poll() is None and time.monotonic() < deadline:
        if db.exists() and stored_documents(db) >= target:
            time.sleep(rng.uniform(0, 0.03))
            child.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    return child.wait(timeout=60)


def assert_intact_and_whole(db: Path, whole: dict[str, list[tuple]]) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    for document_id, mentions in mentions_by_document(db).items():
        assert mentions == whole[document_id], f"document {document_id} is half-written"


def test_killed_ingests_leave_whole_documents_and_resume_to_the_same_content(
        tmp_path, reference_db, shared_nlp, capsys):
    rng = random.Random(SEED)
    corpus = tmp_path / "corpus"
    write_corpus(corpus, DOCS)
    uninterrupted, crashed = tmp_path / "uninterrupted.db", tmp_path / "crashed.db"
    shutil.copy(reference_db, uninterrupted)
    shutil.copy(reference_db, crashed)
    assert len(run(make_engine(uninterrupted, shared_nlp), [corpus]).added) == DOCS
    whole = mentions_by_document(uninterrupted)

    # Documents are committed MERGE_BATCH at a time, and the last commit ends the run: a kill
    # waiting for a count inside the last batch would race the ingest's own exit.
    last_kill_point = DOCS - MERGE_BATCH
    assert last_kill_point > 0, "more documents than one batch, or no kill can land"
    survived = []
    for _ in range(KILLS):
        stored = stored_documents(crashed)
        if stored >= last_kill_point:
            break
        target = min(stored + rng.randint(1, max(1, (DOCS - stored) // 2)), last_kill_point)
        code = kill_mid_ingest(crashed, corpus, target, rng)
        assert code == -signal.SIGKILL, f"the ingest ended by itself ({code}): more documents?"
        assert_intact_and_whole(crashed, whole)
        survived.append(stored_documents(crashed))

    # the re-run: `gazetteer ingest`'s own function, in this process (the model is loaded)
    rerun = run(make_engine(crashed, shared_nlp), [corpus])
    assert (len(rerun.unchanged), len(rerun.added), rerun.skipped) == (
        survived[-1], DOCS - survived[-1], [])
    with capsys.disabled():
        print(f"\ncrash: {DOCS} documents, {len(survived)} SIGKILLs survived (seed {SEED}); "
              f"documents stored at each kill: {survived}; re-run: {len(rerun.added)} added, "
              f"{len(rerun.unchanged)} already stored")
    assert_intact_and_whole(crashed, whole)
    assert stored_content(crashed) == stored_content(uninterrupted)
