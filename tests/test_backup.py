"""Backups and curations: `gazetteer backup` copies a database being written, the copy
restores; `gazetteer curations export/import` replays every curation and merge on a database
rebuilt from the same documents."""

import json
import shutil
import threading

from click.testing import CliRunner

from gazetteer import store
from gazetteer.cli import main

from .test_curation import CURATION, IDLIB


def cli(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def content(db) -> list:
    return [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("documents", "entities", "aliases", "mentions", "curations")]


def test_backup_while_writing_then_restore(tmp_path, seeded_db):
    live = tmp_path / "live.db"
    shutil.copy(seeded_db, live)
    writer = store.open_db(live)
    stop = threading.Event()

    def keep_writing():
        n = 0
        while not stop.is_set():
            store.curate_entity(writer, IDLIB, {"add_aliases": [f"bot alias {n}"]}, "bot")
            n += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        result = cli("--db", str(live), "backup", str(tmp_path / "copy.db"))
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = store.open_db(tmp_path / "copy.db", create=False)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    aliases = {r[0] for r in copy.execute(
        "SELECT name FROM aliases WHERE entity_id = ? AND name LIKE 'bot alias %'", [IDLIB])}
    logged = copy.execute("SELECT count(*) FROM curations WHERE who = 'bot'").fetchone()[0]
    assert len(aliases) == logged  # a consistent moment: every logged change and no other
    again = cli("--db", str(live), "backup", str(tmp_path / "copy.db"))
    assert again.exit_code == 1 and "exists" in again.output  # never overwrites


def test_curations_round_trip_onto_a_rebuilt_database(tmp_path, seeded_db):
    curated = tmp_path / "curated.db"
    shutil.copy(seeded_db, curated)
    db = store.open_db(curated)
    store.curate_entity(db, IDLIB, {k: v for k, v in CURATION.items() if k != "who"}, "analyst")
    store.merge_entities(db, "ag-jaish-al-islam", "ag-liwa-al-islam", "analyst")
    exported = cli("--db", str(curated), "curations", "export", "-o", str(tmp_path / "c.json"))
    assert exported.exit_code == 0, exported.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert [c["action"] for c in data["curations"]] == ["patch", "merge"]

    rebuilt = tmp_path / "rebuilt.db"
    shutil.copy(seeded_db, rebuilt)  # the same documents, no curations
    imported = cli("--db", str(rebuilt), "curations", "import", str(tmp_path / "c.json"))
    assert imported.exit_code == 0 and "applied 2" in imported.output, imported.output
    a, b = store.open_db(curated), store.open_db(rebuilt)
    assert_same_rows(a, b, "SELECT from_id, into_id FROM merges ORDER BY from_id",
                     "SELECT entity_id, action, payload, who, at FROM curations ORDER BY id",
                     "SELECT id, entity_id FROM mentions ORDER BY id")
    twice = cli("--db", str(rebuilt), "curations", "import", str(tmp_path / "c.json"))
    assert "applied 0" in twice.output and "2 already present" in twice.output


def test_a_bad_curations_file_is_one_line(tmp_path, seeded_db):
    db = tmp_path / "x.db"
    shutil.copy(seeded_db, db)
    for text in ("not json", '{"format": "other"}', '{"format": "gazetteer-curations", '
                                                   '"version": 1, "curations": [1]}'):
        result = cli("--db", str(db), "curations", "import", "-", input=text)
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1, result.output


def _log(db) -> list:
    """The curation log without this database's ids: an undo names what it undid by its
    entity, action and time."""
    rows = db.execute("SELECT id, entity_id, action, payload, who, at FROM curations "
                      "ORDER BY id").fetchall()
    by_id = {r[0]: r for r in rows}
    logged = []
    for _, entity_id, action, payload, who, at in rows:
        body = json.loads(payload)
        if action == "undo":
            undone = by_id[body["curation"]]
            body["curation"] = [undone[1], undone[2], undone[5]]
        logged.append((entity_id, action, body, who, at))
    return logged


def test_rejections_repoints_and_undos_round_trip_onto_a_rebuilt_database(tmp_path, seeded_db):
    curated = tmp_path / "curated.db"
    shutil.copy(seeded_db, curated)
    db = store.open_db(curated)
    rejected = db.execute("SELECT entity_id FROM mentions WHERE kind = 'place' AND entity_id "
                          "!= ? GROUP BY entity_id ORDER BY count(*), entity_id LIMIT 1",
                          [IDLIB]).fetchone()[0]
    first, second = [r[0] for r in db.execute(
        "SELECT id FROM mentions WHERE entity_id = 'ag-al-qaeda' ORDER BY id LIMIT 2")]
    store.reject_entity(db, rejected, "not a place", "analyst")
    store.repoint_mention(db, first, "ag-nusra-front", "analyst")
    patch = store.curate_entity  # a change then taken back
    patch(db, IDLIB, {"name": "Idlib (wrong)"}, "analyst")
    store.undo_curation(db, _latest(db), "reviewer")
    store.repoint_mention(db, second, "ag-isis", "analyst")
    store.undo_curation(db, _latest(db), "reviewer")
    assert cli("--db", str(curated), "curations", "export", "-o",
               str(tmp_path / "c.json")).exit_code == 0
    actions = [c["action"] for c in json.loads((tmp_path / "c.json").read_text())["curations"]]
    assert actions == ["reject", "repoint", "patch", "undo", "repoint", "undo"]

    rebuilt = tmp_path / "rebuilt.db"
    shutil.copy(seeded_db, rebuilt)  # the same documents; its own curation ids run ahead
    other = store.open_db(rebuilt)
    patch(other, "ag-fsa", {"name": "FSA (tried)"}, "someone")
    store.undo_curation(other, _latest(other), "someone")
    imported = cli("--db", str(rebuilt), "curations", "import", str(tmp_path / "c.json"))
    assert imported.exit_code == 0, imported.output
    assert "applied 6" in imported.output and "0 skipped" in imported.output, imported.output

    a, b = store.open_db(curated), store.open_db(rebuilt)
    assert_same_rows(a, b, "SELECT id, entity_id, kind FROM mentions ORDER BY id",
                     "SELECT entity_id, reason, who FROM rejections ORDER BY entity_id",
                     "SELECT mention_id, entity_id, who FROM mention_overrides "
                     "ORDER BY mention_id")
    assert b.execute("SELECT count(*) FROM entities WHERE id = ?", [rejected]).fetchone()[0] == 0
    assert b.execute("SELECT entity_id FROM mentions WHERE id = ?",
                     [first]).fetchone()[0] == "ag-nusra-front"
    assert b.execute("SELECT entity_id FROM mentions WHERE id = ?",
                     [second]).fetchone()[0] == "ag-al-qaeda"  # re-pointed, then undone
    assert _log(b)[2:] == _log(a)  # after the rebuilt database's own two
    # the replayed log is live: the rejection can still be undone on the rebuilt database
    reject_id = b.execute("SELECT id FROM curations WHERE action = 'reject'").fetchone()[0]
    store.undo_curation(b, reject_id, "reviewer")
    assert b.execute("SELECT count(*) FROM mentions WHERE entity_id = ?",
                     [rejected]).fetchone()[0] > 0
    twice = cli("--db", str(rebuilt), "curations", "import", str(tmp_path / "c.json"))
    assert "applied 0" in twice.output and "6 already present" in twice.output, twice.output


def assert_same_rows(a, b, *queries: str) -> None:
    """The curated entities and aliases, and each query's rows, are alike in both databases."""
    for sql in ("SELECT id, name, lat, lon, curated FROM entities ORDER BY id",
                "SELECT entity_id, name FROM aliases ORDER BY entity_id, name", *queries):
        assert b.execute(sql).fetchall() == a.execute(sql).fetchall(), sql


def _latest(db) -> int:
    return db.execute("SELECT max(id) FROM curations").fetchone()[0]
