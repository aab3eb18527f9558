"""The exports' rows, streamed: entities with their aliases and co-mentions, and mentions."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlite_utils

from .read import _entity_filters, dated_documents
from .schema import BUSY_TIMEOUT_MS, transaction

log = logging.getLogger(__name__)

# ---- entities: every export's rows, built by SQLite -----------------------------------------
# Building each Feature, row or Placemark in Python held the exports to ~30,000 features/s;
# built by SQLite's own functions (json_object, group_concat, replace) they run near a bare
# scan of the rows.

FEATURE_COLUMNS = ("id", "name", "kind", "geonameid", "country", "admin1", "feature",
                   "precision", "confidence", "status", "geocoder", "mentions", "documents")
GROUP_COLUMNS = ("id", "name", "kind", "type", "parent", "mentions", "documents")


@dataclass(frozen=True)
class _Scope:
    """The entities an export holds, as SQL: a WITH clause, a WHERE clause on entities e,
    the condition keeping another table's rows to the period's documents, and the
    parameters in the order the statement takes them."""

    with_sql: str
    where: str
    in_period: str
    params: list

    def period(self, alias: str) -> str:
        return self.in_period.format(alias)

    @property
    def period_bound(self) -> bool:
        return bool(self.in_period)

    def statement(self, select: str, join: str = "") -> str:
        return (f"{self.with_sql}SELECT {select} FROM entities e{join} WHERE {self.where} "
                "ORDER BY e.id")


def _scope(kind: str, group: str | None, country: str | None,
           bbox: tuple[float, float, float, float] | None, since: str | None,
           until: str | None, located: bool) -> _Scope:
    period = bool(since or until)
    with_sql, params = "", []
    if period:
        documents, dated = dated_documents(since, until)
        with_sql, params = f"WITH period(id) AS ({documents}) ", list(dated)
    in_period = " AND {}.document_id IN period" if period else ""
    where, where_params = _entity_filters(kind, country, bbox)
    if not (bbox or group or country or period):
        # "+" keeps the planner on the primary key: rows stream in id order instead of
        # every entity being sorted first.
        where[0] = "+" + where[0]
    if located:
        where.append("e.lat IS NOT NULL")
    if period:
        where.append("e.id IN (SELECT m.entity_id FROM mentions m WHERE m.document_id IN period)")
    if group:
        where.append("e.id IN (SELECT m.entity_id FROM mentions g JOIN mentions m ON "
                     "m.document_id = g.document_id AND m.sentence_no = g.sentence_no "
                     f"WHERE g.entity_id = ?{in_period.format('g')})")
        where_params.append(group)
    return _Scope(with_sql, " AND ".join(where), in_period, params + where_params)


def _column(column: str, scope: _Scope) -> str:
    """SQL for one exported column of entity e; counts are of the period's documents."""
    mentions = f"FROM mentions m WHERE m.entity_id = e.id{scope.period('m')}"
    if column == "mentions":
        return f"(SELECT count(*) {mentions})"
    if column == "documents":
        return f"(SELECT count(DISTINCT m.document_id) {mentions})"
    if column in ("type", "parent"):  # group attributes live in the JSON attrs
        return f"json_extract(e.attrs, '$.{column}')"
    return f"e.{column}"


_ALIASES = "SELECT a.name FROM aliases a WHERE a.entity_id = e.id ORDER BY a.source, a.name"


def _related(scope: _Scope) -> str:
    """The 50 entities of the other kind most often named in the same sentences as e."""
    return ("SELECT c.other_id AS id, o.name, sum(c.count) AS count FROM co_mentions c "
            f"JOIN entities o ON o.id = c.other_id WHERE c.entity_id = e.id{scope.period('c')} "
            "GROUP BY c.other_id ORDER BY count DESC, o.name, c.other_id LIMIT 50")


def _joined(rows_sql: str, shape: Callable[[str], str] = str) -> str:
    """The names of a subquery's rows joined with "|", shaped (escaped, guarded) inside the
    subquery, so that the join is computed once."""
    return f"(SELECT {shape(JOIN_NAMES)} FROM ({rows_sql}))"


JOIN_NAMES = "group_concat(name, '|')"


def geojson_features(db: sqlite_utils.Database, kind: str = "place", group: str | None = None,
                     country: str | None = None,
                     bbox: tuple[float, float, float, float] | None = None,
                     since: str | None = None, until: str | None = None) -> Iterator[str]:
    """One encoded RFC 7946 Feature per located entity, in id order: every column, the
    aliases and the co-mentioned entities of the other kind (armed_groups)."""
    scope = _scope(kind, group, country, bbox, since, until, located=True)
    return _bodies(db, "geojson", scope, _feature(scope))


def _feature(scope: _Scope) -> str:
    """SQL for entity e's Feature."""
    properties = ", ".join(f"'{c}', {_column(c, scope)}" for c in FEATURE_COLUMNS)
    # json() keeps the arrays JSON: a subquery's result is plain text to json_object.
    return (
        "json_object('type', 'Feature', 'id', e.id, 'geometry', json_object('type', 'Point', "
        "'coordinates', json_array(round(e.lon, 6), round(e.lat, 6))), 'properties', "
        f"json_object({properties}, "
        f"'aliases', json((SELECT json_group_array(name) FROM ({_ALIASES}))), "
        "'armed_groups', json((SELECT json_group_array(json_object('id', id, 'name', name, "
        f"'count', count)) FROM ({_related(scope)}))), 'reason', e.reason))")


# Columns holding numbers only: no formula to guard against.
_NUMBERS = {"geonameid", "precision", "confidence", "mentions", "documents"}

# A text cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(sql: str) -> str:
    """Text as a spreadsheet shows it, never as a formula (OWASP's CSV injection advice: a
    leading apostrophe); numbers are left alone."""
    starts = ", ".join(f"char({ord(c)})" for c in FORMULA_START)
    return (f"CASE WHEN typeof({sql}) = 'text' AND substr({sql}, 1, 1) IN ({starts}) "
            f"THEN '''' || {sql} ELSE {sql} END")


def csv_lines(db: sqlite_utils.Database, kind: str = "place", group: str | None = None,
              country: str | None = None, bbox: tuple[float, float, float, float] | None = None,
              since: str | None = None, until: str | None = None) -> Iterator[str]:
    """One line per entity of a kind, in id order, as Python's csv writer makes it: the
    kind's columns (FEATURE_COLUMNS or GROUP_COLUMNS), latitude and longitude for places,
    then the aliases and the co-mentioned names, joined with "|". No text cell starts a
    formula."""
    scope = _scope(kind, group, country, bbox, since, until, located=False)
    columns = _csv_columns(scope, kind)
    if scope.period_bound:
        return (csv_line(row) for row in db.execute(
            scope.statement(", ".join(columns)), scope.params))
    _render_missing(db, "csv")
    # the columns are computed only for an entity whose line is not rendered
    live = ", ".join(f"CASE WHEN x.body IS NULL THEN {c} END" for c in columns)
    rows = db.execute(scope.statement(f"x.body, {live}", _JOIN_RENDERED), ["csv", *scope.params])
    return (row[0] if row[0] is not None else csv_line(row[1:]) for row in rows)


def _csv_columns(scope: _Scope, kind: str) -> list[str]:
    place = kind == "place"
    names = FEATURE_COLUMNS if place else GROUP_COLUMNS
    columns = [_column(c, scope) if c in _NUMBERS else _text_cell(_column(c, scope))
               for c in names]
    columns += ["e.lat", "e.lon"] if place else []
    return columns + [_joined(_ALIASES, _text_cell), _joined(_related(scope), _text_cell)]


def csv_line(row: Sequence) -> str:
    """One CSV line, in the csv module's default dialect (the header's)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue()


def _xml(sql: str) -> str:
    """A value as XML text: &, < and > escaped, as xml.sax.saxutils.escape does. Most
    values hold none of them: one GLOB saves three copies of the string."""
    escaped = f"replace(replace(replace({sql}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    return f"CASE WHEN {sql} GLOB '*[&<>]*' THEN {escaped} ELSE {sql} END"


def _xml_or_null(sql: str) -> str:
    """The value as XML text, or null when it is null or empty."""
    return _xml(f"nullif({sql}, '')")


def kml_placemarks(db: sqlite_utils.Database, group: str | None = None,
                   country: str | None = None,
                   bbox: tuple[float, float, float, float] | None = None,
                   since: str | None = None, until: str | None = None) -> Iterator[str]:
    """One KML 2.2 Placemark per located place, every attribute in ExtendedData (null and
    empty values left out), its text escaped and without the characters XML cannot hold."""
    scope = _scope("place", group, country, bbox, since, until, located=True)
    return _bodies(db, "kml", scope, _placemark(scope), xml_text)


def xml_text(text: str) -> str:
    """The text without the characters XML 1.0 forbids even escaped (C0 controls but
    tab/newline/CR, lone surrogates, U+FFFE/U+FFFF): one in a name made a whole KML file
    unparseable."""
    return _XML_INVALID.sub("", text)


_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _placemark(scope: _Scope) -> str:
    """SQL for place e's Placemark."""
    values = [(c, _column(c, scope) if c in _NUMBERS else _xml_or_null(_column(c, scope)))
              for c in FEATURE_COLUMNS]
    values += [("aliases", _joined(_ALIASES, _xml_or_null)),
               ("armed_groups", _joined(_related(scope), _xml_or_null))]
    # a null value makes its whole entry null: coalesce leaves it out
    data = " || ".join(f"coalesce('<Data name=\"{name}\"><value>' || {value} "
                       "|| '</value></Data>', '')" for name, value in values)
    return (f"'<Placemark id=\"' || replace({_xml('e.id')}, '\"', '&quot;') || '\"><name>' "
            f"|| {_xml('e.name')} || '</name><description>' || coalesce({_xml('e.reason')}, "
            f"'') || '</description><ExtendedData>' || {data} || '</ExtendedData><Point>"
            "<coordinates>' || e.lon || ',' || e.lat || '</coordinates></Point></Placemark>' "
            "|| char(10)")


# ---- rendered rows: what a download reads instead of building each row again ---------------
# export_rows holds each entity's Feature, CSV line and Placemark as the statements above
# build them with no period; triggers delete an entity's rows when anything they show
# changes (store/schema.py). A download renders the missing rows first when it can write;
# whatever is still missing (a writer holds the lock, a read-only file) is built as it streams,
# so a download is always what the live statements would give.

FORMATS = ("geojson", "csv", "kml")

# Entities rendered per transaction: short ones, so that writers are never held for long.
RENDER_CHUNK = 2000

# A download waits this long for a writer's lock before it streams without rendering.
RENDER_LOCK_WAIT_MS = 100

_JOIN_RENDERED = " LEFT JOIN export_rows x ON x.entity_id = e.id AND x.format = ?"


def _bodies(db: sqlite_utils.Database, fmt: str, scope: _Scope, body: str,
            finish: Callable[[str], str] = str) -> Iterator[str]:
    """Each selected entity's rendered row; where it has none, its row built live and
    finished (as rendering finishes it)."""
    if scope.period_bound:  # counts and co-mentions of a period: nothing rendered holds them
        return (finish(row[0]) for row in db.execute(scope.statement(body), scope.params))
    _render_missing(db, fmt)
    select = f"x.body, CASE WHEN x.body IS NULL THEN {body} END"
    rows = db.execute(scope.statement(select, _JOIN_RENDERED), [fmt, *scope.params])
    return (row[0] if row[0] is not None else finish(row[1]) for row in rows)


def render_export_rows(db: sqlite_utils.Database,
                       entity_ids: Collection[str] | None = None) -> None:
    """Render the missing export rows of these entities, or of every entity when None (a
    snapshot before it is copied; a job's entities once its report is stored, so that the
    next download only reads). Best effort, as for a download."""
    if entity_ids is None:
        for fmt in FORMATS:
            _render_missing(db, fmt, wait_ms=None)
    elif entity_ids:
        _render_listed(db, sorted(entity_ids))


def _render_listed(db: sqlite_utils.Database, ids: list[str]) -> None:
    """Every format's missing rows of these entities, in one transaction."""
    try:
        with transaction(db):
            for fmt in FORMATS:
                missing = [row[0] for row in db.execute(
                    f"SELECT e.id FROM entities e WHERE {_LISTED.where} AND {_NO_ROW}",
                    [json.dumps(ids), fmt])]
                if missing:
                    _render(db, fmt, missing)
    except sqlite3.OperationalError as exc:
        log.info("export rows not rendered (%s): the next download builds them", exc)


def _render_missing(db: sqlite_utils.Database, fmt: str, wait_ms: int | None = RENDER_LOCK_WAIT_MS
                    ) -> None:
    """Render the format's rows of the entities that have none, RENDER_CHUNK per
    transaction. Best effort: a lock held longer than wait_ms (None: the usual busy timeout),
    a read-only file or a full disk stop it, and the download builds those rows itself."""
    if _all_rendered(db, fmt):
        return
    after: str | None = ""
    try:
        with _lock_wait(db, wait_ms):
            while after is not None:
                with transaction(db):
                    after = _render_next(db, fmt, after)
    except sqlite3.OperationalError as exc:
        log.info("export rows not rendered (%s): the download builds them", exc)


def _render_next(db: sqlite_utils.Database, fmt: str, after: str) -> str | None:
    """Render the next RENDER_CHUNK entities after this id that have no row; the last id
    rendered, or None when none was left."""
    ids = _unrendered(db, fmt, after)
    if ids:
        _render(db, fmt, ids)
    return ids[-1] if ids else None


def _all_rendered(db: sqlite_utils.Database, fmt: str) -> bool:
    # every row belongs to an entity (the triggers delete the rows of a deleted one), so
    # equal counts mean every entity has its row
    return bool(db.execute("SELECT (SELECT count(*) FROM entities) = (SELECT count(*) FROM "
                           "export_rows WHERE format = ?)", [fmt]).fetchone()[0])


def _unrendered(db: sqlite_utils.Database, fmt: str, after: str) -> list[str]:
    return [row[0] for row in db.execute(
        f"SELECT e.id FROM entities e WHERE e.id > ? AND {_NO_ROW} ORDER BY e.id LIMIT ?",
        [after, fmt, RENDER_CHUNK])]


# The entities a JSON array of ids lists (the statement's one parameter), with no period.
_LISTED = _Scope("", "e.id IN (SELECT value FROM json_each(?))", "", [])
# An entity e with no row of the format (the parameter) rendered yet.
_NO_ROW = "NOT EXISTS (SELECT 1 FROM export_rows x WHERE x.entity_id = e.id AND x.format = ?)"


def _render(db: sqlite_utils.Database, fmt: str, ids: list[str]) -> None:
    """Store the format's rows of these entities: null where the format holds none of them
    (an armed group or an unlocated place in a map format)."""
    if fmt == "geojson":  # SQLite builds it all: no row passes through Python
        db.execute("INSERT OR REPLACE INTO export_rows SELECT e.id, 'geojson', CASE WHEN "
                   f"e.kind = 'place' AND e.lat IS NOT NULL THEN {_feature(_LISTED)} END "
                   f"FROM entities e WHERE {_LISTED.where}", [json.dumps(ids)])
        return
    # a CSV line is made by Python's csv writer, a Placemark loses XML-invalid characters
    rows = _csv_bodies(db, ids) if fmt == "csv" else _kml_bodies(db, ids)
    db.conn.executemany("INSERT OR REPLACE INTO export_rows VALUES (?, ?, ?)",
                        [(i, fmt, rows.get(i)) for i in ids])


def _csv_bodies(db: sqlite_utils.Database, ids: list[str]) -> dict[str, str]:
    lines: dict[str, str] = {}
    for kind in ("place", "armed_group"):  # each kind has its own columns
        columns = ", ".join(_csv_columns(_LISTED, kind))
        lines.update((row[0], csv_line(row[1:])) for row in db.execute(
            f"SELECT e.id, {columns} FROM entities e WHERE {_LISTED.where} AND +e.kind = ?",
            [json.dumps(ids), kind]))
    return lines


def _kml_bodies(db: sqlite_utils.Database, ids: list[str]) -> dict[str, str]:
    return {entity_id: xml_text(placemark) for entity_id, placemark in db.execute(
        f"SELECT e.id, {_placemark(_LISTED)} FROM entities e WHERE {_LISTED.where} "
        "AND +e.kind = 'place' AND e.lat IS NOT NULL", [json.dumps(ids)])}


@contextmanager
def _lock_wait(db: sqlite_utils.Database, wait_ms: int | None) -> Iterator[None]:
    if wait_ms is None:
        yield
        return
    db.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


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
