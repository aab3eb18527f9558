"""Bytes, files, folders, stdin, URLs and feeds in; Documents (or Skipped, with a reason) out."""

from .dates import find_dateline
from .document import Skipped, content_id, decode, read_at_most, with_published
from .feed import is_feed
from .fetch import FetchFailed, Fetcher, read_url, read_url_list, read_urls
from .files import (SUPPORTED_SUFFIXES, TEXT_SUFFIXES, iter_files, make_document, read_bytes,
                    read_file, read_paths, read_stdin)
from .html import HTML_SUFFIXES, html_document, looks_like_html
from .pdf import PDF_SUFFIXES, page_of, pdf_document
from .text import text_document

__all__ = [
    "Skipped", "content_id", "decode", "looks_like_html", "make_document", "read_file",
    "read_at_most", "iter_files", "read_paths", "read_stdin", "read_bytes", "read_url",
    "read_urls", "read_url_list", "Fetcher", "FetchFailed", "with_published", "page_of",
    "find_dateline", "is_feed", "html_document", "pdf_document", "text_document",
    "TEXT_SUFFIXES", "HTML_SUFFIXES", "PDF_SUFFIXES", "SUPPORTED_SUFFIXES",
]
