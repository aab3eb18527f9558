"""Transliteration-aware folding: any spelling of a name -> one comparison key.

Arabic names reach English text through several romanisation systems and none: the article
(al-, el-, ash-, ad-...), long vowels (ou/u/oo), diphthongs (ei/ay/ai), doubled consonants,
the ta marbuta (-a/-ah/-eh), French spellings (ch, dj) and q/k all vary. The key removes
those differences and nothing else, so that distinct names (Homs, Hama) stay distinct.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

# Article tokens, including sun-letter assimilation (ash-Sham, ad-Dawla) and doubled typos
# (assh-Sham). They are dropped from keys unless they are the whole name.
# English words of place names whose folding would read as an Arabic article (east -> ast).
_KEPT_ENGLISH = {"east", "earth", "arch"}
_ARTICLE = re.compile(r"^(?:[ae]l|[ae][tdrzsnl]{1,2}h?|ul)$")
_APOSTROPHES = re.compile(r"[\u0027\u0060\u00b4\u02bb\u02bc\u02be\u02bf\u2018\u2019\u201b\u2032\u055a]")
_POSSESSIVE = re.compile(r"[\u0027\u2019]s\b")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CAPITALS_WORD = re.compile(r"\b[A-Z]{2,}\b")
# Zero-width characters, bidi controls and the BOM: invisible, so two names that differ only
# by them look identical ("Sheikh\ufeffMaqsoud"). Removed from names and from keys.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f"
                        "\ufeff\uffa0]")
_BIN = {"bin", "ben", "ibn", "bn"}

# Whole-word variants that the letter rules below cannot reach (vowel changes in one word).
WORD_VARIANTS: dict[str, str] = {
    "jesr": "jisr", "jsr": "jisr",
    "shaykh": "sheikh", "shaikh": "sheikh", "sheik": "sheikh", "cheikh": "sheikh", "shekh": "sheikh",
    "tall": "tal", "tell": "tal", "tel": "tal",
    "jaysh": "jaish", "jaych": "jaish", "jeish": "jaish", "jaich": "jaish", "jeysh": "jaish",
    "idleb": "idlib", "edlib": "idlib", "edleb": "idlib",
    "lattakia": "latakia", "latakiyya": "latakia", "latakiyah": "latakia", "lattaquie": "latakia",
    "lattakiyah": "latakia", "latakiya": "latakia", "ladhiqiyah": "latakia", "ladhiqiya": "latakia",
    "lazkiye": "latakia", "lattakiya": "latakia",
    "harakah": "harakat", "haraka": "harakat", "harakat": "harakat",
    "jabha": "jabhat", "jebhat": "jabhat", "jabhet": "jabhat",
    "kataeb": "kataib", "katayib": "kataib", "kataib": "kataib",
    "liwaa": "liwa", "lewa": "liwa",
    "mohammed": "muhammad", "mohammad": "muhammad", "muhammed": "muhammad", "mohamed": "muhammad",
    "abdel": "abd", "abdul": "abd", "abdal": "abd", "khaled": "khalid", "saleem": "salim",
    "omar": "umar", "othman": "uthman", "osman": "uthman", "hezbollah": "hizbullah",
    "hizballah": "hizbullah", "hizbollah": "hizbullah",
}

# Letter rules, applied in order to each token (after WORD_VARIANTS).
_LETTER_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"dj", "j"),  # French: Djisr -> jisr
        (r"tch", "sh"),
        (r"ch", "sh"),  # French: Cham -> sham
        (r"ph", "f"),
        (r"q", "k"),  # Qassab / Kassab
        (r"ou|oo|o", "u"),
        (r"ee|ie(?=[^aeiou]|$)", "i"),
        (r"(?<=i)y(?=[aeiou])", ""),  # Salamiya / Salamia, Latakiya
        (r"ei|ey|ai", "ay"),  # Deir / Dayr / Dair
        (r"aw(?=[^aeiou]|$)|au", "u"),  # Hawla / Houla, Zawr / Zour
        (r"e", "a"),  # Kessab / Kassab, Menbij / Manbij
        (r"(?<=[aiu])h$", ""),  # ta marbuta: Nusrah / Nusra
        (r"([a-z])\1+", r"\1"),  # doubled letters: Lattakia, Kassab, Daraa
    )
)


def strip_invisible(text: str) -> str:
    """Return text without zero-width, bidi-control and other invisible format characters."""
    return _INVISIBLE.sub("", text)


def ascii_fold(text: str) -> str:
    """Return text transliterated to lower-case ASCII, apostrophes of ayn/hamza removed."""
    text = _POSSESSIVE.sub("", strip_invisible(text))
    text = _APOSTROPHES.sub("", text)
    return anyascii(text).lower().replace("'", "").replace("`", "")


def is_article(token: str) -> bool:
    return bool(_ARTICLE.match(token))


@lru_cache(maxsize=200_000)
def fold_token(token: str) -> str:
    """Return the folding key of one word (already ASCII lower-case, no punctuation)."""
    if token in _BIN:
        return "bin"
    if token in _KEPT_ENGLISH:  # "Jos East" is not Jos: "east" would fold into an article
        return token
    token = WORD_VARIANTS.get(token, token)
    for pattern, replacement in _LETTER_RULES:
        token = pattern.sub(replacement, token)
    return token


def name_tokens(name: str) -> list[str]:
    """Return the ASCII words of a name, articles and a leading English 'the' removed."""
    words = [w for w in _NON_ALNUM.split(ascii_fold(name)) if w]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    content = [w for w in words if not is_article(w)]
    return content or words


@lru_cache(maxsize=500_000)
def fold_name(name: str) -> str:
    """Return the transliteration-folded key of a name: 'Jesr al-Shughour' -> 'jisr shughur'."""
    words = name_tokens(name)
    folded = [fold_token(w) for w in words]
    acronyms = _acronym_words(name)
    # a word can fold into an article ("Oul" -> "ul"): dropped too, so folding is idempotent;
    # but not an acronym, which is no Arabic word ("AES joint force" is not any joint force)
    return " ".join([f for w, f in zip(words, folded) if not is_article(f) or w in acronyms]
                    or folded)


def _acronym_words(name: str) -> set[str]:
    """The words of a name written in capitals among words that are not (AES in "AES joint
    force"), lower-cased: in a name all in capitals (a headline) no word is an acronym."""
    if not any(ch.islower() for ch in name):
        return set()
    return {w.lower() for w in _CAPITALS_WORD.findall(name)}


def skeleton(key: str) -> str:
    """Return the consonant skeleton of a folded key, a looser key for fallback lookups."""
    return " ".join(w[0] + re.sub(r"[aeiouyw]", "", w[1:]) if w else w for w in key.split())


def slugify(name: str) -> str:
    """Return a URL-safe slug for ids: 'Jisr al-Shughur' -> 'jisr-al-shughur'."""
    return "-".join(w for w in _NON_ALNUM.split(ascii_fold(name)) if w)[:80] or "unnamed"


def is_acronym(name: str) -> bool:
    """True for all-caps short forms (ISIS, FSA, I.S.), which must match case-sensitively."""
    letters = re.sub(r"[^A-Za-z]", "", name)
    return 1 < len(letters) <= 6 and letters.isupper() and " " not in name.strip()
