"""Geocoding: a geopy Geocoder over the offline reference gazetteer, an opt-in cached online
geocoder, and the disambiguation of a name's readings by the document's context."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache, partial

import sqlite_utils
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from . import store
from .errors import GeocoderUnavailable
from .english import all_common_words, only_a_direction
from .fold import ascii_fold
from .extract import PLACE_LABELS, REGION_TYPE_WORDS
from .normalise import Resolver, trim_oldest
from .resolve import after_a_locative, without_type_words
from .types import Candidate, Place, Point, Resolution, Resolved, Weights

ADMIN_FEATURES = {"admin1", "admin2", "region", "country", "continent"}
AREA_FEATURES = ADMIN_FEATURES | {"plain", "desert", "mountain", "river", "highway"}
SETTLEMENT_FEATURES = {"city", "town", "village", "neighbourhood", "camp"}
EARTH_RADIUS_KM = 6371.0


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine): fast enough for hot loops, exact enough to rank."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class OfflineGeocoder(Geocoder):
    """A geopy geocoder answering from the SQLite reference gazetteer (GeoNames + supplement);
    it swaps in wherever geopy's Nominatim would go."""

    def __init__(self, resolver: Resolver) -> None:
        super().__init__(scheme="https", timeout=1, user_agent="gazetteer-offline")
        self.resolver = resolver

    def geocode(self, query: str, *, exactly_one: bool = True, country_codes=None, **_):
        rows = [(r, store.ref_place(self.resolver.db, r.target))
                for r in self.resolver.resolve_place(query)]
        if country_codes:
            wanted = {c.upper() for c in ([country_codes] if isinstance(country_codes, str)
                                          else country_codes)}
            rows = [(r, row) for r, row in rows if row and row["country"] in wanted]
        locations = [Location(row["name"], (row["lat"], row["lon"]),
                              {**row, "score": r.score, "reason": r.reason})
                     for r, row in rows if row and row["lat"] is not None]
        locations.sort(key=lambda loc: (-loc.raw["score"], -(loc.raw["population"] or 0)))
        if not locations:
            return None
        return locations[0] if exactly_one else locations


class CachedOnlineGeocoder:
    """An online geopy geocoder (Nominatim by default), rate-limited, answers cached in SQLite.
    Only used when configured; geopy errors become GeocoderUnavailable."""

    def __init__(self, db: sqlite_utils.Database, geocoder: Geocoder, min_delay: float = 1.0,
                 provider: str = "nominatim") -> None:
        self.db = db
        self.provider = provider
        self._geocode = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay,
                                    error_wait_seconds=max(min_delay, 5.0), max_retries=1,
                                    swallow_exceptions=False)

    def lookup(self, query: str) -> dict | None:
        """Return {name, lat, lon, raw} for the query, from the cache when we asked before."""
        cached = store.cached_geocode(self.db, self.provider, query)
        if cached is not None:
            return json.loads(cached)
        try:
            location = self._geocode(query, exactly_one=True)
        except GeopyError as exc:
            raise GeocoderUnavailable(f"{self.provider} failed for {query!r}: {exc}") from exc
        answer = None if location is None else {
            "name": location.address, "lat": location.latitude, "lon": location.longitude}
        store.cache_geocode(self.db, self.provider, query, json.dumps(answer))
        return answer


def make_online_geocoder(db: sqlite_utils.Database, user_agent: str,
                         min_delay: float) -> CachedOnlineGeocoder:
    from geopy.geocoders import Nominatim

    return CachedOnlineGeocoder(db, Nominatim(user_agent=user_agent), min_delay)


@dataclass
class DocumentContext:
    """What a document says about where it is: its countries (weighted) and its sure places."""

    countries: Weights
    anchors: list[Point]
    # (country, admin-1 code) of the first-level regions the document names ("Chhattisgarh")
    regions: frozenset[tuple[str, str]] = frozenset()
    # Nearest-anchor distance per point, asked for once per mention: computing it anew
    # against every anchor made a long report's geocoding quadratic in its mentions.
    _nearest: dict[Point, float] = field(default_factory=dict)
    _nearest_other: dict[Point, float | None] = field(default_factory=dict)

    def nearest_km(self, point: Point) -> float:
        if point not in self._nearest:
            self._nearest[point] = min(distance_km(point, a) for a in self.anchors)
        return self._nearest[point]

    def nearest_other_km(self, point: Point) -> float | None:
        """The distance to the nearest anchor that is not the point itself (None when
        there is none), asked for once per reading."""
        if point not in self._nearest_other:
            self._nearest_other[point] = min(
                (d for a in self.anchors if (d := distance_km(point, a)) > SELF_KM),
                default=None)
        return self._nearest_other[point]

    # The countries are settled when the context is made: their total and the home
    # countries, asked for per reading, are worked out once.
    @cached_property
    def total(self) -> float:
        return sum(self.countries.values())

    def share(self, country: str | None) -> float:
        total = self.total
        return self.countries.get(country, 0.0) / total if total and country else 0.0

    @cached_property
    def _home(self) -> list[str]:
        return [c for c in sorted(self.countries, key=lambda c: -self.countries[c])
                if self.share(c) >= HOME_SHARE]

    def home(self) -> list[str]:
        """The document's main countries, most named first (the list is shared: read it)."""
        return self._home


# A country with this share of the document's evidence is one of its theatres.
HOME_SHARE = 0.2
# Naming a country is weaker evidence than naming a town in it (reports name the US, Russia
# and Turkey when the war is in Syria).
COUNTRY_MENTION_WEIGHT = 0.5

RefLookup = Callable[[str], "dict | None"]  # ref id -> reference place row


def document_context(db: sqlite_utils.Database,
                     readings_per_mention: list[list[Resolution]],
                     lookup: RefLookup | None = None,
                     hints: Weights | None = None,
                     weak: list[list[Resolution]] | None = None) -> DocumentContext:
    """The document's countries: those it names, those of the places whose readings all
    lie in one country (the spans that needed the geocoder's consent count half), and the
    hints (the countries of its armed groups); its anchors: the points of places with a
    single point among their readings (reference rows from lookup when given: the pipeline
    remembers them)."""
    lookup = lookup or (lambda ref_id: store.ref_place(db, ref_id))
    counts: Weights = defaultdict(float, hints or {})
    anchors: list[Point] = []
    regions: set[tuple[str, str]] = set()
    for readings, weight in [(r, 1.0) for r in readings_per_mention] + \
            [(r, WEAK_WEIGHT) for r in weak or []]:
        if readings and all(r.guessed for r in readings):
            continue  # a spelling guess ("Matebe" ~ Mataban) is no evidence of the theatre
        rows = [row for r in readings if (row := lookup(r.target)) is not None]
        admin = [row for row in rows if row["feature"] == "admin1"]
        if weight == 1.0 and len(admin) == 1 and admin[0]["country"] and admin[0]["admin1"]:
            regions.add((admin[0]["country"], admin[0]["admin1"]))
        named = [row for row in rows if row["feature"] in ("country", "continent")]
        if named:  # "Ukraine" is the country, whatever village shares its name
            if len(named) == 1 and named[0]["country"]:
                counts[named[0]["country"]] += COUNTRY_MENTION_WEIGHT * weight
            continue
        countries = {row["country"] for row in rows if row["country"]}
        if len(countries) != 1:
            continue
        counts[countries.pop()] += weight
        # one point among the readings: Homs the city, whatever the same-named governorate
        points = [row for row in rows if row["feature"] not in AREA_FEATURES]
        if weight == 1.0 and len(points) == 1 and points[0]["lat"] is not None:
            anchors.append(Point(points[0]["lon"], points[0]["lat"]))
    return DocumentContext(counts, list(dict.fromkeys(anchors)),  # each sure place once
                           frozenset(regions))


# Spans that needed consent (looked up, or labelled person/organisation) are weaker evidence.
WEAK_WEIGHT = 0.5


# Words a few words before a bare "Idlib" that make it the governorate rather than the city
# ("10 villages in Latakia", "across Idlib", "offensives in Idlib"); a cue elsewhere in the
# sentence does not count ("the mosque in Homs", villages mentioned further on).
REGION_CUES = (r"\b(?:provinces?|governorates?|countryside|villages|towns|rural|across|"
               r"throughout|parts of|(?:offensives?|campaign) in)\b")
# a cue, then up to three words, ending right before the name
_CUED = re.compile(REGION_CUES + r"(?:\W+[\w'\u2019-]+){0,3}?\W+$", re.IGNORECASE)


def wants_region(name: str, span_context: str, sentence: str, at: int | None = None,
                 line: str = "") -> bool:
    """True when the text reads the name as an administrative region. at: where the span
    starts in the sentence (cues are read around that occurrence only); line: the line of
    the text it stands on (a heading)."""
    before, _, after = span_context.partition("|")
    near = f"{name.lower()} {after}"
    if any(w in near.split()[:3] for w in ("city", "town")) or before.endswith(("city of",
                                                                              "town of")):
        return False
    first_after, last_before = after.split()[:1], before.split()[-2:]
    if (set(name.lower().split()) & REGION_TYPE_WORDS  # "Idlib province"
            or first_after and first_after[0] in REGION_TYPE_WORDS  # "Homs and Hama provinces"
            or len(last_before) == 2 and last_before[1] == "of"
            and last_before[0] in REGION_TYPE_WORDS):  # "the province of Latakia"
        return True
    if at is None:
        return cued_as_region(name, sentence) or name in listed_as_regions(sentence)
    said_before, said_after = sentence[:at], sentence[at + len(name):]
    return (bool(_CUED.search(said_before[-80:])) or name in listed_as_regions(sentence)
            or is_heading(name, line) or said_after.startswith("]")
            and bool(_AREA_BRACKET.search(said_before)) or bool(_NARROWED.match(said_after))
            or bool(_OPERATIONS_AFTER.match(said_after))
            or bool(_REGION_ANAPHORA.search(said_after)))


def cued_as_region(name: str, sentence: str) -> bool:
    """A region cue a few words before the name: "10 villages in Latakia", "across Idlib"."""
    start = sentence.find(name)
    while start >= 0:
        if _CUED.search(sentence[max(0, start - 80):start]):
            return True
        start = sentence.find(name, start + 1)
    return False


# An editor's gloss on an area word or on a region's name names the area: "the eastern
# region [Hasakah]", "a regime area [Quneitra]", "the Jazira [Hasakah]" (a gloss on a
# person or a town is no region: "the mayor [of X]").
_AREA_BRACKET = re.compile(r"(?:\b(?:region|area|province|governorate|coast|countryside|"
                           r"heartlands?)|\b[Tt]he [A-Z][\w'\u2019-]+)\s*\[$")
# A name narrowed to a place inside it is an area: "rebel gains in Marib, in particular
# the town of Sirwah", "fighting in Kherson and Mykolaiv, especially in Snihurivka".
_NARROWED = re.compile(r"(?: and [A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*){0,2})?,? "
                       r"(?:in particular|particularly|especially|notably)\b")
# A name before the word for a military effort names the area it covers: "recent Marib
# operations", "the Kherson offensive" (as "offensives in Kherson" does, REGION_CUES).
_OPERATIONS_AFTER = re.compile(r" (?:operations|offensives?|campaign)\b")
# The same sentence going on to call it "the entire province": "fighters in Marib helped
# to take the entire province", "clashes in Borno spread across the state" (but not "the
# capital of the province", which names the province a town is in, nor "the state media",
# "the state government": a noun after it makes "state" an adjective).
_REGION_ANAPHORA = re.compile(  # "the" first, then what precedes it: twice as fast
    r"\bthe (?<!\bof the )(?:entire |whole )?(?:province|governorate|state|oblast)\b"
    r"(?! (?!(?:and|or|but|in|on|at|to|from|with|by|for|after|before|since|as|was|is|were|"
    r"had|has|have|which|that|where|when|into|within|until|while)\b)[a-z])")


def is_heading(name: str, line: str) -> bool:
    """A section heading that is the name alone on its line ("Marib"): the section is about
    the region, not only its capital. A dateline in capitals ("MARIB") is the town."""
    return line.strip() == name and not name.isupper()


_REGION_PLURALS = (r"(?:provinces|governorates|states|regions|oblasts|districts|zones|"
                   r"counties|prefectures|townships|territories|departments)")
_ITEM = r"[A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*){0,3}"
# At most MAX_LISTED items before the last: an unbounded list was tried again from each of
# its names, quadratic in a sentence-long list of names.
MAX_LISTED = 30
_LISTS = re.compile(rf"\b{_REGION_PLURALS} of ((?:{_ITEM}, ){{0,{MAX_LISTED}}}{_ITEM}"
                    rf"(?:,? and {_ITEM})?)"
                    rf"|((?:{_ITEM}, ){{0,{MAX_LISTED}}}{_ITEM},? and {_ITEM}) {_REGION_PLURALS}\b")
_LIST_SEPARATOR = re.compile(r",? and |, ")


@lru_cache(maxsize=4096)  # asked once per place mention; sentences repeat
def listed_as_regions(sentence: str) -> frozenset[str]:
    """The names in lists that a plural type word governs: "in Homs and Hama provinces",
    "the provinces of Hama and Homs", "Zamfara, Sokoto and Katsina states"."""
    names: set[str] = set()
    for match in _LISTS.finditer(sentence):
        names.update(_LIST_SEPARATOR.split(match.group(1) or match.group(2)))
    return frozenset(names)


def choose_place(db: sqlite_utils.Database, name: str, readings: list[Resolution],
                 context: DocumentContext, span_context: str = "",
                 sentence: str = "", lookup: RefLookup | None = None,
                 at: int | None = None, line: str = "") -> Place | None:
    """Pick the reading that fits the document best; None when there is no reading.
    at and line: where the span stands in its sentence, and its line (see wants_region)."""
    lookup = lookup or (lambda ref_id: store.ref_place(db, ref_id))
    found = [(r, lookup(r.target)) for r in readings]
    rows = [(r, {**row, "curated": r.curated}) for r, row in found if row is not None]
    if not rows:
        return None
    wants_admin = wants_region(name, span_context, sentence, at, line)
    regions = {row["country"]: row["population"] or 0 for _, row in rows
               if row["feature"] == "admin1"}
    scored = sorted(((_fit(r, row, context, wants_admin, _dwarfed(row, regions)), r, row)
                     for r, row in rows),
                    key=lambda t: (-t[0][0], t[2]["ref_id"]))
    (score, why), reading, row = scored[0]
    margin = score - scored[1][0][0] if len(scored) > 1 else 1.0
    confidence = max(0.05, min(0.99, reading.score * (0.6 + 0.4 * min(1.0, margin + 0.5))))
    reason = f"{reading.reason}; {len(scored)} candidate(s); {why}"
    return _place_from_row(row, confidence, reason)


# Weight of the document's countries against a reading's population (0.15 per factor of 10):
# a town in the document's only country beats a namesake 10,000 times its size abroad.
HOME_BONUS = 1.2
REGION_NAMED_BONUS = 1.5
# A reading inside a first-level region the document names: worth a town 100 times larger.
IN_NAMED_REGION_BONUS = 0.3


# A town with less than this share of the recorded population of the same-named region
# of its country is not what the bare name means ("fighting in Guerrero" is the state, not
# one of the villages of 1,000 people that share its name).
DWARFED_SHARE = 0.1


def _dwarfed(row: dict, regions: dict[str, int]) -> bool:
    """A settlement far smaller than the same-named first-level region of its country."""
    region = regions.get(row["country"], 0)
    return (row["feature"] in SETTLEMENT_FEATURES and region > 0
            and (row["population"] or 0) < DWARFED_SHARE * region)


def _fit(reading: Resolution, row: dict, context: DocumentContext,
         wants_admin: bool, dwarfed: bool = False) -> tuple[float, str]:
    """Score one reading against the document; returns (score, the reason in words);
    dwarfed: a settlement far smaller than the same-named region (see _dwarfed)."""
    score, why = reading.score, []
    if context.total and row["country"]:
        share = context.share(row["country"])
        score += HOME_BONUS * share
        if share:
            why.append(f"{row['country']} is {share:.0%} of the document's places")
    if context.anchors and row["lat"] is not None:
        nearest = context.nearest_km(Point(row["lon"], row["lat"]))
        score += 0.3 * max(0.0, 1 - nearest / 500)
        why.append(f"{nearest:.0f} km from the nearest sure place")
    if row["feature"] != "admin1" and (row["country"], row["admin1"]) in context.regions:
        # "In Chhattisgarh, ... in Bijapur district": Bijapur of Chhattisgarh, not the larger
        # Bijapur (Vijayapura) of Karnataka
        score += IN_NAMED_REGION_BONUS
        why.append("in a region the document names")
    if row["feature"] in ("country", "continent"):
        score += 1.0  # a name shared by a country and a town means the country in reports
        why.append(row["feature"])
    elif wants_admin and row["feature"] in ADMIN_FEATURES:
        # beats the population of a same-named capital: "villages in Latakia", "Homs and
        # Hama provinces" name the governorates, whose cities are larger than any region's
        # recorded population
        score += REGION_NAMED_BONUS
        why.append("administrative region named as such")
    elif not wants_admin and row["feature"] in SETTLEMENT_FEATURES and not dwarfed:
        score += 0.5  # a populated place over a same-named hill, stream or district
        why.append("settlement")
    if row.get("curated"):
        score += 0.2
        why.append("curated name")
    population = row["population"] or 0
    score += 0.15 * math.log10(1 + population)
    if population:
        why.append(f"population {population:,}")
    return score, ", ".join(why) or "only reading"


def _place_from_row(row: dict, confidence: float, reason: str) -> Place:
    approximate = "approximate" in (row.get("note") or "")
    return Place(
        ref_id=row["ref_id"], name=row["name"],
        point=Point(row["lon"], row["lat"]) if row["lat"] is not None else None,
        geonameid=row["geonameid"], country=row["country"], admin1=row["admin1"],
        feature=row["feature"], confidence=confidence,
        precision=3 if row["feature"] in AREA_FEATURES else 2 if approximate else 1,
        reason=reason, geocoder="offline",
        status="approximate" if approximate else "resolved")


def line_of(text: str, start: int, end: int) -> str:
    """The line of the text a span stands on, cut LINE_REACH characters either side of it
    (a heading is short; reading a whole line of a report on one line was quadratic)."""
    low, high = max(0, start - LINE_REACH), min(len(text), end + LINE_REACH)
    before, after = text.rfind("\n", low, start), text.find("\n", end, high)
    return text[before + 1 if before >= 0 else low:after if after >= 0 else high]


LINE_REACH = 200


# A list this long whose names the gazetteer mostly lacks is a list of villages.
VILLAGE_LIST = 4
_LIST_JOINS = re.compile(r",|\band\b|\bor\b")
_NAME = r"[A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*)*"
_UNTAKEN_NAME = re.compile(rf"^{_NAME}$")


def _list_gap(gap: str) -> int | None:
    """The names between two list items that no span took ("Kanyamahoro, Buhumba"), or
    None when the words between them are no list's (", said", "in the north of")."""
    pieces = [p.strip() for p in _LIST_JOINS.split(gap)]
    if len(pieces) < 2 or not all(not p or _UNTAKEN_NAME.match(p) for p in pieces):
        return None
    return sum(bool(p) for p in pieces)


_JOIN = r"\s*(?:,|,? and|,? or)\s*"
_NAMES_BEFORE = re.compile(rf"(?:{_NAME}{_JOIN})+$")
_NAMES_AFTER = re.compile(rf"^(?:{_JOIN}{_NAME})+")


LIST_REACH = 300


def _untaken_around(text: str, first: Candidate, last: Candidate) -> int:
    """The names no span took before the first item of a list and after its last."""
    # within LIST_REACH characters: searched over a whole sentence-long list, the names
    # before it took time quadratic in the sentence
    before = _names_before(text[max(first.sent_start, first.start - LIST_REACH):first.start])
    after = _NAMES_AFTER.match(text[last.end:min(last.sent_end, last.end + LIST_REACH)])
    return sum(bool(p.strip()) for m in (before, after) if m
               for p in _LIST_JOINS.split(m.group(0)))


def _names_before(text: str) -> re.Match[str] | None:
    """_NAMES_BEFORE.search(text), not tried when the text does not end as a join of a list
    does (the search starts again at every capital letter: most of village_lists' time)."""
    if not text.rstrip().endswith((",", " and", " or")):  # rstrip: what \s matches
        return None
    return _NAMES_BEFORE.search(text)


def village_lists(text: str, resolved: list[Resolved]) -> set[int]:
    """The place spans (indices) in lists of villages: runs of place names joined by
    commas and "and" within a sentence, most of them without any reading ("occupy Kiwanja,
    Kalengera, Nyamilima and Ruvumu"; names no span took count as such). A list names the
    same kind of place throughout, so a district abroad is no reading of one of its names."""
    places = sorted((r.candidate.start, i) for i, r in enumerate(resolved)
                    if r.kind == "place")
    runs: list[tuple[list[int], int]] = []  # (spans, names between them no span took)
    last = None
    for _, i in places:
        cand = resolved[i].candidate
        untaken = None if last is None or last.sent_start != cand.sent_start else _list_gap(
            text[last.end:cand.start])
        if untaken is None:
            runs.append(([i], 0))
        else:
            runs[-1] = (runs[-1][0] + [i], runs[-1][1] + untaken)
        last = cand
    villages: set[int] = set()
    for run, untaken in runs:
        untaken += _untaken_around(text, resolved[run[0]].candidate,
                                   resolved[run[-1]].candidate)
        names = len(run) + untaken
        unknown = untaken + sum(not resolved[i].readings for i in run)
        if names >= VILLAGE_LIST and 2 * unknown > names:
            villages.update(run)
    return villages


def previous_sentences(text: str, resolved: list[Resolved]) -> dict[int, int]:
    """For each sentence with a span, where the sentence right before it starts, when that
    one has a span too (nothing but white space between them)."""
    sentences = sorted({(r.candidate.sent_start, r.candidate.sent_end) for r in resolved})
    return {start: before for (before, end), (start, _) in zip(sentences, sentences[1:])
            if not text[end:start].strip()}


def fallback_place(name: str, near: Place | None,
                   why: str = "named in the same sentence") -> Place:
    """A place the gazetteer lacks: kept, located at the most specific enclosing place the
    text gives (precision 2, low confidence), or unresolved when the text gives none."""
    if near is None or near.point is None:
        return Place(None, name, None, confidence=0.0, reason="no gazetteer match",
                     status="unresolved")
    return Place(None, name, near.point, country=near.country, admin1=near.admin1,
                 confidence=0.2, precision=2 if near.precision == 1 else 3,
                 reason=f"not in the gazetteer; placed at {near.name}, {why}",
                 status="approximate")


# Where the text has no reading for a name, it falls back on the most specific place its
# sentence names: a town before a district, a district before a region, then a country.
_SPECIFICITY = {"country": 3, "continent": 4, "admin1": 2}


def most_specific(located: list[tuple[int, Place]], at: int) -> Place | None:
    """The most specific place located in a sentence, the nearest to offset `at` among
    equals ("In Nigeria, gunmen raided Unguwan Bawa, Sokoto State": Sokoto State)."""
    if not located:
        return None
    return min(located, key=lambda item: (_specificity(item[1]), abs(item[0] - at)))[1]


def _specificity(place: Place) -> int:
    """0 for a town, 1 for a district or another area, 2 for a region, 3 for a country."""
    return _SPECIFICITY.get(place.feature or "", 1 if place.feature in AREA_FEATURES else 0)


# Unit words one country's reporting uses: a name carrying one is in those countries
# ("Kassala Kebele" in Amhara is not Sudan's Kassala). Sources: the countries'
# administrative divisions as Wikipedia describes them (kebele, wereda/woreda: Ethiopia;
# local government area: Nigeria; tehsil: Pakistan and India; township: Myanmar and South
# Africa; raion and oblast: the former Soviet states; hromada: Ukraine; cercle: Mali;
# upazila: Bangladesh; groupement and chefferie: DR Congo; barangay: the Philippines).
_UNIT_COUNTRIES = {
    "kebele": {"ET"}, "wereda": {"ET"}, "woreda": {"ET"}, "lga": {"NG"},
    "tehsil": {"PK", "IN"}, "township": {"MM", "ZA"}, "hromada": {"UA"},
    "raion": {"UA", "RU", "BY", "MD", "AZ", "KZ", "KG"},
    "rayon": {"UA", "RU", "BY", "MD", "AZ", "KZ", "KG"},
    "oblast": {"UA", "RU", "BY", "KZ", "KG", "BG"}, "cercle": {"ML"}, "upazila": {"BD"},
    "groupement": {"CD"}, "chefferie": {"CD"}, "barangay": {"PH"},
}


def unit_countries(name: str) -> set[str]:
    """The countries a name's unit word places it in ("Kobo Wereda": Ethiopia); empty
    when the name carries no such word."""
    words = name.lower().split()
    if len(words) < 2:
        return set()
    if words[-3:] == ["local", "government", "area"]:
        return _UNIT_COUNTRIES["lga"]
    return _UNIT_COUNTRIES.get(words[-1], set())


# A neighbourhood is within this distance of the town the sentence names.
NEIGHBOURHOOD_KM = 30
_PART = rf"{_ITEM}(?: in the [a-z-]+)?"
_NEIGHBOURHOOD_LIST = re.compile(
    rf"\bneighbou?rhoods of ((?:{_PART}, )+(?:and )?{_PART}|{_PART},? and {_PART})")
# "the Natite neighbourhood", but not "Damascus neighborhoods" or "the Damascus
# neighbourhood of Jobar", which name the town
_NEIGHBOURHOOD_AFTER = re.compile(r"^\W{0,3}(?:neighbou?rhood|quarter)\b(?! of\b)",
                                  re.IGNORECASE)
_DIRECTION_PHRASE = re.compile(r" in the [a-z-]+$")


@lru_cache(maxsize=4096)
def _neighbourhood_lists(sentence: str) -> frozenset[str]:
    names: set[str] = set()
    for match in _NEIGHBOURHOOD_LIST.finditer(sentence):
        names.update(_DIRECTION_PHRASE.sub("", part)
                     for part in _LIST_SEPARATOR.split(match.group(1)))
    return frozenset(names)


def neighbourhoods(text: str, resolved: list[Resolved]) -> dict[str, tuple[int, int]]:
    """The names a document lists as a town's neighbourhoods, each with where it says so
    (sentence start, offset): one sense per document, so a later bare mention of the name
    is the same neighbourhood."""
    found: dict[str, tuple[int, int]] = {}
    for item in resolved:
        cand = item.candidate
        if item.kind == "place" and cand.text not in found and named_as_neighbourhood(
                cand.text, text[cand.sent_start:cand.sent_end]):
            found[cand.text] = (cand.sent_start, cand.start)
    return found


def _town_of(said: tuple[int, int] | None,
             in_sentence: dict[int, list[tuple[int, Place]]]) -> Place | None:
    """The town whose neighbourhood a name is: the most specific settlement located in the
    sentence that says so."""
    if said is None:
        return None
    town = most_specific(in_sentence.get(said[0], []), said[1])
    return town if town is not None and town.feature in SETTLEMENT_FEATURES else None


def _in_town(row: dict, town: Place) -> bool:
    """A reading that can be the town's neighbourhood: within reach of it, or a large town
    of its country (the town a report's words made look like a neighbourhood)."""
    assert town.point is not None
    if row["lat"] is None:
        return False
    near = distance_km(town.point, Point(row["lon"], row["lat"])) <= NEIGHBOURHOOD_KM
    return near or _notable(row) and row["country"] == town.country


def named_as_neighbourhood(name: str, sentence: str) -> bool:
    """A list of a town's neighbourhoods ("through the neighbourhoods of Chuiba in the
    north, Natite in the south and Cariaco in the east") or a name before the word ("the
    Natite neighbourhood"): the name is a part of a town, not a town of its own.
    "the neighbourhoods of Aleppo" names the town itself, so a list needs two names."""
    if name in _neighbourhood_lists(sentence):
        return True
    start = sentence.find(name)
    return start >= 0 and bool(_NEIGHBOURHOOD_AFTER.search(sentence[start + len(name):]))


# ---- the geocoding stage: resolved spans -> Places ------------------------------------------

class RefMemo:
    """Reference places and their names by ref id, remembered while the locator lives (the
    reference does not change under it, and reports name the same places again and again:
    three queries per place mention were a tenth of ingest)."""

    SIZE = 50_000

    def __init__(self, db: sqlite_utils.Database, resolver: Resolver | None = None) -> None:
        self.db = db
        self.resolver = resolver  # its rows read by name spare most queries by id
        self._places: dict[str, dict | None] = {}
        self._names: dict[str, tuple[list[str], bool]] = {}

    def place(self, ref_id: str) -> dict | None:
        if ref_id not in self._places:
            row = self.resolver.place_row(ref_id) if self.resolver is not None else None
            self._places[ref_id] = row if row is not None else store.ref_place(self.db, ref_id)
            trim_oldest(self._places, self.SIZE)
        return self._places[ref_id]

    def names(self, ref_id: str) -> tuple[list[str], bool]:
        """(its names, curated first; whether any is curated)."""
        if ref_id not in self._names:
            self._names[ref_id] = store.ref_names_and_curated(self.db, ref_id)
            trim_oldest(self._names, self.SIZE)
        return self._names[ref_id]


class PlaceLocator:
    """Places for the resolved place spans of a document: the reading that fits the
    document, named as curators name it; else the online geocoder when one is configured;
    else the enclosing place the sentence gives; else unresolved, but kept. Spans found
    only by looking words up, and ordinary English words, are kept only when a reading is
    plausible in the document's theatre."""

    def __init__(self, db: sqlite_utils.Database, resolver: Resolver | None = None,
                 online: CachedOnlineGeocoder | None = None) -> None:
        self.refs = RefMemo(db, resolver)
        self.db = db
        self.resolver = resolver
        self.online = online

    def context(self, resolved: list[Resolved], hints: Weights | None = None) -> DocumentContext:
        places = [r for r in resolved if r.kind == "place"]
        return document_context(self.db, [r.readings for r in places if not r.weak],
                                self.refs.place, hints,
                                [r.readings for r in places if r.weak and
                                 not all_common_words(r.candidate.text)])

    def locate(self, text: str, resolved: list[Resolved],
               hints: Weights | None = None) -> list[tuple[Resolved, Place | None]]:
        """The spans kept, in the order given, each with its Place (None for groups)."""
        context = self.context(resolved, hints)
        places: dict[int, Place | None] = {}
        in_sentence: dict[int, list[tuple[int, Place]]] = defaultdict(list)  # located there
        listed = neighbourhoods(text, resolved)
        unplaced: list[int] = []
        villages = village_lists(text, resolved)
        order = sorted(range(len(resolved)), key=lambda i: not resolved[i].readings)
        for i in order:  # known places first: their neighbourhoods are judged by them
            item = resolved[i]
            if item.kind != "place":
                places[i] = None
                continue
            cand = item.candidate
            town = _town_of(listed.get(cand.text), in_sentence)
            readings = self._plausible(item, context, town)
            if readings is None:
                continue  # not a place after all
            if i in villages:
                readings = [r for r in readings if not self._area_abroad(r, context)]
            sentence = text[cand.sent_start:cand.sent_end]
            place = choose_place(self.db, cand.text, readings, context, cand.context,
                                 sentence, self.refs.place, cand.start - cand.sent_start,
                                 line_of(text, cand.start, cand.end))
            if place is not None:
                in_sentence[cand.sent_start].append((cand.start, place))
                places[i] = self._named(place)
            else:
                unplaced.append(i)
        previous = previous_sentences(text, resolved)
        for i in unplaced:  # once every place the sentences name is located
            places[i] = self._unplaced(resolved[i], context, listed, in_sentence, previous)
        return [(item, places[i]) for i, item in enumerate(resolved) if i in places]

    def _unplaced(self, item: Resolved, context: DocumentContext,
                  listed: dict[str, tuple[int, int]],
                  in_sentence: dict[int, list[tuple[int, Place]]],
                  previous: dict[int, int]) -> Place:
        """A place span with no reading in the document's theatre: the online geocoder's
        answer; else the town it is a neighbourhood of; else the most specific place its
        sentence names; else a famous namesake ("the Lausanne talks"); else the most specific
        place of the sentence just before (a report names the district, then its villages);
        else unresolved."""
        cand = item.candidate
        town = _town_of(listed.get(cand.text), in_sentence)
        if (online := self._online(cand.text)) is not None:
            return online
        if town is not None:
            return fallback_place(cand.text, town,
                                  "the town the report lists it a neighbourhood of")
        near = most_specific(in_sentence[cand.sent_start], cand.start)
        if near is not None:
            return fallback_place(cand.text, near)
        famous = self._famous_namesake(item, context)
        if famous is not None:
            return famous
        before = previous.get(cand.sent_start)
        return fallback_place(cand.text, None if before is None else most_specific(
            in_sentence[before], cand.sent_start), "named in the sentence before")

    def _area_abroad(self, reading: Resolution, context: DocumentContext) -> bool:
        """A district or region outside the document's main country."""
        row = self.refs.place(reading.target)
        home = context.home()[:1]
        return (row is not None and bool(home) and row["country"] not in home
                and row["feature"] in AREA_FEATURES - {"country", "continent"})

    def _famous_namesake(self, item: Resolved, context: DocumentContext) -> Place | None:
        """A large town far from the theatre that the model tagged as a place and that the
        text names by its own name ("the Lausanne talks" in a report on Kandahar): better
        than no place when nothing in the text offers another."""
        cand = item.candidate
        if item.weak or cand.label not in PLACE_LABELS:
            return None
        readings = [r for r in item.readings if not r.guessed and (row := self.refs.place(
            r.target)) is not None and row["feature"] == "city" and _notable(row)
                    and _named_exactly(cand.text, [row["name"]])]
        place = choose_place(self.db, cand.text, readings, context, lookup=self.refs.place)
        return None if place is None else self._named(place)

    def _plausible(self, item: Resolved, context: DocumentContext,
                   town: Place | None) -> list[Resolution] | None:
        """The readings worth weighing, or None when the span is not a place at all; town:
        the town the document names this one a neighbourhood of."""
        cand = item.candidate
        rows = [(r, row) for r in item.readings if (row := self.refs.place(r.target))]
        countries = unit_countries(cand.text)
        if countries:  # "Kassala Kebele" is in Ethiopia, whatever else is named Kassala
            rows = [(r, row) for r, row in rows if row["country"] in countries]
            if not rows:
                return []
        if town is not None and town.point is not None:
            rows = [(r, row) for r, row in rows if _in_town(row, town)]
            if not rows:
                return []
        name = without_type_words(cand.text)
        if all_common_words(cand.text):  # "Some", "Deal", "White House": only sure readings,
            # named so exactly ("Deal" folds like Syria's Da'el, but is not written so)
            # a world city is common in English because it is famous ("Moscow", "Paris"), a
            # large one when the model saw a place ("Geneva")
            famous = WORLD_CITY if cand.label not in PLACE_LABELS else NOTABLE_TOWN
            if only_a_direction(cand.text):  # "the West": a region needs its type word
                rows = [(r, row) for r, row in rows if row["feature"] not in ADMIN_FEATURES]
            sure = [(r, row) for r, row in rows
                    if _sure(r, row) and self._written_so(cand.text, name, row)
                    or (row["population"] or 0) >= famous
                    and _named_exactly(cand.text, [row["name"]])
                    or " " in cand.text and _own_name(cand.text, row)]
            if not sure and (rows or " " not in cand.text):
                return None if cand.method == "lookup" or " " not in cand.text else []
            rows = sure
        near = [(r, row) for r, row in rows if not _far_small(r, row, context)
                and not _far_from_theatre(r, row, context,
                                          partial(self._written_so, cand.text, name, row))]
        if item.weak:
            locative = after_a_locative(cand)
            # an unknown all-caps organisation (TOW, NYT) is not a town; a headline's words
            # in capitals are ("LAKKI MARWAT")
            if cand.text.isupper() and " " not in cand.text:
                near = [(r, row) for r, row in near if _sure(r, row)]
            near = [(r, row) for r, row in near
                    if _consented(item.weak, r, row, context, locative)]
            return [r for r, _ in near] or None
        if not near and not rows and self.resolver is not None:
            return self.resolver.resolve_place_in(name, context.home())
        return [r for r, _ in near]

    def _written_so(self, text: str, name: str, row: dict) -> bool:
        """The span is one of the reference's names for the row, not only alike once folded."""
        names = self.refs.names(row["ref_id"])[0] + [row["name"]]
        return any(_named_exactly(n, names) for n in (text, name))

    def _named(self, place: Place) -> Place:
        """The place with its reference names; a curated name is the one to display."""
        assert place.ref_id is not None
        names, curated = self.refs.names(place.ref_id)
        name = names[0] if names and curated else place.name
        return replace(place, name=name, names=tuple(names))

    def _online(self, name: str) -> Place | None:
        if self.online is None:
            return None
        answer = self.online.lookup(name)
        if not answer:
            return None
        return Place(None, answer["name"], Point(answer["lon"], answer["lat"]), confidence=0.5,
                     precision=1, reason="online geocoder (nominatim), cached",
                     geocoder="nominatim")


# A town this small, in none of the document's countries, is far more often a false friend
# ("Iran" -> Iraan, Texas) than the place a report means; curated names are exempt.
SMALL_TOWN = 15_000
# A town this large is worth finding by its name alone, wherever the report is.
NOTABLE_TOWN = 100_000


def _named_exactly(name: str, names: list[str]) -> bool:
    wanted = ascii_fold(name)
    return any(ascii_fold(n) == wanted for n in names)


def _own_name(name: str, row: dict) -> bool:
    """The reference's own name begins so ("New York" City), not a translation among its
    alternate names (Casablanca's "White House")."""
    return ascii_fold(row["name"]).startswith(ascii_fold(name))


def _sure(reading: Resolution, row: dict) -> bool:
    return reading.curated or row["feature"] in ("country", "continent", "admin1")


def _notable(row: dict) -> bool:
    return (row["population"] or 0) >= NOTABLE_TOWN


# A town this large is a town, even where the model took its name for a person's.
PERSON_TOWN = 5_000


def _consented(weak: str, reading: Resolution, row: dict, context: DocumentContext,
               locative: bool = False) -> bool:
    """A place reading of a span found by looking words up, or labelled a person or an
    organisation by the model: a curated place or a country anywhere; a large town when
    the words were looked up or labelled an organisation; else a place in one of the
    document's countries ("Kerry said" is no county of Ireland in a report on Syria;
    "Goma" is the city in a report on the Congo)."""
    if reading.curated or row["feature"] in ("country", "continent"):
        return True
    home = context.share(row["country"]) >= HOME_SHARE
    if weak == "PERSON":  # villages are named after people: a town, or "in X", "near X"
        return home and (row["feature"] == "admin1" or locative
                         or (row["population"] or 0) >= PERSON_TOWN)
    return home or (_notable(row) and row["feature"] != "admin1")


def _far_from_theatre(reading: Resolution, row: dict, context: DocumentContext,
                      written_so: Callable[[], bool]) -> bool:
    """A reading outside the document's countries, not curated, not a country, not a large
    city written as it is named and not next to another place the document is sure of: in a
    report on Nigeria, "Gudu" is the Sokoto LGA the gazetteer lacks, not a village in
    Indonesia. A spelling guess earns none of these exemptions ("Agulae" is not Angola), nor
    does a large city whose names are only alike once folded. The span stays a place, placed
    by the sentence when it can be. written_so: whether the span is one of the reading's own
    names (asked only of a large city)."""
    home = context.home()
    guessed = reading.guessed
    if (not home or row["country"] in home or reading.curated and not guessed
            or context.total < THEATRE_EVIDENCE):
        return False
    if not guessed and (row["feature"] in ("country", "continent")
                        or (row["population"] or 0) >= WORLD_CITY and written_so()):
        return False
    if row["lat"] is not None:
        # the reading's own point is no evidence for it (a lone "Mulawa" in Australia)
        nearest = context.nearest_other_km(Point(row["lon"], row["lat"]))
        if nearest is not None and nearest <= NEIGHBOUR_KM:
            return False
    return True


# Anchors this close to a reading are the reading itself.
SELF_KM = 1.0


# Only a city this large is worth reading abroad against the document's own countries
# ("Palma" in a report on Cabo Delgado is not Mallorca's capital; Washington is Washington).
WORLD_CITY = 500_000
# Below this much evidence (two sure places), a document has no theatre to hold readings to.
THEATRE_EVIDENCE = 2.0
# A place this close to one the document is sure of may lie across a border from it.
NEIGHBOUR_KM = 300


def _far_small(reading: Resolution, row: dict, context: DocumentContext) -> bool:
    return (not _sure(reading, row) and row["feature"] == "city"
            and (row["population"] or 0) < SMALL_TOWN and context.share(row["country"]) == 0)
