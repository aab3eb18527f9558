"""What the web layer uses, built once per app (in each server process) in create_app:
settings, database connections, the name resolver and the job queue; routes import them
from here."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlite_utils
from flask import Flask, current_app, g, request

from .. import store
from ..config import Settings
from ..types import Document

if TYPE_CHECKING:  # the write side (spaCy) is imported only when a write needs it
    from ..jobs import Job, JobQueue
    from ..normalise import Registry, Resolver
    from ..pipeline import Engine


@dataclass
class Services:
    """One app's long-lived parts, in each server process. `lock` serialises the resolver,
    which shares one SQLite connection. Writes and extraction run as jobs (gazetteer.jobs),
    in worker processes: no web process loads spaCy."""

    settings: Settings
    lock: threading.Lock = field(default_factory=threading.Lock)
    _resolver: Resolver | None = None
    _jobs: JobQueue | None = None
    _threads: threading.local = field(default_factory=threading.local)

    def resolver(self) -> Resolver:
        """The name resolver (about a second to build: the fuzzy index over every name)."""
        with self.lock:
            if self._resolver is None:
                from ..normalise import Registry, Resolver

                self._resolver = Resolver(self.open_connection(),
                                          Registry.load(self.settings.data_dir),
                                          self.settings.fuzzy_threshold)
            return self._resolver

    def jobs(self) -> JobQueue:
        """The job queue this process enqueues into (built on first use)."""
        with self.lock:
            if self._jobs is None:
                from ..jobs import JobQueue

                self._jobs = JobQueue(self.settings)
            return self._jobs

    def candidates(self, name: str, kind: str | None = None, country: str | None = None,
                   limit: int = 20) -> list[dict]:
        """Ranked readings of a name (the resolver's candidates), for search and reconcile."""
        resolver = self.resolver()
        with self.lock:
            return resolver.candidates(name, kind, country, limit)

    def registry(self) -> Registry:
        return self.resolver().registry

    def ingest(self, doc: Document) -> Job:
        """Queue one document for the pipeline; returns its job."""
        return self.jobs().submit(doc)

    def extract(self, doc: Document) -> dict:
        """The mentions and entities of a document, stored nowhere, computed by a worker
        within GAZETTEER_EXTRACT_SECONDS, and stopped if the request's client goes away."""
        from .client import client_gone_check

        return self.jobs().extract(doc, client_gone_check(request.environ))

    def use_engine(self, engine: Engine) -> None:
        """Run writes and extraction inline with an engine built elsewhere (one whose model
        is already loaded): tests and single-process use."""
        from ..jobs import JobQueue

        with self.lock:
            self._jobs = JobQueue(self.settings, engine=engine)

    def warm(self, writes: bool = True) -> None:
        """Build the resolver (and open the job queue) before the first request, so no
        request pays for them; each server process calls this after it starts."""
        self.resolver()
        if writes and self.settings.api_token and not self.settings.read_only:
            self.jobs()

    def open_connection(self) -> sqlite_utils.Database:
        """A new read connection: the published copy opened immutable under --read-only."""
        if self.settings.read_only:
            return store.open_snapshot(self.settings.database)
        return store.open_db(self.settings.database, create=False)

    def connection(self) -> sqlite_utils.Database:
        """This server thread's read connection: opening one (connect and pragmas, ~0.8 ms)
        cost more than most queries."""
        connections: dict[str, Any] = self._threads.__dict__.setdefault("connections", {})
        path = str(self.settings.database)
        if path not in connections:
            connections[path] = self.open_connection()
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
