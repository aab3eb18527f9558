"""Resolution: candidates -> the spans we keep, each with its kind and its readings (registry
groups, reference places), and then -> mentions of entities with stable ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from .extract import BLOCKING_LABELS, DIRECTION_WORDS, PLACE_LABELS, PLACE_TYPE_WORDS
from .fold import fold_name
from .normalise import Registry, best_fuzzy, group_entity_id, new_entity_id
from .types import Candidate, Document, Entity, Mention, Place, Resolution, Resolved

Resolve = Callable[[str, str | None], list[Resolution]]


def resolve_candidates(candidates: list[Candidate], resolve: Resolve,
                    is_demonym: Callable[[str], bool]) -> list[Resolved]:
    """Resolve each candidate, keep the plausible ones and resolve overlaps: the longest span
    wins, then the surer source; an unresolved person or organisation name hides the place
    names inside it (Free *Syrian* Army, *New York* Times) but not the groups."""
    scored = [_judge(c, resolve, is_demonym) for c in candidates]
    ranked = sorted((s for s in scored if s), key=lambda s: (-(s[0].end - s[0].start), -s[2]))
    chosen: list[Resolved] = []
    blockers: list[Candidate] = []
    taken: list[tuple[int, int]] = []
    for cand, kind, priority, readings in ranked:
        if any(cand.start < e and s < cand.end for s, e in taken):
            continue
        if kind is None:  # curated non-entities take their span; unresolved names shade places
            blockers.append(cand)
            if cand.method == "gazetteer":
                taken.append((cand.start, cand.end))
            continue
        if kind == "place" and any(b.start <= cand.start and cand.end <= b.end
                                   and (b.end - b.start) > (cand.end - cand.start)
                                   for b in blockers):
            continue
        chosen.append(Resolved(cand, kind, readings))
        taken.append((cand.start, cand.end))
    return sorted(chosen, key=lambda c: c.candidate.start)


def _judge(cand: Candidate, resolve: Resolve, is_demonym: Callable[[str], bool]):
    """(candidate, kind or None for a blocker, priority, readings), or None to drop it."""
    if cand.kind_hint == "block":
        return cand, None, 3, []
    if cand.method in ("gazetteer", "rule"):
        cand, readings = _read(cand, resolve, cand.kind_hint)
        return cand, cand.kind_hint, 3 if cand.method == "gazetteer" else 2, readings
    if not cand.text[:1].isupper() and not cand.text[:1].isdigit():
        return (cand, None, 1, []) if cand.label in BLOCKING_LABELS else None
    cand, readings = _read(cand, resolve, None)
    best = _acceptable(cand, readings)
    if best is not None:
        return cand, best.kind, 2, [r for r in readings if r.kind == best.kind]
    if cand.label in PLACE_LABELS and cand.text[:1].isupper() and not is_demonym(cand.text):
        return cand, "place", 1, []
    if cand.label in BLOCKING_LABELS:
        return cand, None, 1, []
    return None


def _read(cand: Candidate, resolve: Resolve, kind: str | None
          ) -> tuple[Candidate, list[Resolution]]:
    """Resolve the whole span; when it is unknown, read 'Homs province' and 'Yarmouk camp'
    as the name alone, and 'northern Syria' as Syria (the span shrinks to the name)."""
    readings = resolve(cand.text, kind)
    if readings:
        return cand, readings
    words = cand.text.split(" ")
    if len(words) > 1 and words[-1].lower() in PLACE_TYPE_WORDS:
        return cand, resolve(" ".join(words[:-1]), "place")
    if len(words) > 1 and words[0].lower() in DIRECTION_WORDS and kind != "armed_group":
        rest = " ".join(words[1:])
        readings = resolve(rest, "place")
        if readings:
            start = cand.end - len(rest)
            return replace(cand, start=start, text=rest), readings
    return cand, []


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

@dataclass
class NameClusters:
    """Ids for names no registry or gazetteer knows: spelling variants of one unknown name
    share an id (kind -> folded key -> id), remembered across documents."""

    threshold: float
    known: dict[str, dict[str, str]] = field(default_factory=dict)

    def entity_id(self, kind: str, text: str) -> str:
        key = fold_name(text)
        known = self.known.setdefault(kind, {})
        if key not in known:
            match = best_fuzzy(key, list(known), self.threshold)
            known[key] = known[match[0]] if match else new_entity_id(kind, key)
        return known[key]


# ---- ids of unknown names, before the merge (issue 16) -----------------------------------

class NameIds(Protocol):
    def entity_id(self, kind: str, text: str) -> str: ...


class ProvisionalIds:
    """Ids of unknown names from their folded key alone, whatever else was seen: the merge
    (gazetteer.merge) then folds spelling variants into one id over the run's sorted keys,
    so ids depend neither on document order nor on how documents were split into shards."""

    def entity_id(self, kind: str, text: str) -> str:
        return new_entity_id(kind, fold_name(text))


def link_mentions(doc: Document, resolved: list[Resolved], places: list[Place | None],
                  registry: Registry, clusters: NameIds
                  ) -> tuple[list[Mention], list[Entity]]:
    """Mentions of entities for the resolved spans (places[i] is the place of resolved[i],
    None for groups): registry groups, reference places, and new entities for names
    nobody knows. Entities come once each, with the spellings seen in this document."""
    entities: dict[str, Entity] = {}
    mentions = []
    for item, place in zip(resolved, places):
        cand = item.candidate
        if item.kind == "armed_group":
            entity = _group_entity(registry, clusters, cand.text, item)
        else:
            entity = _place_entity(clusters, cand.text, place)
        entity = entities.setdefault(entity.id, entity)
        if (cand.text, "observed") not in entity.aliases:
            entity.aliases.append((cand.text, "observed"))
        best = item.readings[0] if item.readings else None
        mentions.append(Mention(doc.id, cand.start, cand.end, cand.text, item.kind, entity.id,
                                doc.text[cand.sent_start:cand.sent_end], cand.method,
                                best.score if best else 0.5,
                                best.reason if best else "new entity"))
    return sorted(mentions, key=lambda m: m.start), list(entities.values())


def _group_entity(registry: Registry, clusters: NameIds, text: str,
                  item: Resolved) -> Entity:
    if not item.readings:
        return Entity(clusters.entity_id("armed_group", text), "armed_group", text,
                      fold_name(text))
    gid = item.readings[0].target
    group = registry.groups[gid]
    attrs = {k: group.get(k) for k in ("type", "parent", "affiliation", "wikidata",
                                       "country", "active") if group.get(k)}
    if group.get("parent"):
        attrs["parent"] = group_entity_id(group["parent"])
    return Entity(group_entity_id(gid), "armed_group", group["name"], fold_name(group["name"]),
                  attrs=attrs, aliases=[(n, "registry") for n in registry.names(gid)])


def _place_entity(clusters: NameIds, text: str, place: Place | None) -> Entity:
    if place is not None and place.ref_id is not None:
        source = "geonames" if place.ref_id.startswith("gn-") else "supplement"
        return Entity(place.ref_id, "place", place.name, fold_name(place.name), place=place,
                      aliases=[(n, source) for n in place.names])
    return Entity(clusters.entity_id("place", text), "place", text, fold_name(text),
                  place=place)
