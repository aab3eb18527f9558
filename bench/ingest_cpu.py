"""`python -m bench.ingest_cpu [--docs 300] [--passes 3] [--repeats 5]`: the steadier ingest
measure, in processor time (`time.process_time`) of this process, which the load of a shared
machine moves far less than wall-clock time:

1. `run()` over the first N bench documents against bare `nlp.pipe` of the same texts, side
   by side in each pass, and the median of the passes' ratios (the first pass also fills the
   model's and the tokenizer's caches, so it is left out of the median when there are more);
2. storing those documents, analysed once, through the merge into fresh copies of the
   reference, side by side: as the schema has it, without schema 5's export_rows triggers,
   and with a smaller and a larger batch per transaction (medians of the repeats, variants
   taking turns).
Variants 2 only measure: the stored schema and the batch size stay as they are."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from gazetteer import merge, store
from gazetteer.pipeline import Analysed, analyse_each, open_engine, run
from gazetteer.sources import Skipped, read_paths
from gazetteer.types import Document

from .common import fresh_copy, reference_db, settings_for
from .ingest import bare_nlp

CORPUS_SIZE = 1_000
SMALL_BATCH, LARGE_BATCH = 50, 300


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_cpu", description=__doc__)
    parser.add_argument("--docs", type=int, default=300, help="bench documents (of 1,000)")
    parser.add_argument("--passes", type=int, default=3, help="passes of run() against bare")
    parser.add_argument("--repeats", type=int, default=5, help="turns of the storing variants (0: none)")
    args = parser.parse_args()
    reference = reference_db()
    docs = bench_documents(reference, args.docs)
    engine = open_engine(settings_for(fresh_copy(reference, "cpu-load.db"), workers=1))
    bare = bare_nlp(engine.settings.spacy_model, engine.nlp.pipe_names)
    texts, batch = [d.text for d in docs], engine.settings.batch_size
    ratios = []
    for number in range(1, args.passes + 1):
        start = time.process_time()
        sum(1 for _ in bare.pipe(texts, batch_size=batch))
        bare_s = time.process_time() - start
        ours = open_engine(settings_for(fresh_copy(reference, "cpu-run.db"), workers=1),
                           nlp=engine.nlp)
        start = time.process_time()
        report = run(ours, docs)
        ours_s = time.process_time() - start
        assert len(report.added) == len(docs), report
        ours.db.conn.close()
        ratios.append(bare_s / ours_s)
        print(f"pass {number}: run() {ours_s:.2f} s, bare nlp.pipe {bare_s:.2f} s, "
              f"ratio {bare_s / ours_s:.2f}x ({len(docs)} documents, processor time)", flush=True)
    counted = ratios[1:] or ratios
    print(f"median ratio of passes {2 if len(ratios) > 1 else 1}-{len(ratios)}: "
          f"{statistics.median(counted):.2f}x (goal >= 0.8x)", flush=True)
    if args.repeats < 1:
        return
    analysed = [a for a in analyse_each(engine, docs) if not isinstance(a, Skipped)]
    _storing(reference, analysed, engine.settings.fuzzy_threshold, args.repeats)


def bench_documents(reference: Path, count: int) -> list[Document]:
    """The first count documents of the bench's corpus, read as an ingest reads them."""
    files = sorted(_corpus(reference).glob("*.txt"))[:count]
    return [d for d in read_paths(files, 10**8, False) if isinstance(d, Document)]


def _corpus(reference: Path) -> Path:
    """The bench's corpus of CORPUS_SIZE documents, as `python -m bench` makes it."""
    from .__main__ import _corpus as write, _pools

    folder, _ = write(CORPUS_SIZE, _pools(reference))
    return folder


AS_STORED = f"as stored (batch {merge.MERGE_BATCH})"
STORING_VARIANTS = {AS_STORED: ("", merge.MERGE_BATCH),
                    "without export_rows triggers": ("export_rows_%", merge.MERGE_BATCH),
                    f"batch {SMALL_BATCH}": ("", SMALL_BATCH),
                    f"batch {LARGE_BATCH}": ("", LARGE_BATCH)}


def _storing(reference: Path, analysed: list[Analysed], threshold: float, repeats: int) -> None:
    seconds: dict[str, list[float]] = {name: [] for name in STORING_VARIANTS}
    for _ in range(repeats):
        for name, (dropped, batch) in STORING_VARIANTS.items():
            db = store.open_db(fresh_copy(reference, "cpu-store.db"))
            for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                         "AND name LIKE ?", [dropped]).fetchall():
                db.execute(f"DROP TRIGGER {trigger}")
            start = time.process_time()
            merge.fold(db, [merge.MemoryShard(analysed)], threshold, batch)
            seconds[name].append(time.process_time() - start)
            db.conn.close()
    base = statistics.median(seconds[AS_STORED])
    for name, values in seconds.items():
        value = statistics.median(values)
        print(f"storing {len(analysed)} documents, {name}: median {value:.2f} s "
              f"(of {', '.join(f'{v:.2f}' for v in values)}), {value / base:.2f}x", flush=True)


if __name__ == "__main__":
    main()
