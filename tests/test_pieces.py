"""Long texts in pieces (offsets kept, cuts between paragraphs), and the overlap check of
resolution: linear now, and making exactly the choices the old pairwise check made."""

from __future__ import annotations

import random

import pytest

from gazetteer.pieces import shifted, split_text
from gazetteer.resolve import resolve_candidates
from gazetteer.types import Candidate, Resolution


def test_short_text_is_one_piece():
    assert split_text("Shelling hit Kassab.", 100) == [(0, "Shelling hit Kassab.")]


def test_pieces_cover_the_text_and_end_between_paragraphs():
    paragraphs = [f"Paragraph {n} names Aleppo. It has two sentences." for n in range(200)]
    text = "\n\n".join(paragraphs)
    pieces = split_text(text, 1000)
    assert "".join(piece for _, piece in pieces) == text
    assert all(text[offset:offset + len(piece)] == piece for offset, piece in pieces)
    assert all(len(piece) <= 1000 for _, piece in pieces) and len(pieces) > 10
    assert all(piece.endswith("\n\n") for _, piece in pieces[:-1])


@pytest.mark.parametrize("separator, ending", [("\n", "\n"), (" ", ". ")])
def test_without_paragraphs_pieces_end_at_lines_then_sentences(separator, ending):
    text = separator.join(f"Sentence {n} names Homs." for n in range(300))
    pieces = split_text(text, 700)
    assert "".join(piece for _, piece in pieces) == text
    assert all(piece.endswith(ending) and len(piece) <= 700 for _, piece in pieces[:-1])


def test_text_without_any_break_is_cut_at_the_limit():
    pieces = split_text("x" * 2500, 1000)
    assert [len(piece) for _, piece in pieces] == [1000, 1000, 500]


def test_shifted_candidate_points_into_the_whole_text():
    text = "First piece.\n\nShelling hit Kassab."
    (_, first), (offset, second) = split_text(text, 20)
    start = second.index("Kassab")
    cand = Candidate(start, start + 6, "Kassab", "GPE", "ner", None, 0, len(second))
    moved = shifted(cand, offset)
    assert text[moved.start:moved.end] == "Kassab"
    assert text[moved.sent_start:moved.sent_end] == second


# ---- the overlap check -------------------------------------------------------------------

def pairwise_choice(candidates, resolve, is_demonym, lookup):
    """The choice rule written pairwise (every span against every taken span)."""
    from gazetteer.resolve import Resolved, _judge, _names_something

    scored = [_judge(c, resolve, lookup, is_demonym) for c in candidates]
    ranked = sorted((s for s in scored if s), key=lambda s: (-(s[0].end - s[0].start), -s[2]))
    chosen, blockers, taken = [], [], []
    for cand, kind, _priority, readings, weak in ranked:
        if any(cand.start < e and s < cand.end for s, e in taken):
            continue
        if kind is None:
            if _names_something(cand):
                blockers.append(cand)
            if cand.method == "gazetteer":
                taken.append((cand.start, cand.end))
            continue
        if kind == "place" and any(
                b.start <= cand.start and cand.end <= b.end
                and (b.end - b.start) > (cand.end - cand.start)
                or cand.method == "lookup" and cand.start < b.end and b.start < cand.end
                for b in blockers):
            continue
        chosen.append(Resolved(cand, kind, readings, weak))
        taken.append((cand.start, cand.end))
    return sorted(chosen, key=lambda c: c.candidate.start)


def random_candidates(rng: random.Random, n: int) -> list[Candidate]:
    """Overlapping spans of every source and label, some nested, some identical."""
    out = []
    for _ in range(n):
        start = rng.randrange(0, 300)
        end = start + rng.randrange(1, 25)
        method = rng.choice(["ner", "ner", "gazetteer", "rule", "lookup"])
        hint = {"gazetteer": rng.choice(["place", "armed_group", "block"]),
                "rule": "armed_group", "lookup": "place"}.get(method)
        label = rng.choice(["GPE", "LOC", "ORG", "PERSON", "NORP", "GAZETTEER"])
        text = rng.choice(["Aleppo", "Free Syrian Army", "Unknown Name", "lower case", "Syrian"])
        out.append(Candidate(start, end, text, label, method, hint, 0, 400))
    return out


def fake_resolve(text: str, kind):
    table = {"Aleppo": [Resolution("place", "gn-1", 1.0, "exact alias")],
             "Free Syrian Army": [Resolution("armed_group", "fsa", 1.0, "exact alias")]}
    return [r for r in table.get(text, []) if kind in (None, r.kind)]


def fake_lookup(text: str, kind):
    return [r for r in fake_resolve(text, "place")]


@pytest.mark.parametrize("seed", range(60))
def test_linear_overlap_check_makes_the_pairwise_choices(seed):
    rng = random.Random(seed)
    candidates = random_candidates(rng, rng.randrange(1, 120))
    is_demonym = lambda text: text == "Syrian"  # noqa: E731
    expected = pairwise_choice(candidates, fake_resolve, is_demonym, fake_lookup)
    got = resolve_candidates(candidates, fake_resolve, is_demonym, fake_lookup)
    assert [(r.candidate, r.kind) for r in got] == [(r.candidate, r.kind) for r in expected]
    assert got, "the random candidates should keep something"


# ---- judgements remembered across documents -----------------------------------------------

SPANS = {"ner": ["Aleppo", "northern Aleppo", "Aleppo province", "Operation Aleppo",
                 "Free Syrian Army", "Unknown Name", "lower case", "Syrian"],
         "lookup": ["Aleppo", "northern Aleppo", "Syrian", "Unknown"],
         "gazetteer": ["Aleppo", "Free Syrian Army"], "rule": ["Unknown Brigade"],
         "acronym": ["FSA", "UB"], "definition": ["Free Syrian Army", "Unknown Brigade"]}


def judged_candidates(rng: random.Random, n: int) -> list[Candidate]:
    """Spans of every source whose judgement differs by label, hint, long form and the word
    before them, some read as a shorter name ("northern Aleppo"), at random places."""
    out = []
    for _ in range(n):
        method = rng.choice(list(SPANS))
        text = rng.choice(SPANS[method])
        start = rng.randrange(0, 300)
        hint = {"gazetteer": rng.choice(["place", "armed_group", "block"]),
                "rule": "armed_group", "lookup": "place"}.get(method)
        label = rng.choice(["GPE", "LOC", "ORG", "PERSON", "NORP"])
        context = rng.choice(["", "the operation|in", "fighting in|north of", "operation|"])
        expansion = (rng.choice(["Free Syrian Army", "Unknown Brigade", "Some Thing"])
                     if method == "acronym" else "")
        out.append(Candidate(start, start + len(text), text, label, method, hint, 0, 400,
                             context, expansion))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_remembered_judgements_make_the_choices_judged_afresh(seed):
    rng = random.Random(seed)
    is_demonym = lambda text: text == "Syrian"  # noqa: E731
    judged: dict = {}  # as Resolver.judged: one for every document
    for _ in range(4):
        candidates = judged_candidates(rng, rng.randrange(1, 80))
        expected = pairwise_choice(candidates, fake_resolve, is_demonym, fake_lookup)
        got = resolve_candidates(candidates, fake_resolve, is_demonym, fake_lookup,
                                 judged=judged)
        assert got == expected
    assert judged
