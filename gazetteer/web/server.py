"""`gazetteer serve`: the app on waitress, a production WSGI server."""

from __future__ import annotations

from waitress import serve as waitress_serve

from ..config import Settings
from . import create_app


def serve(settings: Settings) -> None:
    """Serve until interrupted; prints the URL first."""
    app = create_app({"DATABASE": str(settings.database)})
    from .api import name_resolver

    name_resolver(app)  # loaded before the first request, not during it (p99 of /api/resolve)
    print(f"gazetteer: serving {settings.database} on http://{settings.host}:{settings.port}/ "
          f"(map), /api/entities (API); Ctrl-C stops", flush=True)
    waitress_serve(app, host=settings.host, port=settings.port, threads=settings.threads,
                   max_request_body_size=settings.max_document_bytes + 64 * 1024,
                   channel_timeout=60, ident="gazetteer")
