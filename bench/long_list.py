"""`python -m bench.long_list [--names 3000]`: a report that is one sentence-long list of made-up
village names, analysed by the whole pipeline (extract, resolve, locate) against bare `nlp.pipe`
of the same text, side by side in processor time. Reading around each name (its line, the names
listed beside it, lists of regions) must stay within a bounded reach, or this grows with the
square of the list."""

from __future__ import annotations

import argparse
import random
import time

from gazetteer.pipeline import analyse, open_engine
from gazetteer.types import Document

from .common import fresh_copy, reference_db, settings_for
from .ingest import bare_nlp

SYLLABLES = ["ka", "mu", "bi", "ro", "nya", "ga", "ze", "lu", "to", "ndi"]


def list_report(names: int) -> str:
    rng = random.Random(1)
    villages = ["".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
                for _ in range(names)]
    return ("The rebels occupy " + ", ".join(villages) + " and Goma in North Kivu, a local "
            "official said " + " ".join(["and fighters in Goma; then"] * (names // 10)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.long_list", description=__doc__)
    parser.add_argument("--names", type=int, default=3000)
    args = parser.parse_args()
    engine = open_engine(settings_for(fresh_copy(reference_db(), "long-list.db")))
    bare = bare_nlp(engine.settings.spacy_model, engine.nlp.pipe_names)
    text = list_report(args.names)
    start = time.process_time()
    list(bare.pipe([text]))
    bare_s = time.process_time() - start
    start = time.process_time()
    ((_, mentions, _),) = list(analyse(engine, [Document("long-list", text, "t", "t")]))
    ours_s = time.process_time() - start
    print(f"{len(text):,} characters, {len(mentions):,} mentions: pipeline {ours_s:.1f} s, "
          f"bare nlp.pipe {bare_s:.1f} s, {ours_s / bare_s:.1f}x bare (processor time)")


if __name__ == "__main__":
    main()
