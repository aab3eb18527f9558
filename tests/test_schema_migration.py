"""Every way of opening a database runs the same migration: an older file is served."""

from __future__ import annotations

import shutil
import sqlite3

from gazetteer import store
from gazetteer.web import create_app

from .conftest import downgrade


def _downgrade_to_schema_1(path):
    """What a schema-1 file looks like: no entity search index, version 1."""
    conn = sqlite3.connect(path)
    downgrade(conn, "1", triggers=("%search%", "entities_fts%"), tables=("entities_fts",))
    conn.commit()
    conn.close()


def test_serve_on_a_schema_1_database_answers_search(tmp_path, seeded_db):
    path = tmp_path / "old.db"
    shutil.copy(seeded_db, path)
    _downgrade_to_schema_1(path)
    client = create_app({"DATABASE": str(path)}).test_client()
    response = client.get("/api/entities?q=jesr%20shughur")
    assert response.status_code == 200, response.json
    assert [e["id"] for e in response.json["items"]] == ["gn-169023"]
    assert store.get_meta(store.open_db(path, create=False), "schema_version") == \
        store.SCHEMA_VERSION


def test_read_connections_of_a_current_file_do_not_rewrite_it(tmp_path, seeded_db):
    path = tmp_path / "current.db"
    shutil.copy(seeded_db, path)
    before = path.stat().st_mtime_ns
    store.close(store.open_db(path, create=False))
    assert path.stat().st_mtime_ns == before


# The entity search triggers of schema 4: every insert rebuilt the entity's row at once.
_SCHEMA_4_ROW = """
    DELETE FROM entities_fts WHERE rowid = (SELECT rowid FROM entities WHERE id = {ref});
    INSERT INTO entities_fts (rowid, name, aliases, keys)
        SELECT e.rowid, e.name,
               (SELECT group_concat(a.name, ' | ') FROM aliases a WHERE a.entity_id = e.id),
               (SELECT group_concat(a.key, ' | ') FROM aliases a WHERE a.entity_id = e.id)
        FROM entities e WHERE e.id = {ref};"""
_SCHEMA_4_TRIGGERS = {"entities_fts_ai": ("INSERT ON entities", "new.id"),
                      "entities_fts_au": ("UPDATE OF name ON entities", "new.id"),
                      "aliases_search_ai": ("INSERT ON aliases", "new.entity_id")}


def _downgrade_to_schema_4(path):
    conn = sqlite3.connect(path)
    downgrade(conn, "4", triggers=("%_deferred",), tables=("search_pending",))
    for name, (event, ref) in _SCHEMA_4_TRIGGERS.items():
        conn.execute(f"DROP TRIGGER {name}")
        conn.execute(f"CREATE TRIGGER {name} AFTER {event} BEGIN "
                     f"{_SCHEMA_4_ROW.format(ref=ref)} END")
    conn.commit()
    conn.close()


def test_a_schema_4_file_migrates_to_deferrable_search_triggers(tmp_path, seeded_db):
    path = tmp_path / "schema4.db"
    shutil.copy(seeded_db, path)
    _downgrade_to_schema_4(path)
    db = store.open_db(path, create=False)  # a reader migrates too
    assert store.get_meta(db, "schema_version") == store.SCHEMA_VERSION
    triggers = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    for name in _SCHEMA_4_TRIGGERS:
        assert "search_deferred" in triggers[name] and f"{name}_deferred" in triggers
    with store.transaction(db), store.deferred_search(db):  # a batch, then a single write
        store.add_alias(db, "gn-169023", "Jisr Esh-Shoghour", "observed")
    store.add_alias(db, "gn-169023", "Djisr Choghour", "curated")
    for q in ("jisr esh shoghour", "djisr choghour", "jesr shughur"):
        rows, _ = store.list_entities(db, q=q)
        assert [r["id"] for r in rows] == ["gn-169023"], q
