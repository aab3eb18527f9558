"""`python -m bench [--quick] [--only SECTION ...]`: the performance table of issue #6."""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import psutil

from gazetteer import store
from gazetteer.config import Settings

from . import api, corpus, geonames, ingest, reports, resolve
from .common import WORK, Results, reference_db

SECTIONS = ("ingest", "rss", "resolve", "api", "geonames", "long", "neighbours")
FULL = {"sizes": (1_000, 10_000), "repeats": {1_000: 3, 10_000: 1}, "names": 100_000,
        "resolve_repeats": 3, "requests": 2_000, "api_repeats": 3, "export_repeats": 3,
        "geonames_rows": 2_000_000, "rss_size": 10_000, "rss_workers": (2,), "long_repeats": 3}
QUICK = {"sizes": (1_000,), "repeats": {1_000: 1}, "names": 20_000, "resolve_repeats": 1,
         "requests": 400, "api_repeats": 1, "export_repeats": 1, "geonames_rows": 200_000,
         "rss_size": 1_000, "rss_workers": (1, 2), "long_repeats": 1}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, one run each")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    results = Results()
    print(f"bench ({'quick' if args.quick else 'full'}): work folder {WORK}", flush=True)
    reference = reference_db()
    pools = _pools(reference)
    corpora = {n: _corpus(n, pools) for n in sorted(set(plan["sizes"]) | {plan["rss_size"]})}
    ingested = None
    if "ingest" in args.only:
        ingested = ingest.bench_ingest(results, reference,
                                       {n: corpora[n] for n in plan["sizes"]}, plan["repeats"])
    if "rss" in args.only:
        folder, _ = corpora[plan["rss_size"]]
        for workers in plan["rss_workers"]:
            ingest.bench_ingest_rss(results, reference, folder, plan["rss_size"], workers)
    names = corpus.noisy_names(plan["names"], pools)
    if "resolve" in args.only:
        resolve.bench_resolve(results, reference, names, plan["resolve_repeats"])
    if "api" in args.only:
        size = max(plan["sizes"])
        base = WORK / "ingest-w2.db" if ingested else None
        db_path = _api_store(reference, size, base)
        api.bench_export_memory(results, db_path)
        api.bench_api(results, db_path, names, plan["requests"], plan["api_repeats"],
                      plan["export_repeats"])
    if "geonames" in args.only:
        dump = corpus.write_geonames(WORK / f"geonames-{plan['geonames_rows']}.txt",
                                     plan["geonames_rows"], pools)
        geonames.bench_geonames(results, reference, dump, plan["geonames_rows"])
    if "long" in args.only:
        texts = corpus.documents(reports.LONG_SOURCE_DOCS, pools, corpus.sentence_templates())
        reports.bench_long_document(results, reference, texts, plan["long_repeats"])
    if "neighbours" in args.only:
        reports.bench_neighbours(results, reference)
    print()
    print(table(results, args, time.perf_counter() - started))


def _pools(reference: Path) -> corpus.NamePools:
    db = store.open_db(reference, create=False)
    pools = corpus.name_pools(db, Settings().data_dir)
    db.conn.close()
    return pools


def _corpus(size: int, pools: corpus.NamePools) -> tuple[Path, list[str]]:
    texts = corpus.documents(size, pools, corpus.sentence_templates())
    return corpus.write_corpus(ingest.corpus_folder(size), texts), texts


def _api_store(reference: Path, size: int, ingested: Path | None) -> Path:
    """The corpus of `size` documents ingested (reusing this run's ingest when there was one)
    plus every cities500 place as an entity; cached in the work folder."""
    from .common import fresh_copy, settings_for
    from gazetteer.pipeline import open_engine, run

    cached = WORK / f"api-{size}.db"
    if not cached.exists():
        if ingested is None:
            db = fresh_copy(reference, "ingest-w2.db")
            engine = open_engine(settings_for(db, workers=2))
            run(engine, [ingest.corpus_folder(size)])
            engine.db.conn.close()
            ingested = db
        api.api_store(ingested, cached.name)
    store.open_db(cached).conn.close()  # indexes added since the cache was built
    return cached


def table(results: Results, args, seconds: float) -> str:
    mem = psutil.virtual_memory().total / 2**30
    lines = [f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
             f"{mem:.0f} GiB RAM, Python {platform.python_version()}, SQLite "
             f"{__import__('sqlite3').sqlite_version}; `python -m bench"
             f"{' --quick' if args.quick else ''}` took {seconds / 60:.1f} min.", "",
             "| figure | value | reference (same run) | ratio | goal | met |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in results.rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.figure} | {r.value} | {r.reference} | {r.ratio} | {r.goal} | {met} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
