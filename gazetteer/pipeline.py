"""run(): read -> extract -> resolve -> geocode -> store, one call per stage."""

from __future__ import annotations

import copy
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TypeVar

import sqlite_utils
from huey.exceptions import HueyException
from spacy.language import Language
from tqdm import tqdm

from . import merge, store
from .config import Settings
from .errors import AnalysisFailed
from .extract import GazetteerMatcher, extract_candidates, load_nlp
from .fold import ascii_fold
from .geocode import PlaceLocator, make_online_geocoder
from .normalise import Registry, Resolver
from .pieces import shifted, split_text
from .reference import build_reference
from .resolve import NameIds, ProvisionalIds, group_countries, link_mentions, resolve_candidates
from .sources import Fetcher, Skipped, read_paths, read_url
from .types import Document, Entity, Mention, Resolved

T = TypeVar("T")
# What a time limit or a cancellation raises inside a stage (the huey consumer's alarm raises
# TaskTimeout wherever the task is; CancelExecution, RetryTask): the task's business, never
# one document's failure, so the per-document handlers below let it through.
NOT_THE_DOCUMENTS_FAULT = (HueyException,)
Analysed = tuple[Document, list[Mention], list[Entity]]
# What run() reads: files and folders, http(s) URLs (pages, PDFs, feeds), or documents
# already read (and the Skipped of those that could not be).
Source = Path | str | Document | Skipped


@dataclass
class Engine:
    """Everything loaded once per process: the database, the model, the registry, the
    resolver, the geocoder and the (provisional) ids of unknown names."""

    settings: Settings
    db: sqlite_utils.Database
    nlp: Language
    registry: Registry
    resolver: Resolver
    locator: PlaceLocator
    clusters: NameIds
    demonyms: set[str]
    # Called after each piece of text the model has read, with (pieces done, pieces in all);
    # what it raises stops the analysis (a BaseException passes every per-document handler).
    # Set on a copy of the engine (dataclasses.replace) for one request: /api/extract.
    between_pieces: Callable[[int, int], None] | None = None

    def is_demonym(self, text: str) -> bool:
        """Syrian, Alawites, Kurds: peoples and adjectives, singular or plural."""
        key = demonym_key(text)
        singular = {key, key[:-1]} if key.endswith("s") else {key}
        return bool(singular & self.demonyms)


def open_engine(settings: Settings, nlp: Language | None = None) -> Engine:
    """Open (creating if needed) the database, build the reference gazetteer if it is
    missing or stale, and load the spaCy model with our components (or reuse nlp, loaded
    by an earlier engine over the same curated data)."""
    db = store.open_db(settings.database)
    build_reference(db, settings.data_dir, settings.min_city_population)
    return _engine_over(db, settings, nlp)


def open_reader_engine(settings: Settings, nlp: Language | None = None) -> Engine:
    """An engine over an immutable read-only copy of the reference (store.copy_reference):
    what a cluster worker extracts, resolves and geocodes with; it stores nothing and never
    geocodes online (the geocoder's cache could not be written)."""
    db = store.open_immutable(settings.database)
    return _engine_over(db, replace(settings, geocoder="offline"), nlp)


def _engine_over(db: sqlite_utils.Database, settings: Settings,
                 nlp: Language | None) -> Engine:
    registry = Registry.load(settings.data_dir)
    resolver = Resolver(db, registry, settings.fuzzy_threshold)
    not_entities = json.loads((settings.data_dir / "not_entities.json").read_text("utf-8"))
    if nlp is None:
        nlp = load_nlp(settings.spacy_model)
        matcher = nlp.get_pipe("gazetteer_matcher")
        assert isinstance(matcher, GazetteerMatcher)
        matcher.add_names(
            resolver.curated_names() + [(n, "block") for n in not_entities["organisations"]
                                        + not_entities.get("things", [])])
    online = (make_online_geocoder(db, settings.user_agent, settings.nominatim_min_delay)
              if settings.geocoder == "nominatim" else None)
    engine = Engine(settings, db, nlp, registry, resolver, PlaceLocator(db, resolver, online),
                    ProvisionalIds(), _demonyms(not_entities["communities"]))
    # The model, the vocabulary, the registry and the indexes are hundreds of thousands of
    # objects that live as long as the process: out of the collector's sight, its full
    # collections no longer walk them (they took half of its 0.4 s per 300 bench documents).
    # Objects are still freed when nothing refers to them.
    gc.freeze()
    return engine


def _demonyms(communities: list[str]) -> set[str]:
    """Demonyms, nationality adjectives and communities (Syrian, Alawites): never places."""
    import countryinfo

    names = set(communities)
    names.update(d for info in countryinfo.all_countries() if (d := info.demonym()))
    return {demonym_key(n) for n in names}


@lru_cache(maxsize=100_000)  # every span is asked about, and reports repeat names
def demonym_key(name: str) -> str:
    """Lower case without accents or apostrophes, but not transliteration-folded: the Hema
    (a people of Ituri) must not hide Hama, which folds alike."""
    return " ".join(ascii_fold(name).split())


@dataclass
class Report:
    """What an ingest did: documents added, already present, and skipped with reasons."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    mentions: int = 0

    def record(self, stored: list[Analysed]) -> None:
        for doc, mentions, _ in stored:
            self.added.append(doc.source)
            self.mentions += len(mentions)

    def set_aside_failures(self, batch: list[Analysed | Skipped]) -> list[Analysed]:
        """The analysed documents of a batch; the failed ones are noted as skipped."""
        self.skipped += [item for item in batch if isinstance(item, Skipped)]
        return [item for item in batch if not isinstance(item, Skipped)]


def run(engine: Engine, sources: Iterable[Source]) -> Report:
    """Ingest files, folders, URLs or documents into the database; re-ingesting changes
    nothing, and a document that fails is reported, not fatal to the batch.
    read -> extract -> resolve -> geocode every document, then store them through the merge
    (ids of unknown names are settled over the whole run, whatever the order)."""
    report = Report()
    with fewer_collections():
        docs = new_documents(engine, read(engine.settings, sources), report)
        analysed = report.set_aside_failures(list(with_progress(analyse_each(engine, docs),
                                                                len(docs))))
        report.record(store_analysed(engine, analysed))
    return report


# Allocations between the garbage collector's young collections while run() works, not
# Python's 700: analysis makes millions of short-lived objects (Tokens, Spans, candidates)
# that reference counting frees, and each young collection walked the survivors again
# (0.12-0.22 s of the collector per 300 bench documents, 0.03-0.05 s at this threshold).
RUN_COLLECTION_THRESHOLD = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage less often inside the block (as often again after it)."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], RUN_COLLECTION_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def read(settings: Settings, sources: Iterable[Source]) -> Iterator[Document | Skipped]:
    """The documents of each source in turn: URLs through one polite fetcher, made on
    the first URL; a file or URL that cannot be read is yielded as Skipped."""
    fetcher: Fetcher | None = None
    for source in sources:
        if isinstance(source, (Document, Skipped)):
            yield source
        elif isinstance(source, str) and is_url(source):
            fetcher = fetcher or make_fetcher(settings)
            yield from read_url(source, fetcher, settings.raw_html_text)
        else:
            yield from read_paths([Path(source)], settings.max_document_bytes,
                                  settings.raw_html_text)


def is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def make_fetcher(settings: Settings) -> Fetcher:
    return Fetcher(settings.user_agent, settings.fetch_delay, settings.fetch_timeout,
                   settings.max_document_bytes)


def store_analysed(engine: Engine, analysed: list[Analysed]) -> list[Analysed]:
    """Store analysed documents through the deterministic merge (gazetteer.merge), the one
    the cluster path uses, so that a serial ingest and a cluster ingest of the same documents
    store the same rows; returns the documents stored."""
    merged = merge.fold(engine.db, [merge.MemoryShard(analysed)], engine.settings.fuzzy_threshold)
    return [item for item in analysed if item[0].id in merged.added_ids]


def analyse(engine: Engine, docs: list[Document]) -> Iterator[Analysed]:
    """Extract, resolve and geocode documents without storing anything; raises
    AnalysisFailed for a document that fails."""
    for item, doc in zip(analyse_each(engine, docs), docs):
        if isinstance(item, Skipped):
            raise AnalysisFailed(f"{doc.source}: {item.reason}")
        yield item


def analyse_each(engine: Engine, docs: list[Document]) -> Iterator[Analysed | Skipped]:
    """analyse, with each document that fails yielded as Skipped, with the reason."""
    for doc, resolved in zip(docs, resolve_texts(engine, [d.text for d in docs])):
        if isinstance(resolved, Failed):
            yield Skipped(doc.source, resolved.reason)
            continue
        try:
            hints = group_countries(resolved, engine.registry)
            located = engine.locator.locate(doc.text, resolved, hints)
            mentions, entities = link_mentions(doc, located, engine.registry, engine.clusters)
        except NOT_THE_DOCUMENTS_FAULT:
            raise
        except Exception as exc:  # one document's failure is reported, never the batch's
            yield Skipped(doc.source, failure_reason(exc))
            continue
        yield doc, mentions, entities


@dataclass(frozen=True)
class Failed:
    """A text the model or the resolver failed on (picklable, from worker processes)."""

    reason: str


def failure_reason(exc: Exception) -> str:
    return f"could not be analysed ({type(exc).__name__}: {exc})"[:500]


def ingest_document(engine: Engine, doc: Document) -> tuple[bool, list[Mention]]:
    """Store one document unless it is already there; returns (created, mentions)."""
    if store.document_exists(engine.db, doc.id):
        return False, []
    (analysed,) = analyse(engine, [doc])
    stored = store_analysed(engine, [analysed])
    return True, stored[0][1] if stored else []


def new_documents(engine: Engine, items: Iterable[Document | Skipped],
                  report: Report) -> list[Document]:
    """The documents not stored yet (each once); the rest are noted in the report."""
    fresh: dict[str, Document] = {}
    for item in items:
        if isinstance(item, Skipped):
            report.skipped.append(item)
        elif item.id in fresh or store.document_exists(engine.db, item.id):
            report.unchanged.append(item.source)
        else:
            fresh[item.id] = item
    return list(fresh.values())


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    return iter(lambda: list(islice(iterator, size)), [])


def with_progress(items: Iterable[T], total: int) -> Iterable[T]:
    """A progress bar on the terminal for large ingests only."""
    return tqdm(items, total=total, unit=" doc", desc="ingest",
                disable=None if total > 20 else True)


def resolve_texts(engine: Engine, texts: list[str]) -> Iterator[list[Resolved] | Failed]:
    """The extract and resolve stages for each text, in worker processes for large
    batches (the spaCy model is most of the time)."""
    workers = engine.settings.workers if len(texts) > 1 else 1  # forking costs more than one doc
    if workers > 1:
        return _resolved_in_workers(engine, texts, workers)
    return _resolved(engine, texts)


def _resolved(engine: Engine, texts: list[str]) -> Iterator[list[Resolved] | Failed]:
    """Texts a model batch at a time; when a batch fails, its texts one by one, so only
    the text at fault is lost."""
    for chunk in batched(texts, engine.settings.batch_size):
        try:
            yield from list(_resolved_chunk(engine, chunk))
        except NOT_THE_DOCUMENTS_FAULT:
            raise
        except Exception:
            for text in chunk:
                try:
                    yield from list(_resolved_chunk(engine, [text]))
                except NOT_THE_DOCUMENTS_FAULT:
                    raise
                except Exception as exc:
                    yield Failed(failure_reason(exc))


def _resolved_chunk(engine: Engine, texts: list[str]) -> Iterator[list[Resolved]]:
    """Long texts go to the model in pieces (cut between paragraphs, far under its
    max_length), whose candidates are placed back in the whole text before resolution."""
    pieces = [(n, offset, piece) for n, text in enumerate(texts)
              for offset, piece in split_text(text)]
    check = engine.between_pieces
    # the model reads a batch before yielding any of it: one piece at a time when checked
    spacy_docs = engine.nlp.pipe((piece for _, _, piece in pieces),
                                 batch_size=1 if check else engine.settings.batch_size)
    candidates: list[list] = [[] for _ in texts]
    for done, ((n, offset, _), spacy_doc) in enumerate(zip(pieces, spacy_docs), 1):
        candidates[n] += [shifted(c, offset) for c in extract_candidates(spacy_doc)]
        if check is not None:
            check(done, len(pieces))
    for found in candidates:
        yield resolve_candidates(found, engine.resolver.resolve, engine.is_demonym,
                                 engine.resolver.lookup_place, engine.resolver.prefetch_places,
                                 engine.resolver.judged)


_WORKER: Engine | None = None  # the engine of a forked worker process


def _resolved_in_workers(engine: Engine, texts: list[str],
                         workers: int) -> Iterator[list[Resolved] | Failed]:
    """_resolved in forked processes, batch by batch, in order. The model, the resolver and
    its caches are inherited by fork, not pickled; only texts and results are. (spaCy's own
    n_process parallelises the model alone, leaving resolution to this process: 2 workers
    were slower than 1.) Geocoding stays in this process; ids are settled by the merge."""
    import multiprocessing

    size = engine.settings.batch_size
    batches = [texts[i:i + size] for i in range(0, len(texts), size)]
    with multiprocessing.get_context("fork").Pool(workers, _init_worker, (engine,)) as pool:
        for resolved in pool.imap(_resolved_batch, batches):
            yield from resolved


def _init_worker(engine: Engine) -> None:
    """A connection of the worker's own (SQLite connections do not survive fork); the
    inherited one is left alone, never used nor closed."""
    global _WORKER
    resolver = copy.copy(engine.resolver)
    resolver.db = store.open_db(engine.settings.database, create=False)
    _WORKER = replace(engine, resolver=resolver)


def _resolved_batch(texts: list[str]) -> list[list[Resolved] | Failed]:
    assert _WORKER is not None
    return list(_resolved(_WORKER, texts))
