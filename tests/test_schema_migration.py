"""Every way of opening a database runs the same migration: an older file is served."""

from __future__ import annotations

import shutil
import sqlite3

from gazetteer import store
from gazetteer.web import create_app


def _downgrade_to_schema_1(path):
    """What a schema-1 file looks like: no entity search index, version 1."""
    conn = sqlite3.connect(path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                "AND name LIKE '%search%' OR name LIKE 'entities_fts%'").fetchall():
        conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    conn.execute("DROP TABLE IF EXISTS entities_fts")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
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
