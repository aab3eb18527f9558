"""HTML -> Document: the main text without boilerplate (trafilatura) and the page's metadata (htmldate for the date)."""

from __future__ import annotations

import re
from pathlib import Path

import htmldate
import trafilatura
from bs4 import BeautifulSoup
from trafilatura.settings import Document as TrafilaturaDocument

from ..types import Document
from .dates import date_in_url
from .document import build_document

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
# Elements whose text is not part of the report, for the raw (whole page) text.
_NOISE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
# Links to other stories inside an article ("Read also: ...") are headlines of other
# reports; their places would be counted as this report's. A bare "Read also:" line takes
# the headline on the next line with it.
_LINK_LINE = re.compile(r"^\s*(?:(?:read|see|also read|read more|watch)(?: also| more)?|"
                        r"related(?: articles| stories| coverage| content)?|"
                        r"recommended|more on this(?: story)?)\s*:(.*)$", re.IGNORECASE)
_ADVERT_LINE = re.compile(r"^\s*(?:advertisement|sponsored content)\s*$", re.IGNORECASE)
_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})\b", re.IGNORECASE)


def looks_like_html(text: str, source: str = "") -> bool:
    if Path(source).suffix.lower() in HTML_SUFFIXES:
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def html_document(html: str, source: str, title: str | None = None, url: str | None = None,
                  raw_html_text: bool = False) -> Document:
    """Return the Document of an HTML page: its main text (all visible text when
    raw_html_text) with title, canonical URL, site name, author, language and published
    date from the page's metadata. url is where the page came from, if known."""
    extracted = extract_page(html, url)
    text = (main_text(extracted.text or "") if not raw_html_text else "") or visible_text(html)
    meta = {"url": extracted.url or url, "site_name": extracted.sitename or None,
            "author": extracted.author or None, "language": page_language(html)}
    published, published_source = page_date(html, meta["url"])
    if published:
        meta.update(published=published, published_source=published_source)
    return build_document(text, source, title or extracted.title or visible_title(html), **meta)


def extract_page(html: str, url: str | None) -> TrafilaturaDocument:
    """Return trafilatura's main text (no comments) and metadata of a page; only metadata
    when it finds no main text. Its own date search is kept cheap: page_date decides."""
    extracted = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_images=False,
        include_links=False, date_extraction_params={"extensive_search": False})
    if isinstance(extracted, TrafilaturaDocument):
        return extracted
    return trafilatura.extract_metadata(html, default_url=url)


def main_text(text: str) -> str:
    """Return trafilatura's text without links to other stories and advert labels."""
    kept: list[str] = []
    skip_next = False
    for line in text.splitlines():
        link = _LINK_LINE.match(line)
        if skip_next or link or _ADVERT_LINE.match(line):
            skip_next = link is not None and not link.group(1).strip()
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def visible_text(html: str) -> str:
    """Return all visible text of a page (menus and footers included), one block a line:
    the old behaviour, for raw_html_text and for pages with no main text to find."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_NOISE_TAGS):
        tag.decompose()
    blocks = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(b for b in blocks if b)


def visible_title(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    return soup.title.get_text(" ", strip=True) if soup.title else ""


def page_date(html: str, url: str | None) -> tuple[str | None, str | None]:
    """Return (ISO date, "metadata" or "url") of a page's publication, or (None, None).
    htmldate's extensive search is off: it would take "© 2024" in a footer for the date."""
    found = htmldate.find_date(html, extensive_search=False, original_date=True,
                               outputformat="%Y-%m-%d")
    if found:
        return found, "metadata"
    from_url = date_in_url(url or "")
    return (from_url, "url") if from_url else (None, None)


def page_language(html: str) -> str | None:
    """Return the primary subtag of <html lang> ("en" for "en-GB"), lower case."""
    match = _LANG.search(html[:5000])
    return match.group(1).lower() if match else None

