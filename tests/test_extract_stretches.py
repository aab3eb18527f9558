"""The extractor's shortcuts find what the plain spaCy calls find: the group rules run over
their stretches, the lexeme flags, the entities and sentences read once per Doc."""

import json
from pathlib import Path

from spacy.attrs import IS_TITLE, LIKE_NUM

from gazetteer.extract import (
    _TITLES,
    _in_capitals,
    _LowerIn,
    _name_text,
    _RuleWord,
    _Sentences,
    entities_of,
    group_rule_matcher,
    lexeme_flag,
    spans_of,
)
from gazetteer.tokens import words_of

DATA = Path(__file__).parent / "data"
# Rule patterns side by side, nested, across hyphens and articles, in capitals and not.
EDGES = ("Liwa Brigade and Jabhat Al Nusra Front met the 13th Division, Third Army and the "
         "brigade of Omar al - Mukhtar Brigade. Ahrar al-Sham al-Islamiya Front, Jaish "
         "al-Islam Army; LIWA AL-HAQ, the Farouq battalion, Some Special Forces. Faylaq "
         "al-Sham\nBrigade 77th Division Division. Hawks Hawks Hawks Brigade Front.")


def texts() -> list[str]:
    found = [EDGES]
    for name in ("seeds.gold.json", "theatres.gold.json"):
        found += [d["text"] for d in json.loads((DATA / name).read_text())["documents"]]
    return found


def test_group_rules_find_over_their_stretches_what_they_find_over_the_whole_doc(shared_nlp):
    whole = group_rule_matcher(shared_nlp.vocab)
    found = 0
    for doc in shared_nlp.pipe(texts()):
        expected = [(start, end) for _, start, end in whole(doc)]
        assert [(s, e) for s, e, _ in spans_of(doc, "group_rules")] == expected
        found += len(expected)
    assert found > 20


def test_lexeme_flags_are_the_predicates_of_each_word(shared_nlp):
    vocab = shared_nlp.vocab
    getters = vocab.lex_attr_getters
    predicates = [_name_text, _in_capitals, _LowerIn(frozenset(_TITLES)),
                  _RuleWord(getters[IS_TITLE], getters[LIKE_NUM], False),
                  _RuleWord(getters[IS_TITLE], getters[LIKE_NUM], True)]
    flags = [lexeme_flag(vocab, p) for p in predicates]
    assert len(set(flags)) == len(flags)
    for doc in shared_nlp.pipe(texts()):
        columns = doc.to_array(flags).T.tolist()
        for predicate, column in zip(predicates, columns):
            assert column == [int(predicate(t.text)) for t in doc]


def test_entities_and_sentences_are_spacys(shared_nlp):
    for doc in shared_nlp.pipe(texts()):
        assert entities_of(doc) == [(e.start, e.end, e.label_) for e in doc.ents]
        sentences = _Sentences(words_of(doc))
        for token in doc:
            sent = token.sent
            assert sentences.bounds[sentences.starts.index(sent.start)] == (
                sent.start, sent.end, sent.start_char, sent.end_char)
        assert len(sentences.starts) == len(list(doc.sents))
