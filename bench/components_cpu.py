"""`python -m bench.components_cpu [--docs 300] [--repeats 5]`: the processor time of each of
our spaCy components and of `extract_candidates`, against the model's, over the same bench
documents in one process. The model (sentencizer + ner) runs once; each repeat copies its
Docs and times each of our components over all of them in pipeline order, then the
extractor. Medians of the repeats (the first fills the vocabulary's lexemes and flags, as the
first documents of an ingest do). A difference of two `nlp.pipe` runs of several seconds
(tools that time the whole pipeline with and without our components) cannot see these
tenths of a second on a shared machine; this can."""

from __future__ import annotations

import argparse
import statistics
import time

from gazetteer.extract import extract_candidates
from gazetteer.pipeline import open_engine
from gazetteer.tokens import words_of

from .common import fresh_copy, reference_db, settings_for
from .ingest_cpu import bench_documents


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.components_cpu", description=__doc__)
    parser.add_argument("--docs", type=int, default=300, help="bench documents (of 1,000)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    reference = reference_db()
    texts = [d.text for d in bench_documents(reference, args.docs)]
    engine = open_engine(settings_for(fresh_copy(reference, "components-load.db"), workers=1))
    nlp = engine.nlp
    ours = [name for name in nlp.pipe_names if name not in ("sentencizer", "ner")]
    start = time.process_time()
    with nlp.select_pipes(disable=ours):
        modelled = list(nlp.pipe(texts, batch_size=engine.settings.batch_size))
    model_s = time.process_time() - start
    seconds: dict[str, list[float]] = {name: [] for name in ["words_of", *ours, "extract"]}
    for _ in range(args.repeats):
        docs = [doc.copy() for doc in modelled]
        for doc in docs:
            doc.user_data.clear()
        stages = [("words_of", words_of), *((name, nlp.get_pipe(name)) for name in ours),
                  ("extract", extract_candidates)]
        for name, stage in stages:
            start = time.process_time()
            for doc in docs:
                stage(doc)
            seconds[name].append(time.process_time() - start)
    total = 0.0
    for name, values in seconds.items():
        total += statistics.median(values)
        print(f"{name:20s} median {statistics.median(values):.3f} s "
              f"(of {', '.join(f'{v:.3f}' for v in values)})")
    print(f"{'all of ours':20s} {total:.3f} s; the model (sentencizer + ner) {model_s:.2f} s; "
          f"ours / model {total / model_s:.3f} ({len(texts)} documents, processor time)")


if __name__ == "__main__":
    main()
