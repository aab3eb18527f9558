"""Is a word ordinary English? Capitalised at the start of a sentence or in a headline,
"Some", "West", "Deal" or "Much" look like names and are towns somewhere; word frequencies
(wordfreq, bundled with its data) tell them apart from names reports use."""

from __future__ import annotations

from functools import lru_cache

from wordfreq import zipf_frequency

# Zipf 4.3 is about 20 per million words: "alliance" 4.4, "freedom" 4.9, "some" 6.2 are
# above; "aleppo" 3.6, "gaza" 3.9, "darfur" 3.0, "kharkiv" 2.9 are below.
COMMON_ZIPF = 4.3


@lru_cache(maxsize=100_000)
def is_common_word(word: str) -> bool:
    """True for a word (any case) that ordinary English uses often."""
    return zipf_frequency(word.lower(), "en") >= COMMON_ZIPF


@lru_cache(maxsize=100_000)  # asked of every run of capitalised words, which repeat
def all_common_words(name: str) -> bool:
    """True when every word of a name is ordinary English ("White House", "Some")."""
    words = [w for w in name.replace("-", " ").split() if w.isalpha()]
    return bool(words) and all(is_common_word(w) for w in words)


# A direction alone is a direction ("the West", "in the South"), not the region some country
# named so (Cameroon's West, Lebanon's South): those need their type word ("West Region").
DIRECTIONS = frozenset({"north", "south", "east", "west", "centre", "center", "central",
                        "northern", "southern", "eastern", "western"})


def only_a_direction(name: str) -> bool:
    return name.strip().lower() in DIRECTIONS


# Words before a name that say it is a place ("in Macomia", "near Goma", "to Laukkai").
LOCATIVES = {"in", "at", "near", "from", "to", "into", "towards", "toward", "outside",
             "around", "across", "through", "via", "inside", "reached", "entered", "captured",
             "seized", "took", "shelled", "besieged", "stormed", "attacked"}
