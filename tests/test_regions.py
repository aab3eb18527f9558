"""First-level regions (data/regions.json, gazetteer.regions): real data, no mocks."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import pytest
from countryinfo import CountryInfo

from gazetteer.fold import fold_name
from gazetteer.regions import load_regions, region_rows, region_type_words

DATA = Path(__file__).resolve().parent.parent / "data"

# (name as English reporting writes it, country, ISO 3166-2 code expected or None)
THEATRES = [
    ("North Darfur", "SD", "SD-DN"), ("South Kordofan", "SD", "SD-KS"), ("Gezira", "SD", "SD-GZ"),
    ("Amhara", "ET", "ET-AM"), ("Tigray", "ET", "ET-TI"),
    ("North Kivu", "CD", "CD-NK"), ("Ituri", "CD", "CD-IT"), ("South Kivu", "CD", "CD-SK"),
    ("Cabo Delgado", "MZ", "MZ-P"),
    ("Rakhine", "MM", "MM-16"), ("Shan State", "MM", "MM-17"),
    ("Kharkiv Oblast", "UA", "UA-63"), ("Donetsk", "UA", "UA-14"), ("Zaporizhzhia Oblast", "UA", "UA-23"),
    ("Zamfara", "NG", "NG-ZA"), ("Sokoto", "NG", "NG-SO"), ("Borno State", "NG", "NG-BO"),
    ("Abyan", "YE", "YE-AB"), ("Shabwah", "YE", "YE-SH"), ("Hadramawt", "YE", "YE-HD"),
    ("Khyber Pakhtunkhwa", "PK", "PK-KP"), ("KPK", "PK", "PK-KP"), ("Balochistan", "PK", "PK-BA"),
    ("Norte de Santander", "CO", "CO-NSA"), ("Cauca", "CO", "CO-CAU"),
    ("Sinaloa", "MX", "MX-SIN"), ("Michoacan", "MX", "MX-MIC"),
    ("Tibesti", "TD", "TD-TI"), ("Lac", "TD", "TD-LC"),
    ("Lower Shabelle", "SO", "SO-SH"), ("Hiraan", "SO", "SO-HI"),
    ("Kidal", "ML", "ML-8"), ("Mopti", "ML", "ML-5"),
    ("Sahel", "BF", "BF-12"), ("Centre-Nord", "BF", "BF-05"),
    ("Helmand", "AF", "AF-HEL"), ("Kandahar", "AF", "AF-KAN"),
    ("Nineveh", "IQ", "IQ-NI"), ("Anbar", "IQ", "IQ-AN"), ("Kurdistan Region", "IQ", "IQ-KR"),
    ("Idlib", "SY", "SY-ID"), ("Rural Damascus", "SY", "SY-RD"), ("Deir ez-Zor", "SY", "SY-DY"),
]


@pytest.fixture(scope="module")
def regions() -> list[dict]:
    return load_regions(DATA)


@pytest.fixture(scope="module")
def by_key(regions) -> dict[str, list[dict]]:
    index: dict[str, list[dict]] = defaultdict(list)
    for region in regions:
        for name in {region["name"], *region["aliases"]}:
            index[fold_name(name)].append(region)
    return index


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_world_coverage(regions):
    countries = {r["country"] for r in regions}
    assert len(regions) >= 3000
    assert len(countries) >= 190
    assert len({r["id"] for r in regions}) == len(regions)
    assert sum(1 for r in regions if r["iso"]) >= 3000


def test_file_is_sorted_and_compact(regions):
    assert regions == sorted(regions, key=lambda r: (r["country"], r["id"]))
    assert (DATA / "regions.json").stat().st_size < 1_500_000
    about = json.loads((DATA / "regions.json").read_text(encoding="utf-8"))["about"]
    assert "CC BY 4.0" in about and "pycountry" in about


def test_entries_have_the_documented_shape(regions):
    for region in regions:
        assert region["id"].startswith(f"adm1-{region['country'].lower()}-")
        assert region["name"] and isinstance(region["aliases"], list)
        assert -90 <= region["lat"] <= 90 and -180 <= region["lon"] <= 180
        assert region["type"] and region["type"] == region["type"].lower()
        assert region["iso"] is None or region["iso"].startswith(region["country"] + "-")
        assert region["source"]


@pytest.mark.parametrize(("name", "country", "iso"), THEATRES)
def test_conflict_regions_resolve_in_their_country(by_key, name, country, iso):
    found = [r for r in by_key.get(fold_name(name), []) if r["country"] == country]
    assert found, f"{name} ({country}) not found"
    assert iso in {r["iso"] for r in found}
    lat, lon = CountryInfo(country).latlng()[:2]
    for region in found:
        assert km(region["lat"], region["lon"], lat, lon) < 1500, region


def test_region_rows_have_reference_shape():
    places, names = region_rows(DATA)
    assert len(places) >= 3000
    keys = {"ref_id", "geonameid", "name", "lat", "lon", "country", "admin1", "feature",
            "population", "source", "within", "note"}
    for place in places:
        assert set(place) == keys
        assert place["feature"] == "admin1" and place["source"] == "regions"
        assert place["ref_id"].startswith("adm1-")
    ids = {p["ref_id"] for p in places}
    assert len(ids) == len(places)
    for row in names:
        assert set(row) == {"ref_id", "name", "key", "skel", "curated"}
        assert row["ref_id"] in ids
    keys_found = {row["key"] for row in names}
    assert {fold_name(n) for n in ("Kharkiv Oblast", "Borno State", "North Darfur")} <= keys_found


def test_type_words():
    words = region_type_words(DATA)
    assert {"state", "province", "region", "governorate", "oblast", "department"} <= words
    assert not words & {"city", "island", "capital"}
