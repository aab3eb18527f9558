"""The one formatter shared by the CLI, the API and the map: extract results, GeoJSON, CSV
and KML."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

import orjson
import sqlite_utils

from . import store
from .errors import BadInput
from .types import Document, Entity, Mention, Point


def extract_result(doc: Document, mentions: list[Mention], entities: list[Entity]) -> dict:
    """The extract contract: {"source", "mentions": [{start, end, text, kind, entity_id, name,
    lat, lon, geonameid}]}; lat/lon/geonameid are null for groups and unresolved places."""
    by_id = {e.id: e for e in entities}
    rows = []
    for m in mentions:
        entity = by_id[m.entity_id]
        point = entity.place.point if entity.place else None
        rows.append({"start": m.start, "end": m.end, "text": m.text, "kind": m.kind,
                     "entity_id": m.entity_id, "name": entity.name,
                     "lat": point.lat if point else None, "lon": point.lon if point else None,
                     "geonameid": entity.place.geonameid if entity.place else None})
    return {"source": doc.source, "mentions": rows}


@dataclass(frozen=True, kw_only=True)
class Filters:
    """What every export filters on: entities mentioned alongside a group (same sentence),
    in a country, inside a bounding box (west, south, east, north), or in documents
    published between since and until (ISO dates, inclusive)."""

    group: str | None = None
    country: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, kw_only=True)
class Selection(Filters):
    """Which entities an export holds: one kind, through the filters."""

    kind: str = "place"


def parse_date(raw: str, name: str = "date") -> str:
    """An ISO date (YYYY-MM-DD), checked: the API's and the CLI's one reading of since/until."""
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise BadInput(f"{name} must be an ISO date (YYYY-MM-DD), not {raw[:40]!r}") from None


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """"west,south,east,north" in degrees, checked (the API's and the CLI's one reading)."""
    try:
        w, s, e, n = (float(v) for v in raw.split(","))
    except ValueError:
        raise BadInput("bbox must be four numbers: west,south,east,north") from None
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise BadInput("bbox must satisfy -180 <= west <= east <= 180 and "
                       "-90 <= south <= north <= 90")
    return w, s, e, n


def require_located(selection: Selection) -> None:
    """Maps and KML need coordinates, which only places have."""
    if selection.kind != "place":
        raise BadInput("only places have coordinates: export armed groups as CSV")


def _filters(selection: Filters) -> dict:
    return {"group": selection.group, "country": selection.country, "bbox": selection.bbox,
            "since": selection.since, "until": selection.until}


def geojson_chunks(db: sqlite_utils.Database, selection: Selection = Selection()
                   ) -> Iterator[str]:
    """Stream a FeatureCollection of the geocoded places, CHUNK_FEATURES at a time."""
    require_located(selection)
    yield from feature_collection(store.geojson_features(db, **_filters(selection)))


def feature_collection(features: Iterator[str]) -> Iterator[str]:
    """A FeatureCollection streamed around features already encoded, CHUNK_FEATURES at a
    time."""
    yield '{"type": "FeatureCollection", "features": ['
    separator = ""
    for chunk in _chunks(features):
        yield separator + ",\n".join(chunk)
        separator = ",\n"
    yield "]}\n"


# Features per streamed chunk: one write per feature made the server, not the query, the
# bottleneck; a few hundred keep memory flat and the first byte early.
CHUNK_FEATURES = 500


def _chunks(items: Iterator) -> Iterator[list]:
    """The items, CHUNK_FEATURES at a time."""
    return iter(lambda: list(islice(items, CHUNK_FEATURES)), [])


def csv_chunks(db: sqlite_utils.Database, selection: Selection = Selection()) -> Iterator[str]:
    """Stream the entities of one kind as CSV: a header row, arrays joined with "|", and
    latitude/longitude columns (empty when a place could not be located)."""
    place = selection.kind == "place"
    columns = store.FEATURE_COLUMNS if place else store.GROUP_COLUMNS
    extra = ("latitude", "longitude", "aliases", "armed_groups") if place else (
        "aliases", "places")
    lines = store.csv_lines(db, selection.kind, **_filters(selection))
    yield BOM + store.csv_line([*columns, *extra])
    for chunk in _chunks(lines):
        yield "".join(chunk)


# A byte-order mark opens every CSV: without it Excel reads UTF-8 as the local code page
# and shows Arabic names and diacritics as mojibake.
BOM = "\ufeff"


def _cell(value):
    """Text as a spreadsheet shows it, never as a formula (OWASP's CSV injection advice:
    a leading apostrophe); numbers are left alone."""
    if isinstance(value, str) and value.startswith(store.FORMULA_START):
        return "'" + value
    return value


def kml_chunks(db: sqlite_utils.Database, selection: Selection = Selection()) -> Iterator[str]:
    """Stream the geocoded places as KML 2.2 Placemarks (for Google Earth), every attribute
    in ExtendedData; text is XML-escaped, so names cannot inject markup."""
    require_located(selection)
    placemarks = store.kml_placemarks(db, **_filters(selection))
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>gazetteer</name>\n')
    for chunk in _chunks(placemarks):
        yield "".join(chunk)
    yield "</Document></kml>\n"


# ---- mentions: who was named where, when, and by whom --------------------------------------

@dataclass(frozen=True, kw_only=True)
class MentionSelection(Filters):
    """Which mentions an export holds: of one kind or entity, through the filters (the
    country and bounding box are the entity's, the group is named in the same sentence)."""

    kind: str | None = None
    entity: str | None = None


MENTION_COLUMNS = ("document_id", "title", "url", "published", "entity_id", "name", "kind",
                   "latitude", "longitude", "text", "sentence", "groups", "page")


def _mentions(db: sqlite_utils.Database, selection: MentionSelection, located: bool = False):
    return store.iter_mentions(db, selection.kind, selection.entity, selection.group,
                               selection.country, selection.bbox, selection.since,
                               selection.until, located=located)


def _groups(row: dict) -> list[str]:
    return sorted(orjson.loads(row["groups"] or "[]"))


def mentions_csv_chunks(db: sqlite_utils.Database,
                        selection: MentionSelection = MentionSelection()) -> Iterator[str]:
    """Stream one CSV row per mention (MENTION_COLUMNS; groups joined with "|")."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(MENTION_COLUMNS)
    for chunk in _chunks(_mentions(db, selection)):
        for row in chunk:
            row["groups"] = "|".join(_groups(row))
            writer.writerow([_cell(row[c]) for c in MENTION_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def require_located_mentions(selection: MentionSelection) -> None:
    """Checked before the first byte: armed groups have no coordinates of their own."""
    if selection.kind == "armed_group":
        raise BadInput("only places have coordinates: export armed-group mentions as CSV")


def mention_feature(row: dict) -> dict:
    """One Feature per mention of a located entity; the same columns as the CSV."""
    properties = {c: row[c] for c in MENTION_COLUMNS if c not in ("latitude", "longitude")}
    properties["groups"] = _groups(row)
    point = Point(row["longitude"], row["latitude"])
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": point.geojson()},
            "properties": properties}


def mentions_geojson_chunks(db: sqlite_utils.Database,
                            selection: MentionSelection = MentionSelection()
                            ) -> Iterator[str]:
    """Stream a FeatureCollection of the mentions of entities with coordinates."""
    require_located_mentions(selection)
    yield from feature_collection(orjson.dumps(mention_feature(row)).decode()
                                  for row in _mentions(db, selection, located=True))
