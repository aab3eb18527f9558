"""Curations out and back in: every curation, merge and rejection as JSON, replayable on a
database rebuilt from the same documents (entity ids are derived from names, so they match)."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlite_utils

from ..errors import BadInput, GazetteerError
from .curate import curate_entity, merge_entities
from .revise import reject_entity, repoint_mention, undo_curation
from .schema import transaction

FORMAT = "gazetteer-curations"
VERSION = 1

# How each logged action is applied again. An action added to store/curate.py or
# store/revise.py needs its entry here to be replayed; until then it is reported as skipped.
# An undo's payload names the curation it undid by this database's id (see _localised).
Replay = Callable[[sqlite_utils.Database, str, dict, str], object]
REPLAYS: dict[str, Replay] = {
    "patch": lambda db, entity_id, payload, who: curate_entity(db, entity_id, payload, who),
    "merge": lambda db, entity_id, payload, who: merge_entities(db, entity_id,
                                                                payload["other"], who),
    "reject": lambda db, entity_id, payload, who: reject_entity(db, entity_id,
                                                                payload["reason"], who),
    "repoint": lambda db, entity_id, payload, who: repoint_mention(db, payload["mention"],
                                                                   payload["to"], who),
    "undo": lambda db, entity_id, payload, who: undo_curation(db, payload["curation"], who),
}


def export_curations(db: sqlite_utils.Database) -> dict:
    """Every logged curation in the order it was made, with who and when (and its id, which
    an undo's payload refers to)."""
    rows = db.query("SELECT id, entity_id, action, payload, who, at FROM curations ORDER BY id")
    return {"format": FORMAT, "version": VERSION,
            "curations": [{**row, "payload": json.loads(row["payload"] or "{}")}
                          for row in rows]}


def import_curations(db: sqlite_utils.Database, data: object) -> dict:
    """Replay exported curations in order; ones already in the log (same entity, action,
    payload, who and time) are left alone, so an import can be repeated. Returns counts and
    the reason for each curation that could not be applied."""
    items = _checked(data)
    applied, present, skipped = 0, 0, []
    local_ids: dict[int, int] = {}  # the file's curation ids -> this database's
    for item in items:
        try:
            payload = _localised(item, local_ids)
        except KeyError:
            skipped.append(f"{item['entity_id']} undo: the curation it undid is not in this "
                           f"file, or was not applied")
            continue
        text = json.dumps(payload, ensure_ascii=False)
        logged = _logged(db, item, text)
        if logged is not None:
            present += 1
            _remember(local_ids, item, logged)
            continue
        replay = REPLAYS.get(item["action"])
        if replay is None:
            skipped.append(f"{item['entity_id']}: unknown action {item['action']!r}")
            continue
        try:
            with transaction(db):
                replay(db, item["entity_id"], payload, item["who"] or "import")
                made = db.execute("SELECT max(id) FROM curations").fetchone()[0]
                db.execute("UPDATE curations SET at = ?, payload = ? WHERE id = ?",
                           [item["at"], text, made])
        except (GazetteerError, KeyError, TypeError) as exc:
            reason = exc.message if isinstance(exc, GazetteerError) else f"bad payload ({exc})"
            skipped.append(f"{item['entity_id']} {item['action']}: {reason}")
            continue
        applied += 1
        _remember(local_ids, item, made)
    return {"applied": applied, "already_present": present, "skipped": skipped}


def _localised(item: dict, local_ids: dict[int, int]) -> dict:
    """The payload as this database logs it: an undo names the curation it undid by this
    database's id (KeyError when that curation was not imported)."""
    if item["action"] != "undo":
        return item["payload"]
    undone = item["payload"].get("curation")
    if item.get("id") is None or not isinstance(undone, int):
        raise KeyError(undone)  # a file from before ids were exported
    return {**item["payload"], "curation": local_ids[undone]}


def _remember(local_ids: dict[int, int], item: dict, local_id: int) -> None:
    if isinstance(item.get("id"), int):
        local_ids[item["id"]] = local_id


def _logged(db: sqlite_utils.Database, item: dict, payload: str) -> int | None:
    """The id of the same curation already in the log (entity, action, payload, who, time)."""
    row = db.execute("SELECT id FROM curations WHERE entity_id = ? AND action = ? AND "
                     "payload = ? AND coalesce(who, '') = ? AND coalesce(at, '') = ?",
                     [item["entity_id"], item["action"], payload, item["who"] or "",
                      item["at"] or ""]).fetchone()
    return row[0] if row else None


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
    return [{"id": None, "who": None, "at": None, **i} for i in items]
