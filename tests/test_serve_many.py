"""`gazetteer serve` as users run it: gunicorn with several processes and a job worker;
stalled clients cannot hold it; a job accepted by one server is finished by the next; a
snapshot is served read-only."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from .serving import PROJECT, served
from .test_api import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
REPORT = b'{"text": "Fighters of Ahrar al-Sham entered Saraqib and Binnish, a monitor said."}'


@pytest.fixture
def db(tmp_path, seeded_db):
    path = tmp_path / "served.db"
    shutil.copy(seeded_db, path)
    return path


def _server_pids(server) -> set[int]:
    """The processes answering: each gthread worker has its own pid in /proc."""
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.process.pid)],
                              capture_output=True, text=True).stdout.split()
    return {int(p) for p in children}


def test_stalled_downloads_do_not_block_healthz(db, tmp_path):
    with served(db, tmp_path / "serve.log", request_timeout="5", processes="2",
                threads="4", job_workers="0") as server:
        assert len(_server_pids(server)) >= 2  # gunicorn's worker processes
        stalled = []
        for _ in range(8):  # more than one process's threads: they open a KML and never read
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /api/gazetteer.kml HTTP/1.1\r\nHost: x\r\n\r\n")
            stalled.append(sock)
        try:
            time.sleep(1)
            for _ in range(5):
                started = time.monotonic()
                status, _, _ = server.request("GET", "/healthz", timeout=10)
                assert status == 200 and time.monotonic() - started < 3
        finally:
            for sock in stalled:
                sock.close()


def test_a_job_accepted_by_one_server_is_done_by_the_next(db, tmp_path):
    with served(db, tmp_path / "first.log", api_token=TOKEN, job_workers="0") as first:
        status, body = first.json("POST", "/api/documents", body=REPORT, headers=AUTH)
        assert status == 202, body
        job_url = body["job"]["links"]["self"]
        assert first.json("GET", job_url)[1]["state"] == "queued"
    # the first server is gone; the second starts a worker, which finds the job waiting
    with served(db, tmp_path / "second.log", api_token=TOKEN, job_workers="1") as second:
        deadline, job = time.monotonic() + 180, {}
        while time.monotonic() < deadline:
            job = second.json("GET", job_url)[1]
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job["state"] == "done", (tmp_path / "second.log").read_text()[-3000:]
        status, document = second.json("GET", job["links"]["document"])
        assert status == 200 and "Saraqib" in document["text"] and document["mentions"]
        # with a warm worker, a small document answers 201 within ?wait=
        status, body = second.json("POST", "/api/documents?wait=30", headers=AUTH,
                                   body=b'{"text": "Shelling hit Kafr Nabl and Maarrat al-Numan."}')
        assert status == 201 and body["created"] is True and body["job"]["state"] == "done"


def test_a_snapshot_is_served_read_only(db, tmp_path):
    snapshot = tmp_path / "published.db"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
           "PYTHONPATH": str(PROJECT)}
    made = subprocess.run([sys.executable, "-m", "gazetteer.cli", "--db", str(db), "snapshot",
                           str(snapshot)], env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    with served(snapshot, tmp_path / "ro.log", read_only="true", api_token=TOKEN) as server:
        status, health = server.json("GET", "/healthz")
        assert status == 200 and health["writes"] == "read-only copy"
        status, entity = server.json("GET", "/api/entities/gn-169023")
        assert status == 200 and entity["name"]
        assert server.request("GET", "/api/gazetteer.geojson")[0] == 200
        status, body = server.json("POST", "/api/documents", body=REPORT, headers=AUTH)
        assert status == 403 and body["error"]["code"] == "read_only_copy"
        status, body = server.json("PATCH", "/api/entities/gn-169023", headers=AUTH,
                                   body=b'{"name": "x"}')
        assert status == 403 and body["error"]["code"] == "read_only_copy"
    assert not (tmp_path / "published.db-wal").exists()  # never opened for writing


def test_an_extraction_stops_when_its_client_goes_away(db, tmp_path):
    log = tmp_path / "serve.log"
    paragraph = ("Rebels of Jaish al-Islam shelled Douma and Harasta on Tuesday while Ahrar "
                 "al-Sham fighters entered Saraqib and Binnish, a monitor said. ") * 8
    text = "\n\n".join([paragraph] * 190)  # about 250 KB: a dozen pieces of 20,000 characters
    body = json.dumps({"text": text}).encode()
    with served(db, log, job_workers="1", extract_seconds="600") as server:
        status, _ = server.json("POST", "/api/extract", body=b'{"text": "Nusra took Idlib."}',
                                headers={"Content-Type": "application/json"}, timeout=180)
        assert status == 200  # the worker has its model: what follows is analysis alone
        client = socket.create_connection(("127.0.0.1", server.port))
        client.sendall(b"POST /api/extract HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        total = _wait_for_log(log, r"piece 1 of ([1-9]\d+) analysed")
        client.close()  # the client gives up
        stopped = re.search(r"stopped after (\d+) of (\d+) pieces: the client went away",
                            _wait_for_log(log, r"stopped after \d+ of \d+ pieces", text=True))
        assert stopped and int(stopped[2]) == int(total) >= 10
        assert int(stopped[1]) < int(total)
        assert f"piece {total} of {total}" not in log.read_text()  # the rest never analysed
        # the worker is free again: the next extraction is answered
        status, answer = server.json("POST", "/api/extract", timeout=180,
                                     body=b'{"text": "Shelling hit Kafr Nabl."}',
                                     headers={"Content-Type": "application/json"})
        assert status == 200 and answer["mentions"]


def _wait_for_log(log, pattern, seconds=180, text=False):
    """The first group of pattern once it appears in the log (the whole log if text)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return log.read_text(errors="replace") if text else found[1]
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not in the log: {log.read_text()[-3000:]}")
