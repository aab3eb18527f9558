"""RSS and Atom feeds (feedparser): which bodies are feeds, and the link, title and date of each entry."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser

FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/feed+json"}
XML_TYPES = {"application/xml", "text/xml", "application/octet-stream", ""}
_ROOT_TAGS = (b"<rss", b"<feed", b"<rdf:rdf")


@dataclass(frozen=True)
class FeedEntry:
    link: str | None  # absolute
    title: str
    published: str | None  # ISO date


def is_feed(content_type: str, body: bytes) -> bool:
    """True for an RSS/Atom media type, or generic XML whose root is <rss>, <feed> or <rdf:RDF>."""
    if content_type in FEED_TYPES:
        return True
    head = body[:2000].lstrip().lower()
    return content_type in XML_TYPES and any(tag in head for tag in _ROOT_TAGS)


def feed_entries(body: bytes, feed_url: str) -> list[FeedEntry]:
    """Return the entries of a feed body; relative links are resolved against feed_url.
    The body is parsed as bytes: given a string, feedparser would fetch it as a URL."""
    parsed = feedparser.parse(body, response_headers={"content-location": feed_url})
    return [FeedEntry(link=urljoin(feed_url, entry.get("link")) if entry.get("link") else None,
                      title=entry.get("title", ""),
                      published=_entry_date(entry))
            for entry in parsed.entries]


def _entry_date(entry: feedparser.FeedParserDict) -> str | None:
    """The entry's published (else updated) date; feedparser gives it as UTC struct_time."""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not isinstance(parsed, time.struct_time):
        return None
    return datetime(*parsed[:6], tzinfo=timezone.utc).date().isoformat()
