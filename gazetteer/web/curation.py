"""Curation that can be taken back, in the API: reject an entity, re-point one mention,
undo any curation (the browser's curation panel uses these and PATCH/merge)."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, url_for

from .. import store
from ..errors import NotFound
from .auth import require_writer
from .params import checked_id, json_body, text_field, who_field
from .services import get_db

bp = Blueprint("curation", __name__)
_MENTION_ID = re.compile(r"^[0-9a-f]{16,64}:\d{1,9}:\d{1,9}$")


@bp.post("/api/entities/<entity_id>/reject")
def reject_entity(entity_id: str):
    require_writer()
    body = json_body()
    reason = text_field(body, "reason",
                        f'give {{"reason": ...}}, one of: {", ".join(store.REJECT_REASONS)}')
    curation = store.reject_entity(get_db(), checked_id(entity_id), reason, who_field(body))
    return jsonify({"id": entity_id, "rejected": reason, "curation": curation,
                    "undo": url_for("curation.undo", curation_id=curation)})


@bp.patch("/api/mentions/<mention_id>")
def repoint_mention(mention_id: str):
    require_writer()
    if not _MENTION_ID.match(mention_id):
        raise NotFound(f"no mention with id {mention_id[:80]!r}")
    body = json_body()
    target = text_field(body, "entity_id", 'give the entity to point to as {"entity_id": "<id>"}')
    curation = store.repoint_mention(get_db(), mention_id, checked_id(target), who_field(body))
    return jsonify({"mention": mention_id, "entity_id": target, "curation": curation,
                    "undo": url_for("curation.undo", curation_id=curation)})


@bp.post("/api/curations/<curation_id>/undo")
def undo(curation_id: str):
    require_writer()
    if not curation_id.isdigit() or len(curation_id) > 12:
        raise NotFound(f"no curation {curation_id[:40]!r}")
    body = json_body()
    entity_id = store.undo_curation(get_db(), int(curation_id), who_field(body))
    return jsonify({"undone": int(curation_id), "entity_id": entity_id,
                    "entity": url_for("api.get_entity", entity_id=entity_id)})
