"""The one place where errors become responses: {"error": {"code", "message"}}, never HTML."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from ..errors import GazetteerError
from ..faults import storage_fault

log = logging.getLogger("gazetteer.web")


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(GazetteerError)
    def gazetteer_error(exc: GazetteerError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        fault = storage_fault(exc, app.config["DATABASE"])
        if fault is not None:  # disk full, read-only, locked, damaged: say which
            log.warning("storage fault: %s (%s)", fault.code, exc)
            return error_response(fault.status, fault.code, fault.message)
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
