"""Access: the bearer token for writes, and for reads when they are private."""

from __future__ import annotations

import hmac

from flask import Flask, request

from ..errors import ReadOnlyCopy, Unauthorized, WritesDisabled
from .services import settings

# Endpoints anyone may read even when reads are private: the probe and the vendored assets.
PUBLIC_ENDPOINTS = ("api.healthz", "static")


def _token_ok() -> bool:
    token = settings().api_token
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def require_writer() -> None:
    if settings().read_only:
        raise ReadOnlyCopy("this server publishes a read-only copy of the gazetteer "
                           "(gazetteer serve --read-only): send writes to the writable server")
    if not settings().api_token:
        raise WritesDisabled("writes are disabled: set GAZETTEER_API_TOKEN to enable them")
    if not _token_ok():
        raise Unauthorized("a valid bearer token is required (Authorization: Bearer ...)")


# App-wide, not only /api: the map at / shows the same names and places. The vendored
# Leaflet files under /static hold no data.
def private_reads() -> None:
    if request.method == "OPTIONS":  # a CORS preflight carries no credentials, by design
        return
    if settings().private_reads and request.endpoint not in PUBLIC_ENDPOINTS:
        if not _token_ok():
            raise Unauthorized("reads are private here: a valid bearer token is required")


def install(app: Flask) -> None:
    app.before_request(private_reads)
