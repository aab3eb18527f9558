"""What the map and the pages read: places in a view clustered on a grid in SQL (so the
server holds one view's cells, never the store), the groups of the legend, an entity's
mentions with their documents, and optional columns other versions add."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

# Points handed out one by one in a view; past that, the grid's cells.
MAX_POINTS = 400
CELL_PIXELS = 64  # one cluster per 64x64 screen pixels at most
# Cells across the view's wider side, at most: a 4,096-pixel screen's worth. A map asks for
# its own viewport, far under this; a whole-world bbox at zoom 22 would otherwise make every
# place a cell of its own (200,000 points, +400 MiB in the server for one request).
MAX_CELLS_ACROSS = 64


@dataclass(frozen=True)
class MapView:
    """A view of the map and its filters: bbox (w, s, e, n), zoom, group, country, dates."""

    bbox: tuple[float, float, float, float]
    zoom: int
    group: str | None = None
    country: str | None = None
    since: str | None = None
    until: str | None = None


def columns(db: sqlite_utils.Database, table: str) -> set[str]:
    """The table's column names (documents' url/published and entities' first_seen/last_seen
    come with a later schema: the pages use them when they are there)."""
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def has_dates(db: sqlite_utils.Database) -> bool:
    return {"first_seen", "last_seen"} <= columns(db, "entities")


def _view_filters(db: sqlite_utils.Database, view: MapView) -> tuple[str, list]:
    where = ["e.kind = 'place'", "e.lat BETWEEN ? AND ?", "e.lon BETWEEN ? AND ?"]
    w, s, e, n = view.bbox
    params: list[object] = [s, n, w, e]
    if view.country:
        where.append("e.country = ?")
        params.append(view.country.upper())
    if view.group:
        where.append("e.id IN (SELECT m.entity_id FROM mentions g JOIN mentions m ON "
                     "m.document_id = g.document_id AND m.sentence = g.sentence "
                     "WHERE g.entity_id = ? AND m.kind = 'place')")
        params.append(view.group)
    if (view.since or view.until) and has_dates(db):
        # seen within the window: last seen after its start, first seen before its end
        if view.since:
            where.append("e.last_seen >= ?")
            params.append(view.since)
        if view.until:
            where.append("e.first_seen <= ?")
            params.append(view.until + "\uffff")  # a date includes its datetimes
    return " AND ".join(where), params


def cell_degrees(zoom: int) -> float:
    """The grid's cell in degrees of longitude: CELL_PIXELS at this zoom (256-pixel tiles)."""
    return 360.0 / (2 ** zoom) * CELL_PIXELS / 256


def map_view(db: sqlite_utils.Database, view: MapView) -> dict:
    """The places in the view: every one when there are at most MAX_POINTS, else one cluster
    per grid cell (count, mean position, bounds) with single places as points."""
    clause, params = _view_filters(db, view)
    total = db.execute(f"SELECT count(*) FROM entities e WHERE {clause}", params).fetchone()[0]
    if total <= MAX_POINTS:
        ids = [r[0] for r in db.execute(f"SELECT e.id FROM entities e WHERE {clause}", params)]
        return {"total": total, "clusters": [], "points": place_points(db, ids)}
    w, s, e, n = view.bbox
    size = max(cell_degrees(view.zoom), max(abs(e - w), abs(n - s)) / MAX_CELLS_ACROSS)
    cells = db.execute(
        f"SELECT count(*), avg(e.lat), avg(e.lon), min(e.lat), min(e.lon), max(e.lat), "
        f"max(e.lon), max(e.rowid) FROM entities e WHERE {clause} "
        f"GROUP BY CAST((e.lon + 180) / ? AS INTEGER), CAST((e.lat + 90) / ? AS INTEGER)",
        params + [size, size]).fetchall()
    clusters = [{"count": c[0], "lat": round(c[1], 5), "lon": round(c[2], 5),
                 "bounds": [c[3], c[4], c[5], c[6]]} for c in cells if c[0] > 1]
    # rowids, not ids: the (kind, lat, lon) index holds the rowid, so no row is read per place
    singles = [c[7] for c in cells if c[0] == 1]
    return {"total": total, "clusters": clusters,
            "points": place_points(db, _ids_of_rowids(db, singles))}


def _ids_of_rowids(db: sqlite_utils.Database, rowids: list[int]) -> list[str]:
    if not rowids:
        return []
    marks = ",".join("?" * len(rowids))
    return [r[0] for r in db.execute(f"SELECT id FROM entities WHERE rowid IN ({marks})",
                                     rowids)]


def place_points(db: sqlite_utils.Database, ids: list[str]) -> list[dict]:
    """Compact rows for markers: position, mentions, how sure, and the armed groups named in
    the same sentence (most often first, at most 5)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT e.id, e.name, e.lat, e.lon, e.precision, e.confidence, e.status, e.country, "
        f"(SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) FROM entities e "
        f"WHERE e.id IN ({marks}) ORDER BY e.id", ids).fetchall()
    groups = _groups_named_with(db, ids)
    return [{"id": r[0], "name": r[1], "lat": r[2], "lon": r[3], "precision": r[4],
             "confidence": r[5], "status": r[6], "country": r[7], "mentions": r[8],
             "approximate": _approximate(r[4], r[5], r[6]), "groups": groups.get(r[0], [])}
            for r in rows]


def _approximate(precision: int | None, confidence: float | None, status: str | None) -> bool:
    """Placed near, not at: not precise to the place, or the geocoder was unsure."""
    return status == "approximate" or (precision or 1) > 1 or (confidence or 0) < 0.5


def _groups_named_with(db: sqlite_utils.Database, ids: list[str]) -> dict[str, list[str]]:
    marks = ",".join("?" * len(ids))
    found: dict[str, list[str]] = {}
    for place, group, _ in db.execute(
            f"SELECT m.entity_id, o.entity_id, count(*) AS n FROM mentions m JOIN mentions o "
            f"ON o.document_id = m.document_id AND o.sentence = m.sentence "
            f"AND o.kind = 'armed_group' WHERE m.entity_id IN ({marks}) AND m.kind = 'place' "
            f"GROUP BY m.entity_id, o.entity_id ORDER BY m.entity_id, n DESC, o.entity_id", ids):
        if len(found.setdefault(place, [])) < 5:
            found[place].append(group)
    return found


def legend_groups(db: sqlite_utils.Database, limit: int) -> list[dict]:
    """The armed groups named most often in the same sentence as a place."""
    return [dict(r) for r in db.query(
        "SELECT g.entity_id AS id, e.name, count(DISTINCT m.entity_id) AS places, "
        "count(*) AS mentions FROM mentions g JOIN mentions m ON m.document_id = g.document_id "
        "AND m.sentence = g.sentence AND m.kind = 'place' JOIN entities e ON e.id = g.entity_id "
        "WHERE g.kind = 'armed_group' GROUP BY g.entity_id ORDER BY mentions DESC, e.name "
        "LIMIT ?", [limit])]


def date_range(db: sqlite_utils.Database) -> dict:
    """The first and last dates any entity was seen, or nulls when the store has none."""
    if not has_dates(db):
        return {"first": None, "last": None}
    row = db.execute("SELECT min(first_seen), max(last_seen) FROM entities").fetchone()
    return {"first": row[0], "last": row[1]}


def entity_sources(db: sqlite_utils.Database, entity_id: str, limit: int,
                   offset: int) -> tuple[list[dict], int]:
    """An entity's mentions with their document's title, date and original URL."""
    doc_columns = columns(db, "documents")
    extra = "".join(f", d.{c}" if c in doc_columns else f", NULL AS {c}"
                    for c in ("url", "published"))
    total = db.execute("SELECT count(*) FROM mentions WHERE entity_id = ?",
                       [entity_id]).fetchone()[0]
    rows = [dict(r) for r in db.query(
        f"SELECT m.id, m.document_id, m.start, m.\"end\", m.text, m.sentence, m.method, "
        f"m.resolution, d.title, d.source{extra} FROM mentions m JOIN documents d "
        f"ON d.id = m.document_id WHERE m.entity_id = ? ORDER BY d.id, m.start "
        f"LIMIT ? OFFSET ?", [entity_id, limit, offset])]
    return rows, total


def document_meta(db: sqlite_utils.Database, document_id: str) -> dict:
    """The document's optional metadata columns (url, published, site, author), when stored."""
    wanted = [c for c in ("url", "published", "site_name", "author", "language")
              if c in columns(db, "documents")]
    if not wanted:
        return {}
    row = db.execute(f"SELECT {', '.join(wanted)} FROM documents WHERE id = ?",
                     [document_id]).fetchone()
    return dict(zip(wanted, row)) if row else {}


def mention_ids(db: sqlite_utils.Database, document_id: str) -> list[dict]:
    """A document's mentions with ids (for re-pointing one of them)."""
    return [dict(r) for r in db.query(
        "SELECT m.id, m.start, m.\"end\", m.kind, m.entity_id, e.name FROM mentions m "
        "JOIN entities e ON e.id = m.entity_id WHERE m.document_id = ? ORDER BY m.start",
        [document_id])]


def merged_into(db: sqlite_utils.Database, entity_id: str) -> str | None:
    """The survivor an id was merged into, or None."""
    row = db.execute("SELECT into_id FROM merges WHERE from_id = ?", [entity_id]).fetchone()
    return row[0] if row else None
