"""The Flask application factory: the JSON API under /api, the map at /, entity pages,
OpenRefine reconciliation at /reconcile, /healthz."""

from __future__ import annotations

import threading
from dataclasses import asdict

from flask import Flask, g

from .. import store
from ..config import load_settings


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; settings come from config.py defaults, GAZETTEER_* variables and
    test_config, in that order of precedence (last wins)."""
    settings = load_settings({k.lower(): v for k, v in (test_config or {}).items()
                              if k.lower() in _setting_names()})
    app = Flask(__name__, static_folder=str(settings.static_dir), static_url_path="/static")
    app.config.from_mapping({k.upper(): v for k, v in asdict(settings).items()})
    app.config["MAX_CONTENT_LENGTH"] = settings.max_document_bytes + 64 * 1024
    app.config["JSON_SORT_KEYS"] = False
    app.config.from_prefixed_env("GAZETTEER")
    app.config.from_mapping(test_config or {})
    app.extensions["gazetteer_settings"] = settings
    app.extensions["gazetteer_lock"] = threading.Lock()

    from . import api, errors, map as map_view, pages, reconcile

    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(map_view.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(reconcile.bp)
    app.teardown_appcontext(_close_db)
    _enable_cors(app, settings.cors_origins)
    app.after_request(_no_sniffing)
    return app


def _no_sniffing(response):
    """JSON and CSV hold names from documents: a browser must never guess they are HTML."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _setting_names() -> set[str]:
    from ..config import Settings

    return set(Settings.__dataclass_fields__)


_threads = threading.local()  # per server thread: database path -> open connection


def get_db():
    """The request's database connection: each server thread keeps one per database, since
    opening one (connect and pragmas, ~0.8 ms) cost more than most queries."""
    if "db" not in g:
        from flask import current_app

        path = str(current_app.config["DATABASE"])
        connections = _threads.__dict__.setdefault("connections", {})
        if path not in connections:
            connections[path] = store.open_db(path, create=False)
        g.db = connections[path]
    return g.db


def _close_db(_exc: BaseException | None) -> None:
    """The connection stays open for the thread's next request; a transaction left open by
    a failed request is rolled back."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def _enable_cors(app: Flask, origins: str) -> None:
    """CORS is off unless origins are configured."""
    allowed = {o.strip() for o in origins.split(",") if o.strip()}
    if not allowed:
        return

    @app.after_request
    def add_cors_headers(response):
        from flask import request

        origin = request.headers.get("Origin")
        if origin and (origin in allowed or "*" in allowed):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response
