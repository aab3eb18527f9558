"""PDF -> Document with pypdf: the text of each page, joined, with each page's start offset kept."""

from __future__ import annotations

import io
from bisect import bisect_right
from datetime import datetime

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from ..errors import UnreadableDocument
from ..types import Document
from .document import build_document

PDF_SUFFIXES = {".pdf"}
PDF_MAGIC = b"%PDF-"
PAGE_BREAK = "\n\n"  # between pages, so a sentence never runs across a page boundary


def looks_like_pdf(data: bytes) -> bool:
    return data.lstrip()[:5] == PDF_MAGIC


def pdf_document(data: bytes, source: str, title: str | None = None) -> Document:
    """Return the Document of a PDF's text layer; raises UnreadableDocument for a PDF that
    pypdf cannot read, an encrypted one, or one with no text (a scan)."""
    reader = open_pdf(data, source)
    try:
        page_texts = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableDocument(f"{source}: not a readable PDF ({exc})") from exc
    if not any(page_texts):
        raise UnreadableDocument(f"{source}: no text layer (scanned PDF?)")
    text, pages = join_pages(page_texts)
    return build_document(text, source, title or _info(reader, "title"),
                          author=_info(reader, "author") or None, pages=pages,
                          **_creation_date(reader))


def open_pdf(data: bytes, source: str) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableDocument(f"{source}: not a readable PDF ({exc})") from exc
    if reader.is_encrypted:
        raise UnreadableDocument(f"{source}: encrypted PDF")
    return reader


def join_pages(page_texts: list[str]) -> tuple[str, tuple[int, ...]]:
    """Return (the pages' text joined by blank lines, the start offset of each page)."""
    starts, offset = [], 0
    for text in page_texts:
        starts.append(offset)
        offset += len(text) + len(PAGE_BREAK)
    return PAGE_BREAK.join(page_texts), tuple(starts)


def page_of(doc: Document, offset: int) -> int | None:
    """Return the 1-based page holding the character at offset, or None if doc is not paged."""
    if not doc.pages:
        return None
    return max(bisect_right(doc.pages, offset), 1)


def _info(reader: PdfReader, field: str) -> str:
    """A document-information string (title, author), "" when absent or unreadable."""
    try:
        value = getattr(reader.metadata, field, None) if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError):
        return ""
    return str(value).strip() if value else ""


def _creation_date(reader: PdfReader) -> dict[str, str]:
    """The PDF's creation date as published ("metadata"): reports are made into PDFs when
    they are published. Empty when absent or malformed."""
    try:
        created = reader.metadata.creation_date if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(created, datetime):
        return {}
    return {"published": created.date().isoformat(), "published_source": "metadata"}
