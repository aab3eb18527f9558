"""Curations out and back in: every curation, merge and rejection as JSON, replayable on a
database rebuilt from the same documents (entity ids are derived from names, so they match)."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlite_utils

from ..errors import BadInput, GazetteerError
from .curate import curate_entity, merge_entities
from .schema import transaction

FORMAT = "gazetteer-curations"
VERSION = 1

# How each logged action is applied again. An action added to store/curate.py (a rejection,
# an undo) needs its entry here to be replayed; until then it is reported as skipped.
Replay = Callable[[sqlite_utils.Database, str, dict, str], None]
REPLAYS: dict[str, Replay] = {
    "patch": lambda db, entity_id, payload, who: curate_entity(db, entity_id, payload, who),
    "merge": lambda db, entity_id, payload, who: merge_entities(db, entity_id,
                                                                payload["other"], who),
}


def export_curations(db: sqlite_utils.Database) -> dict:
    """Every logged curation in the order it was made, with who and when."""
    rows = db.query("SELECT entity_id, action, payload, who, at FROM curations ORDER BY id")
    return {"format": FORMAT, "version": VERSION,
            "curations": [{**row, "payload": json.loads(row["payload"] or "{}")}
                          for row in rows]}


def import_curations(db: sqlite_utils.Database, data: object) -> dict:
    """Replay exported curations in order; ones already in the log (same entity, action,
    payload, who and time) are left alone, so an import can be repeated. Returns counts and
    the reason for each curation that could not be applied."""
    items = _checked(data)
    applied, present, skipped = 0, 0, []
    for item in items:
        payload = json.dumps(item["payload"], ensure_ascii=False)
        if _logged(db, item, payload):
            present += 1
            continue
        replay = REPLAYS.get(item["action"])
        if replay is None:
            skipped.append(f"{item['entity_id']}: unknown action {item['action']!r}")
            continue
        try:
            with transaction(db):
                replay(db, item["entity_id"], item["payload"], item["who"] or "import")
                db.execute("UPDATE curations SET at = ?, payload = ? WHERE id = "
                           "(SELECT max(id) FROM curations)", [item["at"], payload])
        except GazetteerError as exc:
            skipped.append(f"{item['entity_id']} {item['action']}: {exc.message}")
            continue
        applied += 1
    return {"applied": applied, "already_present": present, "skipped": skipped}


def _logged(db: sqlite_utils.Database, item: dict, payload: str) -> bool:
    return db.execute("SELECT 1 FROM curations WHERE entity_id = ? AND action = ? AND "
                      "payload = ? AND coalesce(who, '') = ? AND coalesce(at, '') = ?",
                      [item["entity_id"], item["action"], payload, item["who"] or "",
                       item["at"] or ""]).fetchone() is not None


def _checked(data: object) -> list[dict]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadInput(f'not a curations file: expected {{"format": "{FORMAT}", ...}}')
    if data.get("version") != VERSION:
        raise BadInput(f"curations file version {data.get('version')!r}; this gazetteer "
                       f"reads version {VERSION}")
    items = data.get("curations")
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("entity_id"), str)
            and isinstance(i.get("action"), str) and isinstance(i.get("payload"), dict)
            for i in items):
        raise BadInput("curations must be a list of {entity_id, action, payload, who, at}")
    return [{"who": None, "at": None, **i} for i in items]
