"""Plain text and Markdown -> Document: front-matter title and date, a Markdown title without its '#'s."""

from __future__ import annotations

import re

from ..types import Document
from .dates import iso_date_or_datetime
from .document import build_document, first_line

# "---" then "key: value" lines then "---": Jekyll/Hugo front matter. Parsed by hand (only
# flat keys are read) so YAML is not a dependency; anything else is left as text.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n((?:[^\n]*\n){0,50}?)---[ \t]*(?:\n|\Z)")
_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")


def text_document(text: str, source: str, title: str | None = None) -> Document:
    """Return the Document of plain text or Markdown; front matter is removed from the text
    and gives the title and the published date ("metadata")."""
    fields, text = split_front_matter(text)
    meta: dict[str, str] = {}
    published = iso_date_or_datetime(_unquote(fields.get("date", "")))
    if published:
        meta.update(published=published, published_source="metadata")
    for key, field in (("author", "author"), ("url", "url")):
        if fields.get(field):
            meta[key] = _unquote(fields[field])
    title = title or _unquote(fields.get("title", "")) or markdown_title(text)
    return build_document(text, source, title, **meta)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Return (front-matter fields in lower case, the text after it); ({}, text) if none."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {}
    for line in match.group(1).splitlines():
        field = _FIELD.match(line)
        if field:
            fields[field.group(1).lower()] = field.group(2)
    return fields, text[match.end():].lstrip("\n")


def markdown_title(text: str) -> str:
    """Return the first line of text, without the '#'s of a Markdown heading."""
    line = first_line(text)
    heading = _ATX_HEADING.match(line)
    return heading.group(1) if heading else line


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
