"""`python -m bench.serving [--seconds N] [--readers N] [--writers N]`: `gazetteer serve` as
users run it (gunicorn, job worker), measured side by side in one run: readers' p99 with 8
writers posting reports against the same readers with none, export features/s against a
bare SQL scan, and the server's memory growth per request."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from gazetteer import store
from gazetteer.pipeline import open_engine, run

from .common import WORK, fresh_copy, reference_db, settings_for

PROJECT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
READS = {"entity": "/api/entities/gn-169023", "search": "/api/entities?q=idleb&limit=20",
         "list": "/api/entities?kind=place&limit=50&offset=20"}


def seeded_store() -> Path:
    path = WORK / "serving-seeded.db"
    if not path.exists():
        db = fresh_copy(reference_db(), "serving-build.db")
        run(open_engine(settings_for(db)), [settings_for(db).seeds_dir])
        store.open_db(db).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.rename(path)
    return fresh_copy(path, "serving.db")


def start_server(db: Path, port: int) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
           "PYTHONPATH": str(PROJECT), "GAZETTEER_DATABASE": str(db),
           "GAZETTEER_PORT": str(port), "GAZETTEER_API_TOKEN": TOKEN}
    log = open(WORK / "serving.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "gazetteer.cli", "serve"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, conn: http.client.HTTPConnection | None = None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def readers(port: int, count: int, seconds: float) -> tuple[dict[str, list[float]], int]:
    """count closed-loop clients on keep-alive connections; latencies by kind, errors."""
    times: dict[str, list[float]] = {k: [] for k in READS}
    errors = [0]
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        kinds = list(READS)
        i = n
        while time.monotonic() < stop:
            kind = kinds[i % len(kinds)]
            i += 1
            started = time.perf_counter()
            status, _ = request(port, "GET", READS[kind], conn=conn)
            times[kind].append(time.perf_counter() - started)
            errors[0] += status != 200

    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0]


def writers(port: int, count: int, stop: threading.Event, acked: list[str]) -> list[threading.Thread]:
    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            text = (f"Report {n}-{i}: fighters of Ahrar al-Sham shelled Saraqib and Binnish; "
                    f"Jaish al-Islam held Douma, the monitor said ({time.time_ns()}).")
            status, body = request(port, "POST", "/api/documents",
                                   json.dumps({"text": text}).encode(),
                                   {"Authorization": f"Bearer {TOKEN}",
                                    "Content-Type": "application/json"})
            if status == 202:
                acked.append(json.loads(body)["job"]["links"]["self"])
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    return threads


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000


def server_rss(process: subprocess.Popen) -> int:
    """The gunicorn processes' resident memory (the job worker's excluded: it holds spaCy)."""
    root = psutil.Process(process.pid)
    total = root.memory_info().rss
    for child in root.children():
        if "gazetteer-jobs" not in " ".join(child.cmdline()) and not _is_job_worker(child):
            total += child.memory_info().rss
    return total


def _is_job_worker(child: psutil.Process) -> bool:
    return "multiprocessing" in " ".join(child.cmdline())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    db = seeded_store()
    port = 8765
    server = start_server(db, port)
    try:
        measure(port, server, db, args)
    finally:
        server.terminate()
        server.wait(30)


def measure(port: int, server: subprocess.Popen, db: Path, args) -> None:
    request(port, "POST", "/api/documents?wait=120", b'{"text": "Warm-up in Idlib."}',
            {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    quiet, quiet_errors = readers(port, args.readers, args.seconds)
    stop, acked = threading.Event(), []
    threads = writers(port, args.writers, stop, acked)
    loaded, loaded_errors = readers(port, args.readers, args.seconds)
    stop.set()
    for t in threads:
        t.join()
    states = _finish(port, acked)
    print(f"readers: {args.readers} clients, {args.seconds:g} s each phase; writers: "
          f"{args.writers}; {len(acked)} documents acknowledged (202), jobs {states}")
    print("| request | p99, no writers | p99, 8 writers | ratio | goal |")
    print("| --- | --- | --- | --- | --- |")
    for kind in READS:
        a, b = p99(quiet[kind]), p99(loaded[kind])
        print(f"| {kind} | {a:.1f} ms ({len(quiet[kind])} req) | {b:.1f} ms "
              f"({len(loaded[kind])} req) | {b / a:.2f}x | <= 2x |")
    print(f"errors: {quiet_errors} without writers, {loaded_errors} with writers")
    stored = store.open_db(db, create=False).execute(
        "SELECT count(*) FROM documents WHERE text LIKE 'Report %'").fetchone()[0]
    print(f"documents stored from acknowledged posts: {stored} of {len(acked)}")
    exports(port, db)
    memory(port, server)


def _finish(port: int, acked: list[str]) -> dict[str, int]:
    deadline, states = time.monotonic() + 600, {}
    for url in acked:
        while True:
            state = json.loads(request(port, "GET", url)[1])["state"]
            if state in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        states[state] = states.get(state, 0) + 1
    return states


def exports(port: int, db: Path) -> None:
    conn = store.open_db(db, create=False)
    features = conn.execute("SELECT count(*) FROM entities WHERE kind = 'place' AND lat IS NOT "
                            "NULL").fetchone()[0]
    started = time.perf_counter()
    for _ in range(20):
        assert request(port, "GET", "/api/gazetteer.geojson")[0] == 200
    http_rate = 20 * features / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(20):
        conn.execute("SELECT * FROM entities WHERE kind = 'place' AND lat IS NOT NULL").fetchall()
    sql_rate = 20 * features / (time.perf_counter() - started)
    print(f"| export GeoJSON ({features} features, x20) | {http_rate:,.0f} features/s | bare SQL "
          f"scan {sql_rate:,.0f} rows/s | {http_rate / sql_rate:.2f}x |")


def memory(port: int, server: subprocess.Popen) -> None:
    mix = [*READS.values(), "/api/gazetteer.geojson", "/api/gazetteer.kml", "/map"]
    for path in mix * 5:  # warm every route in both processes
        request(port, "GET", path)
    before = server_rss(server)
    n = 0
    for _ in range(100):
        for path in mix:
            request(port, "GET", path)
            n += 1
    after = server_rss(server)
    print(f"| server RSS (gunicorn processes) | {before / 2**20:.0f} MiB -> {after / 2**20:.0f} "
          f"MiB after {n} requests | {(after - before) / n / 1024:.1f} KiB/request |")


if __name__ == "__main__":
    main()
