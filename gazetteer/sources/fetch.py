"""URLs -> Documents: polite fetching (user agent, per-host delay, robots.txt, timeouts, size limit) and feeds."""

from __future__ import annotations

import http.client
import time
import urllib.robotparser
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from trafilatura.utils import decode_file

from ..errors import DocumentTooLarge, UnreadableDocument
from ..types import Document
from .dates import date_in_url
from .document import Skipped, check_size, decode
from .feed import FeedEntry, feed_entries, is_feed
from .files import MAX_BYTES
from .html import html_document
from .pdf import looks_like_pdf, pdf_document
from .text import text_document

USER_AGENT = "gazetteer/0.1 (conflict-report gazetteer)"
HTML_TYPES = {"text/html", "application/xhtml+xml"}
_ACCEPT = ("text/html,application/xhtml+xml,application/pdf,application/rss+xml,"
           "application/atom+xml,text/plain;q=0.9,*/*;q=0.5")
_READ_CHUNK = 64 * 1024


class FetchFailed(UnreadableDocument):
    """A URL that could not be fetched: refused by robots.txt, an HTTP error, a timeout."""

    status = 502
    code = "fetch_failed"

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status  # the server's answer, when there was one


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    content_type: str  # media type in lower case, without parameters
    charset: str | None
    body: bytes


class Fetcher:
    """HTTP GETs that a site's operator would accept: one user agent, at least `delay`
    seconds between requests to a host (more if robots.txt asks), robots.txt obeyed, a
    total time limit per request and a size limit per body."""

    def __init__(self, user_agent: str = USER_AGENT, delay: float = 1.0,
                 timeout: float = 30.0, max_bytes: int = MAX_BYTES) -> None:
        self.user_agent, self.delay = user_agent, delay
        self.timeout, self.max_bytes = timeout, max_bytes
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}

    def get(self, url: str) -> Response:
        """Return the response to a GET of url; raises FetchFailed or DocumentTooLarge."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchFailed(f"{url}: not an http(s) URL")
        robots = self._robots_for(url)
        if not robots.can_fetch(self.user_agent, url):
            raise FetchFailed(f"{url}: disallowed by robots.txt")
        return self._request(url, self._host_delay(robots))

    def _robots_for(self, url: str) -> urllib.robotparser.RobotFileParser:
        """The site's robots.txt rules, fetched once per site. As in urllib.robotparser,
        401/403 forbid the whole site and any other 4xx allows it. A 5xx or a network
        failure raises FetchFailed and is not remembered: the site may be back later."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
            try:
                body = self._request(origin + "/robots.txt", self.delay).body
                parser.parse(body.decode("utf-8", "replace").splitlines())
            except FetchFailed as exc:
                status = exc.http_status or 0
                if not 400 <= status < 500:
                    raise FetchFailed(f"{url}: robots.txt unavailable "
                                      f"({exc.message.split(': ', 1)[-1]}); not fetched",
                                      status or None) from None
                parser.parse(["User-agent: *", "Disallow: /"] if status in (401, 403) else [])
            except DocumentTooLarge:
                parser.parse([])  # Google reads only the first 500 KiB; we ignore it all
            self._robots[origin] = parser
        return self._robots[origin]

    def _host_delay(self, robots: urllib.robotparser.RobotFileParser) -> float:
        crawl_delay = robots.crawl_delay(self.user_agent)
        return max(self.delay, float(crawl_delay or 0))

    def _request(self, url: str, delay: float) -> Response:
        host = urlsplit(url).netloc
        self._wait_for(host, delay)
        request = Request(url, headers={"User-Agent": self.user_agent, "Accept": _ACCEPT})
        try:
            with urlopen(request, timeout=self.timeout) as answer:
                body = self._read_body(answer, url)
                return Response(answer.geturl(), answer.headers.get_content_type().lower(),
                                answer.headers.get_content_charset(), body)
        except HTTPError as exc:
            exc.close()
            raise FetchFailed(f"{url}: HTTP {exc.code} {exc.reason}", exc.code) from None
        except (URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise FetchFailed(f"{url}: cannot fetch ({reason})") from None
        finally:
            self._last_request[host] = time.monotonic()

    def _wait_for(self, host: str, delay: float) -> None:
        last = self._last_request.get(host)
        if last is not None:
            time.sleep(max(0.0, last + delay - time.monotonic()))

    def _read_body(self, answer: http.client.HTTPResponse, url: str) -> bytes:
        """Read the body up to max_bytes + 1, within timeout seconds in all: the socket's
        timeout bounds each read, so a server dripping a byte a second would never end."""
        length = answer.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise DocumentTooLarge(f"{url}: {int(length):,} bytes is over the limit of "
                                   f"{self.max_bytes:,}")
        deadline = time.monotonic() + self.timeout
        chunks, total = [], 0
        while total <= self.max_bytes:
            chunk = answer.read(_READ_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if time.monotonic() > deadline:
                raise FetchFailed(f"{url}: cannot fetch (took over {self.timeout:g} s)")
        body = b"".join(chunks)
        check_size(body, url, self.max_bytes)
        return body



def read_url(url: str, fetcher: Fetcher | None = None,
             raw_html_text: bool = False) -> Iterator[Document | Skipped]:
    """Yield the Document of a page, PDF or text at url, or, for an RSS/Atom feed, the
    Documents of the articles it links; whatever cannot be read is yielded as Skipped."""
    fetcher = fetcher or Fetcher()
    try:
        response = fetcher.get(url)
        if is_feed(response.content_type, response.body):
            yield from _read_feed(response, url, fetcher, raw_html_text)
        else:
            yield response_document(response, url, raw_html_text)
    except (UnreadableDocument, DocumentTooLarge) as exc:
        yield Skipped(url, _reason(exc))


def read_urls(urls: Iterable[str], fetcher: Fetcher | None = None,
              raw_html_text: bool = False) -> Iterator[Document | Skipped]:
    """Yield the Documents and Skipped of each URL in turn, through one polite Fetcher."""
    fetcher = fetcher or Fetcher()
    for url in urls:
        yield from read_url(url, fetcher, raw_html_text)


def read_url_list(path: Path) -> list[str]:
    """Return the URLs in a file, one a line; blank lines and '#' comments are ignored.
    Raises UnreadableDocument when the file cannot be read."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableDocument(f"{path}: cannot read the URL list ({exc})") from exc
    # " #" starts a comment; a '#' inside a URL (a fragment) has no space before it.
    urls = (line.split(" #", 1)[0].strip() for line in lines)
    return [url for url in urls if url and not url.startswith("#")]


def response_document(response: Response, source: str, raw_html_text: bool = False) -> Document:
    """Return the Document of a fetched body, chosen by its content type (PDFs also by
    their magic number). Raises UnreadableDocument or DocumentTooLarge."""
    kind, body = response.content_type, response.body
    if kind == "application/pdf" or looks_like_pdf(body):
        doc = pdf_document(body, source)
    elif kind in HTML_TYPES:
        doc = html_document(_decode_html(response), source, url=response.url,
                            raw_html_text=raw_html_text)
    elif kind.startswith("text/"):
        doc = text_document(_decode_text(response, source), source)
    else:
        raise UnreadableDocument(f"{source}: unsupported content type {kind}")
    return _with_url_and_date(doc, response.url)


def _with_url_and_date(doc: Document, url: str) -> Document:
    """Fill what the body did not say: the URL it came from, and a date in that URL."""
    doc = doc if doc.url else replace(doc, url=url)
    if not doc.published and date_in_url(doc.url or ""):
        doc = replace(doc, published=date_in_url(doc.url or ""), published_source="url")
    return doc


def _read_feed(response: Response, source: str, fetcher: Fetcher,
               raw_html_text: bool) -> Iterator[Document | Skipped]:
    entries = feed_entries(response.body, response.url)
    if not entries:
        yield Skipped(source, "a feed with no entries (or not a readable feed)")
    for number, entry in enumerate(entries, 1):
        if not entry.link:
            yield Skipped(f"{source} (entry {number})", "feed entry without a link")
            continue
        try:
            yield _read_entry(entry, fetcher, raw_html_text)
        except (UnreadableDocument, DocumentTooLarge) as exc:
            yield Skipped(entry.link, _reason(exc))


def _read_entry(entry: FeedEntry, fetcher: Fetcher, raw_html_text: bool) -> Document:
    """The Document of a feed entry's article, dated by the feed when the page is not
    (the feed's date beats a guess from a dateline or the URL)."""
    assert entry.link
    response = fetcher.get(entry.link)
    if is_feed(response.content_type, response.body):
        raise UnreadableDocument(f"{entry.link}: a feed linked from a feed (not followed)")
    doc = response_document(response, entry.link, raw_html_text)
    if entry.published and doc.published_source in (None, "dateline", "url"):
        doc = replace(doc, published=entry.published, published_source="feed")
    return doc


def _decode_html(response: Response) -> str:
    """The page's text in the charset its headers give, else as its <meta> says (or as
    detected): web pages are often not UTF-8."""
    if response.charset:
        try:
            return response.body.decode(response.charset, errors="replace")
        except LookupError:
            pass  # an unknown charset name: detect it instead
    return decode_file(response.body)


def _decode_text(response: Response, source: str) -> str:
    if response.charset and response.charset.lower() not in ("utf-8", "utf8"):
        try:
            return response.body.decode(response.charset).replace("\r\n", "\n")
        except (LookupError, UnicodeDecodeError) as exc:
            raise UnreadableDocument(f"{source}: not valid {response.charset}") from exc
    return decode(response.body, source, len(response.body))


def _reason(exc: UnreadableDocument | DocumentTooLarge) -> str:
    return exc.message.split(": ", 1)[-1]
