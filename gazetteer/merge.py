"""The deterministic merge: analysed documents (from shard files or from memory) folded into
the gazetteer so that ids and entity fields depend on the documents, not on their order.

Two rules make it so. Unknown names carry provisional ids (their folded key, see
resolve.ProvisionalIds); the merge gives each new key, in sorted order, the id of its best
fuzzy match among the keys already stored and the new keys before it, or a new id. An
entity's fields are those written from the document with the lowest id (sha256 of its
text), the first mention in it breaking ties; aliases are the union of all spellings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import orjson
import sqlite_utils

from . import store
from .normalise import FuzzyIndex, new_entity_id
from .types import Document, Entity, Mention, Place, Point

Analysed = tuple[Document, list[Mention], list[Entity]]
NameKey = tuple[str, str]  # (kind, folded key)

# Documents stored per transaction: each batch flushes the search index once and writes each
# of its entities once (150: storing 300 bench documents took 0.84x the processor time of 50;
# a kill loses at most a batch, which a re-run stores again).
MERGE_BATCH = 150
_PROVISIONAL = re.compile(r"^(place|group)-x-")


# ---- shards: where analysed documents come from ----------------------------------------------

class Shard(Protocol):
    def analysed(self) -> Iterable[Analysed]: ...

    def new_keys(self) -> Iterable[tuple[str, list[NameKey]]]:
        """(document id, keys of its unknown entities) per document, without decoding it."""
        ...


@dataclass
class MemoryShard:
    """Analysed documents held in memory (the serial path)."""

    items: list[Analysed]

    def analysed(self) -> Iterable[Analysed]:
        return self.items

    def new_keys(self) -> Iterator[tuple[str, list[NameKey]]]:
        for doc, _, entities in self.items:
            yield doc.id, unknown_keys(entities)


@dataclass
class FileShard:
    """A shard file written by a worker (store.write_shard)."""

    path: Path

    def analysed(self) -> Iterator[Analysed]:
        for doc, mentions, entities in store.shard_rows(self.path, "document, mentions, entities"):
            yield decode_analysed(doc, mentions, entities)

    def new_keys(self) -> Iterator[tuple[str, list[NameKey]]]:
        for doc_id, keys in store.shard_rows(self.path, "document_id, new_keys"):
            yield doc_id, [(kind, key) for kind, key in orjson.loads(keys)]


def unknown_keys(entities: list[Entity]) -> list[NameKey]:
    """(kind, folded key) of the entities with provisional ids: what the merge must name."""
    return [(e.kind, e.key) for e in entities if is_provisional(e.id)]


def encode_analysed(item: Analysed) -> tuple[str, str, str, str, str]:
    """A shard row (store.SHARD_COLUMNS): the document id, then the keys of its unknown
    entities, the document, its mentions and its entities as JSON."""
    doc, mentions, entities = item
    return (doc.id, orjson.dumps(unknown_keys(entities)).decode(),
            orjson.dumps(asdict(doc)).decode(),
            orjson.dumps([asdict(m) for m in mentions]).decode(),
            orjson.dumps([asdict(e) for e in entities]).decode())


def decode_analysed(doc: str, mentions: str, entities: str) -> Analysed:
    fields = orjson.loads(doc)
    fields["pages"] = tuple(fields.get("pages") or ())
    return (Document(**fields), [Mention(**m) for m in orjson.loads(mentions)],
            [_entity(e) for e in orjson.loads(entities)])


def _entity(fields: dict) -> Entity:
    place = fields.pop("place")
    if place is not None:
        point = place.pop("point")
        place = Place(**{**place, "point": Point(**point) if point else None,
                         "names": tuple(place["names"])})
    aliases = [(name, source) for name, source in fields.pop("aliases")]
    return Entity(**fields, place=place, aliases=aliases)


# ---- ids of unknown names ------------------------------------------------------------------

def is_provisional(entity_id: str) -> bool:
    return bool(_PROVISIONAL.match(entity_id))


def cluster_ids(known: dict[str, dict[str, str]], new: set[NameKey],
                threshold: float) -> dict[NameKey, str]:
    """The final id of each new (kind, key): a key already stored keeps its id; the others,
    in sorted order, take the id of their best fuzzy match among the stored keys and the new
    keys sorted before them, or a new id. Kinds never mix."""
    ids: dict[NameKey, str] = {}
    for kind in sorted({kind for kind, _ in new}):
        assigned = dict(known.get(kind, {}))
        index = FuzzyIndex(sorted(assigned))
        for key in sorted(key for k, key in new if k == kind):
            if key not in assigned:
                match = index.best(key, threshold)
                assigned[key] = assigned[match[0]] if match else new_entity_id(kind, key)
                index.add(key)
            ids[(kind, key)] = assigned[key]
    return ids


def relabel(item: Analysed, ids: dict[NameKey, str]) -> Analysed:
    """The analysed document with final ids in place of provisional ones."""
    doc, mentions, entities = item
    mentions = [replace(m, entity_id=ids[(m.kind, m.entity_key)])
                if is_provisional(m.entity_id) else m for m in mentions]
    entities = [replace(e, id=ids[(e.kind, e.key)]) if is_provisional(e.id) else e
                for e in entities]
    return doc, mentions, entities


# ---- the fold ------------------------------------------------------------------------------

@dataclass
class Merged:
    """What a merge stored: the sources of documents added, and of those already there."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    mentions: int = 0
    added_ids: set[str] = field(default_factory=set)


def fold(db: sqlite_utils.Database, shards: list[Shard], threshold: float,
         batch_size: int = MERGE_BATCH) -> Merged:
    """Store the shards' documents not stored yet, in shard order, a batch per transaction.
    Merging the same shards again, or the same documents split or ordered otherwise, stores
    the same rows; a merge interrupted between batches resumes where it stopped."""
    ids = cluster_ids(store.new_entity_keys(db), _new_keys(db, shards), threshold)
    with store.bulk_writes(db):
        return _store_shards(db, shards, ids, batch_size)


def _store_shards(db: sqlite_utils.Database, shards: list[Shard], ids: dict[NameKey, str],
                  batch_size: int) -> Merged:
    merged, done = Merged(), set()
    for shard in shards:
        batch: list[Analysed] = []
        for item in shard.analysed():
            doc = item[0]
            if doc.id in done or store.document_exists(db, doc.id):
                merged.unchanged.append(doc.source)
                continue
            done.add(doc.id)
            batch.append(relabel(item, ids))
            if len(batch) == batch_size:
                _store_batch(db, batch, merged)
                batch = []
        _store_batch(db, batch, merged)
    return merged


def _new_keys(db: sqlite_utils.Database, shards: list[Shard]) -> set[NameKey]:
    """(kind, folded key) of every unknown entity in the documents not stored yet."""
    keys: set[NameKey] = set()
    seen: set[str] = set()
    for shard in shards:
        for doc_id, doc_keys in shard.new_keys():
            if doc_id in seen or store.document_exists(db, doc_id):
                continue
            seen.add(doc_id)
            keys.update(doc_keys)
    return keys


def _store_batch(db: sqlite_utils.Database, batch: list[Analysed], merged: Merged) -> None:
    if not batch:
        return
    chosen, aliases = _observations(batch)
    with store.transaction(db), store.deferred_search(db):
        redirects = store.merged_ids(db)
        rejected = store.rejected_ids(db)  # a curator's rejection outlives every re-ingest
        live = sorted(i for i in chosen if i not in redirects and i not in rejected)
        stored, curated = store.first_documents(db, live), store.curations(db, live)
        with store.batched_row_triggers(db, live, [doc.id for doc, _, _ in batch]):
            written = []
            for entity_id in live:
                rank, entity = chosen[entity_id]
                entity = replace(entity, aliases=_ordered(aliases[entity_id]))
                first = stored.get(entity_id, "")
                # fields from the lowest document: written when new or lower, else aliases alone
                fresh = entity_id not in stored or first is None or rank[0] < first
                written.append((entity, fresh))
            store.write_entities(db, written, curated)
            store.save_batch(db, [(doc, mentions) for doc, mentions, _ in batch])
    for doc, mentions, _ in batch:
        merged.added.append(doc.source)
        merged.added_ids.add(doc.id)
        merged.mentions += len(mentions)


def _observations(batch: list[Analysed]
                  ) -> tuple[dict[str, tuple[tuple, Entity]], dict[str, set[tuple[str, str]]]]:
    """Per entity id: the observation from the lowest (document id, first mention, place in
    the document's list), and the union of its aliases."""
    chosen: dict[str, tuple[tuple, Entity]] = {}
    aliases: dict[str, set[tuple[str, str]]] = {}
    for doc, mentions, entities in batch:
        first: dict[str, int] = {}
        for mention in mentions:
            first[mention.entity_id] = min(first.get(mention.entity_id, mention.start),
                                           mention.start)
        for position, entity in enumerate(entities):
            rank = (doc.id, first.get(entity.id, -1), position)
            aliases.setdefault(entity.id, set()).update(entity.aliases)
            if entity.id not in chosen or rank < chosen[entity.id][0]:
                chosen[entity.id] = (rank, entity)
    return chosen, aliases


def _ordered(aliases: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Registry and gazetteer spellings before observed ones (the first source of a name
    stays), then by name: the same rows whatever order documents came in."""
    return sorted(aliases, key=lambda a: (a[1] == "observed", a[0], a[1]))
