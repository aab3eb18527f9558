"""Rendered export rows: a download reads each entity's Feature, CSV line and Placemark as
rendered once, and is always byte for byte what the live statements build, whatever was
written since (ingest, curation, merge, rejection) and whoever holds the lock."""

import json
import sqlite3
from contextlib import contextmanager

import pytest
import sqlite_utils

from gazetteer import formats, store
from gazetteer.formats import MentionSelection, Selection
from gazetteer.pipeline import ingest_document
from gazetteer.sources.files import make_document

from .conftest import downgrade, make_engine

SELECTIONS = [Selection(), Selection(kind="armed_group"), Selection(country="SY"),
              Selection(bbox=(35.0, 34.0, 38.0, 37.0)), Selection(group="ag-nusra-front")]


def downloads(db) -> dict[str, str]:
    """Every entity export of every selection, as the server streams it."""
    out = {}
    for selection in SELECTIONS:
        out[f"csv {selection}"] = "".join(formats.csv_chunks(db, selection))
        if selection.kind == "place":
            out[f"geojson {selection}"] = "".join(formats.geojson_chunks(db, selection))
            out[f"kml {selection}"] = "".join(formats.kml_chunks(db, selection))
    return out


@contextmanager
def writer_holding_the_lock(path):
    """Another connection in the middle of a write: a download cannot render meanwhile."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def rendered(db, fmt: str) -> int:
    return db.execute("SELECT count(*) FROM export_rows WHERE format = ?", [fmt]).fetchone()[0]


def live_downloads(db, path) -> dict[str, str]:
    """The downloads built by the live statements alone: the rendered rows are dropped and
    a writer holds the lock, so none is rendered again."""
    with store.transaction(db):
        db.execute("DELETE FROM export_rows")
    with writer_holding_the_lock(path):
        out = downloads(db)
        assert all(rendered(db, fmt) == 0 for fmt in store.FORMATS)
    return out


def assert_downloads_are_live(db, path) -> dict[str, str]:
    from_rows = downloads(db)  # renders what is missing, then reads the rows
    entities = store.count_rows(db, "entities")
    assert all(rendered(db, fmt) == entities for fmt in store.FORMATS)
    assert downloads(db) == from_rows  # read again from the rows alone
    assert live_downloads(db, path) == from_rows
    return from_rows


@pytest.fixture
def db(seeded_copy):
    return store.open_db(seeded_copy)


def feature(db, entity_id: str) -> dict:
    collection = json.loads("".join(formats.geojson_chunks(db)))
    return next(f for f in collection["features"] if f["id"] == entity_id)


def test_rendered_rows_are_the_live_downloads(db, seeded_copy):
    out = assert_downloads_are_live(db, seeded_copy)
    assert '"id":"gn-169023"' in out[f"geojson {Selection()}"]
    assert "<Placemark id=\"gn-169023\">" in out[f"kml {Selection()}"]


def test_a_renamed_group_is_renamed_in_its_places_rows(db, seeded_copy):
    downloads(db)  # every row rendered
    store.curate_entity(db, "ag-nusra-front", {"name": "Nusra (renamed)"}, "test")
    groups = {g["id"]: g["name"] for g in feature(db, "gn-169023")["properties"]["armed_groups"]}
    assert groups["ag-nusra-front"] == "Nusra (renamed)"
    assert_downloads_are_live(db, seeded_copy)


def test_an_alias_a_merge_and_a_rejection_show_at_once(db, seeded_copy):
    downloads(db)
    store.curate_entity(db, "gn-169023", {"add_aliases": ["Jisr Test Spelling"]}, "test")
    assert "Jisr Test Spelling" in feature(db, "gn-169023")["properties"]["aliases"]
    places = [r[0] for r in db.execute(
        "SELECT e.id FROM entities e WHERE kind = 'place' AND lat IS NOT NULL AND id != "
        "'gn-169023' ORDER BY (SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) DESC "
        "LIMIT 2")]
    before = feature(db, "gn-169023")["properties"]["mentions"]
    merged = feature(db, places[0])["properties"]["mentions"]
    store.merge_entities(db, "gn-169023", places[0], "test")
    assert feature(db, "gn-169023")["properties"]["mentions"] == before + merged
    store.reject_entity(db, places[1], "not a place", "test")
    ids = {f["id"] for f in json.loads("".join(formats.geojson_chunks(db)))["features"]}
    assert places[0] not in ids and places[1] not in ids
    assert_downloads_are_live(db, seeded_copy)


def test_a_new_report_counts_in_the_next_download(seeded_copy, shared_nlp):
    engine = make_engine(seeded_copy, shared_nlp)
    before = feature(engine.db, "gn-169023")["properties"]
    created, _ = ingest_document(engine, make_document(
        "Fighters of Jabhat al-Nusra entered Jisr al-Shughour on Monday.", "test"))
    assert created
    after = feature(engine.db, "gn-169023")["properties"]
    assert (after["mentions"], after["documents"]) == (before["mentions"] + 1,
                                                      before["documents"] + 1)
    assert_downloads_are_live(engine.db, seeded_copy)


def test_a_period_is_built_live_and_mentions_are_untouched(db):
    downloads(db)
    since = "".join(formats.csv_chunks(db, Selection(since="2000-01-01")))
    assert since.count("\n") == 1  # the seed reports have no dates: the header alone
    assert "".join(formats.mentions_csv_chunks(db, MentionSelection())).count("\n") > 100


def test_a_snapshot_holds_every_row_rendered(db, seeded_copy, tmp_path):
    target = tmp_path / "published.db"
    store.snapshot(db, target)
    published = store.open_snapshot(target)
    entities = store.count_rows(published, "entities")
    assert all(rendered(published, fmt) == entities for fmt in store.FORMATS)
    assert downloads(published) == downloads(db)


def test_a_read_only_file_is_downloaded_without_rendering(db, seeded_copy, tmp_path):
    with store.transaction(db):
        db.execute("DELETE FROM export_rows")
    expected = live_downloads(db, seeded_copy)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    seeded_copy.chmod(0o444)
    try:
        reader = sqlite3.connect(f"file:{seeded_copy}?mode=ro", uri=True, isolation_level=None)
        ro = sqlite_utils.Database(reader)
        assert downloads(ro) == expected
        assert all(rendered(ro, fmt) == 0 for fmt in store.FORMATS)
    finally:
        seeded_copy.chmod(0o644)


def test_a_schema_4_file_gains_the_rendered_rows(seeded_copy):
    before = downloads(store.open_db(seeded_copy))
    conn = sqlite3.connect(seeded_copy)
    downgrade(conn, "4", triggers=("export_rows%",), tables=("export_rows",))
    conn.commit()
    conn.close()
    db = store.open_db(seeded_copy, create=False)  # a reader migrates too
    assert store.get_meta(db, "schema_version") == store.SCHEMA_VERSION
    assert downloads(db) == before
    store.curate_entity(db, "gn-169023", {"name": "Jisr (curated)"}, "test")
    assert feature(db, "gn-169023")["properties"]["name"] == "Jisr (curated)"
