"""run(): ingest -> extract -> normalise -> geocode -> store, one call per stage."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from tqdm import tqdm
from spacy.language import Language

from . import store
from .config import Settings
from .extract import Chosen, choose_mentions, extract_candidates, load_nlp
from .fold import fold_name
from .geocode import (CachedOnlineGeocoder, DocumentContext, choose_place, document_context,
                      fallback_place, make_online_geocoder)
from .ingest import Skipped, read_paths
from .normalise import Registry, Resolver, best_fuzzy, group_entity_id, new_entity_id
from .reference import build_reference
from .types import Document, Entity, Mention, Place, Point


@dataclass
class Engine:
    """Everything loaded once per process: the database, the model, the registry."""

    settings: Settings
    db: object
    nlp: Language
    registry: Registry
    resolver: Resolver
    online: CachedOnlineGeocoder | None
    demonyms: set[str]
    new_names: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> key -> id
    refs: "RefMemo | None" = None

    def is_demonym(self, text: str) -> bool:
        """Syrian, Alawites, Kurds: peoples and adjectives, singular or plural."""
        key = fold_name(text)
        singular = {key, key[:-1]} if key.endswith("s") else {key}
        return bool(singular & self.demonyms)


def open_engine(settings: Settings, nlp: Language | None = None) -> Engine:
    """Open (creating if needed) the database, build the reference gazetteer if it is
    missing or stale, and load the spaCy model with our components (or reuse nlp, loaded
    by an earlier engine over the same curated data)."""
    db = store.open_db(settings.database)
    build_reference(db, settings.data_dir, settings.min_city_population)
    registry = Registry.load(settings.data_dir)
    resolver = Resolver(db, registry, settings.fuzzy_threshold)
    not_entities = json.loads((settings.data_dir / "not_entities.json").read_text("utf-8"))
    if nlp is None:
        nlp = load_nlp(settings.spacy_model)
        nlp.get_pipe("gazetteer_matcher").add_names(
            resolver.curated_names() + [(n, "block") for n in not_entities["organisations"]])
    online = (make_online_geocoder(db, settings.user_agent, settings.nominatim_min_delay)
              if settings.geocoder == "nominatim" else None)
    engine = Engine(settings, db, nlp, registry, resolver, online,
                    _demonyms(not_entities["communities"]))
    engine.new_names = store.new_entity_keys(db)
    engine.refs = RefMemo(db)
    return engine


class RefMemo:
    """Reference places and their names by ref id, remembered while the engine lives (the
    reference does not change under it, and reports name the same places again and again:
    three queries per place mention were a tenth of ingest)."""

    SIZE = 50_000

    def __init__(self, db) -> None:
        self.db = db
        self._places: dict[str, dict | None] = {}
        self._names: dict[str, tuple[list[str], bool]] = {}

    def place(self, ref_id: str) -> dict | None:
        if ref_id not in self._places:
            self._places[ref_id] = store.ref_place(self.db, ref_id)
            _trim(self._places, self.SIZE)
        return self._places[ref_id]

    def names(self, ref_id: str) -> tuple[list[str], bool]:
        """(its names, curated first; whether any is curated)."""
        if ref_id not in self._names:
            self._names[ref_id] = (store.ref_names_for(self.db, ref_id),
                                   store.has_curated_names(self.db, ref_id))
            _trim(self._names, self.SIZE)
        return self._names[ref_id]


def _trim(memo: dict, size: int) -> None:
    while len(memo) > size:
        memo.pop(next(iter(memo)))  # oldest first


def _demonyms(communities: list[str]) -> set[str]:
    """Folded demonyms, nationality adjectives and communities (Syrian, Alawites): never
    places."""
    import countryinfo

    names = set(communities)
    names.update(info.demonym() for info in countryinfo.all_countries() if info.demonym())
    return {fold_name(n) for n in names}


@dataclass
class Report:
    """What an ingest did: documents added, already present, and skipped with reasons."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    mentions: int = 0


def run(engine: Engine, paths: Iterable[Path]) -> Report:
    """Ingest the files and folders into the database; re-ingesting changes nothing."""
    report = Report()
    fresh: list[Document] = []
    fresh_ids: set[str] = set()
    for item in read_paths(paths, engine.settings.max_document_bytes):
        if isinstance(item, Skipped):
            report.skipped.append(item)
        elif item.id in fresh_ids or store.document_exists(engine.db, item.id):
            report.unchanged.append(item.source)
        else:
            fresh.append(item)
            fresh_ids.add(item.id)
    progress = tqdm(analyse(engine, fresh), total=len(fresh), unit=" doc", desc="ingest",
                    disable=None if len(fresh) > 20 else True)
    analysed = iter(progress)
    for batch in iter(lambda: list(islice(analysed, SAVE_BATCH)), []):
        with store.transaction(engine.db):
            for doc, mentions, entities in batch:
                store.save_document(engine.db, doc, mentions, entities)
        for doc, mentions, _ in batch:
            report.added.append(doc.source)
            report.mentions += len(mentions)
    return report


# Documents stored per transaction: a commit per document (each flushing the alias search
# index) was half of the writer's time.
SAVE_BATCH = 50


def ingest_document(engine: Engine, doc: Document) -> tuple[bool, list[Mention]]:
    """Store one document unless it is already there; returns (created, mentions)."""
    if store.document_exists(engine.db, doc.id):
        return False, []
    (_, mentions, entities), = analyse(engine, [doc])
    store.save_document(engine.db, doc, mentions, entities)
    return True, mentions


def analyse(engine: Engine, docs: list[Document]) -> Iterator[tuple[Document, list[Mention],
                                                                    list[Entity]]]:
    """Extract, normalise and geocode documents without storing anything."""
    workers = engine.settings.workers if len(docs) > 1 else 1  # forking costs more than one doc
    if workers > 1:
        chosen_lists = _chosen_in_workers(engine, docs, workers)
    else:
        chosen_lists = _chosen(engine, [d.text for d in docs])
    for doc, chosen in zip(docs, chosen_lists):
        # Linking stays here, in document order: ids of unknown names depend on that order.
        yield (doc, *link_entities(engine, doc, chosen))


def _chosen(engine: Engine, texts: list[str]) -> Iterator[list[Chosen]]:
    """Extract and resolve: the model, the matchers and name resolution, per text."""
    for spacy_doc in engine.nlp.pipe(texts, batch_size=engine.settings.batch_size):
        yield choose_mentions(extract_candidates(spacy_doc), engine.resolver.resolve,
                              engine.is_demonym)


_WORKER: Engine | None = None  # the engine of a forked worker process


def _chosen_in_workers(engine: Engine, docs: list[Document],
                       workers: int) -> Iterator[list[Chosen]]:
    """_chosen in forked processes, batch by batch, in order. The model, the resolver and
    its caches are inherited by fork, not pickled; only texts and results are. (spaCy's own
    n_process parallelises the model alone, leaving resolution to this process: 2 workers
    were slower than 1.)"""
    import multiprocessing

    size = engine.settings.batch_size
    batches = [[d.text for d in docs[i:i + size]] for i in range(0, len(docs), size)]
    with multiprocessing.get_context("fork").Pool(workers, _init_worker, (engine,)) as pool:
        for chosen in pool.imap(_chosen_batch, batches):
            yield from chosen


def _init_worker(engine: Engine) -> None:
    """A connection of the worker's own (SQLite connections do not survive fork); the
    inherited one is left alone, never used nor closed."""
    global _WORKER
    resolver = copy.copy(engine.resolver)
    resolver.db = store.open_db(engine.settings.database, create=False)
    _WORKER = replace(engine, resolver=resolver)


def _chosen_batch(texts: list[str]) -> list[list[Chosen]]:
    assert _WORKER is not None
    return list(_chosen(_WORKER, texts))


def link_entities(engine: Engine, doc: Document,
                  chosen: list[Chosen]) -> tuple[list[Mention], list[Entity]]:
    """Turn chosen spans into mentions of entities (groups from the registry, places
    geocoded in the document's context, new entities for names nobody knows)."""
    context = document_context(engine.db, [c.readings for c in chosen if c.kind == "place"],
                               engine.refs.place)
    entities: dict[str, Entity] = {}
    places_by_sentence: dict[int, Place] = {}
    mentions = []
    for item in sorted(chosen, key=lambda c: not c.readings):  # known places first
        cand = item.candidate
        sentence = doc.text[cand.sent_start:cand.sent_end]
        if item.kind == "armed_group":
            entity = _group_entity(engine, cand.text, item)
        else:
            entity = _place_entity(engine, cand, item, context, places_by_sentence, sentence,
                                   entities)
        entity = entities.setdefault(entity.id, entity)
        if (cand.text, "observed") not in entity.aliases:
            entity.aliases.append((cand.text, "observed"))
        mentions.append(Mention(doc.id, cand.start, cand.end, cand.text, item.kind, entity.id,
                                sentence, cand.method,
                                item.readings[0].score if item.readings else 0.5,
                                item.readings[0].reason if item.readings else "new entity"))
    return sorted(mentions, key=lambda m: m.start), list(entities.values())


def _group_entity(engine: Engine, text: str, item: Chosen) -> Entity:
    if item.readings:
        gid = item.readings[0].target
        group = engine.registry.groups[gid]
        attrs = {k: group.get(k) for k in ("type", "parent", "affiliation", "wikidata",
                                           "country", "active") if group.get(k)}
        if attrs.get("parent"):
            attrs["parent"] = group_entity_id(attrs["parent"])
        return Entity(group_entity_id(gid), "armed_group", group["name"], fold_name(group["name"]),
                      attrs=attrs, aliases=[(n, "registry") for n in engine.registry.names(gid)])
    return Entity(_new_id(engine, "armed_group", text), "armed_group", text, fold_name(text))


def _place_entity(engine: Engine, cand, item: Chosen, context: DocumentContext,
                  places_by_sentence: dict[int, Place], sentence: str,
                  known: dict[str, Entity]) -> Entity:
    place = choose_place(engine.db, cand.text, item.readings, context, cand.context,
                         sentence, engine.refs.place)
    if place is not None:
        places_by_sentence.setdefault(cand.sent_start, place)
        if place.ref_id in known:  # names already looked up for this document
            return known[place.ref_id]
        names, curated = engine.refs.names(place.ref_id)
        name = names[0] if names and curated else place.name
        source = "geonames" if place.ref_id.startswith("gn-") else "supplement"
        return Entity(place.ref_id, "place", name, fold_name(name), place=place,
                      aliases=[(n, source) for n in names])
    place = _online_place(engine, cand.text) or fallback_place(
        cand.text, places_by_sentence.get(cand.sent_start))
    return Entity(_new_id(engine, "place", cand.text), "place", cand.text, fold_name(cand.text),
                  place=place)


def _online_place(engine: Engine, name: str) -> Place | None:
    if engine.online is None:
        return None
    answer = engine.online.lookup(name)
    if not answer:
        return None
    return Place(None, answer["name"], Point(answer["lon"], answer["lat"]), confidence=0.5,
                 precision=1, reason="online geocoder (nominatim), cached", geocoder="nominatim")


def _new_id(engine: Engine, kind: str, text: str) -> str:
    """Id for a name no registry knows; spelling variants of one unknown name share it."""
    key = fold_name(text)
    known = engine.new_names.setdefault(kind, {})
    if key in known:
        return known[key]
    match = best_fuzzy(key, list(known), engine.settings.fuzzy_threshold)
    if match:
        known[key] = known[match[0]]
    else:
        known[key] = new_entity_id(kind, key)
    return known[key]
