"""Real parts, built once per session: the spaCy model, a reference gazetteer in a real
SQLite file, and a database holding the seed corpus."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from gazetteer import store
from gazetteer.config import load_settings
from gazetteer.pipeline import Engine, open_engine, run

TESTS_DIR = Path(__file__).parent
GOLD = TESTS_DIR / "data" / "seeds.gold.json"


@pytest.fixture(scope="session")
def reference_db(tmp_path_factory) -> Path:
    """A database with the reference gazetteer and nothing else (built once: ~40 s)."""
    path = tmp_path_factory.mktemp("reference") / "reference.db"
    engine = open_engine(load_settings({"database": path}, environ={}))
    engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.db.conn.close()
    return path


@pytest.fixture(scope="session")
def shared_nlp(reference_db):
    return open_engine(load_settings({"database": reference_db}, environ={})).nlp


def make_engine(path: Path, nlp, **overrides) -> Engine:
    return open_engine(load_settings({"database": path, **overrides}, environ={}), nlp=nlp)


def writable_app(path: Path, nlp, **config):
    """The app over the database at path (config as for create_app), with the write-side
    engine built on the session's model instead of loading another."""
    from gazetteer.web import create_app

    app = create_app({"TESTING": True, "DATABASE": str(path), **config})
    app.extensions["gazetteer"].use_engine(make_engine(path, nlp))
    return app


@pytest.fixture
def engine(tmp_path, reference_db, shared_nlp) -> Engine:
    """An engine over a private copy of the reference database: tests may write to it."""
    path = tmp_path / "gazetteer.db"
    shutil.copy(reference_db, path)
    return make_engine(path, shared_nlp)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory, reference_db, shared_nlp) -> Path:
    """A database holding the seed corpus, built by the real pipeline (read-only in tests)."""
    path = tmp_path_factory.mktemp("seeded") / "gazetteer.db"
    shutil.copy(reference_db, path)
    engine = make_engine(path, shared_nlp)
    report = run(engine, [engine.settings.seeds_dir])
    assert len(report.added) == 2, report
    engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def seeded(seeded_db):
    return store.open_db(seeded_db, create=False)


@pytest.fixture
def seeded_copy(tmp_path, seeded_db) -> Path:
    """A private copy of the seeded database, for a test that writes to it."""
    path = tmp_path / "seeded-copy.db"
    shutil.copy(seeded_db, path)
    return path


def downgrade(conn: sqlite3.Connection, version: str, triggers: tuple[str, ...] = (),
              tables: tuple[str, ...] = ()) -> None:
    """Make a copy look as an older schema wrote it: drop the triggers whose names match the
    LIKE patterns, then the tables, and set the schema version (the caller commits)."""
    for pattern in triggers:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                    "AND name LIKE ?", [pattern]).fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [version])


# What two ingests must agree on, table by table (the cluster and crash tests compare them).
STORED_CONTENT = {"documents": "id, title, source, text, chars",
                  "entities": "id, kind, name, key, lat, lon, geonameid, country, admin1, "
                              "feature, precision, confidence, reason, geocoder, status, ref_id, "
                              "attrs, curated",
                  "aliases": "*", "mentions": "*"}


def stored_content(db: Path) -> dict[str, list[tuple]]:
    """The rows of STORED_CONTENT's tables, sorted: equal for equal databases."""
    conn = sqlite3.connect(db)
    tables = {t: sorted(conn.execute(f"SELECT {cols} FROM {t}").fetchall(), key=repr)
              for t, cols in STORED_CONTENT.items()}
    conn.close()
    return tables
