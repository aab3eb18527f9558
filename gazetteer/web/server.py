"""`gazetteer serve`: the app on gunicorn (several processes, each with its own connections,
resolver and job-queue handle), or on waitress where gunicorn cannot run; the job workers
beside it."""

from __future__ import annotations

import multiprocessing
import socket
import struct
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ..config import Settings
from . import create_app

# Flask answers bodies over the document limit with a 413 in our JSON shape without reading
# them; the servers keep a hard backstop of their own (plain text) at a few times that size.
BODY_BACKSTOP_FACTOR = 4
KEEPALIVE_S = 5  # an idle keep-alive connection is closed after this long
# Recycling a process after this many requests (plus jitter, so they do not all restart at
# once) bounds what any slow leak can grow to.
MAX_REQUESTS, MAX_REQUESTS_JITTER = 20_000, 2_000


def gunicorn_available() -> bool:
    """gunicorn needs fork and fcntl: Linux, macOS and the BSDs, not Windows."""
    try:
        import gunicorn  # noqa: F401
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


def waitress_options(settings: Settings) -> dict:
    """The waitress settings of `gazetteer serve` (the fallback): address, threads, size and
    time limits."""
    return {"host": settings.host, "port": settings.port, "threads": settings.threads,
            "max_request_body_size": BODY_BACKSTOP_FACTOR * settings.max_document_bytes,
            "channel_timeout": settings.request_timeout, "ident": "gazetteer"}


def gunicorn_options(settings: Settings) -> dict:
    """gthread workers: a fixed pool of threads per process; gunicorn waits for a request's
    first bytes in its event loop (a silent client holds no thread) and StallGuard bounds
    every read and write after that."""
    return {"bind": f"{settings.host}:{settings.port}", "workers": settings.processes,
            "worker_class": "gthread", "threads": settings.threads,
            "timeout": max(60, 2 * settings.request_timeout), "keepalive": KEEPALIVE_S,
            "graceful_timeout": 10, "max_requests": MAX_REQUESTS,
            "max_requests_jitter": MAX_REQUESTS_JITTER, "proc_name": "gazetteer",
            "accesslog": None, "errorlog": "-", "loglevel": "warning",
            "preload_app": False}  # each process builds its own app, connections, resolver


class StallGuard:
    """WSGI middleware: a send or receive timeout on the client's socket, so a client that
    stops reading a download (or stops sending a body) releases its thread after
    GAZETTEER_REQUEST_TIMEOUT seconds instead of holding it for ever."""

    def __init__(self, app: Callable, seconds: int, body_limit: int) -> None:
        self.app, self.seconds, self.body_limit = app, seconds, body_limit

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        client = environ.get("gunicorn.socket")
        if isinstance(client, socket.socket):
            limit = struct.pack("ll", self.seconds, 0)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        response = self.app(environ, start_response)
        self._drain_refused_body(environ)
        return response

    def _drain_refused_body(self, environ: dict) -> None:
        """Flask answers an oversized body with a 413 without reading it; a client that
        sends its whole body before reading (most scripts) would see a broken pipe instead.
        Up to the backstop the rest is read and dropped, as waitress does; beyond it the
        connection is closed."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        if not 0 < length <= BODY_BACKSTOP_FACTOR * self.body_limit:
            return
        stream = environ["wsgi.input"]
        while stream.read(1024 * 1024):
            pass


def build_app(settings: Settings) -> Any:
    """The app of one server process, warmed before its first request (p99 of
    /api/resolve; no request pays for building the resolver)."""
    app = create_app(settings=settings)
    app.extensions["gazetteer"].warm()
    app.wsgi_app = StallGuard(app.wsgi_app,  # type: ignore[method-assign]
                              settings.request_timeout, settings.max_document_bytes)
    return app


def serve(settings: Settings) -> None:
    """Serve until interrupted, with the job workers beside the server; prints the URL first."""
    workers = start_job_workers(settings)
    where = f"http://{settings.host}:{settings.port}/"
    try:
        if settings.server == "gunicorn" and gunicorn_available():
            print(f"gazetteer: serving {settings.database} on {where} (map), /api/entities "
                  f"(API) with gunicorn, {settings.processes} processes x {settings.threads} "
                  f"threads; {settings.job_workers if workers else 0} job worker(s); "
                  f"Ctrl-C stops", flush=True)
            _run_gunicorn(settings)
        else:
            from waitress import serve as waitress_serve

            app = build_app(settings)
            print(f"gazetteer: serving {settings.database} on {where} (map), /api/entities "
                  f"(API) with waitress, {settings.threads} threads; Ctrl-C stops", flush=True)
            waitress_serve(app, **waitress_options(settings))
    finally:
        if workers is not None:
            workers.terminate()
            workers.join(20)


def start_job_workers(settings: Settings) -> multiprocessing.process.BaseProcess | None:
    """The huey consumer in a process of its own (its workers fork from it), unless jobs run
    elsewhere (GAZETTEER_JOB_WORKERS=0) or this is a read-only copy."""
    if settings.read_only or settings.job_workers < 1:
        return None
    from ..jobs import run_worker

    process = multiprocessing.get_context("spawn").Process(
        target=run_worker, args=(settings, settings.job_workers), name="gazetteer-jobs",
        daemon=False)
    process.start()
    return process


def _run_gunicorn(settings: Settings) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings).items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return build_app(settings)

    sys.argv = sys.argv[:1]  # gunicorn parses the command line; ours is already read
    Server().run()
