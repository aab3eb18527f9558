"""The pipeline on the seed corpus: the issue's acceptance checks, on the real model and DB."""

import sqlite3
import time
from dataclasses import replace

import pytest
from huey.consumer import ProcessEnvironment
from huey.exceptions import TaskTimeout

from gazetteer import store
from gazetteer.geocode import distance_km
from gazetteer.pipeline import analyse_each, run
from gazetteer.sources import Skipped
from gazetteer.types import Document, Point


def entity_ids_of(db, *texts):
    marks = ",".join("?" * len(texts))
    return {r[0] for r in db.execute(
        f"SELECT DISTINCT entity_id FROM mentions WHERE text IN ({marks})", texts)}


@pytest.mark.parametrize("texts,lat,lon", [
    (("Jisr al-Shughour",), 35.8126, 36.3176),
    (("Kassab",), 35.9264, 35.9897),
    (("Yarmouk", "Yarmouk camp"), 33.4742, 36.3031),
])
def test_seed_places_are_one_entity_within_10_km(seeded, texts, lat, lon):
    (entity_id,) = entity_ids_of(seeded, *texts)
    entity = store.get_entity(seeded, entity_id)
    assert distance_km(Point(entity["lon"], entity["lat"]), Point(lon, lat)) < 10


@pytest.mark.parametrize("texts,group", [
    (("Nusra", "Jabhat al-Nusra", "al-Nusra Front"), "ag-nusra-front"),
    (("Ahrar al-Sham", "Ahrar ash-Sham", "Ahrar assh-Sham"), "ag-ahrar-al-sham"),
    (("ISIS", "ISIL", "Daesh", "Islamic State"), "ag-isis"),
])
def test_seed_group_variants_are_one_entity(seeded, texts, group):
    for text in texts:
        assert entity_ids_of(seeded, text) == {group}, text


def test_every_mention_points_into_its_document(seeded):
    rows = seeded.execute("SELECT d.text, m.start, m.\"end\", m.text FROM mentions m "
                          "JOIN documents d ON d.id = m.document_id").fetchall()
    assert len(rows) > 500
    assert all(text[start:end] == surface for text, start, end, surface in rows)


def test_unresolved_places_are_kept_not_dropped(seeded):
    statuses = {r[0] for r in seeded.execute("SELECT status FROM entities WHERE kind='place'")}
    assert "resolved" in statuses
    rows = seeded.execute("SELECT count(*) FROM entities e WHERE e.kind = 'place' AND NOT EXISTS "
                          "(SELECT 1 FROM mentions m WHERE m.entity_id = e.id)").fetchone()
    assert rows[0] == 0


def test_reingesting_the_corpus_adds_and_changes_nothing(engine):
    first = run(engine, [engine.settings.seeds_dir])
    before = engine.db.execute("SELECT count(*), group_concat(id) FROM mentions").fetchone()
    second = run(engine, [engine.settings.seeds_dir])
    after = engine.db.execute("SELECT count(*), group_concat(id) FROM mentions").fetchone()
    assert len(first.added) == 2 and second.added == [] and len(second.unchanged) == 2
    assert before == after


def test_bad_files_are_reported_and_lose_nothing(engine, tmp_path):
    run(engine, [engine.settings.seeds_dir])
    before = store.count_rows(engine.db, "mentions")
    folder = tmp_path / "reports"  # not tmp_path: the database there would be reported too
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02")
    (folder / "bad.txt").write_bytes(b"\xff\xfe\xfa caf\xe9")
    report = run(engine, [folder, folder / "missing.txt"])
    assert sorted(s.source.rsplit("/", 1)[-1] for s in report.skipped) == [
        "bad.txt", "binary.txt", "empty.txt", "missing.txt"]
    assert store.count_rows(engine.db, "mentions") == before
    assert store.count_rows(engine.db, "documents") == 2


def test_a_failed_write_rolls_back_whole(engine):
    db = engine.db
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction(db):
            db.execute("INSERT INTO meta VALUES ('probe', 'x')")
            db.execute("INSERT INTO meta VALUES ('probe', 'again')")
    assert store.get_meta(db, "probe") is None


def test_curated_values_survive_a_refresh(engine):
    run(engine, [engine.settings.seeds_dir])
    engine.db.execute("UPDATE entities SET curated = ?, lat = 1.0 WHERE id = 'gn-168519'",
                      ['{"lat": 1.0}'])
    engine.db.execute("DELETE FROM documents WHERE 0")
    from gazetteer.pipeline import analyse
    from gazetteer.types import Document

    doc = Document("x", "Kassab was shelled.", "x", "x")
    ((_, _, entities),) = analyse(engine, [doc])
    for entity in entities:
        store.upsert_entity(engine.db, entity)
    assert store.get_entity(engine.db, "gn-168519")["lat"] == 1.0


def test_two_worker_processes_give_the_same_mentions(engine):
    from dataclasses import replace

    from gazetteer.pipeline import analyse
    from gazetteer.types import Document

    docs = [Document(str(i), text, str(i), str(i)) for i, text in enumerate(
        ["Nusra fighters left Idlib for Aleppo.", "Daesh shelled Deir ez-Zor and Palmyra."])]
    one = [[(m.start, m.entity_id) for m in ms] for _, ms, _ in analyse(engine, docs)]
    engine.settings = replace(engine.settings, workers=2)
    two = [[(m.start, m.entity_id) for m in ms] for _, ms, _ in analyse(engine, docs)]
    assert one == two and all(one)


class _Slow:
    """A stage's object that takes its time before doing its work (a document the stage is
    slow on)."""

    def __init__(self, inner, method: str, seconds: float = 1.0, exc: Exception | None = None):
        self.inner, self.method, self.seconds, self.exc = inner, method, seconds, exc

    def __getattr__(self, name):
        value = getattr(self.inner, name)
        if name != self.method:
            return value

        def slow(*args, **kwargs):
            time.sleep(self.seconds)
            if self.exc is not None:
                raise self.exc
            return value(*args, **kwargs)
        return slow


@pytest.mark.parametrize("stage,method", [("nlp", "pipe"), ("locator", "locate")])
def test_the_consumers_time_limit_is_not_one_documents_failure(engine, stage, method):
    """huey's consumer raises TaskTimeout from its alarm wherever the task is: the
    per-document handlers must let it through to huey, not report the document as failed."""
    slow = replace(engine, **{stage: _Slow(getattr(engine, stage), method)})
    doc = Document("d-slow", "Shelling hit Kassab.", "t", "slow.txt")
    with pytest.raises(TaskTimeout), ProcessEnvironment().timeout(0.2):
        list(analyse_each(slow, [doc]))


@pytest.mark.parametrize("stage,method", [("nlp", "pipe"), ("locator", "locate")])
def test_a_stage_failing_on_a_document_skips_that_document(engine, stage, method):
    broken = replace(engine, **{stage: _Slow(getattr(engine, stage), method, 0,
                                             ValueError("bad text"))})
    doc = Document("d-bad", "Shelling hit Kassab.", "t", "bad.txt")
    (item,) = analyse_each(broken, [doc])
    assert isinstance(item, Skipped) and "ValueError: bad text" in item.reason
