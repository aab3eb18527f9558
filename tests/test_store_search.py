"""The entity search index (entities_fts): a batch writer defers its rebuilds to the end of
the batch (store.deferred_search), and leaves the same rows the per-row triggers leave."""

from __future__ import annotations

import shutil

import pytest

from gazetteer import store
from gazetteer.types import Entity

SHUGHOUR = "gn-169023"  # Jisr al-Shughour, in the seeded store


def _write_a_batch(db) -> None:
    """What an ingest batch does to the index: a new entity with aliases, then renamed, new
    aliases of a stored one, and a stored one renamed."""
    store.upsert_entity(db, Entity("group-x-liwa-test", "armed_group", "Liwa Qamar Test",
                                   "liwa qamar test",
                                   aliases=[("Liwa Qamar Test", "observed"),
                                            ("Lewa Kamar Test", "observed")]))
    # the same entity again in the batch, renamed: an upsert's update of a pending entity
    store.upsert_entity(db, Entity("group-x-liwa-test", "armed_group", "Liwa Qamar Test Brigade",
                                   "liwa qamar test"))
    store.add_aliases(db, SHUGHOUR, [("Jisr Esh-Shoghour", "observed"),
                                     ("Jisr ash-Shugur", "observed")])
    renamed = db.execute("SELECT id, kind, key FROM entities WHERE id != ? AND kind = 'place' "
                         "ORDER BY id LIMIT 1", [SHUGHOUR]).fetchone()
    store.upsert_entity(db, Entity(renamed[0], renamed[1], "Qaryat Zaytun", renamed[2]))


def _search_rows(db) -> list[tuple]:
    return db.execute("SELECT rowid, name, aliases, keys FROM entities_fts "
                      "ORDER BY rowid").fetchall()


def test_a_deferred_batch_leaves_the_rows_the_triggers_leave(tmp_path, seeded_db):
    paths = [tmp_path / "deferred.db", tmp_path / "immediate.db"]
    for path in paths:
        shutil.copy(seeded_db, path)
    deferred, immediate = (store.open_db(p, create=False) for p in paths)
    before = _search_rows(deferred)
    with store.transaction(deferred), store.deferred_search(deferred):
        _write_a_batch(deferred)
        assert _search_rows(deferred) == before  # nothing rebuilt yet: all at the end
    with store.transaction(immediate):
        _write_a_batch(immediate)
    assert _search_rows(deferred) == _search_rows(immediate) != before
    rows, _ = store.list_entities(deferred, q="jisr esh shoghour")
    assert [r["id"] for r in rows] == [SHUGHOUR]
    rows, _ = store.list_entities(deferred, q="lewa kamar")
    assert [r["id"] for r in rows] == ["group-x-liwa-test"]
    assert deferred.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0
    assert store.get_meta(deferred, "search_deferred") is None


def test_writes_after_a_batch_update_the_index_at_once(seeded_copy):
    db = store.open_db(seeded_copy, create=False)
    with store.transaction(db), store.deferred_search(db):
        store.add_alias(db, SHUGHOUR, "Jisr Esh-Shoghour", "observed")
    store.add_alias(db, SHUGHOUR, "Djisr Choghour", "curated")  # a curator, afterwards
    rows, _ = store.list_entities(db, q="djisr choghour")
    assert [r["id"] for r in rows] == [SHUGHOUR]


def test_the_deferral_ends_with_its_block_even_when_the_block_fails(seeded_copy):
    db = store.open_db(seeded_copy, create=False)
    with store.transaction(db):
        with pytest.raises(ValueError):
            with store.deferred_search(db):
                store.add_alias(db, SHUGHOUR, "Jisr Esh-Shoghour", "observed")
                raise ValueError("a failed document")
        # the caller carries on and commits what it wrote
    assert store.get_meta(db, "search_deferred") is None
    rows, _ = store.list_entities(db, q="jisr esh shoghour")
    assert [r["id"] for r in rows] == [SHUGHOUR]


def test_a_deferral_outside_a_transaction_is_refused(seeded_copy):
    db = store.open_db(seeded_copy, create=False)
    with pytest.raises(RuntimeError, match="transaction"):
        with store.deferred_search(db):
            pass
