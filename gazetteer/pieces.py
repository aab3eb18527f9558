"""Long texts in pieces for the model: cut between paragraphs (else lines, else sentences),
each under a size limit, with the offset of each piece kept so spans map back to the text."""

from __future__ import annotations

import re
from dataclasses import replace

from .types import Candidate

# Characters per piece: far under spaCy's nlp.max_length (1,000,000), about a long
# article, so the model batches a long report's pieces as it batches short documents
# (pieces of 100,000 characters ran at about half the words/s of short documents).
PIECE_CHARS = 20_000
# Where a piece may end, best first: a blank line, a line break, the end of a sentence.
_BREAKS = (re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"), re.compile(r"[.!?][\"')\]]*\s+"))


def split_text(text: str, limit: int = PIECE_CHARS) -> list[tuple[int, str]]:
    """Return (offset, piece) pairs covering text in order, each piece at most limit
    characters, cut after a paragraph break where there is one in reach (else a line
    break, else a sentence end, else at the limit); a short text is one piece."""
    pieces: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        end = _cut(text, start, start + limit)
        pieces.append((start, text[start:end]))
        start = end
    pieces.append((start, text[start:]))
    return pieces


def _cut(text: str, start: int, stop: int) -> int:
    """The furthest break in text[start:stop] of the best kind that has one, past the
    piece's first half (so pieces stay large); stop when there is none."""
    half = start + (stop - start) // 2
    for pattern in _BREAKS:
        ends = [m.end() for m in pattern.finditer(text, half, stop)]
        if ends:
            return ends[-1]
    return stop


def shifted(candidate: Candidate, offset: int) -> Candidate:
    """The candidate of a piece, placed in the whole text."""
    if not offset:
        return candidate
    return replace(candidate, start=candidate.start + offset, end=candidate.end + offset,
                   sent_start=candidate.sent_start + offset,
                   sent_end=candidate.sent_end + offset)
