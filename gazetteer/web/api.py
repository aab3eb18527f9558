"""The JSON REST API under /api."""

from __future__ import annotations

from flask import (Blueprint, Response, jsonify, redirect, request, stream_with_context,
                   url_for)
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import formats, store
from ..errors import BadInput
from ..ingest import decode, make_document
from ..types import Document
from .auth import require_writer
from .openapi import openapi_document
from .params import (MAX_LIMIT, MAX_QUERY, bbox_arg, checked_id, int_arg, json_body, kind_arg,
                     page, text_arg)
from .services import get_db, services, settings

bp = Blueprint("api", __name__)
__all__ = ["bp", "MAX_QUERY"]


# ---- entities -----------------------------------------------------------------------------

@bp.get("/api/entities")
def list_entities():
    kind, q, country = kind_arg(), text_arg("q"), text_arg("country")
    bbox = bbox_arg()
    limit, offset = int_arg("limit", 50, 1, MAX_LIMIT), int_arg("offset", 0, 0, 10**9)
    items, total = store.list_entities(get_db(), kind, q, limit, offset, country, bbox)
    return jsonify(page(items, total, limit, offset, "api.list_entities", kind=kind, q=q,
                        country=country, bbox=request.args.get("bbox")))


def survivor_redirect(entity_id: str, endpoint: str) -> WerkzeugResponse | None:
    """A 308 to the entity an id was merged into (so reconciled ids keep working)."""
    survivor = store.merged_into(get_db(), entity_id)
    if survivor is None:
        return None
    query = request.query_string.decode("ascii", "replace")
    target = url_for(endpoint, entity_id=survivor) + (f"?{query}" if query else "")
    response = redirect(target, code=308)
    response.headers["Cache-Control"] = "no-cache"  # a merge can be undone: browsers re-ask
    return response


@bp.get("/api/entities/<entity_id>")
def get_entity(entity_id: str):
    db = get_db()
    moved = survivor_redirect(checked_id(entity_id), "api.get_entity")
    if moved is not None:
        return moved
    entity = store.get_entity(db, entity_id)
    entity.pop("curated", None)
    entity["aliases"] = store.entity_aliases(db, entity_id)
    entity.update(store.entity_counts(db, entity_id))
    key = "armed_groups" if entity["kind"] == "place" else "places"
    entity[key] = store.neighbours(db, entity_id)
    entity["curation"] = store.curation_log(db, entity_id)
    entity["links"] = {"mentions": url_for("api.entity_mentions", entity_id=entity_id)}
    return jsonify(entity)


@bp.get("/api/entities/<entity_id>/mentions")
def entity_mentions(entity_id: str):
    db = get_db()
    moved = survivor_redirect(checked_id(entity_id), "api.entity_mentions")
    if moved is not None:
        return moved
    store.get_entity(db, entity_id)
    limit, offset = int_arg("limit", 50, 1, MAX_LIMIT), int_arg("offset", 0, 0, 10**9)
    items, total = store.entity_mentions(db, entity_id, limit, offset)
    return jsonify(page(items, total, limit, offset, "api.entity_mentions", entity_id=entity_id))


@bp.patch("/api/entities/<entity_id>")
def patch_entity(entity_id: str):
    require_writer()
    body = json_body()
    changes = curation_changes(body)
    db = get_db()
    store.curate_entity(db, checked_id(entity_id), changes, who_arg(body))
    return get_entity(entity_id)


def who_arg(body: dict) -> str:
    """The curator's name for the record; "api" when not given."""
    who = body.get("who")
    if who is not None and not isinstance(who, str):
        raise BadInput('"who" must be a string')
    return (who or "api")[:200]


def curation_changes(body: dict) -> dict:
    """Validate a PATCH body: name, lat/lon (together), add_aliases, remove_aliases."""
    allowed = {"name", "lat", "lon", "add_aliases", "remove_aliases", "who"}
    unknown = set(body) - allowed
    if unknown:
        raise BadInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    changes: dict = {}
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise BadInput("name must be a non-empty string")
        changes["name"] = body["name"].strip()[:300]
    if ("lat" in body) != ("lon" in body):
        raise BadInput("lat and lon must be given together")
    if "lat" in body:
        lat, lon = body["lat"], body["lon"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)) \
                or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise BadInput("lat must be a number in [-90, 90] and lon in [-180, 180]")
        changes.update(lat=float(lat), lon=float(lon))
    for field in ("add_aliases", "remove_aliases"):
        if field in body:
            values = body[field]
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip()
                                                       for v in values):
                raise BadInput(f"{field} must be a list of non-empty strings")
            changes[field] = [v.strip()[:300] for v in values]
    if not changes:
        raise BadInput("nothing to change: give name, lat/lon, add_aliases or remove_aliases")
    return changes


@bp.post("/api/entities/<entity_id>/merge")
def merge_entity(entity_id: str):
    require_writer()
    body = json_body()
    other = body.get("other")
    if not isinstance(other, str):
        raise BadInput('give the entity to merge in as {"other": "<id>"}')
    store.merge_entities(get_db(), checked_id(entity_id), checked_id(other), who_arg(body))
    return get_entity(entity_id)


@bp.get("/api/resolve")
def resolve():
    name, kind, country = text_arg("name"), kind_arg(), text_arg("country")
    if not name or not name.strip():
        raise BadInput("name is required")
    candidates = services().candidates(name, kind, country and country.upper())
    return jsonify({"name": name, "kind": kind, "candidates": candidates})


# ---- documents ----------------------------------------------------------------------------

@bp.get("/api/documents")
def list_documents():
    limit, offset = int_arg("limit", 50, 1, MAX_LIMIT), int_arg("offset", 0, 0, 10**9)
    items, total = store.list_documents(get_db(), limit, offset)
    return jsonify(page(items, total, limit, offset, "api.list_documents"))


@bp.get("/api/documents/<document_id>")
def get_document(document_id: str):
    db = get_db()
    doc = store.get_document(db, checked_id(document_id))
    doc["mentions"] = store.document_mentions(db, document_id)
    return jsonify(doc)


@bp.post("/api/documents")
def post_document():
    require_writer()
    doc = document_from_request()
    created = services().ingest(doc)
    db = get_db()
    stored = store.get_document(db, doc.id)
    stored["mentions"] = store.document_mentions(db, doc.id)
    stored["entities"] = sorted({m["entity_id"] for m in stored["mentions"]})
    stored["created"] = created
    return jsonify(stored), 201 if created else 200


@bp.post("/api/extract")
def post_extract():
    doc = document_from_request()
    return jsonify(services().extract(doc))


def document_from_request() -> Document:
    """A Document from JSON {text, title, source}, text/plain, or a multipart file."""
    limit = settings().max_document_bytes
    mimetype = request.mimetype
    if mimetype == "application/json":
        body = json_body()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadInput('"text" must be a non-empty string')
        title, source = body.get("title"), body.get("source")
        if not all(isinstance(v, (str, type(None))) for v in (title, source)):
            raise BadInput('"title" and "source" must be strings')
        return make_document(text, (source or "api")[:500], title, max_bytes=limit)
    if mimetype in ("text/plain", "text/html", "text/markdown"):
        data = request.get_data()
        return make_document(decode(data, "api", limit), "api", max_bytes=limit)
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadInput('multipart upload needs a "file" part')
        name = upload.filename or "upload"
        return make_document(decode(upload.read(limit + 1), name, limit), name[:500],
                             max_bytes=limit)
    raise BadInput("send application/json, text/plain or multipart/form-data")


# ---- downloads and meta -------------------------------------------------------------------

@bp.get("/api/gazetteer.geojson")
def download_geojson():
    return _download(formats.geojson_chunks, "application/geo+json", "gazetteer.geojson")


@bp.get("/api/gazetteer.csv")
def download_csv():
    return _download(formats.csv_chunks, "text/csv; charset=utf-8", "gazetteer.csv",
                     located=False)


@bp.get("/api/gazetteer.kml")
def download_kml():
    return _download(formats.kml_chunks, "application/vnd.google-earth.kml+xml",
                     "gazetteer.kml")


def selection_arg(located: bool) -> formats.Selection:
    """The export filters, checked before the first byte is streamed."""
    group, country = text_arg("group"), text_arg("country")
    selection = formats.Selection(kind_arg() or "place", group or None, country or None,
                                  bbox_arg())
    if located:
        formats.require_located(selection)
    if group:
        store.get_entity(get_db(), checked_id(group))
    return selection


def _download(chunks, mimetype: str, filename: str, located: bool = True) -> Response:
    selection = selection_arg(located)
    db = store.open_db(settings().database, create=False)

    def generate():
        try:
            yield from chunks(db, selection)
        finally:
            store.close(db)

    response = Response(stream_with_context(generate()), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/healthz")
def healthz():
    db = get_db()
    return jsonify({"status": "ok", "documents": store.count_rows(db, "documents"),
                    "entities": store.count_rows(db, "entities")})
