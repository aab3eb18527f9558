"""The schema, its migrations, connections, transactions and the meta table."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from ..errors import DatabaseMissing, DatabaseUnreadable

SCHEMA_VERSION = "6"
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
-- a country's names (resolve_place_in's first use of a country), not a scan of the world's
CREATE INDEX IF NOT EXISTS ref_places_country ON ref_places(country);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT, source TEXT, text TEXT NOT NULL, chars INTEGER,
    ingested_at TEXT, url TEXT, published TEXT, published_source TEXT, site_name TEXT,
    author TEXT, language TEXT, pages TEXT);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, key TEXT, lat REAL, lon REAL,
    geonameid INTEGER, country TEXT, admin1 TEXT, feature TEXT, precision INTEGER,
    confidence REAL, reason TEXT, geocoder TEXT, status TEXT, ref_id TEXT, attrs TEXT,
    curated TEXT, updated_at TEXT, first_seen TEXT, last_seen TEXT);
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
    text TEXT NOT NULL, sentence TEXT, method TEXT, confidence REAL, resolution TEXT,
    page INTEGER, sentence_no INTEGER);
CREATE INDEX IF NOT EXISTS mentions_entity ON mentions(entity_id, document_id);
CREATE INDEX IF NOT EXISTS mentions_document ON mentions(document_id, start);
-- Pairs of entities of different kinds named in one sentence, counted per document (one
-- row per pair and document, not per mention): neighbour counts read these rows instead of
-- joining an entity's mentions to every mention of their documents.
CREATE TABLE IF NOT EXISTS co_mentions (
    entity_id TEXT NOT NULL, other_id TEXT NOT NULL, document_id TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (entity_id, other_id, document_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS co_mentions_document ON co_mentions(document_id);
CREATE INDEX IF NOT EXISTS co_mentions_other ON co_mentions(other_id);
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
-- curators' rejections and re-pointed mentions: the pipeline consults both when storing
CREATE TABLE IF NOT EXISTS rejections (
    entity_id TEXT PRIMARY KEY, reason TEXT NOT NULL, who TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS mention_overrides (
    mention_id TEXT PRIMARY KEY, entity_id TEXT NOT NULL, who TEXT, at TEXT);
-- the state before each curation, so that any of them can be undone
CREATE TABLE IF NOT EXISTS curation_snapshots (
    curation_id INTEGER PRIMARY KEY, snapshot TEXT NOT NULL);
"""

# Indexes on columns added in schema 3: created after the migration has added the columns.
_INDEXES = """
CREATE INDEX IF NOT EXISTS mentions_sentence ON mentions(document_id, sentence_no);
CREATE INDEX IF NOT EXISTS documents_published ON documents(published);
-- schema 4: an entity's aliases in the exports' order, read from the index alone
CREATE INDEX IF NOT EXISTS aliases_export ON aliases(entity_id, source, name);
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
_SEARCH_ROW_COLUMNS = """e.name,
               (SELECT group_concat(a.name, ' | ') FROM aliases a WHERE a.entity_id = e.id),
               (SELECT group_concat(a.key, ' | ') FROM aliases a WHERE a.entity_id = e.id)
        FROM entities e"""
_ENTITY_SEARCH_ROWS = """
    INSERT INTO entities_fts (rowid, name, aliases, keys)
        SELECT e.rowid, """ + _SEARCH_ROW_COLUMNS
_ENTITY_SEARCH_ROW = ("""
    DELETE FROM entities_fts WHERE rowid = (SELECT rowid FROM entities WHERE id = {ref});"""
                      + _ENTITY_SEARCH_ROWS + " WHERE e.id = {ref};")
# Schema 6: a batch writer defers the rebuilds (deferred_search): while the meta row below
# is there, which is only ever inside the writer's own transaction, the insert triggers note
# the entity in search_pending instead, and its row is rebuilt once, when the batch ends
# (rebuilding it after each alias was a third of ingest's time outside the model).
_DEFERRED = "EXISTS (SELECT 1 FROM meta WHERE key = 'search_deferred')"
_SEARCH_PENDING = """
CREATE TABLE IF NOT EXISTS search_pending (entity_id TEXT PRIMARY KEY) WITHOUT ROWID;"""
# The triggers schema 6 replaced (the migration drops them; ensure_schema makes them anew).
_DEFERRABLE_TRIGGERS = ("entities_fts_ai", "entities_fts_au", "aliases_search_ai")


def _deferrable_trigger(name: str, event: str, ref: str) -> str:
    """Two triggers on one event: the row rebuilt now, or the entity noted for later (once:
    not by INSERT OR IGNORE, whose IGNORE an upsert's own conflict handling overrides)."""
    return f"""
CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} WHEN NOT {_DEFERRED} BEGIN
    {_ENTITY_SEARCH_ROW.format(ref=ref)}
END;
CREATE TRIGGER IF NOT EXISTS {name}_deferred AFTER {event} WHEN {_DEFERRED} BEGIN
    INSERT INTO search_pending SELECT {ref} WHERE NOT EXISTS (
        SELECT 1 FROM search_pending WHERE entity_id = {ref});
END;"""


_ENTITY_SEARCH = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts USING fts5(
    name, aliases, keys, tokenize = 'unicode61 remove_diacritics 2');
{_SEARCH_PENDING}
{_deferrable_trigger("entities_fts_ai", "INSERT ON entities", "new.id")}
{_deferrable_trigger("entities_fts_au", "UPDATE OF name ON entities", "new.id")}
{_deferrable_trigger("aliases_search_ai", "INSERT ON aliases", "new.entity_id")}
CREATE TRIGGER IF NOT EXISTS entities_fts_ad AFTER DELETE ON entities BEGIN
    DELETE FROM entities_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS aliases_search_ad AFTER DELETE ON aliases BEGIN
    {_ENTITY_SEARCH_ROW.format(ref="old.entity_id")}
END;
CREATE TRIGGER IF NOT EXISTS aliases_search_au AFTER UPDATE ON aliases BEGIN
    {_ENTITY_SEARCH_ROW.format(ref="old.entity_id")}
    {_ENTITY_SEARCH_ROW.format(ref="new.entity_id")}
END;
"""


# Schema 5: each entity's rendered export rows (a GeoJSON Feature, a CSV line, a KML
# Placemark), so that a download reads them instead of building each one again. A row is
# deleted by trigger as soon as anything it shows changes (the entity, its mentions, aliases
# and co-mentions, a co-mentioned entity's name), whoever writes; store/export.py renders
# the missing ones again and builds any still missing as it streams.
_EXPORT_ROWS = """
CREATE TABLE IF NOT EXISTS export_rows (
    entity_id TEXT NOT NULL, format TEXT NOT NULL, body TEXT,
    PRIMARY KEY (entity_id, format));
CREATE INDEX IF NOT EXISTS export_rows_format ON export_rows(format);
CREATE TRIGGER IF NOT EXISTS export_rows_entity_ai AFTER INSERT ON entities BEGIN
    DELETE FROM export_rows WHERE entity_id = new.id;
END;
CREATE TRIGGER IF NOT EXISTS export_rows_entity_au AFTER UPDATE ON entities BEGIN
    DELETE FROM export_rows WHERE entity_id IN (old.id, new.id);
END;
CREATE TRIGGER IF NOT EXISTS export_rows_entity_renamed AFTER UPDATE OF name ON entities
WHEN old.name IS NOT new.name BEGIN
    DELETE FROM export_rows WHERE entity_id IN (
        SELECT entity_id FROM co_mentions WHERE other_id = new.id);
END;
CREATE TRIGGER IF NOT EXISTS export_rows_entity_ad AFTER DELETE ON entities BEGIN
    DELETE FROM export_rows WHERE entity_id = old.id OR entity_id IN (
        SELECT entity_id FROM co_mentions WHERE other_id = old.id);
END;
""" + "".join(f"""
CREATE TRIGGER IF NOT EXISTS export_rows_{table}_ai AFTER INSERT ON {table} BEGIN
    DELETE FROM export_rows WHERE entity_id = new.entity_id;
END;
CREATE TRIGGER IF NOT EXISTS export_rows_{table}_au AFTER UPDATE ON {table} BEGIN
    DELETE FROM export_rows WHERE entity_id IN (old.entity_id, new.entity_id);
END;
CREATE TRIGGER IF NOT EXISTS export_rows_{table}_ad AFTER DELETE ON {table} BEGIN
    DELETE FROM export_rows WHERE entity_id = old.entity_id;
END;""" for table in ("mentions", "aliases", "co_mentions"))


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_db(path: Path | str, create: bool = True) -> sqlite_utils.Database:
    """Return a Database in WAL mode with a busy timeout, its schema current: every way of
    opening a database (serve, ingest, extract, eval, export) runs the same migration.

    Raises DatabaseMissing when create is False and the file does not exist, and
    DatabaseUnreadable when the path cannot be opened as an SQLite database.
    """
    path = Path(path)
    if not create and not path.exists():
        raise DatabaseMissing(f"no gazetteer database at {path}; run `gazetteer build` first")
    try:
        db = _connect(path)
        if create or not _is_current(db):
            ensure_schema(db)
    except sqlite3.DatabaseError as exc:  # a folder, a missing folder, a file of another kind
        raise DatabaseUnreadable(f"cannot open {path} as a gazetteer database ({exc})") from exc
    return db


def _is_current(db: sqlite_utils.Database) -> bool:
    """True when the file already has this version's schema (a cheap check, so that the
    server's many read connections do not each take the write lock)."""
    tables = set(db.table_names())
    return ({"meta", "entities_fts", "documents_fts", "rejections", "export_rows"} <= tables
            and get_meta(db, "schema_version") == SCHEMA_VERSION)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create what is missing and migrate an older database, keeping its data."""
    fresh = "entities" not in db.table_names()
    db.executescript(_SCHEMA)
    if fresh:
        set_meta(db, "schema_version", SCHEMA_VERSION)
    _migrate(db)
    db.executescript(_INDEXES)
    search_missing = "entities_fts" not in db.table_names()
    db.executescript(_VIEWS + _ENTITY_SEARCH + _EXPORT_ROWS)
    if search_missing:
        db.execute(_ENTITY_SEARCH_ROWS)
    if "aliases_fts" in db.table_names():  # schema 1's alias index: entities_fts now
        db.table("aliases").disable_fts()
    if "documents_fts" not in db.table_names():
        db.table("documents").enable_fts(["title", "text"], create_triggers=True,
                                   tokenize="unicode61 remove_diacritics 2")


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
    if version in ("1", "2"):
        _migrate_to_3(db)
    for trigger in _DEFERRABLE_TRIGGERS:  # schema 6's versions are made by ensure_schema
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}_deferred")
    set_meta(db, "schema_version", SCHEMA_VERSION)


# Columns added in schema 3: what documents say about themselves, the page and sentence of
# each mention, and when each entity was first and last seen.
_COLUMNS_3 = {"documents": ("url", "published", "published_source", "site_name", "author",
                            "language", "pages"),
              "mentions": ("page INTEGER", "sentence_no INTEGER"),
              "entities": ("first_seen", "last_seen")}


def _migrate_to_3(db: sqlite_utils.Database) -> None:
    """Add schema 3's columns (kept null: older documents have no dates or pages), number
    each document's sentences and derive the co-mention counts from the stored mentions."""
    from .derived import number_sentences, refresh_co_mentions, refresh_seen

    for table, columns in _COLUMNS_3.items():
        present = {c.name for c in db.table(table).columns}
        for column in columns:
            if column.split()[0] not in present:
                typed = column if " " in column else f"{column} TEXT"
                db.execute(f"ALTER TABLE {table} ADD COLUMN {typed}")
    db.executescript(_INDEXES)  # before the counts: they join mentions by sentence
    with transaction(db):
        number_sentences(db)
        refresh_co_mentions(db)
        refresh_seen(db)


def _has_foreign_key(db: sqlite_utils.Database, table: str, column: str) -> bool:
    return any(fk.column == column for fk in db.table(table).foreign_keys)


# How often a statement is prepared again when another connection changed the schema while
# SQLite prepared it (see SchemaRetryingConnection).
SCHEMA_RETRIES = 10


class SchemaRetryingConnection(sqlite3.Connection):
    """A connection whose statements are prepared again when SQLite refuses one with
    SQLITE_SCHEMA. The merge sets triggers aside in each batch's transaction (DROP and CREATE
    TRIGGER: see batched_row_triggers), and a reader that prepares a statement on the search
    index at that moment can fail with "vtable constructor failed: entities_fts" (the
    full-text table's constructor meets the changed schema): the API answered 500 under
    concurrent writes (SQLite's own retries do not cover it). A refused statement has done
    nothing, so preparing it again is safe. (executemany is left alone: the merge runs it
    inside its own write transaction, where no other connection can change the schema.)"""

    def execute(self, sql: str, parameters=(), /) -> sqlite3.Cursor:
        for _ in range(SCHEMA_RETRIES):
            try:
                return super().execute(sql, parameters)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_SCHEMA:
                    raise
        return super().execute(sql, parameters)  # the last try's error is the caller's


def _connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                           isolation_level=None, factory=SchemaRetryingConnection)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")  # the first read of the file: fails if not SQLite
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def open_immutable(path: Path | str) -> sqlite_utils.Database:
    """A read-only connection to a file nobody writes while it is open (a cluster worker's
    copy of the reference, a snapshot): `immutable=1` skips locking and change checks, so
    many processes, on a shared filesystem too, read it without contention. The file must
    hold everything (no WAL beside it). Raises DatabaseMissing or DatabaseUnreadable."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseMissing(f"no database at {path}")
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnreadable(f"cannot open {path} as a gazetteer database ({exc})") from exc
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
        if db.conn.in_transaction:  # SQLite rolls back itself on some errors (disk full)
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


# Pages the write-ahead log may hold during a bulk write before SQLite copies them into
# the database file (its default is 1,000, 4 MB): a 1,000-document ingest wrote ~19 MB and
# so checkpointed about five times, each copy rewriting the same index pages and waiting
# for two fsyncs (0.6-0.8 s of its storing's 3.9-4.4 s, wall clock).
BULK_CHECKPOINT_PAGES = 10_000


@contextmanager
def bulk_writes(db: sqlite_utils.Database) -> Iterator[None]:
    """Around many write transactions: checkpoint at most every BULK_CHECKPOINT_PAGES
    pages, then once at the end (PASSIVE: readers are never waited for), so the log is
    back near its usual size when the block returns."""
    (previous,) = db.execute("PRAGMA wal_autocheckpoint").fetchone()
    db.execute(f"PRAGMA wal_autocheckpoint = {max(previous, BULK_CHECKPOINT_PAGES)}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint = {previous}")
    if not db.conn.in_transaction:  # after a failure the log is left for the next writer
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def deferred_search(db: sqlite_utils.Database) -> Iterator[None]:
    """Inside a transaction: the search rows of the entities the block inserts, renames or
    gives aliases are rebuilt once, when it ends, not after each alias (the same rows, as
    the triggers would have left them). Nested blocks join the outer one."""
    if not db.conn.in_transaction:
        raise RuntimeError("deferred_search needs an open transaction")
    if get_meta(db, "search_deferred") is not None:
        yield
        return
    set_meta(db, "search_deferred", "1")
    try:
        yield
    finally:  # on an error too: the flag must never outlive the block, even if committed
        if db.conn.in_transaction:  # SQLite rolled back itself otherwise, the flag with it
            _rebuild_pending_search_rows(db)


# The per-row triggers the merge's batch writer sets aside inside its own transaction (see
# batched_row_triggers): each costs a sub-program run per row written, 12-30 us, which was
# about a third of storing a batch; the batch does their work once, set by set.
BATCHED_TRIGGERS = ("entities_fts_ai", "entities_fts_ai_deferred", "entities_fts_au",
                    "entities_fts_au_deferred", "aliases_search_ai", "aliases_search_ai_deferred",
                    "export_rows_entity_ai", "export_rows_entity_au", "export_rows_entity_renamed",
                    "export_rows_mentions_ai", "export_rows_aliases_ai",
                    "export_rows_co_mentions_ai")


@contextmanager
def batched_row_triggers(db: sqlite_utils.Database, entity_ids: list[str],
                         document_ids: list[str]) -> Iterator[None]:
    """Inside a deferred_search block: while the block inserts and updates entities, aliases,
    mentions and co-mentions, the insert and update triggers that keep the search rows and
    the export rows true are set aside, and their work is done once when it ends: the search
    rows of the entities whose name or aliases changed are noted for rebuilding, and the export
    rows of every entity written, mentioned or co-mentioned in the documents (and of those
    co-mentioned with a renamed entity) are deleted. The triggers are made again, as they
    were, when the block ends, on an error too (a caller may catch it and commit); if SQLite
    rolled the transaction back itself, that restored them. So no other connection ever sees
    the schema without them. entity_ids: every entity the block may insert, rename or give
    aliases; document_ids: the documents it stores (their mentions' and co-mentions'
    entities are read back, redirections and overrides included)."""
    if get_meta(db, "search_deferred") is None:
        raise RuntimeError("batched_row_triggers needs a deferred_search block")
    before = _search_signatures(db, entity_ids)
    made = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                      "(SELECT value FROM json_each(?))", [json.dumps(BATCHED_TRIGGERS)]
                      ).fetchall()
    for name, _ in made:
        db.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        if db.conn.in_transaction:
            _do_what_the_triggers_do(db, entity_ids, document_ids, before)
            for _, sql in made:
                db.execute(sql)


def _do_what_the_triggers_do(db: sqlite_utils.Database, entity_ids: list[str],
                             document_ids: list[str], before: dict[str, tuple]) -> None:
    after = _search_signatures(db, entity_ids)
    changed = [i for i in entity_ids if after.get(i) != before.get(i)]
    renamed = [i for i in changed if i in before and i in after and after[i][0] != before[i][0]]
    db.execute("INSERT INTO search_pending SELECT value FROM json_each(?) WHERE value NOT IN "
               "(SELECT entity_id FROM search_pending)", [json.dumps(changed)])
    db.execute(_STALE_EXPORT_ROWS, [json.dumps(entity_ids), json.dumps(document_ids),
                                    json.dumps(renamed)])


# What the set-aside export_rows triggers would have deleted, for a whole batch: ?1 the
# entities written, ?2 the documents stored, ?3 the entities renamed.
_STALE_EXPORT_ROWS = """
DELETE FROM export_rows WHERE entity_id IN (
    SELECT value FROM json_each(?1)
    UNION SELECT entity_id FROM mentions WHERE document_id IN (SELECT value FROM json_each(?2))
    UNION SELECT entity_id FROM co_mentions WHERE document_id IN (SELECT value FROM json_each(?2))
    UNION SELECT entity_id FROM co_mentions WHERE other_id IN (SELECT value FROM json_each(?3)))"""


def _search_signatures(db: sqlite_utils.Database, entity_ids: list[str]) -> dict[str, tuple]:
    """entity id -> what its search row shows (name, aliases, keys), for those stored."""
    rows = db.execute(f"SELECT e.id, {_SEARCH_ROW_COLUMNS} "
                      "WHERE e.id IN (SELECT value FROM json_each(?))", [json.dumps(entity_ids)])
    return {row[0]: tuple(row[1:]) for row in rows}


def _rebuild_pending_search_rows(db: sqlite_utils.Database) -> None:
    pending = "SELECT entity_id FROM search_pending"
    db.execute(f"DELETE FROM entities_fts WHERE rowid IN "
               f"(SELECT rowid FROM entities WHERE id IN ({pending}))")
    db.execute(_ENTITY_SEARCH_ROWS + f" WHERE e.id IN ({pending})")
    db.execute("DELETE FROM search_pending")
    db.execute("DELETE FROM meta WHERE key = 'search_deferred'")


# ---- meta ---------------------------------------------------------------------------------

def get_meta(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def rollback_open_transaction(db: sqlite_utils.Database) -> None:
    """Roll back a transaction a failed request left open; nothing happens otherwise."""
    if db.conn.in_transaction:
        db.conn.rollback()


def close(db: sqlite_utils.Database) -> None:
    db.conn.close()
