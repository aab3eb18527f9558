"""A Doc's tokens as plain Python lists, read once per Doc and shared by our spaCy components
and the extractor: each access to a spaCy Token builds a Python object, and our passes over
the tokens spent most of their time building them."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.attrs import IDX, ORTH, SENT_START, SPACY
from spacy.tokens import Doc

# The key in doc.user_data (nothing of ours serialises a Doc, so any Python value may go there).
_KEY = "gazetteer.words"


@dataclass(frozen=True)
class Words:
    """Per token i: its text, lower-case form (spaCy's LOWER is str.lower), whether it starts
    a sentence, its character offset; and the Doc's text. Tokens never change after the
    tokenizer, nor sentences after the sentencizer, so the lists stay true for the Doc."""

    texts: list[str]
    lowers: list[str]
    sent_starts: list[bool]
    starts: list[int]
    text: str

    def __len__(self) -> int:
        return len(self.texts)

    def end_char(self, i: int) -> int:
        """The character offset just after token i."""
        return self.starts[i] + len(self.texts[i])

    def span_text(self, start: int, end: int) -> str:
        """The text of tokens start..end, as Span.text has it (no trailing whitespace)."""
        return self.text[self.starts[start]:self.end_char(end - 1)] if start < end else ""


def words_of(doc: Doc) -> Words:
    """The Doc's Words, read on the first call (after the sentencizer) and kept in the Doc."""
    words = doc.user_data.get(_KEY)
    if words is None:
        words = doc.user_data[_KEY] = _read_words(doc)
    return words


def _read_words(doc: Doc) -> Words:
    """One array of token attributes (in C, no Token objects) and the strings they name."""
    strings = doc.vocab.strings
    columns = doc.to_array([ORTH, IDX, SPACY, SENT_START]).T.tolist() if len(doc) else [[]] * 4
    orths, starts, spaces, sent_starts = columns
    texts = [strings[orth] for orth in orths]
    text = "".join([t + " " if space else t for t, space in zip(texts, spaces)])
    return Words(texts, [t.lower() for t in texts], [s == 1 for s in sent_starts], starts, text)
