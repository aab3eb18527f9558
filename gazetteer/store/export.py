"""Streaming entities with their aliases and co-mentions, for the exports and the map."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import sqlite_utils

from .read import _entity_filters, dated_documents

def iter_geocoded_places(db: sqlite_utils.Database, group: str | None = None,
                         bbox: tuple[float, float, float, float] | None = None
                         ) -> Iterator[tuple[dict, list[str], list[dict]]]:
    """Yield (place row with counts, alias names, related armed groups) per geocoded place."""
    return iter_entities(db, "place", group=group, bbox=bbox, located=True)


def iter_entities(db: sqlite_utils.Database, kind: str = "place", group: str | None = None,
                  country: str | None = None,
                  bbox: tuple[float, float, float, float] | None = None, located: bool = False,
                  since: str | None = None, until: str | None = None
                  ) -> Iterator[tuple[dict, list[str], list[dict]]]:
    """Yield (entity row with counts, alias names, co-mentioned entities of the other kind)
    for the entities of one kind, optionally only those mentioned alongside a group, in a
    country, inside a bounding box (w, s, e, n), with coordinates, or in documents
    published between since and until (counts and co-mentions are then of those documents).

    Streams: aliases and related entities come from two more queries in the same id order,
    merged as they go (two queries per entity took minutes for 200k places)."""
    period = bool(since or until)
    filtered = bool(bbox or group or country or period)
    where, params = _entity_filters(kind, country, bbox, since, until)
    if not filtered:
        # "+" keeps the planner on the primary key: rows stream in id order instead of every
        # entity being sorted first.
        where[0] = "+" + where[0]
    if located:
        where.append("e.lat IS NOT NULL")
    documents, dated = dated_documents(since, until)
    in_period = f" AND g.document_id IN ({documents})" if period else ""
    if group:
        where.append("e.id IN (SELECT m.entity_id FROM mentions g JOIN mentions m ON "
                     "m.document_id = g.document_id AND m.sentence_no = g.sentence_no "
                     f"WHERE g.entity_id = ?{in_period})")
        params += [group, *(dated if period else [])]
    clause = " AND ".join(where)
    chosen = f"SELECT e.id FROM entities e WHERE {clause}"
    sql = f"SELECT e.* FROM entities e WHERE {clause} ORDER BY e.id"
    only = f"WHERE entity_id IN ({chosen})" if filtered else ""
    aliases = _grouped(db.execute(
        f"SELECT entity_id, name FROM aliases {only} ORDER BY entity_id, source, name",
        params if only else []))
    c_period = f" AND c.document_id IN ({documents})" if period else ""
    related = _grouped(db.execute(
        f"SELECT c.entity_id, c.other_id AS id, e.name, sum(c.count) AS count "
        f"FROM co_mentions c JOIN entities e ON e.id = c.other_id "
        f"WHERE c.entity_id IN ({chosen}){c_period} GROUP BY c.entity_id, c.other_id "
        f"ORDER BY c.entity_id, count DESC, e.name, c.other_id",
        [*params, *(dated if period else [])]))
    # counts as a third stream in id order: two subqueries per row were a fifth of the
    # export's time on 200,000 places (most of them never mentioned)
    m_period = f" AND m.document_id IN ({documents})" if period else ""
    counts = _grouped(db.execute(
        f"SELECT m.entity_id, count(*), count(DISTINCT m.document_id) FROM mentions m "
        f"WHERE m.entity_id IN ({chosen}){m_period} GROUP BY m.entity_id "
        f"ORDER BY m.entity_id", [*params, *(dated if period else [])]))
    cursor = db.execute(sql, params)
    columns = [c[0] for c in cursor.description]
    for values in cursor:
        row = dict(zip(columns, values))
        counted = counts.rows_for(row["id"])
        row["mentions"], row["documents"] = counted[0][1:] if counted else (0, 0)
        names = [r[1] for r in aliases.rows_for(row["id"])]
        others = [{"id": r[1], "name": r[2], "count": r[3]}
                  for r in related.rows_for(row["id"])[:50]]
        yield row, names, others


class _grouped:
    """Rows of a cursor ordered by their first column, handed out id by id, in order."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows = iter(cursor)
        self._next = next(self._rows, None)

    def rows_for(self, entity_id: str) -> list[tuple]:
        if self._next is None or self._next[0] > entity_id:  # most ids: nothing here
            return []
        while self._next is not None and self._next[0] < entity_id:
            self._next = next(self._rows, None)
        found = []
        while self._next is not None and self._next[0] == entity_id:
            found.append(self._next)
            self._next = next(self._rows, None)
        return found


def iter_mentions(db: sqlite_utils.Database, kind: str | None = None,
                  entity: str | None = None, group: str | None = None,
                  country: str | None = None,
                  bbox: tuple[float, float, float, float] | None = None,
                  since: str | None = None, until: str | None = None,
                  located: bool = False) -> Iterator[dict]:
    """Yield one row per mention, in document order: the document (id, title, url,
    published), the entity (id, name, kind, latitude, longitude), the sentence, its page,
    and the armed groups named in the same sentence (a JSON array of names). Filters:
    the entity's kind, id, country or bbox; a group named in the same sentence; the
    document's publication date; only entities with coordinates."""
    where, params = _mention_filters(kind, entity, group, country, bbox, since, until)
    if located:
        where.append("e.lat IS NOT NULL")
    sql = ("SELECT m.document_id, d.title, d.url, d.published, m.entity_id, e.name, e.kind, "
           "e.lat AS latitude, e.lon AS longitude, m.text, m.sentence, "
           "(SELECT json_group_array(DISTINCT ge.name) FROM mentions g JOIN entities ge "
           "ON ge.id = g.entity_id WHERE g.document_id = m.document_id "
           "AND g.sentence_no = m.sentence_no AND g.kind = 'armed_group' "
           "AND g.entity_id != m.entity_id) AS groups, m.page "
           "FROM mentions m JOIN entities e ON e.id = m.entity_id "
           f"JOIN documents d ON d.id = m.document_id WHERE {' AND '.join(where)} "
           "ORDER BY m.document_id, m.start")
    for row in db.query(sql, params):
        yield dict(row)


def _mention_filters(kind: str | None, entity: str | None, group: str | None,
                     country: str | None, bbox: tuple[float, float, float, float] | None,
                     since: str | None, until: str | None) -> tuple[list[str], list]:
    where, params = _entity_filters(None, country, bbox)
    for column, value in (("m.kind", kind), ("m.entity_id", entity)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if group:
        where.append("EXISTS (SELECT 1 FROM mentions g WHERE g.document_id = m.document_id "
                     "AND g.sentence_no = m.sentence_no AND g.entity_id = ?)")
        params.append(group)
    if since or until:
        documents, dated = dated_documents(since, until)
        where.append(f"m.document_id IN ({documents})")
        params += dated
    return where, params
