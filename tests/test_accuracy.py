"""Accuracy regression on both development sets (guideline v1.1), with the real pipeline.

Each score must stay at or above its floor: the score this code measured (README,
Accuracy) less 0.02. The issue's targets are listed beside them; where a floor is below its
target, the target is not met yet and the README says so."""

import shutil

import pytest

from gazetteer.evaluate import DEVELOPMENT_SETS, load_gold, predict_pipeline, score

from .conftest import make_engine

# (floor, target) per score and set.
SEEDS = {"place F1": (0.974, 0.97), "armed_group F1": (0.977, 0.98),
         "normalisation F1": (0.965, 0.985), "acc@161km": (0.978, 0.99),
         "acc@25km": (0.975, 0.97), "answered": (0.980, 0.97), "GeoNames id": (0.944, 0.95)}
THEATRES = {"place F1": (0.888, 0.90), "armed_group F1": (0.951, 0.85),
            "normalisation F1": (0.957, 0.93), "acc@161km": (0.920, 0.93),
            "acc@25km": (0.886, 0.85), "answered": (0.973, 0.95), "GeoNames id": (0.951, 0.88)}
FLOORS = {"seeds": SEEDS, "theatres": THEATRES}


@pytest.fixture(scope="module")
def scores(reference_db, shared_nlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("accuracy") / "gazetteer.db"
    shutil.copy(reference_db, path)
    engine = make_engine(path, shared_nlp)
    found = {}
    for name, gold_path in zip(("seeds", "theatres"), DEVELOPMENT_SETS):
        gold = load_gold(gold_path)
        result = score("gazetteer", gold, predict_pipeline(engine, gold))
        found[name] = {"place F1": result.mention["place"][2],
                       "armed_group F1": result.mention["armed_group"][2],
                       "normalisation F1": result.norm[2], "acc@161km": result.acc161,
                       "acc@25km": result.acc25, "answered": result.answered,
                       "GeoNames id": result.exact_geonameid}
    return found


@pytest.mark.parametrize("gold, name", [(g, n) for g in FLOORS for n in FLOORS[g]])
def test_score_stays_above_its_floor(scores, gold, name):
    floor, _target = FLOORS[gold][name]
    assert scores[gold][name] >= floor, f"{gold} {name}: {scores[gold][name]:.3f}"


def test_pairwise_f1_counts_pairs():
    from gazetteer.evaluate import pairwise_f1

    # gold a,a,b ; predicted x,y,y: no same pair agrees
    assert pairwise_f1([("a", "x"), ("a", "y"), ("b", "y")]) == (0.0, 0.0, 0.0)
    assert pairwise_f1([("a", "x"), ("a", "x"), ("b", "y")]) == (1.0, 1.0, 1.0)


def test_areas_count_by_id_and_points_alone_make_acc25():
    from gazetteer.evaluate import Predicted

    gold = {"documents": [{"id": "d", "text": "Tigray and Mekele", "mentions": [
        {"start": 0, "end": 6, "text": "Tigray", "kind": "place", "entity": "tigray"},
        {"start": 11, "end": 17, "text": "Mekele", "kind": "place", "entity": "mekele"}]}],
        "entities": {"tigray": {"kind": "place", "name": "Tigray", "lat": 14.0, "lon": 39.0,
                                "geonameid": 444186, "area": True},
                     "mekele": {"kind": "place", "name": "Mekele", "lat": 13.5, "lon": 39.47,
                                "geonameid": 331180}}}
    far_area = Predicted(0, 6, "Tigray", "place", "t", 20.0, 30.0, 444186)  # same id, far point
    near_point = Predicted(11, 17, "Mekele", "place", "m", 13.6, 39.5, None)  # no id
    result = score("x", gold, {"d": [far_area, near_point]})
    assert result.acc161 == 1.0 and result.acc25 == 1.0 and result.n_points == 1
    assert result.exact_geonameid == 0.5  # Mekele found, but without its id
