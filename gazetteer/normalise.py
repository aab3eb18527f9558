"""Name -> entity: the armed-group registry, alias and folded-key lookup, and fuzzy matching."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils
from rapidfuzz import fuzz, process

from . import store
from .fold import fold_name, is_acronym, skeleton, slugify
from .types import Resolution

if TYPE_CHECKING:
    from .resolve import Judgements

_DIGITS = re.compile(r"\d+")
# Resolutions remembered per resolver: reports repeat the same names, and each fuzzy miss
# scans thousands of keys (about 25% of ingest time before this cache).
RESOLVE_CACHE_SIZE = 100_000
# Reference rows remembered by id for the geocoder (most also sit in the rows by key).
ROWS_BY_ID_SIZE = 50_000


@dataclass
class Registry:
    """The curated armed groups of every file in data/armed_groups/, indexed by folded name
    and by exact acronym. A name or acronym may belong to several groups (ADF, RSF, SNA,
    "Republican Guard"): all are kept, and the document's countries choose."""

    groups: dict[str, dict]
    by_key: dict[str, list[str]] = field(default_factory=dict)
    by_acronym: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> "Registry":
        registry = cls({})
        for path in sorted((data_dir / "armed_groups").glob("*.json")):
            for group in json.loads(path.read_text(encoding="utf-8"))["groups"]:
                registry.add(group)
        return registry

    def add(self, group: dict) -> None:
        if group["id"] in self.groups:
            raise ValueError(f"armed group id {group['id']!r} is defined twice")
        self.groups[group["id"]] = group
        acronyms = group.get("acronyms", [])
        for name in [group["name"], *group.get("aliases", [])]:
            if is_acronym(name) or name in acronyms:
                _append(self.by_acronym, name.replace(".", ""), group["id"])
            else:
                _append(self.by_key, fold_name(name), group["id"])
        for acronym in acronyms:
            _append(self.by_acronym, acronym.replace(".", ""), group["id"])

    def names(self, group_id: str) -> list[str]:
        group = self.groups[group_id]
        return [group["name"], *group.get("aliases", []), *group.get("acronyms", [])]

    def countries(self, group_id: str) -> list[str]:
        """ISO codes of the countries where the group fights, most important first."""
        return list(self.groups[group_id].get("countries") or [])


def _append(index: dict[str, list[str]], key: str, group_id: str) -> None:
    ids = index.setdefault(key, [])
    if group_id not in ids:
        ids.append(group_id)


def group_entity_id(group_id: str) -> str:
    return f"ag-{group_id}"


def new_entity_id(kind: str, key: str) -> str:
    """The id of an entity no registry or gazetteer knows: derived from its folded key only,
    so the same name gets the same id in every run and every document."""
    return f"{'place' if kind == 'place' else 'group'}-x-{slugify(key)}"


class Resolver:
    """Resolves names to registry groups and reference places, ranked, with reasons."""

    def __init__(self, db: sqlite_utils.Database, registry: Registry,
                 fuzzy_threshold: float = 90.0) -> None:
        self.db = db
        self.registry = registry
        self.fuzzy_threshold = fuzzy_threshold
        self._place_keys = self._load_place_keys()
        self._group_choices = list(registry.by_key)
        self._place_choices = list(self._place_keys)
        self._group_index = FuzzyIndex(self._group_choices)
        self._place_index = FuzzyIndex(self._place_choices)
        self._cache: dict[tuple[str, str | None, bool], list[Resolution]] = {}
        # reference rows by folded key or skeleton: names that fold alike, and one name read
        # with and without fuzzy matching, ask for the same key (a third of the queries)
        self._rows: dict[tuple[str, str], list[dict]] = {}
        self._row_of: dict[str, dict] = {}  # ref id -> a row of _rows (for the geocoder)
        self._by_key: dict[str, list[Resolution]] = {}  # folded key -> its exact readings
        self._countries: dict[str, CountryNames] = {}
        # resolve.resolve_candidates' judgements of spans, made of these readings: they are
        # as lasting as the readings, and as bounded (resolve.JUDGEMENTS_SIZE)
        self.judged: Judgements = {}

    def _load_place_keys(self) -> dict[str, set[str]]:
        keys: dict[str, set[str]] = {}
        for row in store.curated_ref_names(self.db):
            keys.setdefault(row["key"], set()).add(row["ref_id"])
        return keys

    def curated_names(self) -> list[tuple[str, str]]:
        """(name, kind) pairs for the extraction matcher: registry aliases and curated places."""
        pairs = [(name, "armed_group") for gid in self.registry.groups
                 for name in self.registry.names(gid)]
        pairs += [(name, "place") for name in store.matcher_names(self.db)]
        return pairs

    def resolve(self, name: str, kind: str | None = None, fuzzy: bool = True) -> list[Resolution]:
        """Return the readings of name, best first; empty when nothing matches."""
        cached = self._cache.get((name, kind, fuzzy))
        if cached is None:
            cached = self._cache[(name, kind, fuzzy)] = self._resolve(name, kind, fuzzy)
            trim_oldest(self._cache, RESOLVE_CACHE_SIZE)
        return list(cached)

    def _resolve(self, name: str, kind: str | None, fuzzy: bool) -> list[Resolution]:
        results: list[Resolution] = []
        if kind in (None, "armed_group"):
            results += self.resolve_group(name, fuzzy)
        if kind in (None, "place"):
            results += self.resolve_place(name, fuzzy)
        return sorted(results, key=lambda r: -r.score)

    def resolve_group(self, name: str, fuzzy: bool = True) -> list[Resolution]:
        compact = name.strip().replace(".", "")
        if compact in self.registry.by_acronym:
            return [Resolution("armed_group", gid, 1.0, "exact acronym")
                    for gid in self.registry.by_acronym[compact]]
        key = fold_name(name)
        if key in self.registry.by_key:
            return [Resolution("armed_group", gid, 0.98, "folded key")
                    for gid in self.registry.by_key[key]]
        if fuzzy:
            match = self._group_index.best(key, self.fuzzy_threshold)
            if match:
                choice, score = match
                return [Resolution("armed_group", gid, score / 100,
                                   f"fuzzy {score:.0f} ~ {choice!r}", found_by="fuzzy")
                        for gid in self.registry.by_key[choice]]
        return []

    def resolve_place(self, name: str, fuzzy: bool = True) -> list[Resolution]:
        """Every reference place one of whose names folds like this one, wherever it is (the
        geocoder weighs them against the document); without fuzzy, exact keys only."""
        key = fold_name(name)
        if not key:
            return []
        readings = self._key_readings(key)
        if readings:
            return list(readings)
        if not fuzzy:
            return []
        if len(key.replace(" ", "")) >= 5:
            rows = self._places_by_key(skeleton(key), column="skel")  # curated names only
            hits = [Resolution("place", r["ref_id"], 0.8, f"skeleton key ~ {r['name']!r}",
                               found_by="skeleton")
                    for r in rows if fuzz.ratio(key, fold_name(r["name"])) >= 85]
            if hits:
                return hits
        match = self._place_index.best(key, self.fuzzy_threshold)
        if match:
            choice, score = match
            return [Resolution("place", ref_id, score / 100 * 0.85,
                               f"fuzzy {score:.0f} ~ {choice!r}", found_by="fuzzy")
                    for ref_id in sorted(self._place_keys[choice])]
        return []

    def _key_readings(self, key: str) -> list[Resolution]:
        """The readings of the places a folded key names, remembered: names that fold
        alike, and a name read with and without fuzzy matching, share them."""
        readings = self._by_key.get(key)
        if readings is None:
            readings = self._by_key[key] = [
                Resolution("place", r["ref_id"], _exact_score(r),
                           "folded key" + (" (curated)" if r["curated"] else ""),
                           curated=bool(r["curated"]))
                for r in self._places_by_key(key)]
            trim_oldest(self._by_key, RESOLVE_CACHE_SIZE)
        return readings

    def _places_by_key(self, key: str, column: str = "key") -> list[dict]:
        """store.ref_places_by_key, remembered (the rows are only read); by skeleton, only
        the places with a curated name of that skeleton."""
        rows = self._rows.get((column, key))
        if rows is None:
            rows = (store.ref_places_by_key(self.db, key) if column == "key" else
                    store.curated_ref_places_by_skeleton(self.db, key))
            self._remember(column, key, rows)
        return rows

    def _remember(self, column: str, key: str, rows: list[dict]) -> None:
        self._rows[(column, key)] = rows
        trim_oldest(self._rows, RESOLVE_CACHE_SIZE)
        for row in rows:
            self._row_of[row["ref_id"]] = row
        trim_oldest(self._row_of, ROWS_BY_ID_SIZE)

    def prefetch_places(self, names: Iterable[str]) -> None:
        """Read the reference rows of names about to be resolved in one query (a document's
        names: one query per name was a tenth of ingest)."""
        keys = {key for name in names if (key := fold_name(name)) and ("key", key) not in
                self._rows}
        if keys:
            for key, rows in store.ref_places_by_keys(self.db, keys).items():
                self._remember("key", key, rows)

    def place_row(self, ref_id: str) -> dict | None:
        """The reference place (store.ref_place's row) when a name of it was read here."""
        row = self._row_of.get(ref_id)
        return None if row is None else {k: v for k, v in row.items() if k != "curated"}

    def lookup_place(self, name: str, kind: str | None = "place") -> list[Resolution]:
        """Exact folded-key readings only: for words looked up because they are capitalised."""
        return self.resolve(name, "place", fuzzy=False) if kind in (None, "place") else []

    def resolve_place_in(self, name: str, countries: list[str]) -> list[Resolution]:
        """Spelling variants of places in the document's own countries: a consonant
        skeleton or a fuzzy match over every name of those countries (built per country on
        first use: Syria's 300 towns, not the world's 235,000)."""
        key = fold_name(name)
        if len(key.replace(" ", "")) < 5:
            return []
        for country in countries:
            names = self._countries.get(country)
            if names is None:
                names = self._countries[country] = CountryNames(
                    store.country_ref_keys(self.db, country))
            found = names.readings(key, self.fuzzy_threshold)
            if found:
                return found
        return []

    def candidates(self, name: str, kind: str | None = None, country: str | None = None,
                   limit: int = 20) -> list[dict]:
        """The ranked answers for a name, as the API and reconciliation serve them: the
        readings of resolve(), plus names curators and reports added to the store, merged
        ids redirected; a wanted country ranks its places first. `match` is true when the
        best candidate is an exact or folded-key hit that no other such hit equals (a curated
        Homs beats Libya's al-Khums; two uncurated Kobanis stay a question)."""
        found: dict[str, dict] = {}
        for reading in self.resolve(name, kind):
            candidate = self._describe(reading)
            found.setdefault(candidate["entity_id"], candidate)
        for row in store.entities_by_alias_key(self.db, fold_name(name), kind):
            found.setdefault(row["id"], {
                **row, "entity_id": row.pop("id"), "score": STORED_ALIAS_SCORE,
                "reason": f"stored alias ({row.pop('source')})", "exact": True})
        redirects = store.merged_ids(self.db)
        for candidate in found.values():
            if not _in_country(candidate, country):
                candidate["score"] = round(candidate["score"] * OTHER_COUNTRY_PENALTY, 3)
        ranked = sorted(found.values(), key=_rank)
        seen: set[str] = set()
        results = []
        for candidate in ranked:
            candidate["entity_id"] = redirects.get(candidate["entity_id"], candidate["entity_id"])
            if candidate["entity_id"] not in seen:
                seen.add(candidate["entity_id"])
                results.append(candidate)
        stored_names = store.entity_names(self.db, [c["entity_id"] for c in results[:limit]])
        for candidate in results:  # a curator's or the reports' name beats the reference's
            candidate["name"] = stored_names.get(candidate["entity_id"], candidate["name"])
        exact = [c for c in results if c["exact"] and _in_country(c, country)]
        for candidate in results:
            candidate["match"] = _sure(candidate, results, exact)
            candidate.pop("population", None)
        return results[:limit]

    def _describe(self, reading: Resolution) -> dict:
        exact = not reading.guessed
        if reading.kind == "armed_group":
            group = self.registry.groups[reading.target]
            return {"kind": reading.kind, "entity_id": group_entity_id(reading.target),
                    "name": group["name"], "type": group.get("type"),
                    "score": round(reading.score, 3), "reason": reading.reason, "exact": exact}
        row = store.ref_place(self.db, reading.target) or {}
        return {"kind": reading.kind, "entity_id": reading.target, "name": row.get("name"),
                "lat": row.get("lat"), "lon": row.get("lon"), "geonameid": row.get("geonameid"),
                "country": row.get("country"), "feature": row.get("feature"),
                "population": row.get("population"), "score": round(reading.score, 3),
                "reason": reading.reason, "exact": exact}


# A name a curator or a report attached to a stored entity is as good as a folded-key hit.
STORED_ALIAS_SCORE = 0.97
# Places outside the country a caller asked for keep their place but lose this much score.
OTHER_COUNTRY_PENALTY = 0.8


def _in_country(candidate: dict, country: str | None) -> bool:
    return not country or candidate["kind"] != "place" or candidate.get("country") == country


def _sure(candidate: dict, ranked: list[dict], exact: list[dict]) -> bool:
    """Safe to accept without a look: the top answer, exact, and strictly the best exact one."""
    return (candidate is ranked[0] and candidate in exact
            and all(other["score"] < candidate["score"] for other in exact
                    if other is not candidate))


def _rank(candidate: dict) -> tuple:
    """Best first: score, then the bigger place, then the id (stable across runs)."""
    return (-candidate["score"], -(candidate.get("population") or 0), candidate["entity_id"])


def best_fuzzy(key: str, choices: list[str], threshold: float) -> tuple[str, float] | None:
    """The best rapidfuzz match of a folded key, guarded against merging distinct names:
    a different first letter or number is a different name (Homs/Hama, 13th/17th Division)."""
    if len(key) < 5 or not choices:
        return None
    match = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=threshold)
    if not match:
        return None
    choice, score = match[0], match[1]
    if choice[0] != key[0] or _DIGITS.findall(choice) != _DIGITS.findall(key):
        return None
    return choice, score


class FuzzyIndex:
    """best_fuzzy over a fixed list of choices, with the same answers, faster: the choices
    are bucketed by length and first letter, and only buckets that can reach the score are
    scanned (ratio <= 200 * min(a, b) / (a + b) for lengths a and b). A miss costs a scan of
    the same-letter buckets only, about 1/20 of the list."""

    def __init__(self, choices: list[str]) -> None:
        self.size = len(choices)
        self._by_length: dict[int, tuple[list[str], list[int]]] = {}
        self._by_letter: dict[tuple[int, str], tuple[list[str], list[int]]] = {}
        self._windows: dict[tuple[int, float], list[int]] = {}  # (length, score) -> lengths
        for i, choice in enumerate(choices):
            for bucket in (self._by_length.setdefault(len(choice), ([], [])),
                           self._by_letter.setdefault((len(choice), choice[:1]), ([], []))):
                bucket[0].append(choice)
                bucket[1].append(i)

    def add(self, choice: str) -> None:
        """Append a choice: it ranks after the others on equal scores, as if it had been
        last in the list (the merge grows the index name by name, in sorted order)."""
        new_length = len(choice) not in self._by_length
        for bucket in (self._by_length.setdefault(len(choice), ([], [])),
                       self._by_letter.setdefault((len(choice), choice[:1]), ([], []))):
            bucket[0].append(choice)
            bucket[1].append(self.size)
        self.size += 1
        if new_length:
            self._windows.clear()

    def _lengths(self, n: int, score: float) -> list[int]:
        if (n, score) not in self._windows:
            self._windows[(n, score)] = [m for m in self._by_length
                                         if 200 * min(n, m) / (n + m) >= score]
        return self._windows[(n, score)]

    def best(self, key: str, threshold: float) -> tuple[str, float] | None:
        """What best_fuzzy(key, choices, threshold) returns."""
        if len(key) < 5 or not self.size:
            return None
        found = None  # (score, index, choice): the best of the choices with key's first letter
        for length in self._lengths(len(key), threshold):
            bucket = self._by_letter.get((length, key[0]))
            if bucket is None:
                continue
            match = process.extractOne(key, bucket[0], scorer=fuzz.ratio,
                                       score_cutoff=threshold)
            if match and (found is None or (match[1], -bucket[1][match[2]]) > (found[0],
                                                                              -found[1])):
                found = (match[1], bucket[1][match[2]], match[0])
        if found is None or self._beaten(key, *found):
            return None
        score, _, choice = found
        if _DIGITS.findall(choice) != _DIGITS.findall(key):
            return None
        return choice, score

    def _beaten(self, key: str, score: float, index: int, _choice: str) -> bool:
        """True when a choice with another first letter scores higher (or as high, earlier in
        the list): best_fuzzy would pick it and then refuse it."""
        for length in self._lengths(len(key), score):
            choices, indices = self._by_length[length]
            match = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=score)
            if match and match[0][0] != key[0] and (
                    match[1] > score or indices[match[2]] < index):
                return True
        return False


def _exact_score(row: dict) -> float:
    """A curated name is surest; a region generated for every country is a shade less sure
    than a town of the same name (bare "Baghdad" is the city unless the text says region)."""
    if row["curated"]:
        return 0.97
    return 0.88 if row["feature"] == "admin1" else 0.9


def trim_oldest(memo: dict, size: int) -> None:
    """Forget the entries first added until the memo holds size (dicts keep their order)."""
    while len(memo) > size:
        memo.pop(next(iter(memo)))  # oldest first


class CountryNames:
    """The names of one country's places, for the looser look-ups of resolve_place_in."""

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        self.by_key: dict[str, set[str]] = {}
        self.by_skeleton: dict[str, set[tuple[str, str]]] = {}
        for key, skel, ref_id in rows:
            self.by_key.setdefault(key, set()).add(ref_id)
            self.by_skeleton.setdefault(skel, set()).add((key, ref_id))
        self.keys = list(self.by_key)
        self.index = FuzzyIndex(self.keys)

    def readings(self, key: str, threshold: float) -> list[Resolution]:
        # a shared skeleton alone is too loose (Homs/Hims/Hamas): the spelling must be close
        by_skeleton = sorted({ref_id for other, ref_id in self.by_skeleton.get(skeleton(key), ())
                              if fuzz.ratio(key, other) >= 85})
        if by_skeleton:
            return [Resolution("place", ref_id, 0.8, "skeleton key, in the document's country",
                               found_by="skeleton")
                    for ref_id in by_skeleton]
        match = self.index.best(key, threshold)
        if not match:
            return []
        choice, score = match
        return [Resolution("place", ref_id, score / 100 * 0.85,
                           f"fuzzy {score:.0f} ~ {choice!r}, in the document's country",
                           found_by="fuzzy")
                for ref_id in sorted(self.by_key[choice])]
