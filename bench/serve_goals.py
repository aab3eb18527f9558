"""`python -m bench.serve_goals [--requests N] [--places N]`: the serving goals bench.serving
leaves out, measured side by side in one run.

(a) p99 of one entity by id and of a page of 50 places, 32 clients: `gazetteer serve` (as users
    run it) against Datasette serving the same file, their equivalent JSON URLs taking turns;
(b) exports (GeoJSON, CSV, KML) in features/s on a large store (the seed store plus N
    synthetic places), against a bare SQL scan of the same rows;
(c) how much any one heavy request (exports, map points, big entity pages, search) raises the
    peak resident memory of the server process that answered it (one gunicorn process, its
    high-water mark reset before each request).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import psutil

from gazetteer import store

from .api import download, free_port, load, percentile
from .common import WORK, Results, fresh_copy, stop
from .serving import PROJECT, seeded_store

ENTITY = "gn-169023"  # Jisr al-Shughour, in the seed store
GOAL_BYTES = 256 * 2**20


# ---- the servers ----------------------------------------------------------------------------

def start(command: list[str], port: int, log: Path, env: dict | None = None,
          ready: str = "/healthz") -> subprocess.Popen:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env=env or dict(os.environ))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        _, errors = load(port, [ready], clients=1)
        if not errors:
            return process
        time.sleep(0.3)
    raise RuntimeError(f"{command[:3]} did not start")


def ours(db: Path, port: int, **settings: str) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
           "PYTHONPATH": str(PROJECT), "GAZETTEER_DATABASE": str(db),
           "GAZETTEER_PORT": str(port), "GAZETTEER_JOB_WORKERS": "0",
           **{f"GAZETTEER_{k.upper()}": v for k, v in settings.items()}}
    return start([sys.executable, "-m", "gazetteer.cli", "serve"], port,
                 WORK / f"ours-{port}.log", env)


def datasette(db: Path, port: int) -> subprocess.Popen:
    return start([sys.executable, "-m", "datasette", "serve", str(db), "--port", str(port),
                  "--host", "127.0.0.1"], port, WORK / "datasette.log", ready="/-/versions.json")


# ---- (a) against Datasette ------------------------------------------------------------------

def against_datasette(results: Results, db: Path, requests: int, rounds: int = 3) -> None:
    name = db.stem
    kinds = {"one entity by id": (f"/api/entities/{ENTITY}",
                                  f"/{name}/entities/{ENTITY}.json"),
             "a page of 50 places": ("/api/entities?kind=place&limit=50",
                                     f"/{name}/places.json?_size=50")}
    mine, theirs = free_port(), free_port()
    servers = [ours(db, mine), datasette(db, theirs)]
    try:
        for kind, (our_path, their_path) in kinds.items():
            ours_ms: list[float] = []
            theirs_ms: list[float] = []
            errors = [0, 0]
            for port, path in ((mine, our_path), (theirs, their_path)):
                load(port, [path] * 200)  # warm: connections, caches, both processes
            for _ in range(rounds):  # taking turns, so drift in the machine's load hits both
                for port, path, into, n in ((mine, our_path, ours_ms, 0),
                                            (theirs, their_path, theirs_ms, 1)):
                    latencies, bad = load(port, [path] * requests)
                    into.extend(latencies)
                    errors[n] += bad
            a, b = percentile(ours_ms, 99) * 1000, percentile(theirs_ms, 99) * 1000
            results.add(f"{kind}, 32 clients, p99 ({len(ours_ms):,} requests each)",
                        f"{a:.1f} ms (p50 {percentile(ours_ms, 50) * 1000:.1f})",
                        f"Datasette {b:.1f} ms (p50 {percentile(theirs_ms, 50) * 1000:.1f})",
                        f"{a / b:.2f}x", "<= 1.0x Datasette", a <= b)
            if any(errors):
                print(f"  errors: ours {errors[0]}, Datasette {errors[1]}")
    finally:
        for server in servers:
            stop(server)


# ---- the large store ------------------------------------------------------------------------

def large_store(places: int) -> Path:
    """The seed store plus `places` synthetic places, each with an alias (so search and the
    search index have them too), written as SQL rows; cached in the bench's work folder."""
    path = WORK / f"serve-large-{places}.db"
    if path.exists():
        return path
    tmp = fresh_copy(seeded_store(), path.name + ".tmp")
    db = store.open_db(tmp)
    rng = random.Random(14)
    rows = [(f"gn-{90_000_000 + i}", "place", f"Place {i}", f"place {i}",
             rng.uniform(-55, 70), rng.uniform(-180, 180),
             rng.choice(["SY", "IQ", "FR", "BR", "IN"]), rng.choice([1, 1, 1, 2]), 0.9,
             "resolved") for i in range(places)]
    with store.transaction(db):
        db.conn.executemany("INSERT INTO entities (id, kind, name, key, lat, lon, country, "
                            "precision, confidence, status) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        db.conn.executemany("INSERT INTO aliases VALUES (?, ?, ?, 'bench')",
                            [(r[0], f"Al-{r[2]}", f"al {r[3]}") for r in rows])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    tmp.rename(path)
    return path


# ---- (b) exports and (c) memory per request -------------------------------------------------

EXPORTS = (("GeoJSON", "/api/gazetteer.geojson", b'{"type":"Feature"', 0),
           ("CSV", "/api/gazetteer.csv", b"\n", -1),
           ("KML", "/api/gazetteer.kml", b"<Placemark", 0))
HEAVY = ["/api/gazetteer.geojson", "/api/gazetteer.csv", "/api/gazetteer.kml",
         "/api/mentions.csv", "/api/mentions.geojson",
         "/api/map/points?bbox=-180,-90,180,90&zoom=2",
         "/api/map/points?bbox=-180,-90,180,90&zoom=22",
         "/api/entities?kind=place&limit=1000",
         "/api/entities?kind=place&limit=1000&offset=190000",
         "/api/entities?q=place&limit=1000",
         "/api/entities?q=al&limit=1000&offset=5000",
         "/api/entities?bbox=-180,-90,180,90&limit=1000"]


def bare_scan_rate(db_path: Path) -> float:
    db = store.open_db(db_path, create=False)
    started = time.perf_counter()
    # the exports' own plan: entities in id order ("+" keeps the planner off a sort)
    count = sum(1 for _ in db.execute("SELECT * FROM entities WHERE +kind = 'place' AND lat IS "
                                      "NOT NULL ORDER BY id"))
    seconds = time.perf_counter() - started
    db.conn.close()
    return count / seconds


def the_worker(server: subprocess.Popen) -> psutil.Process:
    """The one gunicorn worker process (GAZETTEER_PROCESSES=1) under `gazetteer serve`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = psutil.Process(server.pid).children()
        if len(children) == 1:
            return children[0]
        time.sleep(0.2)
    raise RuntimeError(f"expected one gunicorn worker, found {children}")


def peak_growth(worker: psutil.Process, port: int, path: str) -> tuple[int, int, int]:
    """(bytes the request raised the worker's peak RSS by, RSS before, bytes answered)."""
    Path(f"/proc/{worker.pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = worker.memory_info().rss
    _, _, size = download(port, path, b"\x00")
    return _hwm(worker.pid) - before, before, size


def _hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def forget_rendered_rows(db_path: Path) -> None:
    db = store.open_db(db_path, create=False)
    with store.transaction(db):
        db.execute("DELETE FROM export_rows")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def on_the_large_store(results: Results, db: Path, repeats: int) -> None:
    features = store.open_db(db, create=False).execute(
        "SELECT count(*) FROM entities WHERE kind = 'place' AND lat IS NOT NULL").fetchone()[0]
    forget_rendered_rows(db)  # so that each format's first download renders them
    scan = bare_scan_rate(db)
    port = free_port()
    server = ours(db, port, processes="1", threads="4", request_timeout="120")
    try:
        worker = the_worker(server)
        for label, path, marker, fix in EXPORTS:
            first = download(port, path, marker)  # renders every entity's row of the format
            rate = (first[1] + fix) / first[0]
            results.add(f"export {label}, first download (renders the rows)",
                        f"{rate:,.0f} features/s", f"bare SQL scan {scan:,.0f} rows/s",
                        f"{rate / scan:.2f}x", "", None)
            runs = [download(port, path, marker) for _ in range(repeats)]
            seconds = sorted(r[0] for r in runs)[len(runs) // 2]
            rate = (runs[0][1] + fix) / seconds
            results.add(f"export {label}, {runs[0][1] + fix:,} features (HTTP, streamed)",
                        f"{rate:,.0f} features/s ({runs[0][2] / 2**20:,.0f} MiB)",
                        f"bare SQL scan {scan:,.0f} rows/s", f"{rate / scan:.2f}x",
                        ">= 100,000/s", rate >= 100_000)
        for path in HEAVY:
            download(port, path, b"\x00")  # the first call of a route pays for its imports
            growth, before, size = peak_growth(worker, port, path)
            results.add(f"peak RSS growth, GET {path}", f"{growth / 2**20:+.1f} MiB",
                        f"RSS before {before / 2**20:,.0f} MiB; answer {size / 2**20:,.1f} MiB",
                        "", "<= 256 MiB", growth <= GOAL_BYTES)
    finally:
        stop(server)
    print(f"  large store: {features:,} located places")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000,
                        help="requests per server per round in (a)")
    parser.add_argument("--places", type=int, default=200_000,
                        help="synthetic places added to the seed store for (b) and (c)")
    parser.add_argument("--repeats", type=int, default=3, help="downloads per export format")
    parser.add_argument("--skip-datasette", action="store_true",
                        help="only (b) and (c): the exports and the memory per request")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = Results()
    if not args.skip_datasette:
        print("(a) against Datasette, seed store", flush=True)
        against_datasette(results, fresh_copy(seeded_store(), "serve-goals.db"), args.requests)
    print("(b), (c) large store", flush=True)
    on_the_large_store(results, large_store(args.places), args.repeats)
    print("\n| figure | value | same-run reference | ratio | goal | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in results.rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        print(f"| {row.figure} | {row.value} | {row.reference} | {row.ratio} | {row.goal} "
              f"| {met} |")


if __name__ == "__main__":
    main()
