"""Request parameters and bodies, checked the same way by every route."""

from __future__ import annotations

import json
import re
from functools import cache

from flask import request, url_for

from .. import formats
from ..errors import BadInput, NotFound
from ..types import KINDS
from .openapi import openapi_document

MAX_LIMIT = 1000
MAX_QUERY = 200
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{name} must be an integer, not {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}")
    return value


def bbox_arg() -> tuple[float, float, float, float] | None:
    raw = request.args.get("bbox")
    return formats.parse_bbox(raw) if raw else None


def date_arg(name: str) -> str | None:
    """An ISO date parameter (since, until); malformed is a 400."""
    raw = request.args.get(name)
    return formats.parse_date(raw, name) if raw else None


def kind_arg(required: bool = False) -> str | None:
    kind = request.args.get("kind") or None
    if kind is None and required:
        raise BadInput("kind is required: place or armed_group")
    if kind is not None and kind not in KINDS:
        raise BadInput(f"kind must be one of {', '.join(KINDS)}")
    return kind


def text_arg(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and len(value) > MAX_QUERY:
        raise BadInput(f"{name} is longer than {MAX_QUERY} characters")
    return value


def export_filters() -> formats.Filters:
    """The filters every export takes (group, country, bbox, since, until), checked."""
    return formats.Filters(group=text_arg("group") or None, country=text_arg("country") or None,
                           bbox=bbox_arg(), since=date_arg("since"), until=date_arg("until"))


def checked_id(value: str) -> str:
    """Ids are slugs; anything else (path tricks, quotes) cannot name an entity."""
    if not _ID.match(value):
        raise NotFound(f"no such id {value[:80]!r}")
    return value


def page(items: list, total: int, limit: int, offset: int, endpoint: str, **params) -> dict:
    nxt = None
    if offset + limit < total:
        nxt = url_for(endpoint, **{k: v for k, v in params.items() if v is not None},
                      limit=limit, offset=offset + limit)
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next": nxt}


# Every JSON body (the API's, /reconcile's, /reconcile/match's) gets the same limits: the
# app's MAX_CONTENT_LENGTH for size, and this nesting depth (no request of ours needs more
# than 4; 40,000-deep arrays made the parser give up with a 500).
MAX_JSON_DEPTH = 32


def parse_json(raw: str | bytes, what: str = "the body") -> object:
    """Parse JSON text within MAX_JSON_DEPTH; raises BadInput for anything else."""
    try:
        value = json.loads(raw)
    except RecursionError:  # [[[[... thousands deep: the JSON parser gives up, not us
        raise BadInput(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except ValueError:
        raise BadInput(f"{what} is not valid JSON") from None
    if _depth_over(value, MAX_JSON_DEPTH):
        raise BadInput(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return value


def request_json() -> object | None:
    """The request's JSON body under the shared limits, or None when it sends none."""
    if not request.is_json:
        return None
    data = request.get_data(cache=True)
    return parse_json(data) if data.strip() else None


def _depth_over(value: object, limit: int) -> bool:
    """True when containers nest deeper than limit (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list)))
    return False


# ---- query parameters: each endpoint takes those its OpenAPI operation declares ----------

_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def openapi_path(rule: str) -> str:
    """The OpenAPI path of a Flask rule: /api/entities/<entity_id> -> /api/entities/{entity_id}."""
    return _CONVERTER.sub(r"{\1}", rule)


@cache
def declared_query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """(OpenAPI path, METHOD) -> the names of the query parameters the operation declares."""
    return {(path, method.upper()): frozenset(p["name"] for p in operation.get("parameters", [])
                                              if p["in"] == "query")
            for path, item in openapi_document()["paths"].items()
            for method, operation in item.items()}


def refuse_unknown_query_parameters() -> None:
    """Before every request: a parameter the endpoint does not declare in OpenAPI is a 400
    naming it (a mistyped ?wiat=5 or ?limt=5 is an error, not silently ignored), and so is
    one given more than once (each declared parameter takes one value). Endpoints
    OpenAPI does not describe (the static files, / beside /map) take anything; a CORS
    preflight is answered whatever its URL holds."""
    rule = request.url_rule
    if rule is None or request.method == "OPTIONS":  # no route (404/405): nothing to check
        return
    method = "GET" if request.method == "HEAD" else request.method
    allowed = declared_query_parameters().get((openapi_path(rule.rule), method))
    if allowed is None:
        return
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "none"
        raise BadInput(f"unknown query parameter(s): {', '.join(k[:40] for k in unknown[:5])} "
                       f"({method} {rule.rule} takes: {takes})")
    repeated = sorted(k for k in request.args if len(request.args.getlist(k)) > 1)
    if repeated:  # every declared parameter is one value: ?limit=5&limit=500 is not a guess
        raise BadInput(f"query parameter(s) given more than once: {', '.join(repeated[:5])}")


def json_body() -> dict:
    if not request.is_json:
        raise BadInput("send a JSON object with Content-Type: application/json")
    body = request_json()
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    _refuse_lone_surrogates(body)
    return body


def text_field(body: dict, name: str, hint: str) -> str:
    """body[name] when it is a string; otherwise BadInput(hint), which says how to give it."""
    value = body.get(name)
    if not isinstance(value, str):
        raise BadInput(hint)
    return value


def who_field(body: dict) -> str:
    """The curator's name for the record; "api" when not given."""
    who = body.get("who")
    if who is not None and not isinstance(who, str):
        raise BadInput('"who" must be a string')
    return (who or "api")[:200]


def _refuse_lone_surrogates(body: dict) -> None:
    """JSON may escape half a UTF-16 pair ("\\ud800"); such a string is not text and
    cannot be stored or hashed, so it is refused here rather than failing deeper down."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput("the JSON holds a lone surrogate escape (such as \\ud800), "
                       "which is not text") from None
