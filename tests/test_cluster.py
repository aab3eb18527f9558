"""Ingest on Dask (real LocalCluster and real `dask scheduler` / `dask worker` processes on
127.0.0.1): the same database as a serial ingest, whatever the shards, the order of the
documents, a second merge or a killed worker."""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from gazetteer import merge, store  # noqa: E402
from gazetteer.cluster import ClusterOptions, ingest_on_dask  # noqa: E402
from gazetteer.config import load_settings  # noqa: E402
from gazetteer.pipeline import run  # noqa: E402

from .conftest import make_engine, stored_content  # noqa: E402
from .serving import PROJECT  # noqa: E402

pytestmark = [pytest.mark.slow]

# Every column but the clock's (ingested_at, updated_at), ids included.
# Names no registry or gazetteer knows, each in several spellings (one cluster each).
# Variants that fold to different keys and join by fuzzy match only (see test_stages for
# folding): which id a family gets depends on the order names are met, unless the merge
# settles it.
VARIANTS = [["Tell Mardikhan", "Tell Mardikhane", "Tell Mardikhanet"],
            ["Kafr Shamarin", "Kafr Shamareen", "Kfar Shamarin"],
            ["Liwa Suqur al-Wadi", "Liwa Suqur al-Wadia"],
            ["the Abu Tammam Brigade", "the Abu Tamam Brigades"]]
FAMILIES = ("place-x-tal-mardikhan", "group-x-liwa-sukur-wadi", "group-x-abu-tamam-brigada")
GENERATED = 12


def write_texts(folder: Path, seeds: Path) -> None:
    folder.mkdir()
    for seed in sorted(seeds.glob("*.txt")):
        shutil.copy(seed, folder / seed.name)
    for n in range(GENERATED):
        place, other = VARIANTS[1][n % 3], VARIANTS[0][(n + 1) % 3]
        group, rival = VARIANTS[2][n % 2], VARIANTS[3][(n + 1) % 2]
        (folder / f"report-{n:03}.txt").write_text(
            f"Report {n}\n\nFighters of {group} entered {place} near Idlib on day {n}, "
            f"residents said. Shelling followed near {other}, and {rival} sent reinforcements "
            f"from Aleppo. {n % 7 + 2} people were killed.\n", encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, reference_db) -> list[Path]:
    """The two seed articles and generated reports, as the files of a folder in order."""
    folder = tmp_path_factory.mktemp("corpus") / "texts"
    write_texts(folder, load_settings({"database": reference_db}, environ={}).seeds_dir)
    return sorted(folder.iterdir())


@pytest.fixture(scope="module")
def serial(tmp_path_factory, reference_db, shared_nlp, corpus) -> dict:
    """The content of a serial ingest (pipeline.run, one process) of the corpus."""
    path = tmp_path_factory.mktemp("serial") / "gazetteer.db"
    shutil.copy(reference_db, path)
    report = run(make_engine(path, shared_nlp), corpus)
    assert len(report.added) == len(corpus) and not report.skipped
    return stored_content(path)


@pytest.fixture(scope="module")
def local_cluster():
    """One LocalCluster for the tests that do not test the cluster's own start."""
    import dask
    from distributed import LocalCluster

    from gazetteer.cluster import WORKER_CONFIG

    with dask.config.set(WORKER_CONFIG), LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1") as cluster:
        yield cluster.scheduler_address


def fresh_db(tmp_path: Path, reference_db: Path, name: str = "gazetteer.db") -> Path:
    path = tmp_path / name
    shutil.copy(reference_db, path)
    return path


def settings_for(path: Path):
    return load_settings({"database": path}, environ={})


def test_local_cluster_ingest_is_a_serial_ingest(tmp_path, reference_db, corpus, serial):
    """`--workers 2`: a LocalCluster of its own, started and stopped by the ingest."""
    path = fresh_db(tmp_path, reference_db)
    report = ingest_on_dask(settings_for(path), corpus, ClusterOptions(workers=2, shard_size=5))
    assert (len(report.added), report.skipped) == (len(corpus), [])
    got = stored_content(path)
    assert got == serial
    ids = {row[0] for row in got["entities"]}
    for family in FAMILIES:  # each name's spellings are one entity
        assert sum(i.startswith(family) for i in ids) == 1, (family, sorted(ids))
    assert not (path.parent / "gazetteer.db.shards").exists() or not any(
        (path.parent / "gazetteer.db.shards").iterdir())


@pytest.mark.parametrize("shards", [1, 3, 7])
def test_any_number_of_shards_gives_the_same_database(tmp_path, reference_db, corpus, serial,
                                                      local_cluster, shards):
    path = fresh_db(tmp_path, reference_db)
    options = ClusterOptions(scheduler=local_cluster,
                             shard_size=math.ceil(len(corpus) / shards), keep_shards=True)
    ingest_on_dask(settings_for(path), corpus, options)
    written = list((tmp_path / "gazetteer.db.shards").glob("*/shard-*.sqlite"))
    assert len(written) == shards
    assert stored_content(path) == serial


def test_reverse_order_then_a_second_merge_change_nothing(tmp_path, reference_db, corpus,
                                                          serial, local_cluster):
    path = fresh_db(tmp_path, reference_db)
    options = ClusterOptions(scheduler=local_cluster, shard_size=4, keep_shards=True)
    ingest_on_dask(settings_for(path), corpus[::-1], options)
    assert stored_content(path) == serial

    before = full_dump(path)
    shards = sorted((tmp_path / "gazetteer.db.shards").glob("*/shard-*.sqlite"))
    db = store.open_db(path)
    again = merge.fold(db, [merge.FileShard(p) for p in shards], 90.0)
    db.conn.close()
    assert (len(again.added), len(again.unchanged)) == (0, len(corpus))
    assert full_dump(path) == before  # not even a clock moved


def test_serial_reverse_order_gives_the_same_database(tmp_path, reference_db, shared_nlp,
                                                      corpus, serial):
    path = fresh_db(tmp_path, reference_db)
    run(make_engine(path, shared_nlp), corpus[::-1])
    assert stored_content(path) == serial


def test_an_interrupted_run_resumes_from_the_shards_written(tmp_path, reference_db, corpus,
                                                            serial, local_cluster):
    first = fresh_db(tmp_path, reference_db, "first.db")
    shards_dir = tmp_path / "shards"
    options = ClusterOptions(scheduler=local_cluster, shard_size=3, shards_dir=shards_dir,
                             keep_shards=True)
    ingest_on_dask(settings_for(first), corpus, options)
    shards = sorted(shards_dir.glob("*/shard-*.sqlite"))
    lost = shards[1::2]  # as if the run had been killed before these were written
    for shard in lost:
        shard.unlink()
    (shards[0].parent / f"{lost[0].name}.tmp-deadbeef").write_bytes(b"half a shard")
    kept = {p: p.stat().st_mtime_ns for p in shards if p not in lost}

    path = fresh_db(tmp_path, reference_db)
    ingest_on_dask(settings_for(path), corpus, options)
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # reused, not recomputed
    assert all(p.exists() for p in lost)
    assert stored_content(path) == serial


def full_dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    lines = sorted(conn.iterdump())
    conn.close()
    return lines


# ---- a real cluster: `dask scheduler` and two `dask worker` processes ------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
            "PYTHONPATH": str(PROJECT), "MALLOC_TRIM_THRESHOLD_": str(64 * 2**20),
            "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}


def dask_command(*args: str) -> list[str]:
    """`dask scheduler ...` / `dask worker ...`, the venv's own `dask` command."""
    return [str(Path(sys.executable).parent / "dask"), *args]


@pytest.fixture
def real_cluster(tmp_path):
    """A scheduler and two single-threaded workers without nannies (so a SIGKILL is final)."""
    address = f"tcp://127.0.0.1:{free_port()}"
    log = (tmp_path / "dask.log").open("w")
    procs = [subprocess.Popen(dask_command("scheduler", "--host", "127.0.0.1", "--port",
                                           address.rsplit(":", 1)[1], "--no-dashboard"),
                              env=child_env(), stdout=log, stderr=log)]
    wait_for_port(address)
    procs += [subprocess.Popen(dask_command("worker", address, "--nthreads", "1", "--no-nanny",
                                            "--host", "127.0.0.1", "--no-dashboard"),
                               env=child_env(), stdout=log, stderr=log) for _ in range(2)]
    yield address, procs[1:]
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()


def wait_for_port(address: str) -> None:
    host, port = address.removeprefix("tcp://").split(":")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"no scheduler at {address}")


def test_scheduler_flag_with_a_killed_worker_gives_the_serial_database(
        tmp_path, reference_db, corpus, serial, real_cluster):
    address, workers = real_cluster
    path = fresh_db(tmp_path, reference_db)
    shards_dir = tmp_path / "shards"
    command = [sys.executable, "-m", "gazetteer.cli", "--db", str(path), "ingest",
               "--scheduler", address, "--shard-size", "1", "--shards-dir", str(shards_dir),
               *map(str, corpus)]
    ingest = subprocess.Popen(command, env=child_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(shards_dir.glob("*/shard-*.sqlite")) and time.monotonic() < deadline:
        time.sleep(0.05)
    written = len(list(shards_dir.glob("*/shard-*.sqlite")))
    workers[0].send_signal(signal.SIGKILL)  # mid-run: the other worker takes its tasks
    assert ingest.poll() is None and 0 < written < len(corpus), "killed too late to matter"
    out, err = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, err
    assert f"added {len(corpus)} document(s)" in out
    assert workers[0].wait(timeout=10) == -signal.SIGKILL
    assert stored_content(path) == serial


def test_scheduler_without_dask_installed_is_a_one_line_error(tmp_path, corpus):
    """The default install has no Dask: --scheduler says what to install; no traceback."""
    blocker = tmp_path / "nodask"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nfor name in ('dask', 'distributed'):\n    sys.modules[name] = None\n")
    env = {**child_env(), "PYTHONPATH": f"{blocker}{os.pathsep}{PROJECT}"}
    result = subprocess.run([sys.executable, "-m", "gazetteer.cli", "--db",
                             str(tmp_path / "g.db"), "ingest", "--scheduler",
                             "tcp://127.0.0.1:1", str(corpus[0])],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "gazetteer: error: --scheduler needs Dask (dask is not installed): "
        "pip install 'gazetteer[cluster]'"], result.stderr
