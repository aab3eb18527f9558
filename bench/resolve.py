"""2. Name resolution in process: resolve(name) over noisy gazetteer names."""

from __future__ import annotations

from pathlib import Path

from gazetteer import fold, store
from gazetteer.config import Settings
from gazetteer.normalise import Registry, Resolver

from .common import Results, median, timed


def cold_resolver(db_path: Path) -> Resolver:
    """A new resolver with the folding caches emptied: every run starts cold."""
    fold.fold_name.cache_clear()
    fold.fold_token.cache_clear()
    settings = Settings()
    return Resolver(store.open_db(db_path, create=False), Registry.load(settings.data_dir),
                    settings.fuzzy_threshold)


def bench_resolve(results: Results, db_path: Path, names: list[str], repeats: int) -> None:
    rates, fold_rates = [], []
    for _ in range(repeats):
        resolver = cold_resolver(db_path)
        seconds, _ = timed(lambda: [resolver.resolve(n) for n in names])
        rates.append(len(names) / seconds)
        fold.fold_name.cache_clear()
        fold.fold_token.cache_clear()
        seconds, _ = timed(lambda: [fold.fold_name(n) for n in names])
        fold_rates.append(len(names) / seconds)
    rate, ref = median(rates), median(fold_rates)
    results.add(f"resolve(name), {len(names):,} noisy names ({len(set(names)):,} distinct)",
                f"{rate:,.0f}/s", f"fold_name alone {ref:,.0f}/s", f"{rate / ref:.2f}x",
                ">= 20,000/s", rate >= 20_000)
