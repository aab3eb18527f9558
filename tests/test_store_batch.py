"""The merge writes a batch's entities, aliases, documents and mentions a statement per table:
the rows it leaves, rowids included, are those written entity by entity and document by
document, curators' decisions and dates included."""

import hashlib

from gazetteer import store
from gazetteer.types import Document, Entity, Mention

TIMESTAMPS = {"updated_at", "ingested_at"}


def rows(db) -> dict[str, list[tuple]]:
    """Every row the writes touch, with its rowid, timestamps left out."""
    found = {}
    for table in ("entities", "aliases", "documents", "mentions", "co_mentions"):
        columns = [c.name for c in db[table].columns if c.name not in TIMESTAMPS]
        rowid = "" if table == "co_mentions" else "rowid, "
        found[table] = db.execute(f"SELECT {rowid}{', '.join(columns)} FROM {table} "
                                  "ORDER BY 1, 2, 3").fetchall()
    return found


def group(name: str, aliases: list[str]) -> Entity:
    key = name.lower()
    return Entity(id=f"ag-{key.replace(' ', '-')}", kind="armed_group", name=name, key=key,
                  aliases=[(alias, "observed") for alias in aliases])


def place(name: str) -> Entity:
    key = name.lower()
    return Entity(id=f"place-{key}", kind="place", name=name, key=key,
                  aliases=[(name, "observed")])


def document(text: str, published: str | None, named: list[Entity]) -> tuple[Document, list]:
    """A document of one sentence naming each entity once."""
    doc = Document(id=hashlib.sha256(text.encode()).hexdigest(), text=text, title="t",
                   source=text[:10], published=published)
    mentions = []
    for entity in named:
        start = text.index(entity.name)
        mentions.append(Mention(document_id=doc.id, start=start, end=start + len(entity.name),
                                text=entity.name, kind=entity.kind, entity_id=entity.id,
                                sentence=text, method="gazetteer", confidence=0.9))
    return doc, mentions


def test_entities_written_together_leave_the_rows_written_one_by_one(tmp_path):
    lions = group("Lions Brigade", ["Lions Brigade", "Liwa al-Usud"])
    hawks, owls = group("Hawks", ["Hawks", "Suqur"]), group("Owls", ["Owls"])
    dbs = [store.open_db(tmp_path / f"{name}.db") for name in ("together", "one-by-one")]
    for db in dbs:
        store.upsert_entity(db, lions)
        store.curate_entity(db, lions.id, {"remove_aliases": ["Liwa al-Usud"]}, "curator")
        # written again since, by hand: the last alias row, which the next write deletes
        store.add_alias(db, lions.id, "Liwa al-Usud", "observed")
    together, one_by_one = dbs
    curated = store.curations(together, [lions.id, hawks.id, owls.id])
    store.write_entities(together, [(hawks, True), (lions, False), (owls, True)], curated)
    store.upsert_entity(one_by_one, hawks)
    store.add_observed_aliases(one_by_one, lions.id, lions.aliases)
    store.upsert_entity(one_by_one, owls)
    assert rows(together) == rows(one_by_one)
    assert ("Liwa al-Usud",) not in together.execute("SELECT name FROM aliases").fetchall()


def test_documents_stored_together_leave_the_rows_stored_one_by_one(tmp_path):
    lions, hawks = group("Lions Brigade", ["Lions Brigade"]), group("Hawks", ["Hawks"])
    merged_away, rejected = group("Owls", ["Owls"]), group("Rooks", ["Rooks"])
    homs, hama, idlib = place("Homs"), place("Hama"), place("Idlib")
    batch = [document("Lions Brigade took Homs while Owls held Hama.", "2024-05-01T10:00:00",
                      [lions, homs, merged_away, hama]),
             document("Hawks shelled Hama. Rooks left Homs for Idlib.", "2024-05-01",
                      [hawks, hama, rejected, homs, idlib]),
             document("Hawks and Lions Brigade met near Homs.", "2024-04-03",
                      [hawks, lions, homs]),
             document("Owls entered Hama.", None, [merged_away, hama])]
    repointed = batch[2][1][0]
    dbs = [store.open_db(tmp_path / f"{name}.db") for name in ("together", "one-by-one")]
    for db in dbs:
        for entity in (lions, hawks, merged_away, rejected, homs, hama, idlib):
            store.upsert_entity(db, entity)
        store.merge_entities(db, hawks.id, merged_away.id, "curator")
        store.reject_entity(db, rejected.id, "not a group", "curator")
        db.execute("INSERT INTO mention_overrides VALUES (?, ?, 'curator', 'now')",
                   [f"{repointed.document_id}:{repointed.start}:{repointed.end}", lions.id])
    together, one_by_one = dbs
    store.save_batch(together, batch)
    for doc, mentions in batch:
        store.save_document(one_by_one, doc, mentions, [])
    stored = rows(together)
    assert stored == rows(one_by_one)
    assert len(stored["documents"]) == 4 and stored["co_mentions"]
    assert together.execute("SELECT first_seen, last_seen FROM entities WHERE id = ?",
                            [homs.id]).fetchone() == ("2024-04-03", "2024-05-01")
    assert together.execute("SELECT first_seen FROM entities WHERE id = ?",
                            [idlib.id]).fetchone() == ("2024-05-01",)
