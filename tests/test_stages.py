"""The stages as pure functions on our dataclasses: no spaCy model, no database. Each rule
is a row of a table and runs in milliseconds."""

from __future__ import annotations

import pytest

from gazetteer.geocode import DocumentContext, choose_place
from gazetteer.normalise import Registry
from gazetteer.merge import cluster_ids, relabel
from gazetteer.resolve import ProvisionalIds, link_mentions, resolve_candidates
from gazetteer.types import Candidate, Document, Point, Resolution

TEXT = "Fighters of Liwa al-Islam reached Idlib, and the New York Times said so."


def cand(text: str, label: str = "GPE", method: str = "ner", kind: str | None = None,
         at: str = TEXT) -> Candidate:
    start = at.index(text)
    return Candidate(start, start + len(text), text, label, method, kind, 0, len(at))


# A fake resolver: names it knows, by kind.
KNOWN = {
    "Idlib": [Resolution("place", "gn-idlib", 0.97, "folded key (curated)",
                                curated=True)],
    "New York": [Resolution("place", "gn-nyc", 0.9, "folded key")],
    "Liwa al-Islam": [Resolution("armed_group", "liwa-al-islam", 0.98, "folded key")],
    "Aleppo": [Resolution("place", "gn-aleppo", 0.9, "folded key")],
}


def fake_resolve(name: str, kind: str | None = None) -> list[Resolution]:
    return [r for r in KNOWN.get(name, []) if kind in (None, r.kind)]


def not_demonym(_text: str) -> bool:
    return False


@pytest.mark.parametrize("candidates, expected", [
    # a place the model tags and the gazetteer knows
    ([cand("Idlib")], [("Idlib", "place")]),
    # an unknown organisation hides the place names inside it (New York Times)
    ([cand("New York Times", "ORG"), cand("New York")], []),
    # a curated group name from the gazetteer matcher wins over a shorter model span
    ([cand("Liwa al-Islam", "GAZETTEER", "gazetteer", "armed_group"), cand("Liwa", "PERSON")],
     [("Liwa al-Islam", "armed_group")]),
    # lower-case spans from the model are not names
    ([cand("reached", "GPE")], []),
    # an unknown capitalised GPE is kept as a place nobody knows yet
    ([cand("Fighters", "GPE")], [("Fighters", "place")]),
])
def test_resolve_candidates_rules(candidates, expected):
    resolved = resolve_candidates(candidates, fake_resolve, not_demonym)
    assert [(r.candidate.text, r.kind) for r in resolved] == expected


def test_demonyms_are_never_places():
    resolved = resolve_candidates([cand("Fighters", "GPE")], fake_resolve,
                                  lambda text: text == "Fighters")
    assert resolved == []


def test_type_words_and_directions_shrink_to_the_known_name():
    text = "Northern Aleppo and Idlib province were shelled."
    resolved = resolve_candidates([cand("Northern Aleppo", at=text),
                                   cand("Idlib province", at=text)], fake_resolve, not_demonym)
    assert [(r.candidate.text, r.readings[0].target) for r in resolved] == [
        ("Aleppo", "gn-aleppo"), ("Idlib province", "gn-idlib")]


REGISTRY = Registry({
    "liwa-al-islam": {"id": "liwa-al-islam", "name": "Liwa al-Islam", "aliases": [],
                      "parent": "islamic-front", "type": "islamist-rebel"},
})


def test_link_mentions_gives_registry_ids_and_parents():
    doc = Document("d1", TEXT, "t", "s")
    resolved = resolve_candidates([cand("Liwa al-Islam", "ORG")], fake_resolve, not_demonym)
    mentions, entities = link_mentions(doc, [(r, None) for r in resolved], REGISTRY,
                                       ProvisionalIds())
    assert [m.entity_id for m in mentions] == ["ag-liwa-al-islam"]
    assert entities[0].attrs["parent"] == "ag-islamic-front"
    assert ("Liwa al-Islam", "observed") in entities[0].aliases


def test_unknown_spellings_of_one_name_share_an_id_after_the_merge():
    new = {("place", "kafr nabuda"), ("place", "kafr nabudah"), ("place", "kafr zita"),
           ("armed_group", "kafr nabuda")}
    ids = cluster_ids({}, new, 90)
    assert ids[("place", "kafr nabudah")] == ids[("place", "kafr nabuda")]
    assert ids[("place", "kafr zita")] != ids[("place", "kafr nabuda")]
    assert ids[("armed_group", "kafr nabuda")] != ids[("place", "kafr nabuda")]  # kinds never mix


def test_a_defined_acronym_keeps_its_long_forms_entity_through_the_merge():
    text = "The Kivu Liberation Front (KLF) raided Walikale."
    doc = Document("d2", text, "t", "s")
    long_form = Candidate(4, 25, "Kivu Liberation Front", "DEFINITION", "definition", None,
                          0, len(text))
    acronym = Candidate(27, 30, "KLF", "ACRONYM", "acronym", None, 0, len(text), "",
                        "Kivu Liberation Front")
    resolved = resolve_candidates([long_form, acronym], fake_resolve, not_demonym)
    item = link_mentions(doc, [(r, None) for r in resolved], REGISTRY, ProvisionalIds())
    # the acronym's mention carries its long form's key, which names the entity in the merge
    assert [m.entity_key for m in item[0]] == [item[1][0].key] * 2
    assert "klf" not in item[1][0].key
    ids = cluster_ids({}, {(e.kind, e.key) for e in item[1]}, 90)
    _, mentions, entities = relabel((doc, *item), ids)
    assert len({m.entity_id for m in mentions}) == 1 == len(entities)
    assert entities[0].id == mentions[0].entity_id


def _row(ref_id, country, feature="city", population=1000, lat=35.0, lon=36.0):
    return {"ref_id": ref_id, "name": ref_id, "country": country, "feature": feature,
            "population": population, "lat": lat, "lon": lon, "geonameid": None,
            "admin1": None, "note": None}


ROWS = {"gn-tripoli-ly": _row("gn-tripoli-ly", "LY", population=1_150_000, lat=32.9, lon=13.2),
        "gn-tripoli-lb": _row("gn-tripoli-lb", "LB", population=230_000, lat=34.4, lon=35.8),
        "gn-chad": _row("gn-chad", "TD", feature="country", population=17_000_000),
        "gn-chad-town": _row("gn-chad-town", "US", population=20_000)}


@pytest.mark.parametrize("readings, countries, expected", [
    # alone, the bigger city wins
    (["gn-tripoli-ly", "gn-tripoli-lb"], {}, "gn-tripoli-ly"),
    # a document about Lebanon means Lebanon's Tripoli
    (["gn-tripoli-ly", "gn-tripoli-lb"], {"LB": 5}, "gn-tripoli-lb"),
    # a name shared by a country and a town means the country
    (["gn-chad-town", "gn-chad"], {}, "gn-chad"),
])
def test_choose_place_fits_the_document(readings, countries, expected):
    context = DocumentContext(dict(countries), [])
    found = [Resolution("place", r, 0.9, "folded key") for r in readings]
    place = choose_place(None, "x", found, context, lookup=ROWS.get)  # type: ignore[arg-type]
    assert place is not None and place.ref_id == expected
    assert place.point == Point(ROWS[expected]["lon"], ROWS[expected]["lat"])
    assert place.reason
