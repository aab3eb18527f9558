"""What the store derives from mentions, kept current on every write: sentence numbers,
co-mention counts and when each entity was first and last seen."""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

# The date part of a published value (a date, or a datetime with its offset).
PUBLISHED_DATE = "substr(d.published, 1, 10)"


def _only(column: str, ids: Sequence[str] | None) -> tuple[str, list[str]]:
    """A WHERE condition restricting column to ids (everything when ids is None)."""
    if ids is None:
        return "1=1", []
    return f"{column} IN (SELECT value FROM json_each(?))", [_json(ids)]


def _json(ids: Sequence[str]) -> str:
    import json

    return json.dumps(list(ids))


def sentence_number(text: str, start: int, end: int, sentence: str | None,
                    unplaced: dict[str, int]) -> int | None:
    """Where a mention's sentence starts in the document: mentions with the same number
    are in the same sentence. A sentence repeated word for word elsewhere in the report
    is another sentence (joining every copy with every other was quadratic, and counted
    pairs that were never written side by side). A sentence not found around the mention
    gets a negative number of its own, shared by its copies."""
    if sentence is None:
        return None
    found = text.find(sentence, max(0, end - len(sentence)), start + len(sentence))
    return found if found >= 0 else unplaced.setdefault(sentence, -1 - len(unplaced))


def number_sentences(db: sqlite_utils.Database) -> None:
    """Give mentions stored before schema 3 their sentence number, document by document
    (each text read once)."""
    documents = [r[0] for r in db.execute("SELECT DISTINCT document_id FROM mentions")]
    for document_id in documents:
        (text,) = db.execute("SELECT text FROM documents WHERE id = ?", [document_id]).fetchone()
        unplaced: dict[str, int] = {}
        db.conn.executemany("UPDATE mentions SET sentence_no = ? WHERE id = ?", [
            (sentence_number(text or "", start, end, sentence, unplaced), mention_id)
            for mention_id, start, end, sentence in db.execute(
                'SELECT id, start, "end", sentence FROM mentions WHERE document_id = ?',
                [document_id])])


def refresh_co_mentions(db: sqlite_utils.Database,
                        document_ids: Sequence[str] | None = None) -> None:
    """Recount, per document, the pairs of entities of different kinds named in one
    sentence (every document when document_ids is None). Linear in the mentions: the join
    stays inside a sentence through the mentions_sentence index."""
    where, params = _only("document_id", document_ids)
    db.execute(f"DELETE FROM co_mentions WHERE {where}", params)
    where, params = _only("m.document_id", document_ids)
    db.execute(
        "INSERT INTO co_mentions (entity_id, other_id, document_id, count) "
        "SELECT m.entity_id, o.entity_id, m.document_id, count(*) FROM mentions m "
        "JOIN mentions o ON o.document_id = m.document_id AND o.sentence_no = m.sentence_no "
        f"AND o.kind != m.kind WHERE {where} "
        "GROUP BY m.entity_id, o.entity_id, m.document_id", params)


def refresh_seen(db: sqlite_utils.Database, entity_ids: Sequence[str] | None = None) -> None:
    """Recompute first_seen/last_seen (dates of the earliest and latest dated document
    mentioning each entity; null when none is dated) from the stored mentions."""
    where, params = _only("id", entity_ids)
    db.execute(f"UPDATE entities SET first_seen = NULL, last_seen = NULL WHERE {where}", params)
    where, params = _only("m.entity_id", entity_ids)
    db.execute(
        f"UPDATE entities SET first_seen = s.first, last_seen = s.last FROM ("
        f"SELECT m.entity_id AS id, min({PUBLISHED_DATE}) AS first, "
        f"max({PUBLISHED_DATE}) AS last FROM mentions m JOIN documents d "
        f"ON d.id = m.document_id WHERE d.published IS NOT NULL AND {where} "
        f"GROUP BY m.entity_id) AS s WHERE s.id = entities.id", params)


def note_seen(db: sqlite_utils.Database, entity_ids: Sequence[str], published: str) -> None:
    """Widen the entities' first_seen/last_seen to a newly stored document's date: cheaper
    than a recount, which would read every earlier mention of a much-named place."""
    day = published[:10]
    where, params = _only("id", entity_ids)
    db.execute("UPDATE entities SET first_seen = min(coalesce(first_seen, ?1), ?1), "
               f"last_seen = max(coalesce(last_seen, ?1), ?1) WHERE {where}",
               [day, *params])
