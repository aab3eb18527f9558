"""What the web layer uses, built once per app in create_app: settings, database
connections, the name resolver and the write-side engine; routes import them from here."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlite_utils
from flask import Flask, current_app, g

from .. import store
from ..config import Settings
from ..types import Document

if TYPE_CHECKING:  # the write side (spaCy) is imported only when a write needs it
    from ..normalise import Registry, Resolver
    from ..pipeline import Engine


@dataclass
class Services:
    """One app's long-lived parts. `lock` serialises the resolver and the engine, which
    share one SQLite connection each."""

    settings: Settings
    lock: threading.Lock = field(default_factory=threading.Lock)
    _resolver: Resolver | None = None
    _engine: Engine | None = None
    _threads: threading.local = field(default_factory=threading.local)

    def resolver(self) -> Resolver:
        """The name resolver (about a second to build: the fuzzy index over every name)."""
        with self.lock:
            if self._resolver is None:
                from ..normalise import Registry, Resolver

                self._resolver = Resolver(store.open_db(self.settings.database, create=False),
                                          Registry.load(self.settings.data_dir),
                                          self.settings.fuzzy_threshold)
            return self._resolver

    def engine(self) -> Engine:
        """The write-side engine: the spaCy model, the registry and a writer connection."""
        with self.lock:
            if self._engine is None:
                from ..pipeline import open_engine

                self._engine = open_engine(self.settings)
            return self._engine

    def candidates(self, name: str, kind: str | None = None, country: str | None = None,
                   limit: int = 20) -> list[dict]:
        """Ranked readings of a name (the resolver's candidates), for search and reconcile."""
        resolver = self.resolver()
        with self.lock:
            return resolver.candidates(name, kind, country, limit)

    def registry(self) -> Registry:
        return self.resolver().registry

    def ingest(self, doc: Document) -> bool:
        """Store one document through the pipeline; False when it was already there."""
        from ..pipeline import ingest_document

        engine = self.engine()
        with self.lock:
            created, _ = ingest_document(engine, doc)
        return created

    def extract(self, doc: Document) -> dict:
        """The mentions and entities of a document, stored nowhere."""
        from ..formats import extract_result
        from ..pipeline import analyse

        engine = self.engine()
        with self.lock:
            ((_, mentions, entities),) = analyse(engine, [doc])
        return extract_result(doc, mentions, entities)

    def use_engine(self, engine: Engine) -> None:
        """Serve writes with an engine built elsewhere (one whose model is already loaded)."""
        with self.lock:
            self._engine = engine

    def warm(self, writes: bool = True) -> None:
        """Build the resolver (and the engine when writes are on) before the first request,
        so no request pays for loading them."""
        self.resolver()
        if writes and self.settings.api_token:
            self.engine()

    def connection(self) -> sqlite_utils.Database:
        """This server thread's read connection: opening one (connect and pragmas, ~0.8 ms)
        cost more than most queries."""
        connections: dict[str, Any] = self._threads.__dict__.setdefault("connections", {})
        path = str(self.settings.database)
        if path not in connections:
            connections[path] = store.open_db(path, create=False)
        return connections[path]


def install(app: Flask, settings: Settings) -> Services:
    services = Services(replace(settings))
    app.extensions["gazetteer"] = services
    app.teardown_appcontext(_end_request)
    return services


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["gazetteer"]


def settings() -> Settings:
    return services().settings


def get_db() -> sqlite_utils.Database:
    """The request's database connection (the thread's own, kept between requests)."""
    if "db" not in g:
        g.db = services().connection()
    return g.db


def _end_request(_exc: BaseException | None) -> None:
    """The connection stays open for the thread's next request; a transaction left open by
    a failed request is rolled back."""
    db = g.pop("db", None)
    if db is not None:
        store.rollback_open_transaction(db)
