"""The Flask application factory: the JSON API under /api, the map at /, entity pages,
OpenRefine reconciliation at /reconcile, /healthz."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Flask, Response

from ..config import Settings, load_settings, setting_names
from . import (api, auth, curation, errors, map as map_view, mapdata, pages, params, reconcile,
               services)


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
    app.before_request(params.refuse_unknown_query_parameters)  # after private_reads: 401 first
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


# What a browser on an allowed origin may send: the methods and headers of our writes.
CORS_METHODS = "GET, POST, PATCH, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"
CORS_MAX_AGE = 86400  # seconds a browser may cache a preflight's answer


def _enable_cors(app: Flask, origins: str) -> None:
    """CORS is off unless origins are configured; then a preflight (OPTIONS, which never
    needs the token: browsers send it without credentials) gets the methods, the headers
    and a max-age."""
    allowed = {o.strip() for o in origins.split(",") if o.strip()}
    if not allowed:
        return

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        from flask import request

        origin = request.headers.get("Origin")
        response.vary.add("Origin")
        if origin and (origin in allowed or "*" in allowed):
            response.headers["Access-Control-Allow-Origin"] = origin
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
                response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
                response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
        return response
