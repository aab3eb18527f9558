"""Resolution: candidates -> the spans we keep, each with its kind and its readings (registry
groups, reference places), and then -> mentions of entities with stable ids."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from .english import LOCATIVES
from .extract import (BLOCKING_LABELS, DIRECTION_WORDS, GROUP_PREFIXES, GROUP_TYPE_WORDS,
                      PLACE_LABELS, PLACE_TYPE_PHRASES, PLACE_TYPE_WORDS)
from .fold import fold_name
from .normalise import Registry, group_entity_id, new_entity_id, trim_oldest
from .types import (Candidate, Document, Entity, Mention, Place, Resolution, Resolved,
                    Weights)

Resolve = Callable[[str, str | None], list[Resolution]]


def _no_lookup(_name: str, _kind: str | None) -> list[Resolution]:
    return []


def resolve_candidates(candidates: list[Candidate], resolve: Resolve,
                       is_demonym: Callable[[str], bool],
                       lookup: Resolve = _no_lookup,
                       prefetch: Callable[[list[str]], None] | None = None,
                       judged: Judgements | None = None) -> list[Resolved]:
    """Resolve each candidate, keep the plausible ones and resolve overlaps: the longest span
    wins, then the surer source; an unresolved person or organisation name hides the place
    names inside it (Free *Syrian* Army, *New York* Times) but not the groups. `lookup`
    answers exact names only, for the spans found by looking words up; `prefetch` is told
    the names that may be read as places first (Resolver.prefetch_places); `judged`
    remembers judgements for the same resolve, lookup and is_demonym (Resolver.judged)."""
    if judged is None:
        judged = {}  # this document's alone
    keys = [_judgement_key(c) for c in candidates]
    if prefetch is not None:
        prefetch(names_to_read([c for c, key in zip(candidates, keys) if key not in judged]))
    scored = [_judge_once(c, key, judged, resolve, lookup, is_demonym)
              for c, key in zip(candidates, keys)]
    ranked = sorted((s for s in scored if s), key=lambda s: (-(s[0].end - s[0].start), -s[2]))
    chosen: list[Resolved] = []
    # Linear in the candidates (comparing each with every span taken so far was quadratic:
    # 28 s for a report naming Aleppo 4,280 times): taken characters are marked in a
    # bytearray, and each blocker is recorded as the furthest end of blockers starting at
    # its start, so a containment check looks only as far back as the longest blocker.
    size = max((s[0].end for s in ranked), default=0)
    taken = bytearray(size)
    shaded = bytearray(size)  # characters under a blocker: looked-up words there are not places
    blocker_ends: dict[int, int] = {}
    longest_blocker = 0
    for cand, kind, priority, readings, weak in ranked:
        if 1 in taken[cand.start:cand.end]:
            continue
        if kind is None:  # curated non-entities take their span; unresolved names shade places
            if _names_something(cand):
                blocker_ends[cand.start] = max(blocker_ends.get(cand.start, 0), cand.end)
                longest_blocker = max(longest_blocker, cand.end - cand.start)
                shaded[cand.start:cand.end] = b"\x01" * (cand.end - cand.start)
            if cand.method == "gazetteer":
                taken[cand.start:cand.end] = b"\x01" * (cand.end - cand.start)
            continue
        if kind == "place" and (
                _inside_a_blocker(cand, blocker_ends, longest_blocker)
                # a word found only by looking it up is shaded by a person or organisation
                # the model saw on the same words ("Kerry said")
                or cand.method == "lookup" and 1 in shaded[cand.start:cand.end]):
            continue
        chosen.append(Resolved(cand, kind, readings, weak))
        taken[cand.start:cand.end] = b"\x01" * (cand.end - cand.start)
    return sorted(chosen, key=lambda c: c.candidate.start)


def _inside_a_blocker(cand: Candidate, blocker_ends: dict[int, int], longest: int) -> bool:
    """True when a longer blocker spans the candidate (one starting at or before it and
    ending at or after it, not the same span)."""
    for start in range(max(cand.start - longest, 0), cand.start + 1):
        end = blocker_ends.get(start)
        if end is not None and end >= cand.end and (start < cand.start or end > cand.end):
            return True
    return False


# Lower-case words that may sit inside a name ("Army of Conquest", "Dar es Salaam").
_NAME_PARTICLES = {"of", "the", "and", "for", "de", "du", "des", "la", "le", "da", "do", "dos",
                   "al", "el", "ash", "as", "ad", "ar", "wa", "wal", "bin", "ibn", "bani",
                   "i", "e", "y", "en"}


# Capitalised words that open a sentence but never a name: the model glues them to the name
# that follows ("Near Lyptsi", "Outside Kasindi").
_OPENING_WORDS = {"near", "in", "at", "from", "to", "outside", "inside", "around", "across",
                  "towards", "toward", "along", "beyond", "via", "after", "before", "during",
                  "since", "until", "while", "when", "where", "meanwhile", "today",
                  "yesterday", "between", "into", "on",
                  "by", "with", "without", "under", "over", "through", "against", "despite",
                  "if", "as", "once", "then", "also", "but", "so", "yet", "later", "earlier"}


def _names_something(cand: Candidate) -> bool:
    """An unresolved span shades the places inside it only when it reads as one name: a
    span with a verb or other lower-case word in it ("Jaish al-Islam left Douma for
    Jarablus"), a list ("Kulgam, Mohd Hameed Wagey", "NORTH WAZIRISTAN/LAKKI", "around
    Zemio and Mboki") or an opening preposition ("Near Lyptsi") is the model's mistake, not
    a name."""
    if any(mark in cand.text for mark in ",/;:|"):
        return False
    words = [w for w in cand.text.replace("-", " ").split() if w[:1].isalpha()]
    if len(words) > 1 and words[0].lower() in _OPENING_WORDS:
        return False
    if _places_listed(cand, words):
        return False
    return all(w[:1].isupper() or w.lower() in _NAME_PARTICLES for w in words)


def _places_listed(cand: Candidate, words: list[str]) -> bool:
    """"(around) Zemio and Mboki": two names joined by "and", no other particle, after a word
    that says a place follows. An organisation's name has its particles ("Union for Peace
    and Justice"); a country's ("Trinidad and Tobago") is resolved, so never a blocker."""
    lowers = [w.lower() for w in words]
    return (after_a_locative(cand) and lowers.count("and") == 1
            and 0 < lowers.index("and") < len(words) - 1
            and all(w[:1].isupper() for w in words if w.lower() != "and"))


def after_a_locative(cand: Candidate) -> bool:
    """The word just before the span says a place follows ("in", "near", "seized")."""
    before = cand.context.partition("|")[0].split()
    return bool(before) and before[-1] in LOCATIVES


def _group_like(name: str) -> bool:
    """A name shaped like an armed group's: "... Forces", "... Army", "Jaish ..."."""
    words = name.lower().replace("\u2019", "'").split()
    return bool(words) and (words[-1].strip("'") in GROUP_TYPE_WORDS
                            or words[0] in GROUP_PREFIXES)


# What _judge makes of a span, by the span's words and source (_judgement_key), without
# its place: (the shorter name it was read as or None, kind, priority, readings, weak), or
# None when it is dropped. Reports repeat their names (18,553 spans for 7,560 keys in 300
# bench documents), and the resolver's readings of a name do not change while it lives.
Judgement = tuple[str | None, str | None, int, list[Resolution], str] | None
Judgements = dict[tuple, Judgement]
JUDGEMENTS_SIZE = 100_000


def _judgement_key(cand: Candidate) -> tuple:
    """What _judge reads of a candidate: all but its place in the text, and of its context
    only whether "operation" comes right before it (read for model and looked-up spans)."""
    return (cand.text, cand.label, cand.method, cand.kind_hint, cand.expansion,
            cand.method in ("ner", "lookup") and _after_operation(cand))


def _judge_once(cand: Candidate, key: tuple, judged: Judgements, resolve: Resolve,
                lookup: Resolve, is_demonym: Callable[[str], bool]):
    """_judge(cand, ...), remembered in judged by key."""
    if key not in judged:
        found = _judge(cand, resolve, lookup, is_demonym)
        judged[key] = None if found is None else (
            None if found[0] is cand else found[0].text, *found[1:])
        trim_oldest(judged, JUDGEMENTS_SIZE)
        return found
    judgement = judged[key]
    if judgement is None:
        return None
    name, kind, priority, readings, weak = judgement
    if name is not None:  # read as the name after its direction word (see _read)
        cand = replace(cand, start=cand.end - len(name), text=name)
    return cand, kind, priority, readings, weak


def _judge(cand: Candidate, resolve: Resolve, lookup: Resolve,
           is_demonym: Callable[[str], bool]):
    """(candidate, kind or None for a blocker, priority, readings, weak), or None to drop
    it; `weak` names why a place reading needs the geocoder's consent (see Resolved)."""
    if cand.kind_hint == "block":
        return cand, None, 3, [], ""
    if cand.method in ("ner", "lookup") and _names_an_operation(cand):
        return cand, None, 1, [], ""  # shades the place names inside: "Operation Claw-Tiger"
    if cand.method == "acronym":  # the document's own definition beats the registry's
        return _defined(cand, resolve(cand.expansion, None), cand.expansion, 4)
    if cand.method == "definition":
        cand, readings = _read(cand, resolve, None, lookup)
        return _defined(cand, readings, cand.text, 3)
    if cand.method == "lookup":
        if is_demonym(cand.text):
            return None
        cand, readings = _read(cand, lookup, "place")
        return (cand, "place", 0, readings, "lookup") if readings else None
    if cand.kind_hint != "armed_group" and is_demonym(cand.text):
        # a people is never a place: "a Tutsi militia" (tagged GPE), "the Hema" (Hama folded)
        return (cand, None, 1, [], "") if cand.label in BLOCKING_LABELS else None
    if cand.method in ("gazetteer", "rule"):
        cand, readings = _read(cand, resolve, cand.kind_hint, lookup)
        return cand, cand.kind_hint, 3 if cand.method == "gazetteer" else 2, readings, ""
    if not _capitalised(cand.text) and not cand.text[:1].isdigit():
        return (cand, None, 1, [], "") if cand.label in BLOCKING_LABELS else None
    cand, readings = _read(cand, resolve, None, lookup)
    best = _acceptable(cand, readings)
    if best is not None:
        return cand, best.kind, 2, [r for r in readings if r.kind == best.kind], ""
    places = [r for r in readings if r.kind == "place"]
    if cand.label in PLACE_LABELS and _capitalised(cand.text) and not is_demonym(cand.text):
        return cand, "place", 1, [], ""
    if places and cand.label in ("ORG", "PERSON") and not is_demonym(cand.text):
        # the model mislabels towns ("Goma" PERSON, "Bakhmut" ORG): a place if the document's
        # theatre agrees, which only the geocoder knows
        return cand, "place", 1, places, cand.label
    if cand.label in BLOCKING_LABELS:
        return cand, None, 1, [], ""
    return None


def _names_an_operation(cand: Candidate) -> bool:
    """"Operation Claw-Eagle", "Operation 1027": a military operation's name is not a
    place, even when its words are ("Claw", a village somewhere)."""
    words = cand.text.split()
    return (bool(words) and words[0].lower() == "operation") or _after_operation(cand)


def _after_operation(cand: Candidate) -> bool:
    return cand.context.partition("|")[0].endswith("operation")


_LEADING_ARTICLE = re.compile(r"^(?:al|el|ad|ar|as|ash|at|az|an|ad-d|ash-sh)[-\u2010\s]")


def _capitalised(text: str) -> bool:
    """Names are capitalised, after a lower-case Arabic article ("al-Qaryatain")."""
    return _LEADING_ARTICLE.sub("", text)[:1].isupper()


def _defined(cand: Candidate, readings: list[Resolution], long_form: str, priority: int):
    """An acronym or its long form: what the long form resolves to, or a new armed group
    when it is shaped like one; anything else is left to the other sources."""
    if readings:
        kind = readings[0].kind
        return cand, kind, priority, [r for r in readings if r.kind == kind], ""
    if _group_like(long_form):
        return cand, "armed_group", priority, [], ""
    return None


def _read(cand: Candidate, resolve: Resolve, kind: str | None,
          exact_place: Resolve = _no_lookup) -> tuple[Candidate, list[Resolution]]:
    """Resolve the whole span; when it is unknown, read 'Homs province' and 'Yarmouk camp'
    as the name alone, and 'northern Syria' as Syria (the span shrinks to the name)."""
    readings = resolve(cand.text, kind)
    words = cand.text.split(" ")
    name = without_type_words(cand.text)
    if name != cand.text and kind != "armed_group":
        # "Tibesti Region" is Tibesti exactly before it is "Tibet Region" loosely
        exact = exact_place(name, "place")
        if exact and all(r.guessed for r in readings):
            return cand, exact
        if not readings:
            return cand, resolve(name, "place")
    if readings:
        return cand, readings
    if len(words) > 1 and words[0].lower() in DIRECTION_WORDS and kind != "armed_group":
        rest = " ".join(words[1:])
        readings = resolve(rest, "place")
        if readings:
            start = cand.end - len(rest)
            return replace(cand, start=start, text=rest), readings
    return cand, []


def names_to_read(candidates: list[Candidate]) -> list[str]:
    """The names _judge may resolve as places: each span, its long form, the span without
    its type words or its direction word ("Idlib province", "northern Syria")."""
    names: list[str] = []
    for cand in candidates:
        if cand.kind_hint == "block":
            continue
        names += (cand.text, without_type_words(cand.text))
        if cand.expansion:
            names.append(cand.expansion)
        first, _, rest = cand.text.partition(" ")
        if rest and first.lower() in DIRECTION_WORDS:
            names.append(rest)
    return names


def without_type_words(text: str) -> str:
    """The name without the type words that close it: 'Talata Mafara Local Government
    Areas' -> 'Talata Mafara', 'Idlib province' -> 'Idlib'."""
    if " " not in text:  # most spans are one word
        return text
    words = text.split(" ")
    lower = [w.lower() for w in words[-3:]]  # type words close the name
    if len(words) > 3 and lower[-1] in {"area", "areas"} and tuple(lower[-3:-1]) in \
            PLACE_TYPE_PHRASES:
        return " ".join(words[:-3])
    if len(words) > 2 and tuple(lower[-2:]) in PLACE_TYPE_PHRASES:
        return " ".join(words[:-2])
    if len(words) > 1 and lower[-1] in PLACE_TYPE_WORDS:
        return " ".join(words[:-1])
    return text


def _acceptable(cand: Candidate, readings: list[Resolution]) -> Resolution | None:
    """The best reading the NER label allows: a place label takes any place; a person or
    organisation label takes a group, or a place only when the match is sure."""
    for reading in readings:
        if reading.kind == "armed_group" and reading.score >= 0.9:
            return reading
        if reading.kind == "place" and (cand.label in PLACE_LABELS or reading.score >= 0.97):
            return reading
    return None


# ---- from resolved spans (and their places) to mentions of entities ------------------------

# ---- ids of unknown names, before the merge (issue 16) -----------------------------------

class NameIds(Protocol):
    def entity_id(self, kind: str, text: str) -> str: ...


class ProvisionalIds:
    """Ids of unknown names from their folded key alone, whatever else was seen: the merge
    (gazetteer.merge) then folds spelling variants into one id over the run's sorted keys,
    so ids depend neither on document order nor on how documents were split into shards."""

    def entity_id(self, kind: str, text: str) -> str:
        return new_entity_id(kind, fold_name(text))


Located = tuple[Resolved, "Place | None"]  # a kept span and its place (None for groups)


def link_mentions(doc: Document, located: list[Located], registry: Registry,
                  clusters: NameIds) -> tuple[list[Mention], list[Entity]]:
    """Mentions of entities for the located spans: registry groups (an acronym or name
    several groups share goes to the one of the document's countries), reference places,
    and new entities for names nobody knows. Entities come once each, with the spellings
    seen in this document."""
    countries = document_countries(located, registry)
    entities: dict[str, Entity] = {}
    mentions = []
    for item, place in located:
        cand = item.candidate
        name = cand.expansion or cand.text
        # the id first: an entity is built once per document, not once per mention
        if item.kind == "armed_group":
            gid = choose_group(item.readings, registry, countries) if item.readings else None
            entity_id = (group_entity_id(gid) if gid is not None
                         else clusters.entity_id("armed_group", name))
        else:
            entity_id = (place.ref_id if place is not None and place.ref_id is not None
                         else clusters.entity_id("place", name))
        entity = entities.get(entity_id)
        if entity is None:
            entity = entities[entity_id] = (
                _group_entity(registry, entity_id, name, gid) if item.kind == "armed_group"
                else _place_entity(entity_id, name, place))
        if (cand.text, "observed") not in entity.aliases:
            entity.aliases.append((cand.text, "observed"))
        best = item.readings[0] if item.readings else None
        mentions.append(Mention(doc.id, cand.start, cand.end, cand.text, item.kind, entity.id,
                                doc.text[cand.sent_start:cand.sent_end], cand.method,
                                best.score if best else 0.5,
                                best.reason if best else "new entity", entity.key))
    return sorted(mentions, key=lambda m: m.start), list(entities.values())


def group_countries(resolved: list[Resolved], registry: Registry) -> Weights:
    """The countries of the armed groups that only one registry entry answers for: a hint
    of the document's theatre for the geocoder."""
    return document_countries([(item, None) for item in resolved], registry)


def document_countries(located: list[Located], registry: Registry) -> Weights:
    """Where the document is: the countries of its located places, and of the armed groups
    only one registry entry answers for (weighted by their order in the registry)."""
    countries: Weights = defaultdict(float)
    for item, place in located:
        if place is not None and place.country and place.status != "unresolved":
            countries[place.country] += 1
        elif item.kind == "armed_group" and len(item.readings) == 1:
            for rank, code in enumerate(registry.countries(item.readings[0].target)[:3]):
                countries[code] += 1 / (rank + 1)
    return countries


def choose_group(readings: list[Resolution], registry: Registry, countries: Weights) -> str:
    """The reading's group that fits the document's countries best; ties go to the surer,
    then the earlier reading."""
    if len(readings) == 1:  # most names: no fit to weigh
        return readings[0].target

    def fit(pair: tuple[int, Resolution]) -> tuple[float, float, int]:
        index, reading = pair
        codes = registry.countries(reading.target)
        return (reading.score, sum(countries.get(c, 0.0) for c in codes), -index)

    return max(enumerate(readings), key=fit)[1].target


def _group_entity(registry: Registry, entity_id: str, name: str, gid: str | None) -> Entity:
    """The registry's group gid, or a new group of that name (gid None)."""
    if gid is None:
        return Entity(entity_id, "armed_group", name, fold_name(name))
    group = registry.groups[gid]
    attrs = {k: group.get(k) for k in ("type", "affiliation", "wikidata", "countries",
                                       "active") if group.get(k)}
    if group.get("parent"):
        attrs["parent"] = group_entity_id(group["parent"])
    return Entity(entity_id, "armed_group", group["name"], fold_name(group["name"]),
                  attrs=attrs, aliases=[(n, "registry") for n in registry.names(gid)])


def _place_entity(entity_id: str, name: str, place: Place | None) -> Entity:
    if place is not None and place.ref_id is not None:
        source = ("geonames" if place.ref_id.startswith("gn-") else
                  "regions" if place.ref_id.startswith("adm1-") else "supplement")
        return Entity(entity_id, "place", place.name, fold_name(place.name), place=place,
                      aliases=[(n, source) for n in place.names])
    return Entity(entity_id, "place", name, fold_name(name), place=place)
