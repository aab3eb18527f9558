"""The dataclasses the stages pass to each other: Document, Candidate, Resolved, Place,
Entity, Mention, Point."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Kind = Literal["place", "armed_group"]
KINDS: tuple[str, ...] = ("place", "armed_group")
Weights = dict[str, float]  # country code -> weight of the evidence for it


@dataclass(frozen=True)
class Point:
    """A WGS84 point; x is longitude, y is latitude, so GeoJSON order comes from one place."""

    x: float
    y: float

    @property
    def lat(self) -> float:
        return self.y

    @property
    def lon(self) -> float:
        return self.x

    def geojson(self) -> list[float]:
        return [round(self.x, 6), round(self.y, 6)]


@dataclass(frozen=True)
class Document:
    """One report's text and what is known about it; the new fields default to unknown."""

    id: str  # sha256 of the text
    text: str
    title: str
    source: str  # the path, URL or "api"/"<stdin>" it was read from
    url: str | None = None  # canonical URL when known (the page's own, else where fetched)
    published: str | None = None  # ISO 8601 date or datetime
    published_source: str | None = None  # metadata, dateline, given, feed or url
    site_name: str | None = None
    author: str | None = None
    language: str | None = None  # primary language subtag, such as "en"
    pages: tuple[int, ...] = ()  # start offset of each page in text; empty when not paged


# Candidate and Resolution are values nobody changes (dataclasses.replace makes new ones),
# but not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__,
# six times the cost, and ingest makes some 30,000 of them per 300 bench documents. (Nor
# slotted: slotted dataclasses pickle through Python code, twice as slow from a worker.)
@dataclass
class Candidate:
    """A span the extractor thinks may name a place or an armed group."""

    start: int
    end: int
    text: str
    label: str  # spaCy NER label, or GAZETTEER / RULE for our own matchers
    method: str  # ner, gazetteer, rule
    kind_hint: str | None  # place / armed_group when the source knows, else None
    sent_start: int
    sent_end: int
    context: str = ""  # the words around the span: "before words|after words"
    expansion: str = ""  # for an acronym the document defined: its long form


@dataclass
class Resolution:
    """One way a name can be read: which entity, how sure, and why."""

    kind: str  # place / armed_group
    target: str  # registry group id, or reference place id (gn-..., sup-...)
    score: float  # 0-1
    reason: str  # in words, for people: exact acronym / folded key / fuzzy 93 ~ 'Idleb'
    found_by: str = "key"  # key (exact or folded) / skeleton / fuzzy
    curated: bool = False  # the name is one of our curated ones

    @property
    def guessed(self) -> bool:
        """Found by a spelling guess (skeleton or fuzzy), not by the name itself."""
        return self.found_by != "key"


@dataclass
class Resolved:
    """A candidate the resolver kept: its kind and its readings, best first (none for a
    name nobody knows)."""

    candidate: Candidate
    kind: str
    readings: list[Resolution]
    # Why a place needs the geocoder's consent: "lookup" (found by looking words up),
    # "PERSON"/"ORG" (the model saw a person or organisation); empty when it does not.
    weak: str = ""


@dataclass
class Place:
    """A geocoded (or unresolved) place, as the geocoder decided it."""

    ref_id: str | None
    name: str
    point: Point | None
    geonameid: int | None = None
    country: str | None = None
    admin1: str | None = None
    feature: str | None = None
    confidence: float = 0.0
    precision: int | None = None  # ACLED-style: 1 exact, 2 near/within district, 3 region
    reason: str = ""
    geocoder: str = "offline"
    status: str = "resolved"  # resolved / approximate / unresolved
    names: tuple[str, ...] = ()  # the reference's names for it, curated first


@dataclass
class Entity:
    id: str
    kind: str
    name: str
    key: str
    place: Place | None = None
    attrs: dict = field(default_factory=dict)  # registry facts: type, parent, wikidata...
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (name, source)


@dataclass
class Mention:
    document_id: str
    start: int
    end: int
    text: str
    kind: str
    entity_id: str
    sentence: str
    method: str
    confidence: float
    resolution: str = ""  # how the name was resolved (exact alias, folded key, fuzzy 93...)
    # The folded key of the entity's name: for a defined acronym, its long form's. The merge
    # names an unknown entity by it; not stored (the entity row holds it).
    entity_key: str = ""

    def as_dict(self) -> dict:
        return asdict(self)
