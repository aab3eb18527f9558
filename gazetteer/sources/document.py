"""The pieces every format shares: Skipped, content ids, decoding, bounded reads, and building a Document."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import BinaryIO

from ..errors import BadInput, DocumentTooLarge, UnreadableDocument
from ..types import Document
from .dates import find_dateline, iso_date_or_datetime

_CHUNK = 1024 * 1024
TITLE_LENGTH = 300


@dataclass(frozen=True)
class Skipped:
    """A file or URL the batch could not use, with the reason in words."""

    source: str
    reason: str


def content_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_size(data: bytes | str, source: str, max_bytes: int) -> None:
    """Raise DocumentTooLarge when data is over max_bytes (text counts as UTF-8)."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
    if size > max_bytes:
        raise DocumentTooLarge(f"{source}: {size:,} bytes is over the limit of {max_bytes:,}")


def decode(data: bytes, source: str, max_bytes: int) -> str:
    """Return the text of a document body; raises UnreadableDocument or DocumentTooLarge."""
    check_size(data, source, max_bytes)
    if not data.strip():
        raise UnreadableDocument(f"{source}: empty document")
    if b"\x00" in data[:8192]:
        raise UnreadableDocument(f"{source}: binary content (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(f"{source}: not valid UTF-8 (byte {exc.start})") from exc
    return text.replace("\r\n", "\n")


def read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """Read up to limit bytes in chunks: a device, a pipe or a growing file can be longer
    than stat said (/dev/zero says 0 and never ends), and read(limit) would reserve the
    whole limit for every small file."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = stream.read(min(_CHUNK, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def build_document(text: str, source: str, title: str | None = None, **meta) -> Document:
    """Return a Document keyed by its text's hash; the title falls back to the first line
    and, without a published date, a leading dateline supplies one. Raises
    UnreadableDocument when there is no text."""
    if not text.strip():
        raise UnreadableDocument(f"{source}: no text")
    if not meta.get("published"):
        dateline = find_dateline(text)
        if dateline:
            meta.update(published=dateline, published_source="dateline")
    title = (title or "").strip() or first_line(text)
    return Document(id=content_id(text), text=text, title=title[:TITLE_LENGTH], source=source,
                    **meta)


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def with_published(doc: Document, value: str, source: str = "given") -> Document:
    """Return doc with a caller's publication date (ISO 8601), which beats any found one;
    raises BadInput when value is not an ISO 8601 date or datetime."""
    published = iso_date_or_datetime(value)
    if published is None:
        raise BadInput(f"published: {value!r} is not an ISO 8601 date or datetime")
    return replace(doc, published=published, published_source=source)
