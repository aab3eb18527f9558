"""Reading entities, documents and mentions for the API, the pages and the map."""

from __future__ import annotations

import json

import sqlite_utils

from ..errors import BadInput, NotFound
from ..fold import fold_name
from .derived import PUBLISHED_DATE

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
                  bbox: tuple[float, float, float, float] | None = None,
                  since: str | None = None, until: str | None = None
                  ) -> tuple[list[dict], int]:
    """Return (page of entities with mention counts, total), filtered by kind, any alias
    in any spelling (FTS5 over folded keys), country, bounding box (w, s, e, n) and the
    publication dates of the documents naming them (ISO dates, inclusive; the counts
    are then of those documents' mentions)."""
    where, params = _entity_filters(kind, country, bbox, since, until)
    counted, count_params = mention_count_sql("e.id", since, until)
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
        f"e.status, e.first_seen, e.last_seen, {counted} AS mentions "
        f"FROM entities e WHERE {clause} ORDER BY mentions DESC, e.name, e.id LIMIT ? OFFSET ?",
        count_params + params + [limit, offset])]
    return rows, total


def dated_documents(since: str | None, until: str | None) -> tuple[str, list]:
    """SQL selecting the ids of documents published between since and until (ISO dates,
    inclusive, either may be None), with its parameters; undated documents never match."""
    where, params = ["d.published IS NOT NULL"], []
    if since:
        where.append(f"{PUBLISHED_DATE} >= ?")
        params.append(since)
    if until:
        where.append(f"{PUBLISHED_DATE} <= ?")
        params.append(until)
    return f"SELECT d.id FROM documents d WHERE {' AND '.join(where)}", params


def mention_count_sql(entity: str, since: str | None, until: str | None,
                      distinct: str = "*") -> tuple[str, list]:
    """A subquery counting an entity's mentions (or count(DISTINCT document_id)), only
    in documents of the period when one is given."""
    sql = f"(SELECT count({distinct}) FROM mentions m WHERE m.entity_id = {entity}"
    if not (since or until):
        return sql + ")", []
    documents, params = dated_documents(since, until)
    return sql + f" AND m.document_id IN ({documents}))", params


def _entity_filters(kind: str | None, country: str | None,
                    bbox: tuple[float, float, float, float] | None,
                    since: str | None = None, until: str | None = None
                    ) -> tuple[list[str], list]:
    """WHERE conditions (on entities e) and their parameters for kind, country, bbox and
    the period of the documents naming them."""
    where: list[str] = ["e.kind = ?"] if kind else ["1=1"]
    params: list[object] = [kind] if kind else []
    if country:
        where.append("e.country = ?")
        params.append(country.upper())
    if bbox:
        where.append("e.lon BETWEEN ? AND ? AND e.lat BETWEEN ? AND ?")
        params += [bbox[0], bbox[2], bbox[1], bbox[3]]
    if since or until:
        documents, dated = dated_documents(since, until)
        where.append(f"e.id IN (SELECT m.entity_id FROM mentions m WHERE m.document_id IN "
                     f"({documents}))")
        params += dated
    return where, params


def entity_counts(db: sqlite_utils.Database, entity_id: str) -> dict:
    row = db.execute("SELECT count(*), count(DISTINCT document_id) FROM mentions "
                     "WHERE entity_id = ?", [entity_id]).fetchone()
    return {"mentions": row[0], "documents": row[1]}


def entity_mentions(db: sqlite_utils.Database, entity_id: str, limit: int, offset: int,
                    since: str | None = None, until: str | None = None
                    ) -> tuple[list[dict], int]:
    """A page of an entity's mentions (in documents of the period, when one is given)."""
    where, params = "entity_id = ?", [entity_id]
    if since or until:
        documents, dated = dated_documents(since, until)
        where += f" AND document_id IN ({documents})"
        params += dated
    total = db.execute(f"SELECT count(*) FROM mentions WHERE {where}", params).fetchone()[0]
    rows = [dict(r) for r in db.query(
        "SELECT document_id, start, \"end\", text, kind, sentence, page, method, confidence, "
        f"resolution FROM mentions WHERE {where} ORDER BY document_id, start "
        "LIMIT ? OFFSET ?", [*params, limit, offset])]
    return rows, total


# What the API shows of a document besides its text.
DOCUMENT_FIELDS = ("id", "title", "source", "url", "published", "published_source",
                   "site_name", "author", "language", "chars", "ingested_at")


def list_documents(db: sqlite_utils.Database, limit: int, offset: int) -> tuple[list[dict], int]:
    total = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    columns = ", ".join(f"d.{c}" for c in DOCUMENT_FIELDS)
    rows = [dict(r) for r in db.query(
        f"SELECT {columns}, (SELECT count(*) FROM mentions "
        "m WHERE m.document_id = d.id) AS mentions FROM documents d ORDER BY d.ingested_at, "
        "d.id LIMIT ? OFFSET ?", [limit, offset])]
    return rows, total


def get_document(db: sqlite_utils.Database, document_id: str) -> dict:
    """One document with its text, metadata and page count (pages: null when not paged)."""
    rows = list(db.query(f"SELECT {', '.join(DOCUMENT_FIELDS)}, text, pages FROM documents "
                         "WHERE id = ?", [document_id]))
    if not rows:
        raise NotFound(f"no document with id {document_id!r}")
    row = rows[0]
    row["pages"] = len(json.loads(row["pages"])) if row["pages"] else None
    return row


def count_rows(db: sqlite_utils.Database, table: str) -> int:
    if table not in {"documents", "entities", "mentions", "aliases", "ref_places", "ref_names"}:
        raise BadInput(f"unknown table {table!r}")
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def document_mentions(db: sqlite_utils.Database, document_id: str) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT m.start, m.\"end\", m.text, m.kind, m.entity_id, e.name, e.lat, e.lon, "
        "e.geonameid, m.page, m.method, m.resolution FROM mentions m JOIN entities e "
        "ON e.id = m.entity_id WHERE m.document_id = ? ORDER BY m.start", [document_id])]


def neighbours(db: sqlite_utils.Database, entity_id: str, limit: int = 50,
               since: str | None = None, until: str | None = None) -> list[dict]:
    """Entities of the other kind mentioned in the same sentence, with counts (pairs of
    mentions), from the co-mention counts kept at save time: a row per neighbour and
    document, however many times a report names the entity."""
    where, params = "c.entity_id = ?", [entity_id]
    if since or until:
        documents, dated = dated_documents(since, until)
        where += f" AND c.document_id IN ({documents})"
        params += dated
    return [dict(r) for r in db.query(
        "SELECT c.other_id AS id, e.name, e.kind, sum(c.count) AS count FROM co_mentions c "
        f"JOIN entities e ON e.id = c.other_id WHERE {where} GROUP BY c.other_id "
        "ORDER BY count DESC, e.name, c.other_id LIMIT ?", [*params, limit])]


def merged_ids(db: sqlite_utils.Database) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("SELECT from_id, into_id FROM merges")}
