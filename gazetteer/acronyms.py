"""Acronyms defined in a document: "the Arakan Army (AA)", "the RSF (Rapid Support Forces)".
Pure functions over words, so the rules are tested without a model."""

from __future__ import annotations

import re

from .fold import ascii_fold

# Words a long form may contain that no acronym letter stands for.
PARTICLES = {"of", "the", "for", "and", "de", "du", "des", "la", "le", "les", "del", "do",
             "da", "dos", "al", "el", "wal", "wa", "i", "e", "in", "-", "&"}
_ACRONYM = re.compile(r"^[A-Z][A-Za-z0-9&-]{1,9}$")


def looks_like_acronym(word: str) -> bool:
    """AA, RSF, TTP, M23, FARDC, IS-Sahel: mostly capitals, short, one word."""
    if not _ACRONYM.match(word):
        return False
    capitals = sum(ch.isupper() or ch.isdigit() for ch in word)
    return capitals >= 2 and capitals >= len(word.replace("-", "")) - 2


def initials_match(acronym: str, words: list[str]) -> bool:
    """True when the acronym's letters are the initials of the words, in order, with
    particles free to be skipped or used ("TTP" = Tehrik-i-Taliban Pakistan, "JNIM" =
    Jama'at Nusrat al-Islam wal-Muslimin, "FARDC" = Forces armées de la RDC)."""
    letters = [ch for ch in ascii_fold(acronym) if ch.isalpha()]
    content = [w for w in words if ascii_fold(w) not in PARTICLES]
    if not letters or not content or len(content) > len(letters) + 1:
        return False
    initials = [ascii_fold(w)[:1] for w in words if ascii_fold(w) not in {"-", "&"}]
    if ascii_fold(content[0])[:1] != letters[0]:
        return False
    return _subsequence(letters, initials) and _covers_content(letters, words)


def _subsequence(letters: list[str], initials: list[str]) -> bool:
    it = iter(initials)
    return all(any(letter == initial for initial in it) for letter in letters)


def _covers_content(letters: list[str], words: list[str]) -> bool:
    """Every content word's initial is among the acronym's letters (no stray words)."""
    pool = list(letters)
    for word in words:
        folded = ascii_fold(word)
        if folded in PARTICLES:
            continue
        if folded[:1] not in pool:
            return False
        pool.remove(folded[:1])
    return True


def long_form_start(acronym: str, words: list[str]) -> int | None:
    """Index into words (the capitalised words before "(ACRONYM)") where the long form the
    acronym abbreviates starts, or None; the longest matching tail wins."""
    for start in range(len(words)):
        if words[start][:1].isupper() and initials_match(acronym, words[start:]):
            return start
    return None
