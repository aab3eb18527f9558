"""The GazetteerError family: every error a stage raises, each with an HTTP status."""

from __future__ import annotations


class GazetteerError(Exception):
    """Base of every error the gazetteer raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(GazetteerError):
    """The caller sent something we cannot use."""

    status = 400
    code = "bad_request"


class UnreadableDocument(BadInput):
    """A file or body that is empty, binary or not decodable."""

    code = "unreadable_document"


class DocumentTooLarge(BadInput):
    status = 413
    code = "payload_too_large"


class NotFound(GazetteerError):
    status = 404
    code = "not_found"


class Unauthorized(GazetteerError):
    status = 401
    code = "unauthorized"


class WritesDisabled(GazetteerError):
    status = 403
    code = "writes_disabled"


class GeocoderUnavailable(GazetteerError):
    """An online geocoder failed; wraps geopy's errors so none leaks out."""

    status = 502
    code = "geocoder_unavailable"


class ModelNotInstalled(GazetteerError):
    status = 500
    code = "model_not_installed"


class DatabaseMissing(GazetteerError):
    status = 503
    code = "database_missing"


class DatabaseUnreadable(GazetteerError):
    """The database path is a folder, in a missing folder, or not an SQLite file."""

    status = 503
    code = "database_unreadable"


class BadSetting(GazetteerError):
    """A GAZETTEER_* variable or option holds a value of the wrong type."""

    status = 500
    code = "bad_setting"


class AnalysisFailed(GazetteerError):
    """A document the model, the resolver or the geocoder failed on (in a batch, that one
    document is reported as skipped and the others are stored)."""

    status = 500
    code = "analysis_failed"


class ExtractTimedOut(GazetteerError):
    """POST /api/extract ran past GAZETTEER_EXTRACT_SECONDS and was stopped."""

    status = 504
    code = "extract_timeout"


class StorageFault(GazetteerError):
    """The database cannot be used as it stands (full, read-only, locked, damaged); the
    message names the cause and what to do. Nothing already stored is lost."""

    status = 503
    code = "storage_fault"


class DiskFull(StorageFault):
    code = "disk_full"


class StorageReadOnly(StorageFault):
    code = "read_only"


class DatabaseLocked(StorageFault):
    code = "database_locked"


class DatabaseCorrupt(StorageFault):
    code = "database_corrupt"


class ReadOnlyCopy(WritesDisabled):
    """`gazetteer serve --read-only`: a published snapshot, never written."""

    code = "read_only_copy"


class Conflict(GazetteerError):
    """The request is sound but the stored state forbids it (undo a change that later
    changes build on)."""

    status = 409
    code = "conflict"
