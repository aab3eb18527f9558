"""`gazetteer eval`: the guideline's scores for our pipeline and for the DIY baseline."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import store
from .config import PROJECT_DIR
from .errors import BadInput
from .geocode import distance_km
from .types import KINDS, Document, Point


# The development sets the README's accuracy tables report (guideline v1.1).
DEVELOPMENT_SETS = [PROJECT_DIR / "tests" / "data" / "seeds.gold.json",
                    PROJECT_DIR / "tests" / "data" / "theatres.gold.json"]


@dataclass
class Predicted:
    start: int
    end: int
    text: str
    kind: str
    entity: str
    lat: float | None
    lon: float | None
    geonameid: int | None


@dataclass
class Scores:
    name: str
    mention: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    norm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    acc161: float = 0.0
    acc25: float = 0.0
    median_km: float | None = None
    answered: float = 0.0
    exact_geonameid: float = 0.0
    n_points: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)


def load_gold(path: Path) -> dict:
    """Return the gold file; raises BadInput when it is not JSON of the guideline's shape."""
    try:
        gold = json.loads(path.read_text(encoding="utf-8"))
        for doc in gold["documents"]:
            for m in doc["mentions"]:
                if doc["text"][m["start"]:m["end"]] != m["text"]:
                    raise BadInput(f"{path}: offsets of {m['text']!r} do not match the text")
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError and UnicodeError too
        raise BadInput(f"{path}: not a gold file ({type(exc).__name__}: {exc})") from exc
    return gold


def _prf(tp_p: int, n_pred: int, tp_g: int, n_gold: int) -> tuple[float, float, float]:
    p = tp_p / n_pred if n_pred else 0.0
    r = tp_g / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _overlaps(a, b) -> bool:
    return a.start < b["end"] and b["start"] < a.end


def score(name: str, gold: dict, predictions: dict[str, list[Predicted]],
          examples: bool = False) -> Scores:
    """Score predictions (document id -> mentions) against the gold, per the guideline."""
    result = Scores(name)
    pairs: list[tuple[str, str]] = []  # (gold entity, predicted entity) per matched mention
    geo: list[tuple[dict, Predicted, dict]] = []
    counts = {k: [0, 0, 0, 0] for k in KINDS}  # tp_pred, n_pred, tp_gold, n_gold
    for doc in gold["documents"]:
        preds = predictions.get(doc["id"], [])
        required = [g for g in doc["mentions"] if not g.get("optional")]
        optional = [g for g in doc["mentions"] if g.get("optional")]
        for p in preds:
            hits = [g for g in required if g["kind"] == p.kind and _overlaps(p, g)]
            if not hits and any(_overlaps(p, g) for g in optional):
                continue  # neither rewarded nor penalised
            counts[p.kind][1] += 1
            if hits:
                counts[p.kind][0] += 1
            elif examples:
                result.examples.append(f"false alarm  {p.kind:<11} {p.text!r} ({doc['id']}:{p.start})")
        for g in required:
            counts[g["kind"]][3] += 1
            hits = [p for p in preds if p.kind == g["kind"] and _overlaps(p, g)]
            if hits:
                counts[g["kind"]][2] += 1
                pairs.append((g["entity"], hits[0].entity))
                entity = gold["entities"][g["entity"]]
                if g["kind"] == "place" and entity.get("lat") is not None:
                    geo.append((g, hits[0], entity))
            elif examples:
                result.examples.append(f"miss         {g['kind']:<11} {g['text']!r} ({doc['id']}:{g['start']})")
    result.mention = {k: _prf(*c) for k, c in counts.items()}
    result.norm = pairwise_f1(pairs)
    _score_geo(result, geo, examples)
    _score_ids(result, gold, predictions)
    if examples:
        result.examples += _cluster_examples(pairs)
    return result


def pairwise_f1(pairs: list[tuple[str, str]]) -> tuple[float, float, float]:
    """Pairwise clustering P/R/F1 of predicted entity ids against gold entity ids."""
    def same_pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = same_pairs(Counter(pairs))
    gold_same = same_pairs(Counter(g for g, _ in pairs))
    pred_same = same_pairs(Counter(p for _, p in pairs))
    p = both / pred_same if pred_same else 1.0
    r = both / gold_same if gold_same else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _score_geo(result: Scores, geo: list, examples: bool) -> None:
    """Guideline v1.1: acc@161km over every located gold place, acc@25km over points only
    (a country's or a province's centre cannot be judged at 25 km), an area found with
    its own GeoNames id counts as 0 km."""
    errors: list[tuple[float, bool]] = []  # (km, gold is a point)
    answered = 0
    for g, p, entity in geo:
        point = not entity.get("area")
        if entity.get("area") and entity.get("geonameid") and p.geonameid == entity["geonameid"]:
            answered += 1
            errors.append((0.0, point))
            continue
        if p.lat is None:
            errors.append((float("inf"), point))
            if examples:
                result.examples.append(f"no location  {g['text']!r} (gold {entity['name']})")
            continue
        answered += 1
        km = distance_km(Point(p.lon, p.lat), Point(entity["lon"], entity["lat"]))
        errors.append((km, point))
        if examples and km > (25 if point else 161):
            result.examples.append(f"geocode off  {g['text']!r}: {km:.0f} km from {entity['name']}")
    n = len(errors) or 1
    points = [km for km, point in errors if point]
    result.acc161 = sum(km <= 161 for km, _ in errors) / n
    result.acc25 = sum(km <= 25 for km in points) / (len(points) or 1)
    result.n_points = len(points)
    result.median_km = statistics.median(km for km, _ in errors) if errors else None
    result.answered = answered / n


def _score_ids(result: Scores, gold: dict, predictions: dict[str, list[Predicted]]) -> None:
    """Exact GeoNames id, end to end: over every required gold place mention whose entity
    has an id, the share the system found and gave that id (a miss counts as wrong)."""
    total = exact = 0
    for doc in gold["documents"]:
        preds = [p for p in predictions.get(doc["id"], []) if p.kind == "place"]
        for g in doc["mentions"]:
            entity = gold["entities"][g["entity"]]
            if g.get("optional") or g["kind"] != "place" or not entity.get("geonameid"):
                continue
            total += 1
            hits = [p for p in preds if _overlaps(p, g)]
            exact += bool(hits) and hits[0].geonameid == entity["geonameid"]
    result.exact_geonameid = exact / total if total else 0.0


def _cluster_examples(pairs: list[tuple[str, str]]) -> list[str]:
    by_gold, by_pred = defaultdict(set), defaultdict(set)
    for g, p in pairs:
        by_gold[g].add(p)
        by_pred[p].add(g)
    lines = [f"split        gold {g} -> {sorted(ps)}" for g, ps in by_gold.items() if len(ps) > 1]
    lines += [f"merged       {p} <- gold {sorted(gs)}" for p, gs in by_pred.items() if len(gs) > 1]
    return lines


def predict_pipeline(engine, gold: dict) -> dict[str, list[Predicted]]:
    """Our pipeline, through the same code path as `gazetteer extract`."""
    from .pipeline import analyse

    docs = [Document(d["id"], d["text"], d["id"], d.get("source", d["id"]))
            for d in gold["documents"]]
    out = {}
    for doc, mentions, entities in analyse(engine, docs):
        by_id = {e.id: e for e in entities}
        out[doc.id] = [_predicted(m, by_id[m.entity_id]) for m in mentions]
    return out


def _predicted(m, entity) -> Predicted:
    place = entity.place
    point = place.point if place else None
    return Predicted(m.start, m.end, m.text, m.kind, m.entity_id,
                     point.lat if point else None, point.lon if point else None,
                     place.geonameid if place else None)


def predict_baseline(engine, gold: dict) -> dict[str, list[Predicted]]:
    """The do-it-yourself baseline: the full spaCy pipeline's GPE/LOC/FAC as places and ORG
    as armed groups, id = lower-cased text, the most populous exact GeoNames name match."""
    import spacy

    nlp = spacy.load(engine.settings.spacy_model)
    out = {}
    for doc in gold["documents"]:
        preds = []
        for ent in nlp(doc["text"]).ents:
            kind = {"GPE": "place", "LOC": "place", "FAC": "place", "ORG": "armed_group"}.get(
                ent.label_)
            if kind is None:
                continue
            row = (store.exact_geonames_place(engine.db, ent.text) if kind == "place"
                   else None) or {}
            preds.append(Predicted(ent.start_char, ent.end_char, ent.text, kind,
                                   ent.text.lower(), row.get("lat"), row.get("lon"),
                                   row.get("geonameid")))
        out[doc["id"]] = preds
    return out


def run_eval(engine, gold_path: Path, baseline: bool = False, examples: bool = False) -> str:
    """Return the printed report: our scores, and the baseline's beside them."""
    gold = load_gold(gold_path)
    results = []
    started = time.perf_counter()
    ours = score("gazetteer", gold, predict_pipeline(engine, gold), examples)
    ours.seconds = time.perf_counter() - started
    results.append(ours)
    if baseline:
        started = time.perf_counter()
        base = score("baseline", gold, predict_baseline(engine, gold))
        base.seconds = time.perf_counter() - started
        results.append(base)
    return format_report(results, gold_path) + ("\n\n" + "\n".join(ours.examples)
                                                if examples else "")


def format_report(results: list[Scores], gold_path: Path) -> str:
    names = [r.name for r in results]
    lines = [f"gold: {gold_path}", f"{'score':<28}" + "".join(f"{n:>12}" for n in names)]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:<28}" + "".join(f"{v:>12}" for v in values))

    for kind in KINDS:
        for i, part in enumerate(("P", "R", "F1")):
            row(f"mention {part} {kind}", [f"{r.mention[kind][i]:.3f}" for r in results])
    row("normalisation pairwise P", [f"{r.norm[0]:.3f}" for r in results])
    row("normalisation pairwise R", [f"{r.norm[1]:.3f}" for r in results])
    row("normalisation pairwise F1", [f"{r.norm[2]:.3f}" for r in results])
    row("acc@161km", [f"{r.acc161:.3f}" for r in results])
    row("acc@25km (points)", [f"{r.acc25:.3f}" for r in results])
    row("median error km", [f"{r.median_km:.1f}" if r.median_km is not None else "-"
                            for r in results])
    row("places answered", [f"{r.answered:.3f}" for r in results])
    row("GeoNames id, end to end", [f"{r.exact_geonameid:.3f}" for r in results])
    row("wall time s", [f"{r.seconds:.1f}" for r in results])
    return "\n".join(lines)
