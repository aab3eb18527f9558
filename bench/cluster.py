"""`python -m bench.cluster [--docs N] [--merge-docs M]`: issue 16's figures, side by side in
one run over the same N generated documents: Dask with 2 local workers against
nlp.pipe(n_process=2) and against `--workers 1`; the merge's rate over M documents' shards;
the peak memory of each Dask worker."""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import time
from pathlib import Path

import dask
from distributed import Client, LocalCluster

from gazetteer import merge, store
from gazetteer.cluster import WORKER_CONFIG, ClusterOptions, ingest_on_dask
from gazetteer.config import Settings
from gazetteer.pipeline import open_engine

from . import corpus
from .common import WORK, Results, fresh_copy, gib, reference_db, settings_for, timed
from .ingest import bare_nlp, corpus_folder, time_bare, time_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--docs", type=int, default=10_000, help="documents to ingest")
    parser.add_argument("--merge-docs", type=int, default=100_000,
                        help="documents in the shards the merge is timed on")
    parser.add_argument("--shard-size", type=int, default=2_000)
    args = parser.parse_args()
    started = time.perf_counter()
    results = Results()
    reference = reference_db()
    folder, texts = _corpus(reference, args.docs)
    shards = bench_ingest(results, reference, folder, texts, args.shard_size)
    bench_merge(results, reference, shards, args.merge_docs)
    print(f"\n`python -m bench.cluster --docs {args.docs} --merge-docs {args.merge_docs}` "
          f"took {(time.perf_counter() - started) / 60:.1f} min\n")
    print("| figure | value | reference (same run) | ratio | goal | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results.rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        print(f"| {r.figure} | {r.value} | {r.reference} | {r.ratio} | {r.goal} | {met} |")


def _corpus(reference: Path, size: int) -> tuple[Path, list[str]]:
    db = store.open_db(reference, create=False)
    pools = corpus.name_pools(db, Settings().data_dir)
    db.conn.close()
    texts = corpus.documents(size, pools, corpus.sentence_templates())
    return corpus.write_corpus(corpus_folder(size), texts), texts


def bench_ingest(results: Results, reference: Path, folder: Path, texts: list[str],
                 shard_size: int) -> list[Path]:
    """Dask (2 workers, model loading on the workers inside the clock) against bare
    nlp.pipe(n_process=2) and the serial pipeline (model loaded before the clock)."""
    engine = open_engine(settings_for(fresh_copy(reference, "cluster-load.db")))
    bare = bare_nlp(engine.settings.spacy_model, engine.nlp.pipe_names)
    words, size = sum(len(t.split()) for t in texts), len(texts)
    bare_s = time_bare(bare, texts, 2, engine.settings.batch_size)
    serial_s, _ = time_pipeline(reference, folder, 1, engine.nlp)
    shards_dir = WORK / "cluster-shards"
    shutil.rmtree(shards_dir, ignore_errors=True)  # a leftover would be resumed, not timed
    db = fresh_copy(reference, "cluster-dask.db")
    with dask.config.set(WORKER_CONFIG), LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None,
            host="127.0.0.1") as cluster, Client(cluster) as client:
        options = ClusterOptions(scheduler=cluster.scheduler_address, shard_size=shard_size,
                                 shards_dir=shards_dir, keep_shards=True)
        dask_s, report = timed(lambda: ingest_on_dask(settings_for(db), [folder], options))
        peaks = client.run(_peak_rss)
    assert len(report.added) == size, report.skipped[:3]
    rate = f"{words / dask_s:,.0f} words/s, {size / dask_s:,.1f} docs/s"
    results.add(f"Dask 2 workers vs nlp.pipe(n_process=2), {size:,} docs", rate,
                f"bare {words / bare_s:,.0f} words/s", f"{bare_s / dask_s:.2f}x", ">= 0.9x",
                bare_s / dask_s >= 0.9)
    results.add(f"Dask 2 workers vs --workers 1, {size:,} docs", rate,
                f"serial {words / serial_s:,.0f} words/s", f"{serial_s / dask_s:.2f}x",
                ">= 1.8x", serial_s / dask_s >= 1.8)
    results.add("peak memory per Dask worker", ", ".join(gib(p) for p in peaks.values()),
                "", "", "", None)
    return sorted(shards_dir.glob("*/shard-*.sqlite"))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bench_merge(results: Results, reference: Path, shards: list[Path], docs: int) -> None:
    """The merge over shards holding `docs` documents: the ingested shards, copied under new
    document ids until there are enough (same mentions and entities per document)."""
    copies = _replicated(shards, docs)
    db = store.open_db(fresh_copy(reference, "cluster-merge.db"))
    seconds, merged = timed(lambda: merge.fold(db, [merge.FileShard(p) for p in copies], 90.0))
    assert len(merged.added) == docs, len(merged.added)
    results.add(f"merge of {docs:,} documents' shards ({len(copies)} files)",
                f"{docs / seconds:,.0f} docs/s", f"{seconds:.1f} s", "", "", None)


def _replicated(shards: list[Path], docs: int) -> list[Path]:
    folder = WORK / "cluster-merge-shards"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rows = [row for p in shards for row in store.shard_rows(p)]
    out, made, copy = [], 0, 0
    while made < docs:
        batch = [_renamed(row, copy) for row in rows[:docs - made]]
        path = folder / f"shard-{copy:06}.sqlite"
        store.write_shard(path, batch, [])
        out.append(path)
        made, copy = made + len(batch), copy + 1
    return out


def _renamed(row: tuple, copy: int) -> tuple[str, str, str, str, str]:
    doc_id, new_keys, document, mentions, entities = row
    new_id = hashlib.sha256(f"{doc_id}:{copy}".encode()).hexdigest()
    return (new_id, new_keys, document.replace(doc_id, new_id),
            mentions.replace(doc_id, new_id), entities)


if __name__ == "__main__":
    main()
