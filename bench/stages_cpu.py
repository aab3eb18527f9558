"""`python -m bench.stages_cpu [N=300] [R=3]`: processor time of each stage of ingest over the
first N bench documents, medians of R repeats: the model (sentencizer and ner, what bare
`nlp.pipe` runs), our components (the difference of two whole `nlp.pipe` runs, so only a
rough figure: `python -m bench.components_cpu` times them one by one), extract_candidates,
resolve_candidates, locate and link, and storing through the merge into a fresh copy of the
reference. The last line is the budget 0.8x of bare `nlp.pipe` leaves the stages of ours."""

from __future__ import annotations

import statistics
import sys
import time

from gazetteer import merge, store
from gazetteer.extract import extract_candidates
from gazetteer.geocode import PlaceLocator
from gazetteer.normalise import Resolver
from gazetteer.pipeline import open_engine
from gazetteer.resolve import ProvisionalIds, group_countries, link_mentions, resolve_candidates

from .common import fresh_copy, reference_db, settings_for
from .ingest_cpu import bench_documents

STAGES = ("model (sentencizer+ner)", "our components", "extract_candidates",
          "resolve_candidates", "locate+link", "store")


def _cpu(work):
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    reference = reference_db()
    docs = bench_documents(reference, count)
    texts = [d.text for d in docs]
    engine = open_engine(settings_for(fresh_copy(reference, "stages-load.db"), workers=1))
    nlp, batch = engine.nlp, engine.settings.batch_size
    ours = [p for p in nlp.pipe_names if p not in ("sentencizer", "ner")]
    seconds: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(repeats):
        with nlp.select_pipes(disable=ours):
            model_s, _ = _cpu(lambda: list(nlp.pipe(texts, batch_size=batch)))
        all_s, spacy_docs = _cpu(lambda: list(nlp.pipe(texts, batch_size=batch)))
        seconds["model (sentencizer+ner)"].append(model_s)
        seconds["our components"].append(all_s - model_s)
        took, found = _cpu(lambda: [extract_candidates(d) for d in spacy_docs])
        seconds["extract_candidates"].append(took)
        # made before the clock starts, as open_engine makes it before run() (loading its
        # indexes was a second of 'resolving' that no run() pays)
        resolver = Resolver(engine.db, engine.registry, engine.settings.fuzzy_threshold)
        locator, ids = PlaceLocator(engine.db, resolver, None), ProvisionalIds()
        took, resolved = _cpu(lambda: [resolve_candidates(
            c, resolver.resolve, engine.is_demonym, resolver.lookup_place,
            resolver.prefetch_places, resolver.judged) for c in found])
        seconds["resolve_candidates"].append(took)

        def locate_and_link():
            analysed = []
            for doc, spans in zip(docs, resolved):
                located = locator.locate(doc.text, spans, group_countries(spans, engine.registry))
                analysed.append((doc, *link_mentions(doc, located, engine.registry, ids)))
            return analysed

        took, analysed = _cpu(locate_and_link)
        seconds["locate+link"].append(took)
        db = store.open_db(fresh_copy(reference, "stages-store.db"))
        took, _ = _cpu(lambda: merge.fold(db, [merge.MemoryShard(analysed)],
                                          engine.settings.fuzzy_threshold, merge.MERGE_BATCH))
        db.conn.close()
        seconds["store"].append(took)
    model = statistics.median(seconds[STAGES[0]])
    beyond = sum(statistics.median(seconds[stage]) for stage in STAGES[1:])
    for stage, values in seconds.items():
        print(f"{stage:26s} median {statistics.median(values):6.2f} s  "
              f"[{', '.join(f'{v:.2f}' for v in values)}]", flush=True)
    print(f"ours beyond the model: {beyond:.2f} s; model / (model + ours) = "
          f"{model / (model + beyond):.2f}x; what 0.8x allows: {model * 0.25:.2f} s")


if __name__ == "__main__":
    main()
