"""The SQLite store (through sqlite-utils): the only module that speaks SQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .errors import BadInput, DatabaseMissing, DatabaseUnreadable, NotFound
from .types import Document, Entity, Mention

SCHEMA_VERSION = "2"
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS ref_places (
    ref_id TEXT PRIMARY KEY, geonameid INTEGER, name TEXT NOT NULL, lat REAL, lon REAL,
    country TEXT, admin1 TEXT, feature TEXT, population INTEGER, source TEXT, within TEXT,
    note TEXT);
CREATE TABLE IF NOT EXISTS ref_names (
    ref_id TEXT NOT NULL REFERENCES ref_places(ref_id), name TEXT NOT NULL, key TEXT NOT NULL, skel TEXT NOT NULL,
    curated INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ref_names_key ON ref_names(key, ref_id);
CREATE INDEX IF NOT EXISTS ref_names_skel ON ref_names(skel, ref_id);
CREATE INDEX IF NOT EXISTS ref_names_ref ON ref_names(ref_id);
CREATE INDEX IF NOT EXISTS ref_places_geonameid ON ref_places(geonameid);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT, source TEXT, text TEXT NOT NULL, chars INTEGER,
    ingested_at TEXT);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, key TEXT, lat REAL, lon REAL,
    geonameid INTEGER, country TEXT, admin1 TEXT, feature TEXT, precision INTEGER,
    confidence REAL, reason TEXT, geocoder TEXT, status TEXT, ref_id TEXT, attrs TEXT,
    curated TEXT, updated_at TEXT);
CREATE INDEX IF NOT EXISTS entities_kind ON entities(kind, name);
CREATE INDEX IF NOT EXISTS entities_lat_lon ON entities(lat, lon);
-- bbox with kind: without it the planner walks every place through entities_kind
CREATE INDEX IF NOT EXISTS entities_kind_lat_lon ON entities(kind, lat, lon);
CREATE TABLE IF NOT EXISTS aliases (
    entity_id TEXT NOT NULL REFERENCES entities(id), name TEXT NOT NULL, key TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (entity_id, name));
CREATE INDEX IF NOT EXISTS aliases_key ON aliases(key);
CREATE TABLE IF NOT EXISTS mentions (
    id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id),
    entity_id TEXT NOT NULL REFERENCES entities(id), kind TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, sentence TEXT, method TEXT, confidence REAL, resolution TEXT);
CREATE INDEX IF NOT EXISTS mentions_entity ON mentions(entity_id, document_id);
CREATE INDEX IF NOT EXISTS mentions_document ON mentions(document_id, start);
CREATE TABLE IF NOT EXISTS curations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, entity_id TEXT NOT NULL, action TEXT NOT NULL,
    payload TEXT, who TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS merges (
    from_id TEXT PRIMARY KEY, into_id TEXT NOT NULL, who TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS geocode_cache (
    provider TEXT NOT NULL, query TEXT NOT NULL, response TEXT, fetched_at TEXT,
    PRIMARY KEY (provider, query));
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY, url TEXT, licence TEXT, attribution TEXT, used_for TEXT);
"""

# For people reading the file in Datasette or sqlite3: one row per place and per group, with
# the columns map plugins look for (latitude/longitude) and the counts analysts ask for first.
_VIEWS = """
CREATE VIEW IF NOT EXISTS places AS SELECT
    e.rowid AS rowid, e.id, e.name, e.lat AS latitude, e.lon AS longitude, e.geonameid,
    e.country, e.admin1, e.feature, e.precision, e.confidence, e.status, e.reason, e.geocoder,
    (SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) AS mentions,
    (SELECT count(DISTINCT m.document_id) FROM mentions m WHERE m.entity_id = e.id) AS documents,
    (SELECT group_concat(a.name, ' | ') FROM aliases a WHERE a.entity_id = e.id) AS aliases
    FROM entities e WHERE e.kind = 'place';
CREATE VIEW IF NOT EXISTS armed_groups AS SELECT
    e.rowid AS rowid, e.id, e.name, json_extract(e.attrs, '$.type') AS type,
    json_extract(e.attrs, '$.parent') AS parent,
    json_extract(e.attrs, '$.affiliation') AS affiliation,
    (SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) AS mentions,
    (SELECT count(DISTINCT m.document_id) FROM mentions m WHERE m.entity_id = e.id) AS documents,
    (SELECT group_concat(a.name, ' | ') FROM aliases a WHERE a.entity_id = e.id) AS aliases
    FROM entities e WHERE e.kind = 'armed_group';
"""

# One search row per entity (its name, every alias and every folded key), kept current by
# triggers so that any writer, ours or a curator's sqlite3 session, keeps it true.
_ENTITY_SEARCH_ROWS = """
    INSERT INTO entities_fts (rowid, name, aliases, keys)
        SELECT e.rowid, e.name,
               (SELECT group_concat(a.name, ' | ') FROM aliases a WHERE a.entity_id = e.id),
               (SELECT group_concat(a.key, ' | ') FROM aliases a WHERE a.entity_id = e.id)
        FROM entities e"""
_ENTITY_SEARCH_ROW = ("""
    DELETE FROM entities_fts WHERE rowid = (SELECT rowid FROM entities WHERE id = {ref});"""
                      + _ENTITY_SEARCH_ROWS + " WHERE e.id = {ref};")
_ENTITY_SEARCH = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts USING fts5(
    name, aliases, keys, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS entities_fts_ai AFTER INSERT ON entities BEGIN
    {_ENTITY_SEARCH_ROW.format(ref="new.id")}
END;
CREATE TRIGGER IF NOT EXISTS entities_fts_au AFTER UPDATE OF name ON entities BEGIN
    {_ENTITY_SEARCH_ROW.format(ref="new.id")}
END;
CREATE TRIGGER IF NOT EXISTS entities_fts_ad AFTER DELETE ON entities BEGIN
    DELETE FROM entities_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS aliases_search_ai AFTER INSERT ON aliases BEGIN
    {_ENTITY_SEARCH_ROW.format(ref="new.entity_id")}
END;
CREATE TRIGGER IF NOT EXISTS aliases_search_ad AFTER DELETE ON aliases BEGIN
    {_ENTITY_SEARCH_ROW.format(ref="old.entity_id")}
END;
CREATE TRIGGER IF NOT EXISTS aliases_search_au AFTER UPDATE ON aliases BEGIN
    {_ENTITY_SEARCH_ROW.format(ref="old.entity_id")}
    {_ENTITY_SEARCH_ROW.format(ref="new.entity_id")}
END;
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_db(path: Path | str, create: bool = True) -> sqlite_utils.Database:
    """Return a Database in WAL mode with a busy timeout; the schema is created if missing.

    Raises DatabaseMissing when create is False and the file does not exist, and
    DatabaseUnreadable when the path cannot be opened as an SQLite database.
    """
    path = Path(path)
    if not create and not path.exists():
        raise DatabaseMissing(f"no gazetteer database at {path}; run `gazetteer build` first")
    try:
        db = _connect(path)
    except sqlite3.DatabaseError as exc:  # a folder, a missing folder, a file of another kind
        raise DatabaseUnreadable(f"cannot open {path} as a gazetteer database ({exc})") from exc
    if create:
        fresh = "entities" not in db.table_names()
        db.executescript(_SCHEMA)
        if fresh:
            set_meta(db, "schema_version", SCHEMA_VERSION)
        _migrate(db)
        search_missing = "entities_fts" not in db.table_names()
        db.executescript(_VIEWS + _ENTITY_SEARCH)
        if search_missing:
            db.execute(_ENTITY_SEARCH_ROWS)
        if "aliases_fts" in db.table_names():  # schema 1's alias index: entities_fts now
            db["aliases"].disable_fts()
        if "documents_fts" not in db.table_names():
            db["documents"].enable_fts(["title", "text"], create_triggers=True,
                                       tokenize="unicode61 remove_diacritics 2")
    return db


# Foreign keys added in schema 2 (Datasette and sqlite-utils show them as links).
_FOREIGN_KEYS = [("ref_names", "ref_id", "ref_places", "ref_id"),
                 ("aliases", "entity_id", "entities", "id"),
                 ("mentions", "entity_id", "entities", "id")]


def _migrate(db: sqlite_utils.Database) -> None:
    """Bring a database written by an older version up to this schema, keeping its data."""
    version = get_meta(db, "schema_version")
    if version == SCHEMA_VERSION:
        return
    if version == "1":
        db.add_foreign_keys([fk for fk in _FOREIGN_KEYS if not _has_foreign_key(db, fk[0], fk[1])])
    set_meta(db, "schema_version", SCHEMA_VERSION)


def _has_foreign_key(db: sqlite_utils.Database, table: str, column: str) -> bool:
    return any(fk.column == column for fk in db[table].foreign_keys)


def _connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                           isolation_level=None)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")  # the first read of the file: fails if not SQLite
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """Run the block in one IMMEDIATE transaction: all of it is stored, or none. Inside a
    transaction already open (a batch of documents), the block joins it."""
    if db.conn.in_transaction:
        yield
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


# ---- meta ---------------------------------------------------------------------------------

def get_meta(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


# ---- reference gazetteer --------------------------------------------------------------------

_REF_PLACE_FIELDS = ("ref_id", "geonameid", "name", "lat", "lon", "country", "admin1", "feature",
                     "population", "source", "within", "note")
_REF_NAME_FIELDS = ("ref_id", "name", "key", "skel", "curated")


def insert_ref_places(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    # executemany over tuples: sqlite-utils' insert_all cost more than SQLite itself here
    db.conn.executemany(
        f"INSERT OR REPLACE INTO ref_places ({', '.join(_REF_PLACE_FIELDS)}) "
        f"VALUES ({', '.join('?' * len(_REF_PLACE_FIELDS))})",
        ([row.get(f) for f in _REF_PLACE_FIELDS] for row in rows))


def insert_ref_names(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    db.conn.executemany(
        f"INSERT INTO ref_names ({', '.join(_REF_NAME_FIELDS)}) VALUES (?, ?, ?, ?, ?)",
        ([row[f] for f in _REF_NAME_FIELDS] for row in rows))


def use_large_cache(db: sqlite_utils.Database, mib: int) -> None:
    """A page cache of mib MiB for this connection: bulk loads update indexes over millions
    of names, which thrash SQLite's default 2 MiB."""
    db.execute(f"PRAGMA cache_size = {-1024 * int(mib)}")


def save_sources(db: sqlite_utils.Database, sources: list[dict]) -> None:
    db["sources"].upsert_all(sources, pk="name")


def delete_ref_source(db: sqlite_utils.Database, source: str) -> None:
    """Remove the reference places (and their names) loaded from one source."""
    db.execute("DELETE FROM ref_names WHERE ref_id IN "
               "(SELECT ref_id FROM ref_places WHERE source = ?)", [source])
    db.execute("DELETE FROM ref_places WHERE source = ?", [source])


def delete_ref_names(db: sqlite_utils.Database, ref_ids: list[str]) -> None:
    """Drop the loaded (not curated) names of these places, before they are re-imported."""
    for i in range(0, len(ref_ids), 500):
        chunk = ref_ids[i:i + 500]
        db.execute(f"DELETE FROM ref_names WHERE curated = 0 AND ref_id IN "
                   f"({','.join('?' * len(chunk))})", chunk)


def ref_ids_with_geonameid(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.execute("SELECT ref_id FROM ref_places WHERE geonameid IS NOT NULL")}


_REF_COLUMNS = ("ref_id, geonameid, name, lat, lon, country, admin1, feature, population, "
                "source, within, note")


def ref_places_by_key(db: sqlite_utils.Database, key: str, column: str = "key") -> list[dict]:
    """Return the reference places one of whose names folds to key (or skeleton)."""
    cursor = db.conn.execute(_BY_KEY_SQL[column], [key])  # raw: the hottest query of ingest
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


_BY_KEY_SQL = {column: f"SELECT DISTINCT {', '.join('p.' + c.strip() for c in _REF_COLUMNS.split(','))}, "
                       f"max(n.curated) AS curated FROM ref_names n JOIN ref_places p USING (ref_id) "
                       f"WHERE n.{column} = ? GROUP BY p.ref_id" for column in ("key", "skel")}


def ref_place(db: sqlite_utils.Database, ref_id: str) -> dict | None:
    rows = list(db.query(f"SELECT {_REF_COLUMNS} FROM ref_places WHERE ref_id = ?", [ref_id]))
    return rows[0] if rows else None


def ref_names_for(db: sqlite_utils.Database, ref_id: str, limit: int = 50) -> list[str]:
    return [r["name"] for r in db.query(
        "SELECT name FROM ref_names WHERE ref_id = ? ORDER BY curated DESC, rowid LIMIT ?",
        [ref_id, limit])]


def matcher_names(db: sqlite_utils.Database, home: str, neighbours: tuple[str, ...],
                  min_population: int) -> list[str]:
    """Names for the extraction matcher: curated ones, every name of a place in the home
    country, and the names of large towns next door (thousands, not GeoNames' millions)."""
    marks = ",".join("?" * len(neighbours))
    return [r[0] for r in db.execute(
        f"SELECT DISTINCT n.name FROM ref_names n JOIN ref_places p USING (ref_id) "
        f"WHERE n.curated = 1 OR (length(n.key) >= 4 AND n.name != lower(n.name) AND (p.country = ? OR "
        f"(p.country IN ({marks}) AND p.population >= ?)))",
        [home, *neighbours, min_population])]


def has_curated_names(db: sqlite_utils.Database, ref_id: str) -> bool:
    return db.execute("SELECT 1 FROM ref_names WHERE ref_id = ? AND curated = 1 LIMIT 1",
                      [ref_id]).fetchone() is not None


def new_entity_keys(db: sqlite_utils.Database) -> dict[str, dict[str, str]]:
    """kind -> folded key -> id, for the entities no registry or gazetteer knew."""
    known: dict[str, dict[str, str]] = {}
    for row in db.query("SELECT a.key, e.id, e.kind FROM aliases a JOIN entities e "
                        "ON e.id = a.entity_id WHERE e.id LIKE '%-x-%'"):
        known.setdefault(row["kind"], {}).setdefault(row["key"], row["id"])
    return known


def curated_ref_names(db: sqlite_utils.Database, countries: tuple[str, ...]) -> list[dict]:
    """Return (name, ref_id, feature) for curated names and for places in the focus countries:
    the set the extraction matcher and the fuzzy matcher work on."""
    marks = ",".join("?" * len(countries))
    return [dict(r) for r in db.query(
        f"SELECT n.name, n.key, n.ref_id, p.feature, p.population, n.curated FROM ref_names n "
        f"JOIN ref_places p USING (ref_id) WHERE n.curated = 1 OR p.country IN ({marks})",
        list(countries))]


# ---- documents ----------------------------------------------------------------------------

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
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO documents VALUES (?, ?, ?, ?, ?, ?)",
                   [doc.id, doc.title, doc.source, doc.text, len(doc.text), now()])
        for entity in entities:
            upsert_entity(db, entity)
        db.execute("DELETE FROM mentions WHERE document_id = ?", [doc.id])
        _insert_rows(db, "mentions", [_mention_row(m) for m in mentions])


def _mention_row(m: Mention) -> dict:
    return {"id": f"{m.document_id}:{m.start}:{m.end}", "document_id": m.document_id,
            "entity_id": m.entity_id, "kind": m.kind, "start": m.start, "end": m.end,
            "text": m.text, "sentence": m.sentence, "method": m.method,
            "confidence": round(m.confidence, 3), "resolution": m.resolution}


def upsert_entity(db: sqlite_utils.Database, entity: Entity) -> None:
    """Insert or refresh an entity; fields a curator has set are never overwritten."""
    row = _entity_row(entity)
    existing = db.execute("SELECT curated FROM entities WHERE id = ?", [entity.id]).fetchone()
    curated = json.loads(existing[0]) if existing and existing[0] else {}
    row.update({k: v for k, v in curated.items() if not k.startswith("_")})
    row["curated"] = json.dumps(curated) if curated else None
    _upsert_row(db, "entities", row)
    add_aliases(db, entity.id, entity.aliases)
    for name in curated.get("_removed_aliases", []):
        db.execute("DELETE FROM aliases WHERE entity_id = ? AND name = ?", [entity.id, name])


def _insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict]) -> None:
    """Plain executemany: sqlite-utils' insert_all introspects the table on every call."""
    if rows:
        columns = ", ".join(f'"{c}"' for c in rows[0])
        marks = ", ".join("?" * len(rows[0]))
        db.conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                            [list(r.values()) for r in rows])


def _upsert_row(db: sqlite_utils.Database, table: str, row: dict) -> None:
    """Insert the row, or update the columns it has (what sqlite-utils' upsert does)."""
    columns = ", ".join(f'"{c}"' for c in row)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in row if c != "id")
    db.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))}) "
                    f"ON CONFLICT(id) DO UPDATE SET {updates}", list(row.values()))


def _entity_row(entity: Entity) -> dict:
    place = entity.place
    row = {"id": entity.id, "kind": entity.kind, "name": entity.name, "key": entity.key,
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
    """Add (name, source) pairs an entity does not have yet, in one executemany."""
    from .fold import fold_name  # local: store stays importable without the folding tables

    db.conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?, ?, ?)",
                        [(entity_id, name, fold_name(name), source) for name, source in aliases])


# ---- reading ------------------------------------------------------------------------------

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
    from .fold import fold_name

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
    where, params = ["e.kind = ?"] if kind else ["1=1"], [kind] if kind else []
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


# ---- curation -----------------------------------------------------------------------------

def record_curation(db: sqlite_utils.Database, entity_id: str, action: str, payload: dict,
                    who: str) -> None:
    db.execute("INSERT INTO curations (entity_id, action, payload, who, at) VALUES (?,?,?,?,?)",
               [entity_id, action, json.dumps(payload, ensure_ascii=False), who, now()])


def curate_entity(db: sqlite_utils.Database, entity_id: str, changes: dict, who: str) -> None:
    """Apply a curator's changes (name, lat, lon, aliases to add or remove) and remember
    them, so that re-ingest and rebuild keep them."""
    with transaction(db):
        entity = get_entity(db, entity_id)
        curated = entity["curated"]
        for field in ("name", "lat", "lon"):
            if field in changes:
                curated[field] = changes[field]
        if "name" in changes:
            add_alias(db, entity_id, changes["name"], "manual")
        if "lat" in changes:
            curated.update({"status": "resolved", "geocoder": "manual", "confidence": 1.0,
                            "reason": f"coordinates set by {who}", "precision": 1})
        for name in changes.get("add_aliases", []):
            add_alias(db, entity_id, name, "manual")
            curated["_removed_aliases"] = [n for n in curated.get("_removed_aliases", [])
                                           if n != name]
        for name in changes.get("remove_aliases", []):
            db.execute("DELETE FROM aliases WHERE entity_id = ? AND name = ?", [entity_id, name])
            curated.setdefault("_removed_aliases", []).append(name)
        columns = {k: v for k, v in curated.items() if not k.startswith("_")}
        if columns:
            db["entities"].update(entity_id, columns)
        db["entities"].update(entity_id, {"curated": json.dumps(curated, ensure_ascii=False),
                                          "updated_at": now()})
        record_curation(db, entity_id, "patch", changes, who)


def merge_entities(db: sqlite_utils.Database, into: str, other: str, who: str) -> None:
    """Move the other entity's mentions and aliases into this one; later ingests that find
    the other id are redirected here."""
    if into == other:
        raise BadInput("cannot merge an entity into itself")
    with transaction(db):
        target, source = get_entity(db, into), get_entity(db, other)
        if target["kind"] != source["kind"]:
            raise BadInput(f"cannot merge a {source['kind']} into a {target['kind']}")
        db.execute("UPDATE mentions SET entity_id = ? WHERE entity_id = ?", [into, other])
        db.execute("UPDATE OR IGNORE aliases SET entity_id = ? WHERE entity_id = ?", [into, other])
        db.execute("DELETE FROM aliases WHERE entity_id = ?", [other])
        db.execute("DELETE FROM entities WHERE id = ?", [other])
        db.execute("UPDATE merges SET into_id = ? WHERE into_id = ?", [into, other])
        db.execute("INSERT OR REPLACE INTO merges VALUES (?, ?, ?, ?)", [other, into, who, now()])
        record_curation(db, into, "merge", {"other": other, "other_name": source["name"]}, who)


def merged_ids(db: sqlite_utils.Database) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("SELECT from_id, into_id FROM merges")}


def curation_log(db: sqlite_utils.Database, entity_id: str) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT action, payload, who, at FROM curations WHERE entity_id = ? ORDER BY id",
        [entity_id])]


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


def iter_geocoded_places(db: sqlite_utils.Database, group: str | None = None,
                         bbox: tuple[float, float, float, float] | None = None
                         ) -> Iterator[tuple[dict, list[str], list[dict]]]:
    """Yield (place row with counts, alias names, related armed groups) per geocoded place."""
    return iter_entities(db, "place", group=group, bbox=bbox, located=True)


def iter_entities(db: sqlite_utils.Database, kind: str = "place", group: str | None = None,
                  country: str | None = None,
                  bbox: tuple[float, float, float, float] | None = None, located: bool = False
                  ) -> Iterator[tuple[dict, list[str], list[dict]]]:
    """Yield (entity row with counts, alias names, co-mentioned entities of the other kind)
    for the entities of one kind, optionally only those mentioned alongside a group, in a
    country, inside a bounding box (w, s, e, n) or with coordinates.

    Streams: aliases and related entities come from two more queries in the same id order,
    merged as they go (two queries per entity took minutes for 200k places)."""
    filtered = bool(bbox or group or country)
    where, params = _entity_filters(kind, country, bbox)
    if not filtered:
        # "+" keeps the planner on the primary key: rows stream in id order instead of every
        # entity being sorted first.
        where[0] = "+" + where[0]
    if located:
        where.append("e.lat IS NOT NULL")
    if group:
        where.append("e.id IN (SELECT m.entity_id FROM mentions m JOIN mentions g ON "
                     "g.document_id = m.document_id AND g.sentence = m.sentence "
                     "WHERE g.entity_id = ?)")
        params.append(group)
    clause = " AND ".join(where)
    chosen = f"SELECT e.id FROM entities e WHERE {clause}"
    sql = ("SELECT e.*, (SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) AS mentions, "
           "(SELECT count(DISTINCT document_id) FROM mentions m WHERE m.entity_id = e.id) "
           f"AS documents FROM entities e WHERE {clause} ORDER BY e.id")
    only = f"WHERE entity_id IN ({chosen})" if filtered else ""
    aliases = _grouped(db.execute(
        f"SELECT entity_id, name FROM aliases {only} ORDER BY entity_id, source, name",
        params if only else []))
    related = _grouped(db.execute(
        f"SELECT m.entity_id, o.entity_id AS id, e.name, count(*) AS count FROM mentions m "
        f"JOIN mentions o ON o.document_id = m.document_id AND o.sentence = m.sentence "
        f"AND o.kind != m.kind JOIN entities e ON e.id = o.entity_id WHERE m.kind = ? "
        f"AND m.entity_id IN ({chosen}) GROUP BY m.entity_id, o.entity_id "
        f"ORDER BY m.entity_id, count DESC, e.name, o.entity_id", [kind, *params]))
    for row in db.query(sql, params):
        row = dict(row)
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
        while self._next is not None and self._next[0] < entity_id:
            self._next = next(self._rows, None)
        found = []
        while self._next is not None and self._next[0] == entity_id:
            found.append(self._next)
            self._next = next(self._rows, None)
        return found
