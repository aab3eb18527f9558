"""Writing documents, their mentions and entities, and aliases."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby

import sqlite_utils

from ..fold import fold_name, strip_invisible
from ..sources import page_of
from ..types import Document, Entity, Mention
from .derived import note_seen, refresh_co_mentions, sentence_number
from .read import merged_ids
from .revise import mention_overrides, rejected_ids
from .schema import deferred_search, now, transaction


def document_exists(db: sqlite_utils.Database, document_id: str) -> bool:
    return db.execute("SELECT 1 FROM documents WHERE id = ?", [document_id]).fetchone() is not None


def save_document(db: sqlite_utils.Database, doc: Document, mentions: list[Mention],
                  entities: list[Entity]) -> None:
    """Store a document with its mentions and entities in one transaction; entities a
    curator merged away are redirected to the entity they were merged into."""
    with transaction(db):
        # curators' decisions: merged-away and rejected entities are not made again
        hidden = set(merged_ids(db)) | rejected_ids(db)
        for entity in entities:
            if entity.id not in hidden:
                upsert_entity(db, entity)
        save_batch(db, [(doc, mentions)])


def save_batch(db: sqlite_utils.Database, batch: list[tuple[Document, list[Mention]]]) -> None:
    """Store distinct documents with their mentions (their entities written already), in
    one transaction: the rows save_document writes for each, one statement per table for
    the whole batch."""
    with transaction(db):
        stored_under = _stored_under(db)
        document_ids = [doc.id for doc, _ in batch]
        db.conn.executemany(f"INSERT OR IGNORE INTO documents ({DOCUMENT_COLUMNS}) "
                            f"VALUES ({_marks(DOCUMENT_COLUMNS)})",
                            [_document_row(doc) for doc, _ in batch])
        db.execute("DELETE FROM mentions WHERE document_id IN (SELECT value FROM json_each(?))",
                   [json.dumps(document_ids)])
        rows = [(doc, _mention_rows(doc, stored_under(mentions))) for doc, mentions in batch]
        db.conn.executemany(f"INSERT INTO mentions ({MENTION_COLUMNS}) "
                            f"VALUES ({_marks(MENTION_COLUMNS)})",
                            [row for _, doc_rows in rows for row in doc_rows])
        refresh_co_mentions(db, document_ids)
        _note_seen_by_day(db, rows)


def _stored_under(db: sqlite_utils.Database
                  ) -> Callable[[list[Mention]], Iterator[tuple[Mention, str]]]:
    """What curators decided, read once: each mention with the entity it is stored under
    (redirected from an entity merged away, then as a re-pointed mention's override says),
    less those of rejected entities."""
    redirects, overrides, rejected = merged_ids(db), mention_overrides(db), rejected_ids(db)

    def stored_under(mentions: list[Mention]) -> Iterator[tuple[Mention, str]]:
        for m in mentions:
            entity_id = redirects.get(m.entity_id, m.entity_id)
            entity_id = overrides.get(f"{m.document_id}:{m.start}:{m.end}", entity_id)
            if entity_id not in rejected:
                yield m, entity_id
    return stored_under


def _note_seen_by_day(db: sqlite_utils.Database, rows: list[tuple[Document, list[tuple]]]
                      ) -> None:
    """note_seen for each dated document's mentioned entities (its mention rows given), one
    statement per day: widening to a date is the same done once or twice, in any order."""
    days: dict[str, set[str]] = {}
    for doc, doc_rows in rows:
        if doc.published:
            days.setdefault(doc.published[:10], set()).update(row[2] for row in doc_rows)
    for day, entity_ids in days.items():
        note_seen(db, sorted(entity_ids), day)


def save_documents(db: sqlite_utils.Database,
                   analysed: list[tuple[Document, list[Mention], list[Entity]]]) -> None:
    """Store a batch of analysed documents in one transaction (one flush of the search
    index per batch, not per document; each entity's search row rebuilt once)."""
    with transaction(db), deferred_search(db):
        for doc, mentions, entities in analysed:
            save_document(db, doc, mentions, entities)


DOCUMENT_COLUMNS = ("id, title, source, text, chars, ingested_at, url, published, "
                    "published_source, site_name, author, language, pages")
MENTION_COLUMNS = ('id, document_id, entity_id, kind, start, "end", text, sentence, method, '
                   "confidence, resolution, page, sentence_no")


def _marks(columns: str) -> str:
    return ", ".join("?" * (columns.count(",") + 1))


def _document_row(doc: Document) -> tuple:
    return (doc.id, doc.title, doc.source, doc.text, len(doc.text), now(), doc.url,
            doc.published, doc.published_source, doc.site_name, doc.author, doc.language,
            json.dumps(list(doc.pages)) if doc.pages else None)


def _mention_rows(doc: Document, mentions: Iterable[tuple[Mention, str]]) -> list[tuple]:
    """The document's mentions' rows (MENTION_COLUMNS), each stored under the entity id given
    with it; a mention's page comes from the document's page offsets, and its sentence number
    is where its sentence starts."""
    unplaced: dict[str, int] = {}
    return [(f"{m.document_id}:{m.start}:{m.end}", m.document_id, entity_id, m.kind, m.start,
             m.end, m.text, m.sentence, m.method, round(m.confidence, 3), m.resolution,
             page_of(doc, m.start),
             sentence_number(doc.text, m.start, m.end, m.sentence, unplaced))
            for m, entity_id in mentions]


def curations(db: sqlite_utils.Database, entity_ids: list[str]) -> dict[str, dict]:
    """entity id -> what curators set on it, for the entities that have any (a batch's
    entities in one query, for upsert_entity and add_observed_aliases)."""
    return {entity_id: json.loads(curated) for entity_id, curated in db.execute(
        "SELECT id, curated FROM entities WHERE curated IS NOT NULL AND curated != '' "
        "AND id IN (SELECT value FROM json_each(?))", [json.dumps(entity_ids)])}


def upsert_entity(db: sqlite_utils.Database, entity: Entity,
                  curated: dict | None = None) -> None:
    """Insert or refresh an entity; fields a curator has set (curated: read when not given)
    are never overwritten."""
    if curated is None:
        curated = curations(db, [entity.id]).get(entity.id, {})
    write_entities(db, [(entity, True)], {entity.id: curated})


def add_observed_aliases(db: sqlite_utils.Database, entity_id: str,
                         aliases: list[tuple[str, str]], curated: dict | None = None) -> None:
    """Add the spellings reports use, less those a curator removed from the entity."""
    if curated is None:
        curated = curations(db, [entity_id]).get(entity_id, {})
    _add_observed(db, [(entity_id, aliases)], {entity_id: curated})


def write_entities(db: sqlite_utils.Database, entities: list[tuple[Entity, bool]],
                   curated: dict[str, dict]) -> None:
    """For each entity in turn, upsert_entity (when its flag is set) or add_observed_aliases,
    given what curators set on the entities (curated: every entity that has any): the same
    rows, entities' before aliases, consecutive rows alike in one statement."""
    rows = [_curated_row(_entity_row(e), curated.get(e.id, {})) for e, fresh in entities if fresh]
    for columns, alike in groupby(rows, key=_columns):
        _upsert_rows(db, "entities", columns, [tuple(row.values()) for row in alike])
    _add_observed(db, [(e.id, e.aliases) for e, _ in entities], curated)


def _columns(row: dict) -> tuple[str, ...]:
    return tuple(row)


def _curated_row(row: dict, curated: dict) -> dict:
    """The row with the fields a curator set in place of the observed ones."""
    row.update({k: v for k, v in curated.items() if not k.startswith("_")})
    row["curated"] = json.dumps(curated) if curated else None
    return row


def _add_observed(db: sqlite_utils.Database, aliases: list[tuple[str, list[tuple[str, str]]]],
                  curated: dict[str, dict]) -> None:
    """add_observed_aliases for each (entity id, aliases) in turn, in one statement between
    two deletions of spellings a curator removed (a deleted row's rowid may go to the next
    one inserted, so the order stays)."""
    rows: list[tuple[str, str, str, str]] = []
    for entity_id, observed in aliases:
        removed = set(curated.get(entity_id, {}).get("_removed_aliases", []))
        rows += _alias_rows(entity_id, [a for a in observed if a[0] not in removed])
        if removed:
            _insert_aliases(db, rows)
            rows = []
            for name in removed:
                db.execute("DELETE FROM aliases WHERE entity_id = ? AND name = ?",
                           [entity_id, name])
    _insert_aliases(db, rows)


def _upsert_rows(db: sqlite_utils.Database, table: str, columns: tuple[str, ...],
                 rows: list[tuple]) -> None:
    """Insert each row, or update the columns it has (what sqlite-utils' upsert does)."""
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
    db.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) "
                        f"ON CONFLICT(id) DO UPDATE SET {updates}", rows)


def _entity_row(entity: Entity) -> dict:
    place = entity.place
    row: dict[str, object] = {"id": entity.id, "kind": entity.kind,
           "name": strip_invisible(entity.name) or entity.name, "key": entity.key,
           "attrs": json.dumps(entity.attrs, ensure_ascii=False) if entity.attrs else None,
           "updated_at": now()}
    if place is not None:
        row.update({
            "lat": place.point.lat if place.point else None,
            "lon": place.point.lon if place.point else None,
            "geonameid": place.geonameid, "country": place.country, "admin1": place.admin1,
            "feature": place.feature, "precision": place.precision,
            "confidence": round(place.confidence, 3), "reason": place.reason,
            "geocoder": place.geocoder, "status": place.status, "ref_id": place.ref_id})
    return row


def add_alias(db: sqlite_utils.Database, entity_id: str, name: str, source: str) -> None:
    add_aliases(db, entity_id, [(name, source)])


def add_aliases(db: sqlite_utils.Database, entity_id: str,
                aliases: list[tuple[str, str]]) -> None:
    """Add (name, source) pairs an entity does not have yet, in one executemany; invisible
    characters (zero-width, bidi controls) are removed from the names."""
    _insert_aliases(db, _alias_rows(entity_id, aliases))


def _alias_rows(entity_id: str, aliases: list[tuple[str, str]]
                ) -> list[tuple[str, str, str, str]]:
    visible = [(strip_invisible(name), source) for name, source in aliases]
    return [(entity_id, name, fold_name(name), source) for name, source in visible
            if name.strip()]


def _insert_aliases(db: sqlite_utils.Database, rows: list[tuple[str, str, str, str]]) -> None:
    db.conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?, ?, ?)", rows)
