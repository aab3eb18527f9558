"""OpenRefine reconciliation: the Reconciliation Service API v0.2 as OpenRefine speaks it
(GET/POST /reconcile with queries=), and the 1.0 draft's POST /reconcile/match.

Answers come from the same resolver as /api/resolve; CORS is open on these routes only, so a
browser-based OpenRefine on another port can call them.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, jsonify, request, url_for

from ..errors import BadInput
from .openapi import QUERIES_GET_MAX_CHARS, QUERIES_MAX_CHARS
from .params import MAX_QUERY, parse_json, request_json
from .services import services

bp = Blueprint("reconcile", __name__)

TYPES = {"place": "Place", "armed_group": "Armed group"}
MAX_QUERIES = 1000  # per request; OpenRefine sends 10 at a time by default
BATCH_SIZE = 50  # what the manifest asks OpenRefine to send per request
DEFAULT_LIMIT, MAX_LIMIT = 5, 100
# ASCII only, and \Z: "$" would let a trailing newline through
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,63}\Z", re.ASCII)


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


@bp.route("/reconcile", methods=["GET", "POST"])
def reconcile():
    raw = request.values.get("queries")
    if raw is None and request.is_json:
        body = request_json()
        raw = body.get("queries") if isinstance(body, dict) else None
    if raw is None and request.method == "POST":
        raise BadInput('POST the queries as a form field: queries={"q0": {"query": "..."}}')
    if raw is None:
        return _jsonp(manifest())
    most = QUERIES_GET_MAX_CHARS if request.method == "GET" else QUERIES_MAX_CHARS
    if isinstance(raw, str) and len(raw) > most:
        raise BadInput(f"queries is longer than {most} characters: send smaller batches "
                       f"(or POST them)")
    queries = _parse_json(raw) if isinstance(raw, str) else raw
    if not isinstance(queries, dict) or not queries:
        raise BadInput('queries must be a JSON object: {"q0": {"query": "..."}, ...}')
    _check_count(queries)
    parsed = {str(qid)[:100]: parse_query(query) for qid, query in queries.items()}
    return _jsonp({qid: {"result": answer(**query)} for qid, query in parsed.items()})


@bp.post("/reconcile/match")
def match():
    """The 1.0 draft: {"queries": [{"conditions": [{"matchType": "name", "propertyValue":
    "..."}, {"matchType": "property", "propertyId": "country", "propertyValue": "SY"}],
    "type": "place", "limit": 3}]} -> {"results": [{"candidates": [...]}]}."""
    body = request_json()
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise BadInput('send JSON {"queries": [{"conditions": [...]}]}')
    _check_count(body["queries"])
    results = []
    for query in body["queries"]:
        parsed = parse_query(_draft_to_v02(query))
        results.append({"candidates": answer(**parsed)})
    return jsonify({"results": results})


def manifest() -> dict:
    root = request.host_url.rstrip("/")
    view = root + url_for("pages.entity_page", entity_id="ENTITY").replace("ENTITY", "{{id}}")
    return {
        "versions": ["0.2"],
        "name": "gazetteer: places and armed groups",
        "identifierSpace": f"{root}/entities/",
        "schemaSpace": f"{root}/api/openapi.json",
        "defaultTypes": [{"id": k, "name": v} for k, v in TYPES.items()],
        "view": {"url": view},
        "preview": {"url": view + "?embed=1", "width": 420, "height": 220},
        "batchSize": BATCH_SIZE,
        "documentation": f"{root}/api/openapi.json",
    }


def parse_query(query) -> dict:
    """Check one v0.2 query and return answer()'s arguments."""
    if not isinstance(query, dict):
        raise BadInput("each query must be a JSON object with a \"query\" string")
    text = query.get("query")
    if not isinstance(text, str) or not text.strip():
        raise BadInput('each query needs a non-empty "query" string')
    if len(text) > MAX_QUERY:
        raise BadInput(f"a query is longer than {MAX_QUERY} characters")
    return {"name": text.strip(), "kind": _type(query.get("type")),
            "limit": _limit(query.get("limit")),
            "country": _country(query.get("properties"))}


def answer(name: str, kind: str | None, limit: int, country: str | None) -> list[dict]:
    candidates = services().candidates(name, kind, country, limit)
    return [{"id": c["entity_id"], "name": c["name"], "score": round(c["score"] * 100, 1),
             "match": c["match"], "type": [{"id": c["kind"], "name": TYPES[c["kind"]]}],
             "description": _description(c)} for c in candidates]


def _description(candidate: dict) -> str:
    if candidate["kind"] == "armed_group":
        return f"armed group ({candidate.get('type') or 'unknown type'}); {candidate['reason']}"
    where = ", ".join(str(v) for v in (candidate.get("feature"), candidate.get("country")) if v)
    return f"{where or 'place'}; {candidate['reason']}"


def _type(value) -> str | None:
    """v0.2 allows a type id, a list of them, or {"id": ...}; we know two types."""
    if value is None or value == []:
        return None
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, dict):
        value = value.get("id")
    if value not in TYPES:
        raise BadInput(f"unknown type {str(value)[:40]!r}: use place or armed_group")
    return value


def _limit(value) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise BadInput(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return value


def _country(properties) -> str | None:
    """The one property we use: country, as an ISO code ("SY") or a name ("Syria")."""
    if properties is None:
        return None
    if not isinstance(properties, list):
        raise BadInput('properties must be a list of {"pid": "country", "v": "SY"}')
    country = None
    for prop in properties:
        if not isinstance(prop, dict) or prop.get("pid") != "country":
            raise BadInput('the only property is country: {"pid": "country", "v": "SY"}')
        value = prop.get("v")
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_QUERY:
            raise BadInput("a country must be an ISO code or a country name")
        country = _country_code(value.strip())
    return country


def _country_code(value: str) -> str:
    if len(value) == 2 and value.isalpha():
        return value.upper()
    readings = services().candidates(value, "place")
    for candidate in readings:
        if candidate.get("feature") == "country" and candidate.get("country"):
            return candidate["country"]
    raise BadInput(f"unknown country {value[:40]!r}: give its ISO code, e.g. SY")


def _draft_to_v02(query) -> dict:
    """A 1.0-draft query in v0.2 terms: its name condition and its country property."""
    if not isinstance(query, dict) or not isinstance(query.get("conditions"), list):
        raise BadInput('each query needs "conditions": [{"matchType": "name", ...}]')
    names = [c.get("propertyValue") for c in query["conditions"]
             if isinstance(c, dict) and c.get("matchType") == "name"]
    properties = [{"pid": c.get("propertyId"), "v": c.get("propertyValue")}
                  for c in query["conditions"]
                  if isinstance(c, dict) and c.get("matchType") == "property"]
    return {"query": names[0] if names else None, "type": query.get("type"),
            "limit": query.get("limit"), "properties": properties or None}


def _check_count(queries) -> None:
    if len(queries) > MAX_QUERIES:
        raise BadInput(f"at most {MAX_QUERIES} queries per request; OpenRefine sends "
                       f"{BATCH_SIZE} when it follows the manifest")


def _parse_json(raw: str):
    return parse_json(raw, "queries")


def _jsonp(payload: dict) -> Response:
    """JSON, or JSONP when an old client passes ?callback= (a checked identifier only)."""
    callback = request.args.get("callback")
    if callback is None:
        return jsonify(payload)
    if not _CALLBACK.match(callback):
        raise BadInput("callback must be a JavaScript identifier")
    body = f"/**/{callback}({json.dumps(payload)});"
    return Response(body, mimetype="application/javascript")
