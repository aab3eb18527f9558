"""Import a full GeoNames dump (allCountries.txt/.zip, SY.txt, alternateNamesV2.txt),
streaming, into the reference gazetteer."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from tqdm import tqdm

from . import store
from .errors import BadInput
from .reference import name_rows

SOURCE = "geonames-dump"
BATCH = 20_000
IMPORT_CACHE_MIB = 512  # SQLite page cache while importing (3x faster than the default 2 MiB)
# GeoNames feature class/code -> our feature vocabulary.
_FEATURE_CODES = {
    "ADM1": "admin1", "ADM2": "admin2", "ADM3": "admin2", "PCLI": "country", "PCLD": "country",
    "AIRB": "airbase", "AIRF": "airbase", "AIRP": "airport", "PRN": "prison", "MSQE": "mosque",
    "CH": "church", "MSTY": "monastery", "HSP": "hospital", "CMPRF": "camp", "CMP": "camp",
    "DAM": "dam", "SQR": "square", "HTL": "hotel", "RD": "highway", "RDJCT": "highway",
    "PPLX": "neighbourhood", "RGN": "region", "AREA": "region", "PLN": "plain", "DSRT": "desert",
    "STM": "river", "LK": "lake", "MT": "mountain", "MTS": "mountain", "HLL": "mountain",
    "CONT": "continent", "ISL": "island", "PSTB": "border-crossing", "INSM": "military-base",
}
_FEATURE_CLASSES = {"P": "city", "A": "admin2", "H": "river", "T": "mountain", "L": "region",
                    "R": "highway", "S": "site", "V": "plain", "U": "site"}


def feature_of(feature_class: str, feature_code: str) -> str:
    return _FEATURE_CODES.get(feature_code) or _FEATURE_CLASSES.get(feature_class, "site")


@contextmanager
def open_text(path: Path) -> Iterator[io.TextIOBase]:
    """Open a GeoNames text file, or the .txt inside a GeoNames .zip, as UTF-8 text."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.endswith(".txt")
                       and not n.lower().startswith("readme")]
            if not members:
                raise BadInput(f"{path}: no GeoNames .txt file inside the zip")
            with archive.open(members[0]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8")
    else:
        with path.open(encoding="utf-8") as handle:
            yield handle


def parse_line(line: str, number: int, path: Path) -> tuple[dict, list[str]]:
    """One geoname row -> (ref_places row, its names); raises BadInput naming the line."""
    cols = line.rstrip("\n").split("\t")
    if len(cols) < 19:
        raise BadInput(f"{path}:{number}: expected 19 tab-separated columns, found {len(cols)}")
    try:
        geonameid, lat, lon = int(cols[0]), float(cols[4]), float(cols[5])
        population = int(cols[14] or 0)
    except ValueError as exc:
        raise BadInput(f"{path}:{number}: {exc}") from exc
    row = {"ref_id": f"gn-{geonameid}", "geonameid": geonameid, "name": cols[1], "lat": lat,
           "lon": lon, "country": cols[8] or None, "admin1": cols[10] or None,
           "feature": feature_of(cols[6], cols[7]), "population": population,
           "source": SOURCE, "within": None}
    names = [cols[1], cols[2], *(n for n in cols[3].split(",") if n)]
    return row, names


def import_dump(db: sqlite_utils.Database, path: Path,
                alternate_names: Path | None = None) -> tuple[int, int]:
    """Stream a GeoNames dump into ref_places/ref_names; returns (places, names) loaded.
    Re-importing the same file replaces its rows, so it adds nothing twice."""
    places = names = 0
    store.use_large_cache(db, IMPORT_CACHE_MIB)
    with open_text(path) as handle, tqdm(unit=" rows", desc=path.name, disable=None) as bar:
        batch: list[tuple[dict, list[str]]] = []
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            batch.append(parse_line(line, number, path))
            if len(batch) >= BATCH:
                names += _write_batch(db, batch)
                places += len(batch)
                bar.update(len(batch))
                batch = []
        names += _write_batch(db, batch)
        places += len(batch)
        bar.update(len(batch))
    if alternate_names:
        names += import_alternate_names(db, alternate_names)
    return places, names


def _write_batch(db: sqlite_utils.Database, batch: list[tuple[dict, list[str]]]) -> int:
    if not batch:
        return 0
    rows = [name for place, names in batch for name in name_rows(place["ref_id"], names)]
    ids = [place["ref_id"] for place, _ in batch]
    with store.transaction(db):
        store.delete_ref_names(db, ids)
        store.insert_ref_places(db, [place for place, _ in batch])
        store.insert_ref_names(db, rows)
    return len(rows)


def import_alternate_names(db: sqlite_utils.Database, path: Path) -> int:
    """Add alternateNamesV2 spellings to places already in the gazetteer (links and
    postcodes skipped)."""
    known = store.ref_ids_with_geonameid(db)
    added = 0
    with open_text(path) as handle:
        batch: list[dict] = []
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 4 or cols[2] in {"link", "post", "iata", "icao", "faac", "wkdt"}:
                continue
            ref_id = f"gn-{cols[1]}"
            if ref_id in known:
                batch.extend(name_rows(ref_id, [cols[3]]))
            if len(batch) >= BATCH:
                added += _insert_names(db, batch)
                batch = []
        added += _insert_names(db, batch)
    return added


def _insert_names(db: sqlite_utils.Database, rows: list[dict]) -> int:
    with store.transaction(db):
        store.insert_ref_names(db, rows)
    return len(rows)
