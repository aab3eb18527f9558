"""The Flask application factory: the JSON API under /api, the map at /, entity pages,
OpenRefine reconciliation at /reconcile, /healthz."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Flask, Response

from ..config import Settings, load_settings, setting_names
from . import api, auth, curation, errors, map as map_view, mapdata, pages, reconcile, services


def create_app(test_config: dict[str, Any] | None = None,
               settings: Settings | None = None) -> Flask:
    """Build the app. Settings come from config.py: defaults, GAZETTEER_* variables, then
    the keys of test_config that name settings (DATABASE, API_TOKEN, ...); the Flask config
    is derived from them, never read from the environment a second way."""
    test_config = dict(test_config or {})
    if settings is None:
        settings = load_settings({k.lower(): v for k, v in test_config.items()
                                  if k.lower() in setting_names()})
    app = Flask(__name__, static_folder=str(settings.static_dir), static_url_path="/static")
    app.config.from_mapping({k.upper(): v for k, v in asdict(settings).items()})
    app.config["MAX_CONTENT_LENGTH"] = settings.max_document_bytes + 64 * 1024
    app.config.from_mapping({k: v for k, v in test_config.items()
                             if k.lower() not in setting_names()})  # TESTING and the like
    services.install(app, settings)
    auth.install(app)
    errors.register(app)
    for blueprint in (api.bp, map_view.bp, mapdata.bp, curation.bp, pages.bp, reconcile.bp):
        app.register_blueprint(blueprint)
    _enable_cors(app, settings.cors_origins)
    app.after_request(_no_sniffing)
    return app


def _no_sniffing(response: Response) -> Response:
    """JSON and CSV hold names from documents: a browser must never guess they are HTML."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _enable_cors(app: Flask, origins: str) -> None:
    """CORS is off unless origins are configured."""
    allowed = {o.strip() for o in origins.split(",") if o.strip()}
    if not allowed:
        return

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        from flask import request

        origin = request.headers.get("Origin")
        if origin and (origin in allowed or "*" in allowed):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response
