"""Normalisation: the registry, and every spelling of one thing resolved to one id."""

import json

import pytest

from gazetteer.config import Settings
from gazetteer.normalise import Registry, new_entity_id

DATA = Settings().data_dir


@pytest.fixture(scope="module")
def registry():
    return Registry.load(DATA)


def test_registry_is_curated_and_consistent(registry):
    groups = [g for path in sorted((DATA / "armed_groups").glob("*.json"))
              for g in json.loads(path.read_text("utf-8"))["groups"]]
    assert len(groups) >= 600
    ids = [g["id"] for g in groups]
    assert len(ids) == len(set(ids))
    for group in groups:
        assert group["name"] and group["type"] and group["source"]
        assert group["parent"] is None or group["parent"] in registry.groups
    assert registry.groups["nusra-front"]["parent"] == "al-qaeda"


@pytest.mark.parametrize("names,group", [
    (["Nusra", "Jabhat al-Nusra", "al-Nusra Front", "Al Nusrah Front", "Jabhat an-Nusra"], "nusra-front"),
    (["ISIS", "ISIL", "IS", "Daesh", "Islamic State", "Islamic State of Iraq and Syria"], "isis"),
    (["Ahrar al-Sham", "Ahrar ash-Sham", "Ahrar assh-Sham"], "ahrar-al-sham"),
    (["FSA", "Free Syrian Army", "Free Army"], "fsa"),
    (["Jaish al-Fatah", "Army of Conquest", "Jaysh al-Fath"], "jaish-al-fatah"),
    (["Jaish al-Islam", "Army of Islam", "Islam Army"], "jaish-al-islam"),
])
def test_variants_resolve_to_one_group(engine, names, group):
    for name in names:
        readings = engine.resolver.resolve(name, "armed_group")
        assert readings and readings[0].target == group, name


def test_related_groups_stay_distinct(engine):
    targets = {engine.resolver.resolve(n, "armed_group")[0].target
               for n in ("al-Qaeda", "Nusra", "Liwa al-Islam", "Jaish al-Islam")}
    assert len(targets) == 4


def test_acronym_is_case_sensitive(engine):
    assert engine.resolver.resolve_group("is") == []
    assert engine.resolver.resolve_group("IS")[0].target == "isis"


def test_fuzzy_match_catches_an_unseen_spelling_with_its_score(engine):
    (reading,) = engine.resolver.resolve_group("Jabhat al-Nusrra")
    assert reading.target == "nusra-front"


def test_a_reading_says_how_it_was_found(engine):
    """Whether a reading is a spelling guess, and whether it came by a curated name, are
    fields the geocoder reads, not words of its reason."""
    (guess,) = engine.resolver.resolve_group("Jabhat al-Nursa")
    assert guess.guessed and guess.found_by == "fuzzy"
    assert {r.found_by for r in engine.resolver.resolve_place("Jisr al-Shugohur")} == {
        "skeleton"}
    curated = [r for r in engine.resolver.resolve_place("Jisr al-Shughour") if r.curated]
    assert curated and not any(r.guessed for r in curated)
    assert not any(r.curated for r in engine.resolver.resolve_place("Bafoussam"))


@pytest.mark.parametrize("names,ref", [
    (["Jisr al-Shughour", "Jisr ash-Shughur", "Jesr al-Shughour"], "gn-169023"),
    (["Kassab", "Kessab"], "gn-168519"),
    (["Deir ez-Zor", "Deir al-Zour"], "gn-170794"),
])
def test_place_variants_resolve_to_one_geonames_place(engine, names, ref):
    for name in names:
        assert ref in {r.target for r in engine.resolver.resolve_place(name)}, name


def test_homs_and_hama_are_not_merged(engine):
    homs = {r.target for r in engine.resolver.resolve_place("Homs")}
    hama = {r.target for r in engine.resolver.resolve_place("Hama")}
    assert homs and hama and not homs & hama


def test_new_entity_ids_are_deterministic_and_shared_by_variants():
    from gazetteer.fold import fold_name

    a = new_entity_id("armed_group", fold_name("Liwa Suqur al-Ghab"))
    b = new_entity_id("armed_group", fold_name("Liwa Suqour al-Ghab"))
    assert a == b == "group-x-liwa-sukur-ghab"


def test_fuzzy_index_answers_as_best_fuzzy():
    """The bucketed index is an optimisation of best_fuzzy: same answer, ties included."""
    import random

    from gazetteer.normalise import FuzzyIndex, best_fuzzy

    rng = random.Random(6)
    letters = "abdhkmst"
    choices = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 12)))
               for _ in range(3000)]
    choices += ["homs city", "hama city", "13th division", "17th division", "kassab"]
    index = FuzzyIndex(choices)
    keys = [c[:i] + rng.choice(letters) + c[i + 1:] for c in rng.sample(choices, 400)
            for i in [rng.randrange(len(c))]]
    keys += ["17th divisian", "homs cety", "kasab", "xassab", "abc"]
    for key in keys:
        for threshold in (80.0, 90.0):
            assert index.best(key, threshold) == best_fuzzy(key, choices, threshold), key


def test_reference_reads_in_one_query_give_the_rows_of_one_at_a_time(engine):
    """The batched and narrowed reads of the reference answer as the plain ones: the same
    rows, columns and order (keys of one place and of many, keys of nothing)."""
    from gazetteer import store

    db = engine.db
    keys = [r[0] for r in db.execute(
        "SELECT key FROM ref_names WHERE rowid % 61 = 0 UNION SELECT key FROM "
        "(SELECT key FROM ref_names GROUP BY key ORDER BY count(*) DESC LIMIT 20)")]
    keys += ["no such name at all", ""]
    batched = store.ref_places_by_keys(db, keys)
    assert set(batched) == set(keys)
    for key in keys:
        one = store.ref_places_by_key(db, key)
        assert [list(r.items()) for r in batched[key]] == [list(r.items()) for r in one], key
    skeletons = [r[0] for r in db.execute("SELECT DISTINCT skel FROM ref_names WHERE "
                                          "rowid % 53 = 0 OR curated = 1 LIMIT 3000")]
    assert any(store.curated_ref_places_by_skeleton(db, s) for s in skeletons)
    for skel in skeletons:
        assert store.curated_ref_places_by_skeleton(db, skel) == [
            r for r in store.ref_places_by_key(db, skel, "skel") if r["curated"]], skel
    ref_ids = {r["ref_id"] for rows in batched.values() for r in rows}
    assert any(store.has_curated_names(db, ref_id) for ref_id in ref_ids)
    for ref_id in ref_ids:
        assert store.ref_names_and_curated(db, ref_id) == (
            store.ref_names_for(db, ref_id), store.has_curated_names(db, ref_id))


def test_prefetched_names_resolve_as_names_read_one_at_a_time(engine):
    from gazetteer import store
    from gazetteer.normalise import Resolver

    names = ["Homs", "Hims", "Aleppo", "Idlib province", "Sheikh Maqsoud", "Goma", "Kobani",
             "Ain al-Arab", "Nowhere Special", "Jisr al-Shughour", "Tibesti Region", "Deal"]
    plain = Resolver(engine.db, engine.registry)
    prefetched = Resolver(engine.db, engine.registry)
    prefetched.prefetch_places(names)
    for name in names:
        for kind in (None, "place"):
            for fuzzy in (True, False):
                assert prefetched.resolve(name, kind, fuzzy) == plain.resolve(name, kind, fuzzy)
    # the rows read by name stand for the reference's rows by id (fuzzy readings have none)
    readings = [r for name in names for r in plain.resolve_place(name)]
    assert any(r.found_by == "key" for r in readings)
    for reading in readings:
        row = prefetched.place_row(reading.target)
        if reading.found_by == "key" or row is not None:
            assert row == store.ref_place(engine.db, reading.target)
