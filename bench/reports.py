"""7. Any size (issue 13): a 1,000,000-character report ingests at the words/s of short ones
(the same words, side by side); 8. an entity named 100,000 times reads in < 100 ms: neighbour
counts from the co-mention table against the self-join on (document, sentence) they replace."""

from __future__ import annotations

from pathlib import Path

from gazetteer import store
from gazetteer.pipeline import open_engine, run
from gazetteer.sources import make_document

from .common import Results, fresh_copy, median, settings_for, store_named_often, timed

LONG_CHARS = 1_000_000
LONG_SOURCE_DOCS = 1_200  # bench documents average ~990 characters: enough to pass LONG_CHARS


def bench_long_document(results: Results, reference: Path, texts: list[str],
                        repeats: int) -> None:
    """The same words ingested as short documents and as one long one (the short texts
    joined by blank lines until the long one passes 1,000,000 characters)."""
    long_text, short = _long_and_short(texts)
    assert len(long_text) > LONG_CHARS, len(long_text)
    words = sum(len(t.split()) for t in short)
    engine = open_engine(settings_for(fresh_copy(reference, "long-load.db")))
    nlp = engine.nlp
    engine.db.conn.close()
    short_s, long_s = [], []
    for n in range(repeats):  # alternating, so machine noise hits both
        short_s.append(_ingest_seconds(reference, short, nlp, f"short-{n}"))
        long_s.append(_ingest_seconds(reference, [long_text], nlp, f"long-{n}"))
    short_rate, long_rate = words / median(short_s), words / median(long_s)
    ratio = long_rate / short_rate
    results.add(f"ingest one {len(long_text):,}-character document",
                f"{long_rate:,.0f} words/s", f"{len(short):,} short documents, same words: "
                f"{short_rate:,.0f} words/s", f"{ratio:.2f}x", ">= 0.8x short", ratio >= 0.8)


def _long_and_short(texts: list[str]) -> tuple[str, list[str]]:
    chosen, size = [], 0
    for text in texts:
        chosen.append(text)
        size += len(text) + 2
        if size > LONG_CHARS:
            break
    return "\n\n".join(chosen), chosen


def _ingest_seconds(reference: Path, texts: list[str], nlp, name: str) -> float:
    db = fresh_copy(reference, f"long-{name}.db")
    engine = open_engine(settings_for(db), nlp=nlp)
    docs = [make_document(t, f"{name}-{n}.txt") for n, t in enumerate(texts)]
    seconds, report = timed(lambda: run(engine, docs))
    assert len(report.added) == len(texts) and not report.skipped, report
    engine.db.conn.close()
    Path(db).unlink()
    return seconds


# The neighbour count as it was before the co-mention table (store/read.py, schema 2).
SELF_JOIN = ("SELECT o.entity_id AS id, e.name, e.kind, count(*) AS count FROM mentions m "
             "JOIN mentions o ON o.document_id = m.document_id AND o.sentence = m.sentence "
             "AND o.kind != m.kind JOIN entities e ON e.id = o.entity_id "
             "WHERE m.entity_id = ? GROUP BY o.entity_id ORDER BY count DESC, e.name, "
             "o.entity_id LIMIT 50")


def bench_neighbours(results: Results, reference: Path, documents: int = 100,
                     per_document: int = 1000) -> None:
    """An entity with documents x per_document mentions, each sentence also naming a group
    every other time: the read of /api/entities/<id> (counts, neighbours) now, against the
    self-join it replaced, on the same file."""
    db = store.open_db(fresh_copy(reference, "neighbours.db"))
    place = store_named_often(db, documents, per_document)[0].id
    new_s = median([timed(lambda: _entity_read(db, place))[0] for _ in range(5)])
    old_s, old = timed(lambda: [dict(r) for r in db.query(SELF_JOIN, [place])])
    assert old == store.neighbours(db, place), "the two counts differ"
    mentions = documents * per_document
    results.add(f"read an entity with {mentions:,} mentions (counts + neighbours)",
                f"{new_s * 1000:,.1f} ms", f"self-join on (document, sentence): "
                f"{old_s * 1000:,.0f} ms", f"{old_s / new_s:,.0f}x faster", "< 100 ms",
                new_s < 0.1)
    db.conn.close()


def _entity_read(db, entity_id: str) -> None:
    store.get_entity(db, entity_id)
    store.entity_counts(db, entity_id)
    store.neighbours(db, entity_id)
    store.entity_mentions(db, entity_id, 50, 0)
