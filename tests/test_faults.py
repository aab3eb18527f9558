"""Faults say what they are: a full disk, an immutable (read-only) file, a locked and a
damaged database each answer a JSON 503 naming the cause (one line from the CLI), /healthz
reads every table and says "degraded", and writes recover when the cause is gone.

Tests run as root, for whom chmod does not stop writes: the read-only case uses `chattr +i`
(an immutable file), the full disk SQLite's max_page_count on the writer's connection."""

import shutil
import sqlite3
import subprocess

import pytest
from click.testing import CliRunner

from gazetteer import store
from gazetteer.cli import main
from gazetteer.faults import storage_fault
from gazetteer.web import create_app

from .test_api import AUTH, TOKEN, assert_error

CHATTR = shutil.which("chattr")


@pytest.fixture
def db_copy(tmp_path, seeded_db):
    path = tmp_path / "faulty.db"
    shutil.copy(seeded_db, path)
    return path


def app_over(path):
    return create_app({"TESTING": True, "DATABASE": str(path), "API_TOKEN": TOKEN})


def fault_of(response, status, code):
    assert_error(response, status)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return error["message"]


def test_a_full_disk_is_a_503_naming_it_and_writes_recover(db_copy):
    app = app_over(db_copy)
    client = app.test_client()
    with app.app_context():
        db = app.extensions["gazetteer"].connection()  # this thread's connection: the writer
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    change = {"add_aliases": [f"Idlib {'x' * 3000} {n}" for n in range(40)]}
    message = fault_of(client.patch("/api/entities/gn-169389", json=change, headers=AUTH),
                       503, "disk_full")
    assert "full" in message and "free" in message
    assert client.get("/api/entities/gn-169389").status_code == 200  # reads go on
    db.execute("PRAGMA max_page_count = 1073741823")
    assert client.patch("/api/entities/gn-169389", json=change, headers=AUTH).status_code == 200


@pytest.mark.skipif(CHATTR is None, reason="needs chattr")
def test_an_immutable_file_is_a_503_and_healthz_is_degraded(db_copy):
    store.open_db(db_copy).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    subprocess.run([CHATTR, "+i", str(db_copy)], check=True)
    try:
        client = app_over(db_copy).test_client()
        health = client.get("/healthz")
        body = health.get_json()
        assert health.status_code == 200 and body["status"] == "degraded"
        assert body["reads"] == "ok" and body["writes"] == "failing"
        assert body["cause"]["code"] == "read_only"
        message = fault_of(client.patch("/api/entities/gn-169389", json={"name": "Idlib 2"},
                                        headers=AUTH), 503, "read_only")
        assert "chattr" in message
        assert client.get("/api/entities?limit=3").status_code == 200
    finally:
        subprocess.run([CHATTR, "-i", str(db_copy)], check=True)
    client = app_over(db_copy).test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.patch("/api/entities/gn-169389", json={"name": "Idlib 2"},
                        headers=AUTH).status_code == 200


def _damage(path, keep_pages: int = 1) -> None:
    """Overwrite every page after the first few with noise (the header stays valid)."""
    store.open_db(path).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with open(path, "r+b") as f:
        page = 4096
        f.seek(page * keep_pages)
        f.write(bytes((i * 37 + 11) % 251 for i in range(size - page * keep_pages)))


def test_a_damaged_database_is_a_503_and_healthz_says_so(db_copy):
    client = app_over(db_copy).test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"
    _damage(db_copy)
    fresh = app_over(db_copy).test_client()
    health = fresh.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "degraded"
    assert health.get_json()["cause"]["code"] in ("database_corrupt", "database_unreadable")
    response = fresh.get("/api/entities")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] in ("database_corrupt", "database_unreadable")


def test_a_damaged_database_is_one_line_from_the_cli(db_copy):
    _damage(db_copy)
    result = CliRunner().invoke(main, ["--db", str(db_copy), "entities"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gazetteer: error:")
    assert "damaged" in lines[0] or "cannot open" in lines[0]


def test_a_locked_database_is_named(tmp_path):
    path = tmp_path / "locked.db"
    store.open_db(path).conn.close()
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as raised:
        other.execute("INSERT INTO meta VALUES ('k', 'v')")
    fault = storage_fault(raised.value, path)
    assert fault is not None and fault.code == "database_locked" and fault.status == 503
    holder.rollback()
    other.execute("INSERT INTO meta VALUES ('k', 'v')")  # the lock is gone: writes go on
