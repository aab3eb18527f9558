"""Reading entities, documents and mentions for the API, the pages and the map."""

from __future__ import annotations

import json

import sqlite_utils

from ..errors import BadInput, NotFound
from ..fold import fold_name

def get_entity(db: sqlite_utils.Database, entity_id: str) -> dict:
    """Return one entity row; raises NotFound."""
    rows = list(db.query("SELECT * FROM entities WHERE id = ?", [entity_id]))
    if not rows:
        raise NotFound(f"no entity with id {entity_id!r}")
    row = rows[0]
    row["attrs"] = json.loads(row["attrs"]) if row["attrs"] else {}
    row["curated"] = json.loads(row["curated"]) if row["curated"] else {}
    return row


def entity_names(db: sqlite_utils.Database, entity_ids: list[str]) -> dict[str, str]:
    """id -> stored name, for the ids that are stored."""
    if not entity_ids:
        return {}
    marks = ",".join("?" * len(entity_ids))
    return {r[0]: r[1] for r in db.execute(
        f"SELECT id, name FROM entities WHERE id IN ({marks})", entity_ids)}


def entities_by_alias_key(db: sqlite_utils.Database, key: str,
                          kind: str | None = None) -> list[dict]:
    """Stored entities one of whose names folds to key, with that name's source."""
    sql = ("SELECT e.id, e.kind, e.name, e.lat, e.lon, e.geonameid, e.country, e.feature, "
           "min(a.source) AS source FROM aliases a JOIN entities e ON e.id = a.entity_id "
           "WHERE a.key = ?" + (" AND e.kind = ?" if kind else "") + " GROUP BY e.id")
    return [dict(r) for r in db.query(sql, [key, kind] if kind else [key])]


def entity_aliases(db: sqlite_utils.Database, entity_id: str) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT name, source FROM aliases WHERE entity_id = ? ORDER BY source, name",
        [entity_id])]


def fts_query(q: str) -> str | None:
    """A safe FTS5 query from user text: folded words, each quoted, prefix-matched (user
    text never reaches FTS syntax, so quotes, NEAR and * are just characters)."""
    words = fold_name(q).split()[:12]
    return " ".join(f'"{w}"*' for w in words) or None


def list_entities(db: sqlite_utils.Database, kind: str | None = None, q: str | None = None,
                  limit: int = 50, offset: int = 0, country: str | None = None,
                  bbox: tuple[float, float, float, float] | None = None
                  ) -> tuple[list[dict], int]:
    """Return (page of entities with mention counts, total), filtered by kind, any alias
    in any spelling (FTS5 over folded keys), country and bounding box (w, s, e, n)."""
    where, params = _entity_filters(kind, country, bbox)
    if q is not None:
        query = fts_query(q)
        if query is None:
            return [], 0
        where.append("e.rowid IN (SELECT rowid FROM entities_fts WHERE entities_fts MATCH ?)")
        params.append(query)
    clause = " AND ".join(where)
    total = db.execute(f"SELECT count(*) FROM entities e WHERE {clause}", params).fetchone()[0]
    rows = [dict(r) for r in db.query(
        f"SELECT e.id, e.kind, e.name, e.lat, e.lon, e.geonameid, e.country, e.precision, "
        f"e.status, (SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) AS mentions "
        f"FROM entities e WHERE {clause} ORDER BY mentions DESC, e.name, e.id LIMIT ? OFFSET ?",
        params + [limit, offset])]
    return rows, total


def _entity_filters(kind: str | None, country: str | None,
                    bbox: tuple[float, float, float, float] | None) -> tuple[list[str], list]:
    """WHERE conditions (on entities e) and their parameters for kind, country and bbox."""
    where: list[str] = ["e.kind = ?"] if kind else ["1=1"]
    params: list[object] = [kind] if kind else []
    if country:
        where.append("e.country = ?")
        params.append(country.upper())
    if bbox:
        where.append("e.lon BETWEEN ? AND ? AND e.lat BETWEEN ? AND ?")
        params += [bbox[0], bbox[2], bbox[1], bbox[3]]
    return where, params


def entity_counts(db: sqlite_utils.Database, entity_id: str) -> dict:
    row = db.execute("SELECT count(*), count(DISTINCT document_id) FROM mentions "
                     "WHERE entity_id = ?", [entity_id]).fetchone()
    return {"mentions": row[0], "documents": row[1]}


def entity_mentions(db: sqlite_utils.Database, entity_id: str, limit: int,
                    offset: int) -> tuple[list[dict], int]:
    total = db.execute("SELECT count(*) FROM mentions WHERE entity_id = ?",
                       [entity_id]).fetchone()[0]
    rows = [dict(r) for r in db.query(
        "SELECT document_id, start, \"end\", text, kind, sentence, method, confidence, "
        "resolution FROM mentions WHERE entity_id = ? ORDER BY document_id, start "
        "LIMIT ? OFFSET ?", [entity_id, limit, offset])]
    return rows, total


def list_documents(db: sqlite_utils.Database, limit: int, offset: int) -> tuple[list[dict], int]:
    total = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    rows = [dict(r) for r in db.query(
        "SELECT d.id, d.title, d.source, d.chars, d.ingested_at, (SELECT count(*) FROM mentions "
        "m WHERE m.document_id = d.id) AS mentions FROM documents d ORDER BY d.ingested_at, "
        "d.id LIMIT ? OFFSET ?", [limit, offset])]
    return rows, total


def get_document(db: sqlite_utils.Database, document_id: str) -> dict:
    rows = list(db.query("SELECT id, title, source, text, chars, ingested_at FROM documents "
                         "WHERE id = ?", [document_id]))
    if not rows:
        raise NotFound(f"no document with id {document_id!r}")
    return rows[0]


def count_rows(db: sqlite_utils.Database, table: str) -> int:
    if table not in {"documents", "entities", "mentions", "aliases", "ref_places", "ref_names"}:
        raise BadInput(f"unknown table {table!r}")
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def document_mentions(db: sqlite_utils.Database, document_id: str) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT m.start, m.\"end\", m.text, m.kind, m.entity_id, e.name, e.lat, e.lon, "
        "e.geonameid, m.method, m.resolution FROM mentions m JOIN entities e "
        "ON e.id = m.entity_id WHERE m.document_id = ? ORDER BY m.start", [document_id])]


def neighbours(db: sqlite_utils.Database, entity_id: str, limit: int = 50) -> list[dict]:
    """Entities of the other kind mentioned in the same sentence, with counts."""
    return [dict(r) for r in db.query(
        "SELECT o.entity_id AS id, e.name, e.kind, count(*) AS count FROM mentions m "
        "JOIN mentions o ON o.document_id = m.document_id AND o.sentence = m.sentence "
        "AND o.kind != m.kind JOIN entities e ON e.id = o.entity_id "
        "WHERE m.entity_id = ? GROUP BY o.entity_id ORDER BY count DESC, e.name, o.entity_id "
        "LIMIT ?",
        [entity_id, limit])]


def merged_ids(db: sqlite_utils.Database) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("SELECT from_id, into_id FROM merges")}
