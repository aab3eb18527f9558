"""Curation: a curator's changes to an entity, merges, and their log."""

from __future__ import annotations

import json

import sqlite_utils

from ..errors import BadInput
from .derived import refresh_co_mentions, refresh_seen
from .read import get_entity
from .schema import now, transaction
from .revise import record_curation, snapshot_entity, standing_curations  # noqa: F401
from .write import add_alias


def curate_entity(db: sqlite_utils.Database, entity_id: str, changes: dict, who: str) -> None:
    """Apply a curator's changes (name, lat, lon, aliases to add or remove) and remember
    them, so that re-ingest and rebuild keep them."""
    with transaction(db):
        entity = get_entity(db, entity_id)
        before = snapshot_entity(db, entity_id)
        curated = entity["curated"]
        for field in ("name", "lat", "lon"):
            if field in changes:
                curated[field] = changes[field]
        if "name" in changes:
            add_alias(db, entity_id, changes["name"], "manual")
        if "lat" in changes:
            curated.update({"status": "resolved", "geocoder": "manual", "confidence": 1.0,
                            "reason": f"coordinates set by {who}", "precision": 1})
        for name in changes.get("add_aliases", []):
            add_alias(db, entity_id, name, "manual")
            curated["_removed_aliases"] = [n for n in curated.get("_removed_aliases", [])
                                           if n != name]
        for name in changes.get("remove_aliases", []):
            db.execute("DELETE FROM aliases WHERE entity_id = ? AND name = ?", [entity_id, name])
            curated.setdefault("_removed_aliases", []).append(name)
        columns = {k: v for k, v in curated.items() if not k.startswith("_")}
        if columns:
            db.table("entities").update(entity_id, columns)
        db.table("entities").update(entity_id, {"curated": json.dumps(curated, ensure_ascii=False),
                                          "updated_at": now()})
        record_curation(db, entity_id, "patch", changes, who, before)


def merge_entities(db: sqlite_utils.Database, into: str, other: str, who: str) -> None:
    """Move the other entity's mentions and aliases into this one; later ingests that find
    the other id are redirected here."""
    if into == other:
        raise BadInput("cannot merge an entity into itself")
    with transaction(db):
        target, source = get_entity(db, into), get_entity(db, other)
        if target["kind"] != source["kind"]:
            raise BadInput(f"cannot merge a {source['kind']} into a {target['kind']}")
        before = {**snapshot_entity(db, into), "other": snapshot_entity(db, other),
                  "moved_mentions": [r[0] for r in db.execute(
                      "SELECT id FROM mentions WHERE entity_id = ?", [other])],
                  "repointed_merges": [r[0] for r in db.execute(
                      "SELECT from_id FROM merges WHERE into_id = ?", [other])]}
        db.execute("UPDATE mentions SET entity_id = ? WHERE entity_id = ?", [into, other])
        documents = [r[0] for r in db.execute(
            "SELECT DISTINCT document_id FROM mentions WHERE entity_id = ?", [into])]
        refresh_co_mentions(db, documents)
        refresh_seen(db, [into])
        db.execute("UPDATE OR IGNORE aliases SET entity_id = ? WHERE entity_id = ?", [into, other])
        db.execute("DELETE FROM aliases WHERE entity_id = ?", [other])
        db.execute("DELETE FROM entities WHERE id = ?", [other])
        db.execute("UPDATE merges SET into_id = ? WHERE into_id = ?", [into, other])
        db.execute("INSERT OR REPLACE INTO merges VALUES (?, ?, ?, ?)", [other, into, who, now()])
        record_curation(db, into, "merge", {"other": other, "other_name": source["name"]}, who,
                        before)


def curation_log(db: sqlite_utils.Database, entity_id: str) -> list[dict]:
    """The entity's curations, oldest first, each with its id and whether it still stands."""
    standing = set(standing_curations(db, entity_id))
    return [{**dict(r), "standing": r["id"] in standing} for r in db.query(
        "SELECT id, action, payload, who, at FROM curations WHERE entity_id = ? ORDER BY id",
        [entity_id])]
