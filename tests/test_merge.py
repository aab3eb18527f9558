"""The merge's pure parts: ids of unknown names over sorted keys, a growing FuzzyIndex, and
the shard codec (no model, no cluster)."""

import random

import pytest

from gazetteer import store
from gazetteer.merge import (
    FileShard, MemoryShard, cluster_ids, decode_analysed, encode_analysed, is_provisional)
from gazetteer.normalise import FuzzyIndex, best_fuzzy, new_entity_id
from gazetteer.resolve import ProvisionalIds
from gazetteer.types import Document, Entity, Mention, Place, Point


def test_a_grown_index_answers_as_best_fuzzy_over_the_same_list():
    rng = random.Random(16)
    letters = "abdhkmst"
    choices = ["".join(rng.choice(letters) for _ in range(rng.randint(5, 9)))
               for _ in range(300)]
    grown = FuzzyIndex(choices[:100])
    for choice in choices[100:]:
        grown.add(choice)
    for _ in range(300):
        key = "".join(rng.choice(letters) for _ in range(rng.randint(5, 9)))
        assert grown.best(key, 80) == best_fuzzy(key, choices, 80), key


def test_new_keys_join_stored_ones_and_earlier_new_ones_whatever_the_order():
    known = {"place": {"kafr nabuda": "place-x-kafr-nabuda"}}
    new = {("place", "kafr nabudah"), ("place", "tal mardikhana"), ("place", "tal mardikhan"),
           ("armed_group", "tal mardikhan"), ("place", "kafr nabuda")}
    ids = cluster_ids(known, new, 90)
    assert ids[("place", "kafr nabudah")] == ids[("place", "kafr nabuda")] == "place-x-kafr-nabuda"
    # the sorted first spelling names the family, not the first one met
    assert ids[("place", "tal mardikhana")] == ids[("place", "tal mardikhan")] == new_entity_id(
        "place", "tal mardikhan")
    assert ids[("armed_group", "tal mardikhan")].startswith("group-x-")  # kinds never mix


@pytest.mark.parametrize("text", ["Tell Mardikhan", "the Abu Tammam Brigade"])
def test_provisional_ids_are_the_folded_key_alone(text):
    ids = ProvisionalIds()
    assert is_provisional(ids.entity_id("place", text))
    assert ids.entity_id("place", text) == ids.entity_id("place", text.upper())
    assert not is_provisional("gn-169389") and not is_provisional("ag-nusra-front")


def _analysed_document():
    doc = Document("d1", "Fighting in Idlib.", "Report", "a.txt", url="https://x.test/a",
                   published="2026-01-02", pages=(0, 5))
    place = Place("gn-169389", "Idlib", Point(36.6, 35.9), 169389, "SY", "Idlib", "city", 0.9,
                  2, "exact", names=("Idlib", "Idleb"))
    entities = [Entity("gn-169389", "place", "Idlib", "idlib", place=place,
                       aliases=[("Idlib", "geonames")]),
                Entity("group-x-abu", "armed_group", "Abu", "abu", attrs={"type": "x"})]
    mentions = [Mention("d1", 12, 17, "Idlib", "place", "gn-169389", "Fighting in Idlib.",
                        "ner", 0.9, "exact alias", "idlib")]
    return doc, mentions, entities


def test_a_shard_row_decodes_to_what_was_encoded():
    item = _analysed_document()
    assert decode_analysed(*encode_analysed(item)[2:]) == item


def test_a_shard_file_gives_the_unknown_keys_apart_from_the_documents(tmp_path):
    item = _analysed_document()
    path = tmp_path / "shard.sqlite"
    store.write_shard(path, [encode_analysed(item)], [])
    assert list(FileShard(path).new_keys()) == list(MemoryShard([item]).new_keys()) == [
        ("d1", [("armed_group", "abu")])]  # the known place is not among them
    assert list(FileShard(path).analysed()) == [item]
