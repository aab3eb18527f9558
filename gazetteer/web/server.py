"""`gazetteer serve`: the app on waitress, a production WSGI server."""

from __future__ import annotations

from waitress import serve as waitress_serve

from ..config import Settings
from . import create_app

# Flask answers bodies over the document limit with a 413 in our JSON shape without reading
# them; waitress buffers a body before the app sees it, so it keeps a hard backstop of its
# own (answered in plain text) at a few times that size.
BODY_BACKSTOP_FACTOR = 4
CHANNEL_TIMEOUT_S = 60  # an idle or stalled connection is closed after this long


def waitress_options(settings: Settings) -> dict:
    """The waitress settings of `gazetteer serve`: address, threads, size and time limits."""
    return {"host": settings.host, "port": settings.port, "threads": settings.threads,
            "max_request_body_size": BODY_BACKSTOP_FACTOR * settings.max_document_bytes,
            "channel_timeout": CHANNEL_TIMEOUT_S, "ident": "gazetteer"}


def serve(settings: Settings) -> None:
    """Serve until interrupted; prints the URL first."""
    app = create_app(settings=settings)
    # Loaded before the first request, not during it (p99 of /api/resolve; a write waiting
    # for spaCy to load).
    app.extensions["gazetteer"].warm()
    print(f"gazetteer: serving {settings.database} on http://{settings.host}:{settings.port}/ "
          f"(map), /api/entities (API); Ctrl-C stops", flush=True)
    waitress_serve(app, **waitress_options(settings))
