"""Files, folders, stdin and request bodies -> Documents, dispatched by type; bad files become Skipped."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import DocumentTooLarge, UnreadableDocument
from ..types import Document
from .document import Skipped, check_size, decode, read_at_most
from .html import HTML_SUFFIXES, html_document, looks_like_html
from .pdf import PDF_SUFFIXES, looks_like_pdf, pdf_document
from .text import text_document

MAX_BYTES = 10 * 1024 * 1024  # the default of the max_document_bytes setting
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".rst", ""}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES


def make_document(text: str, source: str, title: str | None = None,
                  max_bytes: int = MAX_BYTES, url: str | None = None,
                  raw_html_text: bool = False) -> Document:
    """Return the Document of a text: HTML is reduced to its main text (all visible text
    when raw_html_text) and metadata, anything else read as plain text or Markdown.
    Raises DocumentTooLarge or UnreadableDocument."""
    check_size(text, source, max_bytes)
    if looks_like_html(text, source):
        return html_document(text, source, title, url=url, raw_html_text=raw_html_text)
    doc = text_document(text, source, title)
    return doc if doc.url or not url else replace(doc, url=url)


def read_bytes(data: bytes, source: str, max_bytes: int = MAX_BYTES,
               title: str | None = None, raw_html_text: bool = False) -> Document:
    """Return the Document of a file's or a body's bytes: a PDF by its magic number, else
    UTF-8 text or HTML. Raises DocumentTooLarge or UnreadableDocument."""
    check_size(data, source, max_bytes)
    if looks_like_pdf(data):
        return pdf_document(data, source, title)
    return make_document(decode(data, source, max_bytes), source, title, max_bytes,
                         raw_html_text=raw_html_text)


def read_file(path: Path, max_bytes: int, raw_html_text: bool = False) -> Document:
    """Read one file; raises UnreadableDocument with the file's name and the reason."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentTooLarge(f"{path}: {size:,} bytes is over the limit of {max_bytes:,}")
        with path.open("rb") as stream:
            data = read_at_most(stream, max_bytes + 1)
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return read_bytes(data, str(path), max_bytes, raw_html_text=raw_html_text)


def iter_files(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Yield the files under the given paths (folders recursively, in a stable order); a
    missing or unreadable path, and a file of a type we cannot read inside a folder, is
    yielded as Skipped. Symlinked folders are not followed, so link loops cannot recurse."""
    for path in paths:
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file():
            yield path
        else:
            yield Skipped(str(path), _why_not_a_file(path))


def _why_not_a_file(path: Path) -> str:
    if path.is_symlink():
        return "broken symbolic link or link loop"
    if path.exists():
        return "not a regular file or folder"
    return "no such file or folder"


def _walk(root: Path) -> Iterator[Path | Skipped]:
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(root, onerror=errors.append):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):  # .DS_Store, editor swap files: never reports
                continue
            path = Path(folder) / name
            suffix = path.suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                yield Skipped(str(path), f"unsupported file type {suffix}")
                continue
            # A link loop or broken link is reported, not silently left out.
            yield path if path.is_file() else Skipped(str(path), _why_not_a_file(path))
    for error in errors:
        yield Skipped(str(error.filename), f"cannot read folder ({error.strerror})")


def read_paths(paths: Iterable[Path], max_bytes: int,
               raw_html_text: bool = False) -> Iterator[Document | Skipped]:
    """Yield a Document per readable file, a Skipped per file that is not."""
    for item in iter_files(paths):
        if isinstance(item, Skipped):
            yield item
            continue
        try:
            yield read_file(item, max_bytes, raw_html_text)
        except (UnreadableDocument, DocumentTooLarge) as exc:
            yield Skipped(str(item), exc.message.split(": ", 1)[-1])


def read_stdin(max_bytes: int, raw_html_text: bool = False) -> Document:
    data = read_at_most(sys.stdin.buffer, max_bytes + 1)
    return read_bytes(data, "<stdin>", max_bytes, raw_html_text=raw_html_text)

