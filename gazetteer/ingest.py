"""Files, folders, HTML, stdin and API bodies -> Documents, each keyed by its content hash."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bs4 import BeautifulSoup

from .errors import DocumentTooLarge, UnreadableDocument
from .types import Document

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".rst", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
# Elements whose text is not part of the report.
_NOISE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Skipped:
    """A file the batch could not use, with the reason in words."""

    source: str
    reason: str


def content_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode(data: bytes, source: str, max_bytes: int) -> str:
    """Return the text of a document body; raises UnreadableDocument or DocumentTooLarge."""
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{source}: {len(data):,} bytes is over the limit of "
                               f"{max_bytes:,}")
    if not data.strip():
        raise UnreadableDocument(f"{source}: empty document")
    if b"\x00" in data[:8192]:
        raise UnreadableDocument(f"{source}: binary content (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(f"{source}: not valid UTF-8 (byte {exc.start})") from exc
    return text.replace("\r\n", "\n")


def looks_like_html(text: str, source: str = "") -> bool:
    if Path(source).suffix.lower() in HTML_SUFFIXES:
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, visible text) of an HTML page, with a real parser."""
    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_NOISE_TAGS):
        tag.decompose()
    blocks = (line.strip() for line in soup.get_text("\n").splitlines())
    return title, "\n".join(b for b in blocks if b)


def make_document(text: str, source: str, title: str | None = None,
                  max_bytes: int = 10 * 1024 * 1024) -> Document:
    """Build a Document from text (HTML is reduced to its visible text)."""
    if len(text.encode("utf-8")) > max_bytes:
        raise DocumentTooLarge(f"{source}: over the limit of {max_bytes:,} bytes")
    if looks_like_html(text, source):
        html_title, text = html_to_text(text)
        title = title or html_title
    if not text.strip():
        raise UnreadableDocument(f"{source}: no text")
    title = title or _first_line(text)
    return Document(id=content_id(text), text=text, title=title[:300], source=source)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def read_file(path: Path, max_bytes: int) -> Document:
    """Read one file; raises UnreadableDocument with the file's name and the reason."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentTooLarge(f"{path}: {size:,} bytes is over the limit of {max_bytes:,}")
        with path.open("rb") as stream:
            data = read_at_most(stream, max_bytes + 1)
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return make_document(decode(data, str(path), max_bytes), str(path), max_bytes=max_bytes)


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


def iter_files(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Yield the files under the given paths (folders recursively, in a stable order); a
    missing or unreadable path is yielded as Skipped. Symlinked folders are not followed, so
    link loops cannot recurse."""
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
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.suffix.lower() not in TEXT_SUFFIXES | HTML_SUFFIXES:
                continue
            # A link loop or broken link is reported, not silently left out.
            yield path if path.is_file() else Skipped(str(path), _why_not_a_file(path))
    for error in errors:
        yield Skipped(str(error.filename), f"cannot read folder ({error.strerror})")


def read_paths(paths: Iterable[Path], max_bytes: int) -> Iterator[Document | Skipped]:
    """Yield a Document per readable file, a Skipped per file that is not."""
    for item in iter_files(paths):
        if isinstance(item, Skipped):
            yield item
            continue
        try:
            yield read_file(item, max_bytes)
        except (UnreadableDocument, DocumentTooLarge) as exc:
            yield Skipped(str(item), exc.message.split(": ", 1)[-1])


def read_stdin(max_bytes: int) -> Document:
    data = read_at_most(sys.stdin.buffer, max_bytes + 1)
    return make_document(decode(data, "<stdin>", max_bytes), "<stdin>", max_bytes=max_bytes)
