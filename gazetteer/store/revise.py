"""Curation that can be taken back: rejecting an entity, re-pointing one mention, and undoing
any curation (a patch, a merge, a rejection, a re-point) from the state saved before it."""

from __future__ import annotations

import json

import sqlite_utils

from ..errors import BadInput, Conflict, NotFound
from .read import get_entity
from .schema import now, transaction

REJECT_REASONS = ("not a place", "not a group", "wrong place")


def snapshot_entity(db: sqlite_utils.Database, entity_id: str) -> dict:
    """The entity's row and aliases as stored, to restore later."""
    rows = [dict(r) for r in db.query("SELECT * FROM entities WHERE id = ?", [entity_id])]
    if not rows:
        raise NotFound(f"no entity with id {entity_id!r}")
    aliases = [list(r) for r in db.execute(
        "SELECT name, key, source FROM aliases WHERE entity_id = ?", [entity_id])]
    return {"row": rows[0], "aliases": aliases}


def restore_entity(db: sqlite_utils.Database, snap: dict) -> None:
    """Put the entity back as it was: its row (updated in place, so the search index
    triggers fire) and exactly its aliases."""
    row = snap["row"]
    entity_id = row["id"]
    exists = db.execute("SELECT 1 FROM entities WHERE id = ?", [entity_id]).fetchone()
    if exists:
        sets = ", ".join(f'"{c}" = ?' for c in row if c != "id")
        db.execute(f"UPDATE entities SET {sets} WHERE id = ?",
                   [v for c, v in row.items() if c != "id"] + [entity_id])
    else:
        names = ", ".join(f'"{c}"' for c in row)
        db.execute(f"INSERT INTO entities ({names}) VALUES ({', '.join('?' * len(row))})",
                   list(row.values()))
    db.execute("DELETE FROM aliases WHERE entity_id = ?", [entity_id])
    db.conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?, ?, ?)",
                        [(entity_id, *a) for a in snap["aliases"]])


def save_snapshot(db: sqlite_utils.Database, curation_id: int, snapshot: dict) -> None:
    db.execute("INSERT INTO curation_snapshots VALUES (?, ?)",
               [curation_id, json.dumps(snapshot, ensure_ascii=False)])


def record_curation(db: sqlite_utils.Database, entity_id: str, action: str, payload: dict,
                    who: str, snapshot: dict | None = None) -> int:
    """Log a curation; with the state from before it (snapshot), it can be undone."""
    cursor = db.execute("INSERT INTO curations (entity_id, action, payload, who, at) "
                        "VALUES (?,?,?,?,?)",
                        [entity_id, action, json.dumps(payload, ensure_ascii=False), who, now()])
    curation_id = int(cursor.lastrowid or 0)
    if snapshot is not None:
        save_snapshot(db, curation_id, snapshot)
    return curation_id


# ---- rejecting ------------------------------------------------------------------------------

def reject_entity(db: sqlite_utils.Database, entity_id: str, reason: str, who: str) -> int:
    """Remove the entity, its aliases and its mentions, and keep it from being produced
    again (save_document consults the rejections). Returns the curation id."""
    if reason not in REJECT_REASONS:
        raise BadInput(f"reason must be one of: {', '.join(REJECT_REASONS)}")
    with transaction(db):
        snap = snapshot_entity(db, entity_id)
        snap["mentions"] = [dict(r) for r in db.query(
            "SELECT * FROM mentions WHERE entity_id = ?", [entity_id])]
        db.execute("DELETE FROM mentions WHERE entity_id = ?", [entity_id])
        db.execute("DELETE FROM aliases WHERE entity_id = ?", [entity_id])
        db.execute("DELETE FROM entities WHERE id = ?", [entity_id])
        db.execute("INSERT OR REPLACE INTO rejections VALUES (?, ?, ?, ?)",
                   [entity_id, reason, who, now()])
        return record_curation(db, entity_id, "reject", {"reason": reason,
                                                 "name": snap["row"]["name"]}, who, snap)


def rejected_ids(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.execute("SELECT entity_id FROM rejections")}


def rejection(db: sqlite_utils.Database, entity_id: str) -> dict | None:
    rows = [dict(r) for r in db.query("SELECT * FROM rejections WHERE entity_id = ?",
                                      [entity_id])]
    return rows[0] if rows else None


# ---- re-pointing one mention ----------------------------------------------------------------

def repoint_mention(db: sqlite_utils.Database, mention_id: str, entity_id: str,
                    who: str) -> int:
    """Link one mention to another entity (of either kind); kept for later ingests of the
    same document by mention_overrides. Returns the curation id."""
    with transaction(db):
        rows = [dict(r) for r in db.query("SELECT * FROM mentions WHERE id = ?", [mention_id])]
        if not rows:
            raise NotFound(f"no mention with id {mention_id!r}")
        mention, target = rows[0], get_entity(db, entity_id)
        if mention["entity_id"] == entity_id:
            raise BadInput("the mention already points to that entity")
        previous = db.execute("SELECT entity_id FROM mention_overrides WHERE mention_id = ?",
                              [mention_id]).fetchone()
        db.execute("UPDATE mentions SET entity_id = ?, kind = ? WHERE id = ?",
                   [entity_id, target["kind"], mention_id])
        db.execute("INSERT OR REPLACE INTO mention_overrides VALUES (?, ?, ?, ?)",
                   [mention_id, entity_id, who, now()])
        snap = {"mention": mention, "override": previous[0] if previous else None}
        return record_curation(db, mention["entity_id"], "repoint",
                       {"mention": mention_id, "text": mention["text"], "to": entity_id,
                        "to_name": target["name"]}, who, snap)


def mention_overrides(db: sqlite_utils.Database) -> dict[str, str]:
    """mention id -> the entity a curator re-pointed it to."""
    return dict(db.execute("SELECT mention_id, entity_id FROM mention_overrides").fetchall())


# ---- undo -----------------------------------------------------------------------------------

def undo_curation(db: sqlite_utils.Database, curation_id: int, who: str) -> str:
    """Restore the state from before a curation; returns the entity id to show afterwards.
    Only an entity's latest standing curation can be undone (later ones build on it)."""
    with transaction(db):
        row = db.execute("SELECT entity_id, action, payload FROM curations WHERE id = ?",
                         [curation_id]).fetchone()
        snap_row = db.execute("SELECT snapshot FROM curation_snapshots WHERE curation_id = ?",
                              [curation_id]).fetchone()
        if row is None or row[1] == "undo":
            raise NotFound(f"no curation {curation_id} to undo")
        if snap_row is None:
            raise Conflict(f"curation {curation_id} was made before undo was recorded")
        entity_id, action = row[0], row[1]
        standing = standing_curations(db, entity_id)
        if curation_id not in standing:
            raise Conflict(f"curation {curation_id} is already undone")
        if standing[-1] != curation_id:
            raise Conflict("undo the later changes to this entity first")
        snap = json.loads(snap_row[0])
        shown = _UNDO[action](db, snap, entity_id)
        record_curation(db, entity_id, "undo", {"curation": curation_id}, who)
        return shown


def standing_curations(db: sqlite_utils.Database, entity_id: str) -> list[int]:
    """The entity's curation ids, oldest first, not counting undos and what they undid."""
    ids, undone = [], set()
    for cid, action, payload in db.execute(
            "SELECT id, action, payload FROM curations WHERE entity_id = ? ORDER BY id",
            [entity_id]):
        if action == "undo":
            undone.add(json.loads(payload)["curation"])
        else:
            ids.append(cid)
    return [i for i in ids if i not in undone]


def _undo_patch(db: sqlite_utils.Database, snap: dict, entity_id: str) -> str:
    restore_entity(db, snap)
    return entity_id


def _undo_merge(db: sqlite_utils.Database, snap: dict, entity_id: str) -> str:
    other = snap["other"]
    restore_entity(db, other)
    restore_entity(db, snap)
    other_id = other["row"]["id"]
    db.conn.executemany("UPDATE mentions SET entity_id = ? WHERE id = ?",
                        [(other_id, m) for m in snap["moved_mentions"]])
    db.execute("DELETE FROM merges WHERE from_id = ?", [other_id])
    db.conn.executemany("UPDATE merges SET into_id = ? WHERE from_id = ?",
                        [(other_id, f) for f in snap["repointed_merges"]])
    return entity_id


def _undo_reject(db: sqlite_utils.Database, snap: dict, entity_id: str) -> str:
    restore_entity(db, snap)
    for mention in snap["mentions"]:
        names = ", ".join(f'"{c}"' for c in mention)
        db.execute(f"INSERT OR IGNORE INTO mentions ({names}) VALUES "
                   f"({', '.join('?' * len(mention))})", list(mention.values()))
    db.execute("DELETE FROM rejections WHERE entity_id = ?", [entity_id])
    return entity_id


def _undo_repoint(db: sqlite_utils.Database, snap: dict, entity_id: str) -> str:
    mention = snap["mention"]
    db.execute("UPDATE mentions SET entity_id = ?, kind = ? WHERE id = ?",
               [mention["entity_id"], mention["kind"], mention["id"]])
    if snap["override"]:
        db.execute("UPDATE mention_overrides SET entity_id = ? WHERE mention_id = ?",
                   [snap["override"], mention["id"]])
    else:
        db.execute("DELETE FROM mention_overrides WHERE mention_id = ?", [mention["id"]])
    return entity_id


_UNDO = {"patch": _undo_patch, "merge": _undo_merge, "reject": _undo_reject,
         "repoint": _undo_repoint}
