"""Extraction with the real model: NER + gazetteer patterns + armed-group rules."""

from gazetteer.pipeline import analyse
from gazetteer.types import Document


def mentions_of(engine, text):
    ((_, mentions, entities),) = analyse(engine, [Document("t", text, "t", "t")])
    by_id = {e.id: e for e in entities}
    for m in mentions:
        assert text[m.start:m.end] == m.text
        assert m.text in m.sentence
    return [(m.text, m.kind, by_id[m.entity_id]) for m in mentions]


def test_arabic_names_are_found_whatever_the_model_labels_them(engine):
    found = {(t, k) for t, k, _ in mentions_of(
        engine, "Ahrar al-Sham and Jund al-Aqsa took Jisr al-Shughour after Daesh left Palmyra.")}
    assert {("Ahrar al-Sham", "armed_group"), ("Jund al-Aqsa", "armed_group"),
            ("Jisr al-Shughour", "place"), ("Daesh", "armed_group"), ("Palmyra", "place")} <= found


def test_place_names_inside_organisation_names_are_not_places(engine):
    found = mentions_of(engine, "The Free Syrian Army and the Syrian Observatory for Human Rights "
                                "spoke to the New York Times.")
    assert [(t, k) for t, k, _ in found] == [("Free Syrian Army", "armed_group")]


def test_unknown_groups_are_found_by_name_rules_and_kept(engine):
    found = {t: e for t, k, e in mentions_of(
        engine, "Liwa Suqur al-Ghab and the Omar al-Mukhtar Brigade joined the 77th Division.")
        if k == "armed_group"}
    assert set(found) == {"Liwa Suqur al-Ghab", "Omar al-Mukhtar Brigade", "77th Division"}
    assert all(e.id.startswith("group-x-") for e in found.values())


def test_acronyms_versus_ordinary_words(engine):
    found = mentions_of(engine, "This is what IS wants, and it is clear.")
    assert [(t, k) for t, k, _ in found] == [("IS", "armed_group")]


def test_possessive_and_type_words(engine):
    found = [(t, e.place.feature if e.place else None) for t, k, e in mentions_of(
        engine, "Rebels entered Idlib's centre, then attacked Idlib province and the Yarmouk camp.")]
    assert found[0] == ("Idlib", "city")
    assert found[1] == ("Idlib province", "admin1")
    assert found[2][0] == "Yarmouk camp"


def test_demonyms_are_not_places(engine):
    assert mentions_of(engine, "Syrian, Alawite and Kurdish villagers fled.") == []
