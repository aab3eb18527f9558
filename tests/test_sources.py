"""Sources: saved pages without boilerplate, PDFs with pages, Markdown, folders, datelines, and
URLs and feeds fetched from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pypdf import PdfWriter

from gazetteer.sources import (Fetcher, Skipped, find_dateline, make_document, page_of,
                               read_file, read_paths, read_url, read_url_list, read_urls)
from gazetteer.types import Document

LIMIT = 1024 * 1024
ARTICLE = [
    "Heavy shelling struck the border town of Kassab on Tuesday morning, residents said, as "
    "government forces and rebel fighters battled for control of the hills above the town.",
    "Witnesses said at least a dozen shells landed near the Armenian church, and several "
    "families fled towards Latakia along the coastal road before noon.",
    "A local council member said the water station in Kassab had been damaged and that "
    "repairs could not begin while the fighting continued in the surrounding villages.",
]
BOILERPLATE = ["Aleppo", "Homs", "Daraa", "Manbij", "YPG", "Daesh", "Tabqa", "cookies",
               "Accept", "Reject", "Syria", "©", "Qamishli", "Tadmur", "Read also", "Most read",
               "Comments", "All rights reserved"]


def news_page(date_markup: str = "", title: str = "Shelling hits Kassab as fighting spreads",
              paragraphs: list[str] = ARTICLE) -> str:
    """A saved news page as sites serve them: banner, menu, article, comments, sidebar, footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{title} | Levant Monitor</title>
<link rel="canonical" href="https://levant-monitor.example/news/kassab-shelling">
<meta property="og:site_name" content="Levant Monitor">
<meta property="og:title" content="{title}">
<meta name="author" content="Rana Haddad">
{date_markup}
<style>.cookie-consent {{ position: fixed; }}</style>
</head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies. <a href="#">Accept</a> |
<a href="#">Reject</a></div>
<header><nav class="main-menu"><ul>
<li><a href="/aleppo">Aleppo</a></li><li><a href="/homs">Homs</a></li>
<li><a href="/daraa">Daraa</a></li></ul></nav></header>
<main><article>
<h1>{title}</h1>
{body}
<p>Read also: Fresh clashes reported near Manbij</p>
<p>Aid workers said they had received more than two hundred displaced people by the evening
and were preparing shelters in schools.</p>
</article>
<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Posted by Omar: Pray for the people of Tadmur and Qamishli.</p></div>
</section></main>
<aside class="sidebar most-read"><h3>Most read</h3><ul>
<li><a href="/a">YPG advances on Manbij</a></li><li><a href="/b">Daesh retreats from Tabqa</a></li>
</ul></aside>
<footer class="site-footer"><p>© 2024 Levant Monitor. All rights reserved. Reporting from
Syria.</p></footer>
</body></html>"""


JSON_LD = """<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Shelling hits Kassab as fighting spreads",
 "datePublished": "2015-03-03T09:30:00+02:00",
 "author": {"@type": "Person", "name": "Rana Haddad"}}
</script>"""


def text_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF, built by hand: each page shows its lines in Helvetica."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        shown = "".join(f"({line}) Tj T* " for line in lines)
        stream = f"BT /F1 12 Tf 72 720 Td 14 TL {shown}ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                       b"<< /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % len(objects))
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def blank_pdf() -> bytes:
    """What a scanner without OCR gives: a page with no text layer."""
    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(612, 792)
    writer.write(out)
    return out.getvalue()


REPORT_PDF = text_pdf([["Report on the Kassab offensive", "Shelling hit Kassab in March."],
                       ["Fighters later moved towards Raqqa.", "End of report."]])


# ---- saved pages ----------------------------------------------------------------------------

def test_saved_news_page_keeps_the_article_and_drops_the_boilerplate():
    doc = make_document(news_page(JSON_LD), "kassab.html")
    for sentence in ARTICLE:
        assert sentence in doc.text
    for word in BOILERPLATE:
        assert word not in doc.text, word
    assert doc.title == "Shelling hits Kassab as fighting spreads"
    assert doc.url == "https://levant-monitor.example/news/kassab-shelling"
    assert (doc.published, doc.published_source) == ("2015-03-03", "metadata")
    assert (doc.site_name, doc.author, doc.language) == ("Levant Monitor", "Rana Haddad", "en")


def test_meta_tag_date_is_read_and_the_footer_year_is_not():
    tagged = make_document(news_page('<meta property="article:published_time" '
                                     'content="2019-07-21T10:00:00Z">'), "a.html")
    assert (tagged.published, tagged.published_source) == ("2019-07-21", "metadata")
    undated = make_document(news_page(), "b.html")  # only "© 2024" in the footer
    assert undated.published is None and undated.published_source is None


def test_raw_html_text_keeps_every_visible_word():
    doc = make_document(news_page(JSON_LD), "kassab.html", raw_html_text=True)
    assert "Aleppo" in doc.text and "We use cookies." in doc.text and ARTICLE[0] in doc.text
    assert doc.published == "2015-03-03"  # metadata is read either way
    assert "position: fixed" not in doc.text


def test_html_dateline_dates_a_page_without_metadata():
    page = news_page(paragraphs=["BEIRUT, March 3, 2015 (Reuters) - " + ARTICLE[0], *ARTICLE[1:]])
    doc = make_document(page, "wire.html")
    assert (doc.published, doc.published_source) == ("2015-03-03", "dateline")


# ---- text and Markdown ----------------------------------------------------------------------

def test_markdown_title_loses_its_hashes(tmp_path):
    (tmp_path / "r.md").write_text("## Clashes near Kassab ##\n\nShelling was reported.",
                                   encoding="utf-8")
    doc = read_file(tmp_path / "r.md", LIMIT)
    assert doc.title == "Clashes near Kassab"
    assert doc.text.startswith("## Clashes")  # the text itself is untouched: offsets hold


def test_front_matter_gives_title_and_date_and_leaves_the_text():
    doc = make_document('---\ntitle: "Idlib update"\ndate: 2016-05-04\nauthor: R. H.\n---\n'
                        "# Heading\nFighting in Idlib.", "u.md")
    assert (doc.title, doc.published, doc.published_source) == (
        "Idlib update", "2016-05-04", "metadata")
    assert doc.text == "# Heading\nFighting in Idlib." and doc.author == "R. H."


@pytest.mark.parametrize("text,expected", [
    ("BEIRUT, March 3, 2015 (Reuters) - Shelling hit Kassab.", "2015-03-03"),
    ("12 May 2024 - Clashes in Idlib.", "2024-05-12"),
    ("ALEPPO, Syria, 4 Jan. 2016 (AFP) \u2014 Fighting resumed.", "2016-01-04"),
    ("Weekly report\n\nKABUL, June 1, 2019 (AP) -- A blast.", "2019-06-01"),
    ("DAMASCUS, Feb 30, 2015 - an impossible date.", None),
    ("In Aleppo, 3 March 2015 - a sentence, not a dateline.", None),
    ("Fighting on 12 May 2024 killed four.", None),
    ("On March 3, 2015, rebels advanced.", None),
    ("x" * 400 + "\n12 May 2024 - too far down to be a dateline.", None),
])
def test_dateline(text, expected):
    assert find_dateline(text) == expected


# ---- PDF ------------------------------------------------------------------------------------

def test_pdf_pages_map_offsets_to_page_numbers(tmp_path):
    (tmp_path / "report.pdf").write_bytes(REPORT_PDF)
    doc = read_file(tmp_path / "report.pdf", LIMIT)
    assert len(doc.pages) == 2 and doc.pages[0] == 0
    assert doc.title == "Report on the Kassab offensive"
    assert page_of(doc, doc.text.index("Kassab")) == 1
    assert page_of(doc, doc.text.index("Raqqa")) == 2
    assert page_of(make_document("Raqqa", "a.txt"), 0) is None


def test_pdf_without_text_layer_is_skipped_by_name(tmp_path):
    (tmp_path / "scan.pdf").write_bytes(blank_pdf())
    (item,) = read_paths([tmp_path / "scan.pdf"], LIMIT)
    assert isinstance(item, Skipped) and item.source.endswith("scan.pdf")
    assert "no text layer" in item.reason


def test_folder_reads_pdfs_and_names_unsupported_files(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0JFIF")
    (tmp_path / "report.pdf").write_bytes(REPORT_PDF)
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    items = list(read_paths([tmp_path], LIMIT))
    assert [type(i).__name__ for i in items] == ["Skipped", "Document"]
    assert items[0] == Skipped(str(tmp_path / "photo.jpg"), "unsupported file type .jpg")
    assert isinstance(items[1], Document) and "Raqqa" in items[1].text


# ---- URLs and feeds on a local server -------------------------------------------------------

def article_page(sentence: str) -> bytes:
    return (f"<html><head><title>{sentence[:30]}</title></head><body><article><p>{sentence}"
            f"</p><p>{ARTICLE[1]}</p></article></body></html>").encode()


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Monitor</title>
<link>http://monitor/</link><description>d</description>
<item><title>Raqqa</title><link>/articles/raqqa.html</link>
<pubDate>Tue, 03 Mar 2015 09:30:00 GMT</pubDate></item>
<item><title>Dated</title><link>/articles/dated.html</link>
<pubDate>Wed, 04 Mar 2015 09:30:00 GMT</pubDate></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Monitor</title><id>urn:m</id><updated>2016-01-02T00:00:00Z</updated>
<entry><title>Homs</title><id>urn:1</id><link href="/articles/homs.html"/>
<published>2016-01-02T08:00:00Z</published><updated>2016-01-02T08:00:00Z</updated></entry>
</feed>"""


def routes(page: bytes) -> dict[str, tuple[int, str, bytes]]:
    html = "text/html; charset=utf-8"
    return {
        "/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /private/\n"),
        "/news/2015/03/05/kassab.html": (200, html, page),
        "/private/secret.html": (200, html, page),
        "/reports/report.pdf": (200, "application/pdf", REPORT_PDF),
        "/notes.txt": (200, "text/plain; charset=utf-8", b"Shelling near Hama was reported."),
        "/big.txt": (200, "text/plain", b"Idlib. " * 2000),
        "/feed.rss": (200, "application/rss+xml", RSS),
        "/feed.atom": (200, "application/atom+xml", ATOM),
        "/articles/raqqa.html": (200, html, article_page("Fighters moved towards Raqqa.")),
        "/articles/dated.html": (200, html, news_page(JSON_LD).encode()),
        "/articles/homs.html": (200, html, article_page("Shelling was reported in Homs.")),
    }


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """An HTTP server on 127.0.0.1 in a thread; yields its base URL and the requests it saw."""
    table, seen = routes(news_page(JSON_LD).encode()), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("User-Agent", "")))
            status, kind, body = table.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if self.path != "/big.txt":  # one body without a length, read up to the limit
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()
    thread.join()


def fetcher(**overrides) -> Fetcher:
    return Fetcher(**{"user_agent": "gazetteer-test/1", "delay": 0.0, "timeout": 5.0,
                      "max_bytes": 10_000, **overrides})


def test_url_of_a_news_page(site):
    base, seen = site
    (doc,) = read_url(base + "/news/2015/03/05/kassab.html", fetcher())
    assert isinstance(doc, Document) and ARTICLE[0] in doc.text and "Aleppo" not in doc.text
    assert doc.source == base + "/news/2015/03/05/kassab.html"
    assert doc.url == "https://levant-monitor.example/news/kassab-shelling"  # canonical
    assert (doc.published, doc.published_source) == ("2015-03-03", "metadata")  # not the URL's
    assert ("/robots.txt", "gazetteer-test/1") in seen


def test_url_of_a_pdf_and_of_plain_text(site):
    base, _ = site
    (pdf, text) = read_urls([base + "/reports/report.pdf", base + "/notes.txt"], fetcher())
    assert isinstance(pdf, Document) and page_of(pdf, pdf.text.index("Raqqa")) == 2
    assert pdf.url == base + "/reports/report.pdf"
    assert isinstance(text, Document) and text.text == "Shelling near Hama was reported."


@pytest.mark.parametrize("path,reason", [
    ("/private/secret.html", "disallowed by robots.txt"),
    ("/big.txt", "over the limit of 10,000"),
    ("/missing.html", "HTTP 404"),
])
def test_url_that_cannot_be_used_is_skipped_with_the_reason(site, path, reason):
    base, seen = site
    (item,) = read_url(base + path, fetcher())
    assert item == Skipped(base + path, item.reason) and reason in item.reason, item
    if "robots" in reason:
        assert path not in [p for p, _ in seen]  # never requested


def test_too_large_body_with_a_content_length_is_not_read(site):
    base, _ = site
    (item,) = read_url(base + "/articles/dated.html", fetcher(max_bytes=500))
    assert isinstance(item, Skipped) and "over the limit of 500" in item.reason


def test_requests_to_one_host_are_spaced_by_the_delay(site):
    base, _ = site
    polite = fetcher(delay=0.3)
    started = time.monotonic()
    items = list(read_urls([base + "/notes.txt", base + "/notes.txt"], polite))
    assert all(isinstance(i, Document) for i in items)
    assert time.monotonic() - started >= 0.6  # robots.txt, then two pages, 0.3 s apart


def test_rss_feed_yields_its_articles_dated_by_the_feed_when_they_are_not(site):
    base, _ = site
    raqqa, dated = read_url(base + "/feed.rss", fetcher())
    assert isinstance(raqqa, Document) and "Raqqa" in raqqa.text
    assert raqqa.source == base + "/articles/raqqa.html"
    assert (raqqa.published, raqqa.published_source) == ("2015-03-03", "feed")
    assert isinstance(dated, Document)
    assert (dated.published, dated.published_source) == ("2015-03-03", "metadata")


def test_atom_feed_yields_its_articles(site):
    base, _ = site
    (homs,) = read_url(base + "/feed.atom", fetcher())
    assert isinstance(homs, Document) and "Homs" in homs.text
    assert (homs.published, homs.published_source) == ("2016-01-02", "feed")


def test_url_list_file_allows_comments(tmp_path):
    (tmp_path / "urls.txt").write_text(
        "# monitors\nhttp://a.example/x\n\n  http://b.example/y#part  # the second\n",
        encoding="utf-8")
    assert read_url_list(tmp_path / "urls.txt") == ["http://a.example/x",
                                                    "http://b.example/y#part"]


def test_only_http_urls_are_fetched():
    (item,) = read_url("file:///etc/passwd", fetcher())
    assert isinstance(item, Skipped) and "not an http(s) URL" in item.reason


def test_unreachable_site_is_skipped_with_the_network_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (item,) = read_url(f"http://127.0.0.1:{port}/page.html", fetcher())
    assert isinstance(item, Skipped) and "robots.txt unavailable" in item.reason
    assert "refused" in item.reason.lower()
