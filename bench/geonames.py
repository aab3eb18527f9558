"""6. GeoNames import: rows/s of a generated dump in GeoNames format."""

from __future__ import annotations

from pathlib import Path

from gazetteer import fold, store
from gazetteer.geonames import import_dump, parse_line

from .common import Results, fresh_copy, timed


def bench_geonames(results: Results, reference: Path, dump: Path, rows: int) -> None:
    """Import into a copy of the reference database (as a user would, over cities500),
    against parsing the same file alone."""
    fold.fold_name.cache_clear()
    fold.fold_token.cache_clear()
    parse_s, _ = timed(lambda: sum(1 for n, line in enumerate(dump.open(encoding="utf-8"), 1)
                                   if parse_line(line, n, dump)))
    db_path = fresh_copy(reference, "geonames.db")
    db = store.open_db(db_path)
    seconds, (places, names) = timed(lambda: import_dump(db, dump))
    db.conn.close()
    assert places == rows, (places, rows)
    rate, ref = places / seconds, places / parse_s
    results.add(f"GeoNames import, {rows:,} rows ({names:,} names)", f"{rate:,.0f} rows/s",
                f"parse_line alone {ref:,.0f} rows/s", f"{rate / ref:.2f}x", ">= 100,000 rows/s",
                rate >= 100_000)
    db_path.unlink()
