"""Load on loopback: writers post documents while readers query entities, the GeoJSON and the
map of a live `gazetteer serve`, for a bounded time; afterwards every posted document is
stored exactly once, byte for byte, and the database is intact.

Small by default; full size: GAZETTEER_LOAD_SECONDS=60 python -m pytest tests/test_load.py -s
(GAZETTEER_LOAD_WRITERS / _READERS / _MAX_REQUESTS tune it further)."""

import hashlib
import http.client
import itertools
import json
import os
import shutil
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from .serving import Server, served

SECONDS = float(os.environ.get("GAZETTEER_LOAD_SECONDS", "10"))
WRITERS = int(os.environ.get("GAZETTEER_LOAD_WRITERS", "8"))
READERS = int(os.environ.get("GAZETTEER_LOAD_READERS", "32"))
MAX_REQUESTS = int(os.environ.get("GAZETTEER_LOAD_MAX_REQUESTS", "200000"))  # a second bound
TOKEN = "load-test-token"
PLACES = ["Idlib", "Aleppo", "Jisr al-Shughour", "Kessab", "Raqqa", "Palmyra", "Homs", "Hama",
          "Deir ez-Zor", "Douma", "Tal Abyad", "Latakia"]
GROUPS = ["Jabhat al-Nusra", "Ahrar ash-Sham", "Daesh", "the Free Syrian Army",
          "Jaish al-Islam", "Liwa al-Tawhid"]
READS = [("entities", "/api/entities?limit=50"), ("entities", "/api/entities?q=shughour"),
         ("entities", "/api/entities?kind=armed_group&limit=20"),
         ("geojson", "/api/gazetteer.geojson"), ("map", "/map")]

pytestmark = [pytest.mark.stress, pytest.mark.slow]


@dataclass
class Tally:
    """What the clients saw: latencies by kind, errors, and every document posted."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    posted: dict[str, str] = field(default_factory=dict)  # id the server gave -> text sent
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")


def report_text(writer: int, n: int) -> str:
    place, other = PLACES[(writer + n) % len(PLACES)], PLACES[(writer * 7 + n * 3) % len(PLACES)]
    group = GROUPS[(writer + n * 5) % len(GROUPS)]
    return (f"Report {writer}-{n}. Fighters of {group} shelled {place} on day {n}, and "
            f"families fled toward {other}. Writer {writer} filed it.")


def timed(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
          headers: dict | None = None) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return time.perf_counter() - started, response.status, data


def post(conn, tally: Tally, text: str, expect: int) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    # ?wait=: each write is acknowledged once its job has stored it (201), as before jobs
    seconds, status, data = timed(conn, "POST", "/api/documents?wait=60",
                                  json.dumps({"text": text, "source": "load"}).encode(), headers)
    kind = "write" if expect == 201 else "repost"
    if status != expect:
        tally.record(kind, seconds, f"{status} {data[:200]!r}")
        return
    document_id = json.loads(data)["id"]
    with tally.lock:
        if tally.posted.setdefault(document_id, text) != text:
            tally.errors.append(f"two texts got the id {document_id}")
    tally.record(kind, seconds)


def writer(server: Server, number: int, deadline: float, budget, tally: Tally) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    sent: list[str] = []
    for n in itertools.count():
        if time.monotonic() > deadline or next(budget) >= MAX_REQUESTS:
            break
        try:
            if n % 5 == 4:  # the same document again: answered 200, stored once
                post(conn, tally, sent[n // 2], 200)
            else:
                sent.append(report_text(number, n))
                post(conn, tally, sent[-1], 201)
        except (OSError, http.client.HTTPException) as exc:
            tally.record("write", 0.0, repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.close()


def reader(server: Server, number: int, deadline: float, budget, tally: Tally) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    for n in itertools.count(number):
        if time.monotonic() > deadline or next(budget) >= MAX_REQUESTS:
            break
        kind, path = READS[n % len(READS)]
        try:
            seconds, status, data = timed(conn, "GET", path)
            error = None if status == 200 else f"{status} {data[:200]!r}"
            if not error and kind != "map":
                json.loads(data)  # a complete, parseable body
            elif not error and not data.rstrip().endswith(b"</html>"):
                error = "truncated map page"
            tally.record(kind, seconds, error)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            tally.record(kind, 0.0, repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.close()


def run_load(server: Server) -> Tally:
    tally = Tally()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    post(conn, tally, "Warm-up: the model loads on the first write, in Idlib.", 201)
    conn.close()
    tally.latencies.clear()  # the model's load is not a latency
    deadline = time.monotonic() + SECONDS
    budget = itertools.count()  # shared: next() is atomic under the GIL
    threads = [threading.Thread(target=writer, args=(server, i, deadline, budget, tally))
               for i in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(server, i, deadline, budget, tally))
                for i in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 300)
    assert not any(t.is_alive() for t in threads), "a client did not stop"
    return tally


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def summary(tally: Tally, stored: int) -> str:
    total = sum(len(v) for v in tally.latencies.values())
    lines = [f"load: {SECONDS:g} s, {WRITERS} writers, {READERS} readers on loopback: "
             f"{total} requests, {len(tally.errors)} errors, {stored} documents stored"]
    for kind in ("write", "repost", "entities", "geojson", "map"):
        values = tally.latencies.get(kind, [])
        if values:
            lines.append(f"  {kind:<9} {len(values):>6} requests  p50 {percentile(values, .5):7.1f} ms"
                         f"  p99 {percentile(values, .99):7.1f} ms")
    return "\n".join(lines)


def test_writers_and_readers_lose_and_duplicate_nothing(tmp_path, seeded_db, capsys):
    db = tmp_path / "load.db"
    shutil.copy(seeded_db, db)
    before = sqlite3.connect(db).execute("SELECT count(*) FROM documents").fetchone()[0]
    with served(db, tmp_path / "serve.log", api_token=TOKEN) as server:
        tally = run_load(server)
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT id, text FROM documents"))
    with capsys.disabled():
        print("\n" + summary(tally, len(rows) - before))
    assert tally.errors == []
    assert len(tally.latencies["write"]) >= WRITERS and tally.latencies["map"]
    # nothing lost: each posted text stored under its content hash, byte for byte
    for document_id, text in tally.posted.items():
        assert rows.get(document_id) == text
        assert hashlib.sha256(text.encode()).hexdigest() == document_id
    # nothing duplicated or invented: the new rows are exactly the posted documents
    assert len(rows) == before + len(tally.posted)
    assert conn.execute("SELECT count(*) FROM mentions m LEFT JOIN documents d "
                        "ON d.id = m.document_id WHERE d.id IS NULL").fetchone() == (0,)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
