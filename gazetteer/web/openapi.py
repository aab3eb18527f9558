"""The OpenAPI 3.1 description of every endpoint."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}


def _param(name: str, schema: dict, where: str = "query", required: bool = False,
           description: str = "") -> dict:
    param = {"name": name, "in": where, "required": required, "schema": schema,
             "description": description}
    if where == "query" and not required:
        param["allowEmptyValue"] = True  # `?kind=&bbox=` means not given, as forms send it
    return param


PAGING = [_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}),
          _param("offset", {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0})]
ENTITY_ID = _param("entity_id", {"type": "string"}, "path", True)
BBOX = _param("bbox", {"type": "string", "pattern": r"^-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+$"},
              description="west,south,east,north in degrees, west <= east, south <= north")
KIND = _param("kind", {"type": "string", "enum": ["place", "armed_group"]})
TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}  # not blank
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
NAMES = {"type": "array", "items": TEXT}
PATCH_BODY = {"application/json": {"schema": {
    "type": "object", "additionalProperties": False,
    "properties": {"name": TEXT,
                   "lat": {"type": "number", "minimum": -90, "maximum": 90},
                   "lon": {"type": "number", "minimum": -180, "maximum": 180},
                   "add_aliases": NAMES, "remove_aliases": NAMES, "who": {"type": "string"}},
    "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
    "anyOf": [{"required": [f]} for f in ("name", "lat", "add_aliases", "remove_aliases")]}}}
MERGE_BODY = {"application/json": {"schema": {
    "type": "object", "required": ["other"],
    "properties": {"other": {"type": "string"}, "who": {"type": "string"}}}}}
PAGE = {"description": "a page", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Page"}}}}
OBJECT = {"description": "ok", "content": JSON_OBJECT}
WRITE_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "413": ERROR}
COUNTRY = _param("country", {"type": "string", "maxLength": 200},
                 description="ISO 3166-1 alpha-2 code, e.g. SY")
DATE = {"type": "string", "format": "date"}
PERIOD = [_param("since", DATE, description="only documents published on or after (ISO date)"),
          _param("until", DATE, description="only documents published on or before (ISO date)")]
EXPORT_FILTERS = [_param("kind", {"type": "string", "enum": ["place", "armed_group"]},
                         description="armed_group: CSV only (groups have no coordinates)"),
                  _param("group", {"type": "string", "maxLength": 200},
                         description="only entities mentioned alongside this group id"),
                  COUNTRY, BBOX, *PERIOD]
MENTION_FILTERS = [*EXPORT_FILTERS,
                   _param("entity", {"type": "string", "maxLength": 200},
                          description="only this entity's mentions")]
# A batch of 50 queries is about 5,000 characters. In a URL, percent-encoding can make one
# character 12 bytes, and waitress refuses request lines over 256 KiB: GET allows less.
QUERIES_MAX_CHARS, QUERIES_GET_MAX_CHARS = 100_000, 20_000
QUERIES = _param("queries", {"type": "string", "maxLength": QUERIES_GET_MAX_CHARS},
                 description='{"q0": {"query": "Idleb", "type": "place", "limit": 3, '
                             '"properties": [{"pid": "country", "v": "SY"}]}, ...}')
# jQuery adds _=<timestamp> to the JSONP requests of old OpenRefine clients; it is ignored.
CACHE_BUSTER = _param("_", {"type": "string"},  # ignored, so any value will do
                      description="a cache-buster jQuery adds to JSONP requests (ignored)")
RECONCILE: dict[str, Any] = {"description": "the service manifest, or {q0: {result: [...]}, ...}",
             "content": {"application/json": {"schema": {"type": "object"}}}}
RECONCILE_OR_JSONP = {"description": RECONCILE["description"] + " (JSONP with callback=)",
                      "content": {**RECONCILE["content"],
                                  "application/javascript": {"schema": {"type": "string"}}}}
DOCUMENT_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
        "text": TEXT, "title": {"type": ["string", "null"]},
        "source": {"type": ["string", "null"]}, "url": {"type": ["string", "null"]},
        "published": {"type": ["string", "null"],
                      "description": "ISO 8601 date or datetime; anything else is a 400"}}}},
    "text/plain": {"schema": {**TEXT, "description": "UTF-8 text, no NUL bytes"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "a UTF-8 text, Markdown, HTML or PDF file"},
        "title": {"type": "string"}, "url": {"type": "string"},
        "published": {"type": "string", "description": "ISO 8601 date or datetime"}}}}}}


def _export(summary: str, mimetype: str, schema: dict,
            filters: list[dict] = EXPORT_FILTERS) -> dict:
    """A streamed download that takes the export filters."""
    return {"get": {"summary": summary, "parameters": filters, "responses": {
        "200": {"description": summary, "content": {mimetype: {"schema": schema}}},
        "400": ERROR, "404": ERROR}}}


MOVED = {"description": "merged: the survivor's address is in Location"}
DATE = {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"}
PAGE_NUMBER = _param("page", {"type": "integer", "minimum": 0, "maximum": 100_000})
HTML = {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
WHO = {"who": {"type": "string"}}
MAP_PATHS: dict[str, Any] = {
    "/api/map/points": {"get": {
        "summary": "Places in a view: all of them, or grid clusters for the zoom, with "
                   "single places as points (mentions, approximate, groups named with them)",
        "parameters": [BBOX, _param("zoom", {"type": "integer", "minimum": 0, "maximum": 22}),
                       _param("group", {"type": "string", "maxLength": 200},
                              description="only places named in the same sentence as it"),
                       COUNTRY, _param("since", DATE), _param("until", DATE)],
        "responses": {"200": OBJECT, "400": ERROR, "404": ERROR}}},
    "/api/map/legend": {"get": {
        "summary": "The armed groups that colour the map, and the dates the store covers",
        "parameters": [_param("limit", {"type": "integer", "minimum": 1, "maximum": 50})],
        "responses": {"200": OBJECT, "400": ERROR}}},
    "/api/entities/{entity_id}/reject": {"post": {
        "summary": "Reject an entity: it and its mentions stop being produced",
        "security": [{"bearer": []}], "parameters": [ENTITY_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {
                "reason": {"enum": ["not a place", "not a group", "wrong place"]}, **WHO}}}}},
        "responses": {"200": OBJECT, **WRITE_ERRORS}}},
    "/api/mentions/{mention_id}": {"patch": {
        "summary": "Re-point one mention to another entity",
        "security": [{"bearer": []}],
        "parameters": [_param("mention_id", {"type": "string"}, "path", True,
                              "<document id>:<start>:<end>")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["entity_id"], "properties": {
                "entity_id": {"type": "string"}, **WHO}}}}},
        "responses": {"200": OBJECT, **WRITE_ERRORS}}},
    "/api/curations/{curation_id}/undo": {"post": {
        "summary": "Undo a curation (the entity's latest standing one)",
        "security": [{"bearer": []}],
        "parameters": [_param("curation_id", {"type": "string", "pattern": r"^\d{1,12}$"},
                              "path", True)],
        "requestBody": {"required": True, "content": JSON_OBJECT},
        "responses": {"200": OBJECT, "409": ERROR, **WRITE_ERRORS}}},
    "/documents": {"get": {"summary": "The documents (HTML)",
                           "parameters": [PAGE_NUMBER], "responses": {"200": HTML, "400": ERROR}}},
    "/documents/{document_id}": {"get": {
        "summary": "One document with every mention highlighted and linked (HTML)",
        "parameters": [_param("document_id", {"type": "string"}, "path", True)],
        "responses": {"200": HTML, "404": ERROR}}},
}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "gazetteer", "version": "0.1.0",
                 "description": "Places and armed groups extracted from English reports."},
        "paths": {
            "/api/entities": {"get": {
                "summary": "List entities; q searches every alias in any spelling",
                "parameters": [KIND, _param("q", {"type": "string", "maxLength": 200}),
                               _param("country", {"type": "string", "maxLength": 200}),
                               BBOX, *PERIOD, *PAGING],
                "responses": {"200": PAGE, "400": ERROR}}},
            "/api/entities/{entity_id}": {
                "get": {"summary": "One entity with aliases, geocoding, counts, neighbours",
                        "parameters": [ENTITY_ID],
                        "responses": {"200": OBJECT, "308": MOVED, "404": ERROR}},
                "patch": {"summary": "Curate: rename, fix coordinates, add/remove aliases",
                          "security": [{"bearer": []}], "parameters": [ENTITY_ID],
                          "requestBody": {"required": True, "content": PATCH_BODY},
                          "responses": {"200": OBJECT, **WRITE_ERRORS}}},
            "/api/entities/{entity_id}/mentions": {"get": {
                "summary": "Mentions of an entity", "parameters": [ENTITY_ID, *PERIOD, *PAGING],
                "responses": {"200": PAGE, "308": MOVED, "400": ERROR, "404": ERROR}}},
            "/api/entities/{entity_id}/merge": {"post": {
                "summary": "Merge another entity into this one", "security": [{"bearer": []}],
                "parameters": [ENTITY_ID], "requestBody": {"required": True, "content": MERGE_BODY},
                "responses": {"200": OBJECT, **WRITE_ERRORS}}},
            "/api/resolve": {"get": {
                "summary": "Normalisation as a service: ranked candidates with reasons",
                "parameters": [_param("name", {**TEXT, "maxLength": 200}, required=True),
                               KIND, COUNTRY],
                "responses": {"200": OBJECT, "400": ERROR}}},
            "/api/documents": {
                "get": {"summary": "List documents", "parameters": PAGING,
                        "responses": {"200": PAGE, "400": ERROR}},
                "post": {"summary": "Ingest a document (stored once, by content hash) as a "
                                    "job: 202 with its URL, or 201 when done within ?wait=",
                         "security": [{"bearer": []}], "requestBody": DOCUMENT_BODY,
                         "parameters": [_param("wait", {"type": "integer", "minimum": 0,
                                                        "maximum": 60, "default": 0},
                                               description="seconds to wait for the job")],
                         "responses": {"201": OBJECT, "200": OBJECT, "202": OBJECT,
                                       **WRITE_ERRORS, "503": ERROR, "504": ERROR}}},
            "/api/jobs/{job_id}": {"get": {
                "summary": "An ingest job: queued, running, done (with the document) or "
                           "failed (with the reason)",
                "parameters": [_param("job_id", {"type": "string"}, "path", True)],
                "responses": {"200": OBJECT, "404": ERROR}}},
            "/api/documents/{document_id}": {"get": {
                "summary": "One document with its text and mentions",
                "parameters": [_param("document_id", {"type": "string"}, "path", True)],
                "responses": {"200": OBJECT, "404": ERROR}}},
            "/api/extract": {"post": {
                "summary": "Extract mentions from a text without storing it",
                "requestBody": DOCUMENT_BODY,
                "responses": {"200": OBJECT, "400": ERROR, "413": ERROR, "504": ERROR}}},
            "/api/gazetteer.geojson": _export(
                "Geocoded places as an RFC 7946 FeatureCollection (streamed)",
                "application/geo+json", {"type": "object"}),
            "/api/gazetteer.csv": _export(
                "Places (located or not) or armed groups as CSV (streamed)",
                "text/csv", {"type": "string"}),
            "/api/gazetteer.kml": _export(
                "Geocoded places as KML 2.2 for Google Earth (streamed)",
                "application/vnd.google-earth.kml+xml", {"type": "string"}),
            "/api/mentions.csv": _export(
                "One row per mention: document, date, entity, coordinates, sentence, groups "
                "named in it, page (streamed)", "text/csv", {"type": "string"}, MENTION_FILTERS),
            "/api/mentions.geojson": _export(
                "The mentions of located places as a FeatureCollection (streamed)",
                "application/geo+json", {"type": "object"}, MENTION_FILTERS),
            "/reconcile": {
                "get": {"summary": "OpenRefine reconciliation (v0.2): the manifest, or the "
                                   "answers to queries=",
                        "parameters": [QUERIES, _param("callback", {
                            "type": "string", "pattern": r"^[A-Za-z_$][\w$.]{0,63}$"},
                            description="JSONP callback (old clients)"), CACHE_BUSTER],
                        "responses": {"200": RECONCILE_OR_JSONP, "400": ERROR}},
                "post": {"summary": "OpenRefine reconciliation (v0.2): batched queries",
                         "parameters": [{**QUERIES, "description": "the queries in the URL "
                                         "instead of the form (the URL's win when both)"}],
                         "requestBody": {"required": True, "content": {
                             "application/x-www-form-urlencoded": {"schema": {
                                 "type": "object", "properties": {
                                     "queries": {"type": "string",
                                                 "maxLength": QUERIES_MAX_CHARS}}}}}},
                         "responses": {"200": RECONCILE, "400": ERROR, "413": ERROR}}},
            "/reconcile/match": {"post": {
                "summary": "Reconciliation 1.0 draft: {queries: [{conditions: [...]}]}",
                "requestBody": {"required": True, "content": JSON_OBJECT},
                "responses": {"200": OBJECT, "400": ERROR, "413": ERROR}}},
            "/entities/{entity_id}": {"get": {
                "summary": "One entity as a web page (OpenRefine's view and preview)",
                "parameters": [ENTITY_ID, PAGE_NUMBER, _param("embed", {"type": "string"})],
                "responses": {"200": HTML, "308": MOVED, "400": ERROR, "404": ERROR}}},
            **MAP_PATHS,
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": OBJECT}}},
            "/healthz": {"get": {"summary": "Liveness and counts", "responses": {"200": OBJECT}}},
            "/map": {"get": {"summary": "The map (HTML)", "responses": {"200": {
                "description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Page": {"type": "object", "required": ["items", "total", "limit", "offset"],
                         "properties": {"items": {"type": "array"}, "total": {"type": "integer"},
                                        "limit": {"type": "integer"},
                                        "offset": {"type": "integer"},
                                        "next": {"type": ["string", "null"]}}}},
            "responses": {"Error": {"description": "an error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


def documented_paths() -> set[str]:
    return set(openapi_document()["paths"])
