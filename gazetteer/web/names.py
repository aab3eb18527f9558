"""Names for codes on the pages: countries (countryinfo) and first-level regions
(data/regions.json by GeoNames admin1 code), loaded once per data folder."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4)
def _regions(data_dir: Path) -> dict[tuple[str, str], str]:
    path = data_dir / "regions.json"
    if not path.exists():
        return {}
    rows = json.loads(path.read_text("utf-8"))["regions"]
    return {(r["country"], r["gn_admin1"]): r["name"] for r in rows if r.get("gn_admin1")}


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    import countryinfo

    names = {}
    for info in countryinfo.all_countries():
        try:
            names[info.iso(2)] = info.name().title()
        except (KeyError, TypeError, ValueError):
            continue
    return names


def country_name(code: str | None) -> str | None:
    if not code:
        return None
    return _countries().get(code.upper(), code)


def region_name(data_dir: Path, country: str | None, admin1: str | None) -> str | None:
    """The region's name for a GeoNames admin1 code; the code itself when unknown."""
    if not admin1:
        return None
    return _regions(data_dir).get((country or "", admin1), admin1)
