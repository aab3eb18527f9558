"""A Doc's tokens as plain lists (gazetteer.tokens) say what spaCy's Tokens and Spans say."""

from gazetteer.config import Settings
from gazetteer.extract import load_nlp
from gazetteer.tokens import words_of

TEXT = ("ALEPPO, Syria \u2014 The Arakan Army (AA) took Ariha,[66] and  Jisr al-Shughour.\n\n"
        "Tigray Defense Forces' (TDF) fighters entered Mocímboa da Praia.  Then they left.")


def test_words_are_the_tokens_of_the_doc(shared_nlp):
    doc = shared_nlp(TEXT)
    words = words_of(doc)
    assert words.texts == [t.text for t in doc]
    assert words.lowers == [t.lower_ for t in doc]
    assert words.sent_starts == [bool(t.is_sent_start) for t in doc]
    assert words.starts == [t.idx for t in doc]
    assert words.text == doc.text == TEXT
    assert sum(words.sent_starts) == len(list(doc.sents)) > 1
    for start in range(len(doc)):
        for end in range(start, min(len(doc), start + 5) + 1):
            assert words.span_text(start, end) == doc[start:end].text
    assert words_of(doc) is words  # read once per Doc


def test_the_tokenizer_splits_as_before_the_curated_names_were_added(shared_nlp):
    """The names' patterns are tokenized, then the tokenizer's cache is renewed: the rules,
    and so the tokens, are those of a model with no names added."""
    plain = load_nlp(Settings().spacy_model)
    for text in (TEXT, TEXT.upper(), "Jabhat al-Nusra's fighters (JaN) \u2014 Deir ez-Zor"):
        assert [t.text for t in shared_nlp.tokenizer(text)] == \
            [t.text for t in plain.tokenizer(text)]
