"""The same stages on Dask: shards of a manifest of paths out to workers (each loads the model
once and writes a shard file), one deterministic merge (gazetteer.merge) back in.

Needs the `cluster` extra (dask, distributed); nothing else imports this module."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import dask
from distributed import Client, LocalCluster, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from . import merge, store
from .config import Settings
from .errors import DocumentTooLarge, GazetteerError, UnreadableDocument
from .pipeline import Engine, Report, analyse, open_reader_engine
from .reference import build_reference
from .sources import Skipped, iter_files, read_file
from .types import Document

# Measured on 2 cores (STACK.md, issue 16): the worker profiler and glibc's 64 KiB trim
# threshold (the nanny's default) together doubled the system time of spaCy workers.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False,
                 "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 64 * 2**20}
SHARD_SIZE = 2000  # documents a task: task overhead < 1% at this size
PLUGIN = "gazetteer-engine"


class ClusterError(GazetteerError):
    status = 500
    code = "cluster_failed"


@dataclass(frozen=True)
class ClusterOptions:
    """How to run: local workers or a scheduler's address, shard size, where shards go."""

    workers: int = 2
    scheduler: str | None = None  # tcp://host:8786: the cluster's own workers
    shard_size: int = SHARD_SIZE
    shards_dir: Path | None = None  # default: <database>.shards/ beside the database
    keep_shards: bool = False


def ingest_on_dask(settings: Settings, paths: list[Path], options: ClusterOptions) -> Report:
    """Ingest the files and folders on Dask: the same database as pipeline.run. Shards already
    written by an interrupted run with the same manifest are reused, not recomputed."""
    db = store.open_db(settings.database)
    build_reference(db, settings.data_dir, settings.min_city_population)
    report = Report()
    files = _manifest(paths, report)
    work = _work_dir(settings, options, files)
    shard_paths = _write_manifests(work, files, options.shard_size)
    reference = work / "reference.db"
    if not reference.exists():
        store.copy_reference(db, reference)
    with _client(options) as client:
        _analyse_shards(client, replace(settings, database=reference, workers=1), shard_paths)
    merged = merge.fold(db, [merge.FileShard(p) for p in shard_paths], settings.fuzzy_threshold)
    report.added, report.unchanged = merged.added, merged.unchanged
    report.mentions = merged.mentions
    report.skipped += [Skipped(s, r) for p in shard_paths for s, r in store.shard_skipped(p)]
    if not options.keep_shards:
        shutil.rmtree(work)
    return report


def _manifest(paths: list[Path], report: Report) -> list[tuple[str, str]]:
    """(source as the serial path names it, absolute path to read) of every file, in the
    order given; paths that are not files are noted in the report."""
    files = []
    for item in iter_files(paths):
        if isinstance(item, Skipped):
            report.skipped.append(item)
        else:
            files.append((str(item), str(item.resolve())))
    return files


def _work_dir(settings: Settings, options: ClusterOptions, files: list[tuple[str, str]]) -> Path:
    """One folder per manifest, shard size and shard format: a re-run of the same ingest finds
    its shards."""
    digest = hashlib.sha256(f"{options.shard_size}\n{store.SHARD_FORMAT}\n".encode())
    for source, path in files:
        digest.update(f"{source}\t{path}\n".encode())
    root = options.shards_dir or settings.database.with_name(settings.database.name + ".shards")
    work = root / digest.hexdigest()[:16]
    work.mkdir(parents=True, exist_ok=True)
    return work


def _write_manifests(work: Path, files: list[tuple[str, str]], size: int) -> list[Path]:
    """A manifest of paths per shard (what a task reads); returns the shard files' paths."""
    shards = []
    for number, start in enumerate(range(0, len(files), size)):
        manifest = work / f"shard-{number:06}.paths"
        if not manifest.exists():
            temporary = manifest.with_suffix(".paths.tmp")
            temporary.write_text("".join(f"{s}\t{p}\n" for s, p in files[start:start + size]),
                                 encoding="utf-8")
            os.replace(temporary, manifest)
        shards.append(manifest.with_suffix(".sqlite"))
    return shards


@contextmanager
def _client(options: ClusterOptions) -> Iterator[Client]:
    """A client of the given scheduler, or of a LocalCluster of processes with one thread
    each (spaCy is not thread-parallel; processes avoid the GIL) and the tuned defaults."""
    if options.scheduler:
        with Client(options.scheduler) as client:
            yield client
        return
    with dask.config.set(WORKER_CONFIG), \
            LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True,
                         dashboard_address=None, host="127.0.0.1") as cluster, \
            Client(cluster) as client:
        yield client


def _analyse_shards(client: Client, settings: Settings, shard_paths: list[Path]) -> None:
    """Run a task per shard not written yet; raises ClusterError naming a shard that failed
    (the shards written so far stay, for the next run)."""
    client.register_plugin(EnginePlugin(settings), name=PLUGIN)
    todo = [p for p in shard_paths if not p.exists()]
    futures = [client.submit(analyse_shard, str(p.with_suffix(".paths")), str(p),
                             key=f"gazetteer-{p.parent.name}-{p.stem}", retries=2, pure=False)
               for p in todo]
    for future in as_completed(futures):
        if future.status != "finished":
            raise ClusterError(f"shard {future.key} failed: {future.exception()}")
        future.result()


class EnginePlugin(WorkerPlugin):
    """Loads the model, the resolver and the geocoder once per worker, over the immutable
    copy of the reference."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine | None = None

    def setup(self, worker) -> None:
        self.engine = open_reader_engine(self.settings)


def analyse_shard(manifest: str, out: str) -> tuple[int, int]:
    """The task: read the shard's files, extract, resolve and geocode them, and write the
    shard file. Returns only (documents, skipped): results travel by file, not by Dask."""
    plugin = get_worker().plugins[PLUGIN]
    assert isinstance(plugin, EnginePlugin) and plugin.engine is not None
    engine = plugin.engine
    docs, skipped = [], []
    for line in Path(manifest).read_text(encoding="utf-8").splitlines():
        source, path = line.split("\t")
        try:
            docs.append(replace(read_file(Path(path), engine.settings.max_document_bytes),
                                source=source))
        except (UnreadableDocument, DocumentTooLarge) as exc:
            skipped.append((source, exc.message.split(": ", 1)[-1]))
    unique: dict[str, Document] = {}
    for doc in docs:
        unique.setdefault(doc.id, doc)  # a text twice in a shard: the first copy, as serially
    rows = [merge.encode_analysed(item) for item in analyse(engine, list(unique.values()))]
    store.write_shard(Path(out), rows, skipped)
    return len(rows), len(skipped)
