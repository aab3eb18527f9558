"""The JSON REST API under /api."""

from __future__ import annotations

from dataclasses import asdict, replace

from flask import (Blueprint, Response, jsonify, redirect, request, stream_with_context,
                   url_for)
from werkzeug.wrappers import Response as WerkzeugResponse

import sqlite3

from .. import formats, store
from ..errors import BadInput, GazetteerError, NotFound, ReadOnlyCopy
from ..faults import storage_fault, write_fault
from ..ingest import decode, make_document
from ..sources import read_bytes, with_published
from ..types import Document
from .auth import require_writer
from .openapi import openapi_document
from .params import (MAX_LIMIT, MAX_QUERY, bbox_arg, checked_id, date_arg, export_filters,
                     int_arg, json_body, kind_arg, page, text_arg, text_field, who_field)
from .services import get_db, services, settings

bp = Blueprint("api", __name__)
__all__ = ["bp", "MAX_QUERY"]


# ---- entities -----------------------------------------------------------------------------

@bp.get("/api/entities")
def list_entities():
    kind, q, country = kind_arg(), text_arg("q"), text_arg("country")
    bbox = bbox_arg()
    since, until = date_arg("since"), date_arg("until")
    limit, offset = int_arg("limit", 50, 1, MAX_LIMIT), int_arg("offset", 0, 0, 10**9)
    items, total = store.list_entities(get_db(), kind, q, limit, offset, country, bbox,
                                       since, until)
    return jsonify(page(items, total, limit, offset, "api.list_entities", kind=kind, q=q,
                        country=country, bbox=request.args.get("bbox"), since=since,
                        until=until))


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
    since, until = date_arg("since"), date_arg("until")
    items, total = store.entity_mentions(db, entity_id, limit, offset, since, until)
    return jsonify(page(items, total, limit, offset, "api.entity_mentions", entity_id=entity_id,
                        since=since, until=until))


@bp.patch("/api/entities/<entity_id>")
def patch_entity(entity_id: str):
    require_writer()
    body = json_body()
    changes = curation_changes(body)
    db = get_db()
    store.curate_entity(db, checked_id(entity_id), changes, who_field(body))
    return get_entity(entity_id)


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
    other = text_field(body, "other", 'give the entity to merge in as {"other": "<id>"}')
    store.merge_entities(get_db(), checked_id(entity_id), checked_id(other), who_field(body))
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
    """Queue the document as a job: 202 with the job's URL; 201 with the stored document when
    the job finished within ?wait= seconds; 200 when the document was already stored."""
    require_writer()
    doc = document_from_request()
    wait = int_arg("wait", 0, 0, MAX_WAIT_SECONDS)
    db = get_db()
    if store.document_exists(db, doc.id):
        return jsonify(_stored_document(db, doc.id, created=False)), 200
    job = services().ingest(doc)
    if wait and job.state in ("queued", "running"):
        job = services().jobs().wait(job.id, wait) or job
    if job.state == "failed":
        raise job_error(job.error or {})
    if job.state == "done":
        body = _stored_document(db, doc.id, created=bool(job.created))
        body["job"] = job_json(job)
        return jsonify(body), 201 if job.created else 200
    response = jsonify({"job": job_json(job)})
    response.headers["Location"] = url_for("api.get_job", job_id=job.id)
    return response, 202


MAX_WAIT_SECONDS = 60


def _stored_document(db, document_id: str, created: bool) -> dict:
    stored = store.get_document(db, document_id)
    stored["mentions"] = store.document_mentions(db, document_id)
    stored["entities"] = sorted({m["entity_id"] for m in stored["mentions"]})
    stored["created"] = created
    return stored


@bp.get("/api/jobs/<job_id>")
def get_job(job_id: str):
    job = services().jobs().job(checked_id(job_id))
    if job is None:
        raise NotFound(f"no such job {job_id[:80]!r} (finished jobs are kept in the queue's "
                       f"file; a new queue file forgets them)")
    return jsonify(job_json(job))


def job_json(job) -> dict:
    """A job as the API shows it: its state, counts, error and links."""
    body = job.as_dict()
    body["links"] = {"self": url_for("api.get_job", job_id=job.id)}
    if job.state == "done":
        body["links"]["document"] = url_for("api.get_document", document_id=job.document_id)
    return body


def job_error(error: dict) -> GazetteerError:
    """A failed job's error, raised again with its status (503 for storage faults)."""
    raised = GazetteerError(error.get("message", "the job failed"))
    raised.status, raised.code = error.get("status", 500), error.get("code", "job_failed")
    return raised


@bp.post("/api/extract")
def post_extract():
    if settings().read_only:
        raise ReadOnlyCopy("extraction runs on the writable server, not on a read-only copy")
    doc = document_from_request(settings().extract_max_bytes)
    return jsonify(services().extract(doc))


def document_from_request(limit: int | None = None) -> Document:
    """A Document from JSON {text, title, source, url, published}, text/plain, or a
    multipart file (text, HTML or PDF) with optional title/url/published fields, of at most
    limit bytes (GAZETTEER_MAX_DOCUMENT_BYTES by default)."""
    limit = limit or settings().max_document_bytes
    mimetype = request.mimetype
    if mimetype == "application/json":
        body = json_body()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadInput('"text" must be a non-empty string')
        fields = _string_fields(body, ("title", "source", "url", "published"))
        doc = make_document(text, (fields["source"] or "api")[:500], fields["title"],
                            max_bytes=limit, url=_url(fields["url"]),
                            raw_html_text=settings().raw_html_text)
        return _published(doc, fields["published"])
    if mimetype in ("text/plain", "text/html", "text/markdown"):
        data = request.get_data()
        return make_document(decode(data, "api", limit), "api", max_bytes=limit,
                             raw_html_text=settings().raw_html_text)
    if mimetype == "multipart/form-data":
        return _uploaded_document(limit)
    raise BadInput("send application/json, text/plain or multipart/form-data")


def _uploaded_document(limit: int) -> Document:
    repeated = [name for name in _UPLOAD_PARTS
                if len(request.files.getlist(name)) + len(request.form.getlist(name)) > 1]
    if repeated:  # the description has one of each; which one was meant is not ours to guess
        raise BadInput(f"multipart part(s) given more than once: {', '.join(repeated)}")
    upload = request.files.get("file")
    if upload is None:
        raise BadInput('multipart upload needs a "file" part')
    name = (upload.filename or "upload")[:500]
    fields = _string_fields(request.form, ("title", "url", "published"))
    doc = read_bytes(upload.read(limit + 1), name, limit, fields["title"],
                     raw_html_text=settings().raw_html_text)
    if fields["url"]:
        doc = replace(doc, url=_url(fields["url"]))
    return _published(doc, fields["published"])


_UPLOAD_PARTS = ("file", "title", "url", "published")


def _string_fields(body, names: tuple[str, ...]) -> dict[str, str | None]:
    values = {name: body.get(name) for name in names}
    if not all(isinstance(v, (str, type(None))) for v in values.values()):
        raise BadInput(" and ".join(f'"{n}"' for n in names) + " must be strings")
    return {name: (value or None) for name, value in values.items()}


def _url(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.lower().startswith(("http://", "https://")) or len(value) > 2000:
        raise BadInput('"url" must be an http(s) URL of at most 2,000 characters')
    return value


def _published(doc: Document, value: str | None) -> Document:
    """doc with the caller's date ("given"); a malformed date is a 400."""
    return with_published(doc, value) if value else doc


# ---- downloads and meta -------------------------------------------------------------------

@bp.get("/api/gazetteer.geojson")
def download_geojson():
    return _download(formats.geojson_chunks, "application/geo+json", "gazetteer.geojson")


@bp.get("/api/gazetteer.csv")
def download_csv():
    return _download(formats.csv_chunks, "text/csv", "gazetteer.csv",
                     located=False)


@bp.get("/api/gazetteer.kml")
def download_kml():
    return _download(formats.kml_chunks, "application/vnd.google-earth.kml+xml",
                     "gazetteer.kml")


def selection_arg(located: bool) -> formats.Selection:
    """The export filters, checked before the first byte is streamed."""
    selection = formats.Selection(kind=kind_arg() or "place", **asdict(export_filters()))
    if located:
        formats.require_located(selection)
    if selection.group:
        store.get_entity(get_db(), checked_id(selection.group))
    return selection


@bp.get("/api/mentions.csv")
def download_mentions_csv():
    return _stream(formats.mentions_csv_chunks, mention_selection_arg(), "text/csv",
                   "mentions.csv")


@bp.get("/api/mentions.geojson")
def download_mentions_geojson():
    selection = mention_selection_arg()
    formats.require_located_mentions(selection)
    return _stream(formats.mentions_geojson_chunks, selection, "application/geo+json",
                   "mentions.geojson")


def mention_selection_arg() -> formats.MentionSelection:
    """The mentions export's filters, checked before the first byte is streamed."""
    entity, filters = text_arg("entity") or None, export_filters()
    for entity_id in (entity, filters.group):
        if entity_id:
            store.get_entity(get_db(), checked_id(entity_id))
    return formats.MentionSelection(kind=kind_arg(), entity=entity, **asdict(filters))


def _download(chunks, mimetype: str, filename: str, located: bool = True) -> Response:
    return _stream(chunks, selection_arg(located), mimetype, filename)


def _stream(chunks, selection, mimetype: str, filename: str) -> Response:
    db = services().open_connection()

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
    """Reads every table (a cheap probe: its first and last rows) and checks that writes can
    happen: "ok", or "degraded" with the cause (503 when reads fail)."""
    try:
        db = get_db()
        store.probe_tables(db)
        counts = {t: store.count_rows(db, t) for t in ("documents", "entities")}
    except (sqlite3.Error, GazetteerError) as exc:
        fault = (exc if isinstance(exc, GazetteerError)
                 else storage_fault(exc, settings().database))
        cause = ({"code": fault.code, "message": fault.message} if fault is not None
                 else {"code": "internal_error", "message": str(exc)[:300]})
        return jsonify({"status": "degraded", "reads": "failing", "cause": cause}), 503
    body = {"status": "ok", "reads": "ok", **counts}
    if settings().read_only:
        body["writes"] = "read-only copy"
        return jsonify(body)
    write = write_fault(settings().database)
    body["writes"] = "ok" if write is None else "failing"
    if write is not None:
        body.update(status="degraded", cause={"code": write.code, "message": write.message})
    return jsonify(body)
