"""Writing documents, their mentions and entities, and aliases."""

from __future__ import annotations

import json
from dataclasses import replace

import sqlite_utils

from ..fold import fold_name, strip_invisible
from ..sources import page_of
from ..types import Document, Entity, Mention
from .derived import note_seen, refresh_co_mentions, sentence_number
from .read import merged_ids
from .revise import with_overrides, without_rejected
from .schema import deferred_search, now, transaction

def document_exists(db: sqlite_utils.Database, document_id: str) -> bool:
    return db.execute("SELECT 1 FROM documents WHERE id = ?", [document_id]).fetchone() is not None


def save_document(db: sqlite_utils.Database, doc: Document, mentions: list[Mention],
                  entities: list[Entity]) -> None:
    """Store a document with its mentions and entities in one transaction; entities a
    curator merged away are redirected to the entity they were merged into."""
    redirects = merged_ids(db)
    if redirects:
        mentions = [replace(m, entity_id=redirects.get(m.entity_id, m.entity_id))
                    for m in mentions]
        entities = [e for e in entities if e.id not in redirects]
    # curators' decisions: re-pointed mentions keep their entity, rejected ones are not made
    mentions, entities = without_rejected(db, with_overrides(db, mentions), entities)
    with transaction(db):
        _insert_rows(db, "documents", [_document_row(doc)], "OR IGNORE")
        for entity in entities:
            upsert_entity(db, entity)
        db.execute("DELETE FROM mentions WHERE document_id = ?", [doc.id])
        unplaced: dict[str, int] = {}
        _insert_rows(db, "mentions", [_mention_row(m, doc, unplaced) for m in mentions])
        refresh_co_mentions(db, [doc.id])
        if doc.published:
            note_seen(db, sorted({m.entity_id for m in mentions}), doc.published)


def save_documents(db: sqlite_utils.Database,
                   analysed: list[tuple[Document, list[Mention], list[Entity]]]) -> None:
    """Store a batch of analysed documents in one transaction (one flush of the search
    index per batch, not per document; each entity's search row rebuilt once)."""
    with transaction(db), deferred_search(db):
        for doc, mentions, entities in analysed:
            save_document(db, doc, mentions, entities)


def _document_row(doc: Document) -> dict:
    return {"id": doc.id, "title": doc.title, "source": doc.source, "text": doc.text,
            "chars": len(doc.text), "ingested_at": now(), "url": doc.url,
            "published": doc.published, "published_source": doc.published_source,
            "site_name": doc.site_name, "author": doc.author, "language": doc.language,
            "pages": json.dumps(list(doc.pages)) if doc.pages else None}


def _mention_row(m: Mention, doc: Document, unplaced: dict[str, int]) -> dict:
    """A mention's row; its page comes from the document's page offsets, and its sentence
    number is where its sentence starts."""
    return {"id": f"{m.document_id}:{m.start}:{m.end}", "document_id": m.document_id,
            "entity_id": m.entity_id, "kind": m.kind, "start": m.start, "end": m.end,
            "text": m.text, "sentence": m.sentence, "method": m.method,
            "confidence": round(m.confidence, 3), "resolution": m.resolution,
            "page": page_of(doc, m.start),
            "sentence_no": sentence_number(doc.text, m.start, m.end, m.sentence, unplaced)}


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
    row = _entity_row(entity)
    if curated is None:
        curated = curations(db, [entity.id]).get(entity.id, {})
    row.update({k: v for k, v in curated.items() if not k.startswith("_")})
    row["curated"] = json.dumps(curated) if curated else None
    _upsert_row(db, "entities", row)
    add_observed_aliases(db, entity.id, entity.aliases, curated)


def add_observed_aliases(db: sqlite_utils.Database, entity_id: str,
                         aliases: list[tuple[str, str]], curated: dict | None = None) -> None:
    """Add the spellings reports use, less those a curator removed from the entity."""
    if curated is None:
        curated = curations(db, [entity_id]).get(entity_id, {})
    removed = set(curated.get("_removed_aliases", []))
    add_aliases(db, entity_id, [a for a in aliases if a[0] not in removed])
    for name in removed:
        db.execute("DELETE FROM aliases WHERE entity_id = ? AND name = ?", [entity_id, name])


def _insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict],
                 conflict: str = "") -> None:
    """Plain executemany: sqlite-utils' insert_all introspects the table on every call."""
    if rows:
        columns = ", ".join(f'"{c}"' for c in rows[0])
        marks = ", ".join("?" * len(rows[0]))
        db.conn.executemany(f"INSERT {conflict} INTO {table} ({columns}) VALUES ({marks})",
                            [list(r.values()) for r in rows])


def _upsert_row(db: sqlite_utils.Database, table: str, row: dict) -> None:
    """Insert the row, or update the columns it has (what sqlite-utils' upsert does)."""
    columns = ", ".join(f'"{c}"' for c in row)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in row if c != "id")
    db.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))}) "
                    f"ON CONFLICT(id) DO UPDATE SET {updates}", list(row.values()))


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
    visible = [(strip_invisible(name), source) for name, source in aliases]
    db.conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?, ?, ?)",
                        [(entity_id, name, fold_name(name), source) for name, source in visible
                         if name.strip()])
