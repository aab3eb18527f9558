"""The one formatter shared by the CLI, the API and the map: extract results, GeoJSON, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import orjson
import sqlite_utils

from . import store
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


FEATURE_COLUMNS = ("id", "name", "kind", "geonameid", "country", "admin1", "feature",
                   "precision", "confidence", "status", "mentions", "documents")


def feature(row: dict, aliases: list[str], groups: list[dict]) -> dict:
    """One RFC 7946 Feature for a geocoded place row."""
    properties = {c: row.get(c) for c in FEATURE_COLUMNS}
    properties.update({"aliases": aliases, "armed_groups": groups, "reason": row.get("reason")})
    return {"type": "Feature", "id": row["id"],
            "geometry": {"type": "Point", "coordinates": Point(row["lon"], row["lat"]).geojson()},
            "properties": properties}


def geojson_chunks(db: sqlite_utils.Database, group: str | None = None,
                   bbox: tuple[float, float, float, float] | None = None) -> Iterator[str]:
    """Stream a FeatureCollection of the geocoded places, CHUNK_FEATURES at a time."""
    # orjson: json.dumps was a third of the export's time
    features = (orjson.dumps(feature(row, aliases, groups)).decode()
                for row, aliases, groups in store.iter_geocoded_places(db, group, bbox))
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    for chunk in _batched(features):
        yield ("" if first else ",\n") + ",\n".join(chunk)
        first = False
    yield "]}\n"


# Features per streamed chunk: one write per feature made the server, not the query, the
# bottleneck; a few hundred keep memory flat and the first byte early.
CHUNK_FEATURES = 500


def _batched(items: Iterator[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= CHUNK_FEATURES:
            yield batch
            batch = []
    if batch:
        yield batch


def csv_chunks(db: sqlite_utils.Database, group: str | None = None,
               bbox: tuple[float, float, float, float] | None = None) -> Iterator[str]:
    """Stream the geocoded places as CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*FEATURE_COLUMNS, "lat", "lon", "aliases", "armed_groups"])
    for i, (row, aliases, groups) in enumerate(store.iter_geocoded_places(db, group, bbox)):
        writer.writerow([*(row.get(c) for c in FEATURE_COLUMNS), row["lat"], row["lon"],
                         "|".join(aliases), "|".join(g["name"] for g in groups)])
        if i % CHUNK_FEATURES == CHUNK_FEATURES - 1:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
