"""The map's data, by view: places in a bounding box clustered for a zoom level, and the
legend (the armed groups that colour the markers, and the dates the store covers)."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request

from .. import store
from ..errors import BadInput
from .params import bbox_arg, checked_id, int_arg, text_arg
from .services import get_db

bp = Blueprint("mapdata", __name__)
LEGEND_GROUPS = 10
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def date_arg(name: str) -> str | None:
    """An ISO date (YYYY, YYYY-MM or YYYY-MM-DD), or None."""
    value = request.args.get(name) or None
    if value is not None and not _DATE.match(value):
        raise BadInput(f"{name} must be an ISO date such as 2016-05-31")
    return value


@bp.get("/api/map/points")
def map_points():
    bbox = bbox_arg() or (-180.0, -90.0, 180.0, 90.0)
    group = text_arg("group") or None
    if group:
        checked_id(group)
    view = store.MapView(bbox, int_arg("zoom", 2, 0, 22), group,
                         (text_arg("country") or None), date_arg("since"), date_arg("until"))
    body = store.map_view(get_db(), view)
    body["zoom"] = view.zoom
    return jsonify(body)


@bp.get("/api/map/legend")
def map_legend():
    db = get_db()
    limit = int_arg("limit", LEGEND_GROUPS, 1, 50)
    return jsonify({"groups": store.legend_groups(db, limit), "dates": store.date_range(db),
                    "meaning": "places named in the same sentence as the group"})
