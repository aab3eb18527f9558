"""Writes are jobs: queued, running, done or failed with a reason; the queue lives in a file
beside the database, so a job outlives the server that accepted it; a real `gazetteer worker`
process runs it. Extraction is bounded in size and time."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bench.common import stop
from gazetteer import store
from gazetteer.jobs import queue_path
from gazetteer.web import create_app

from .conftest import writable_app
from .serving import PROJECT
from .test_api import AUTH, TOKEN, assert_error

REPORT = "Rebels of Jaish al-Islam shelled Douma and Harasta on Tuesday, a monitor said."


@pytest.fixture
def db_copy(tmp_path, seeded_db):
    path = tmp_path / "jobs.db"
    shutil.copy(seeded_db, path)
    return path


def queued_app(path, **config):
    """The app as each server process builds it: no engine, jobs go to the queue file."""
    return create_app({"TESTING": True, "DATABASE": str(path), "API_TOKEN": TOKEN, **config})


def test_a_post_is_queued_in_milliseconds_and_answers_202_with_the_job(db_copy):
    client = queued_app(db_copy).test_client()
    started = time.perf_counter()
    response = client.post("/api/documents", json={"text": REPORT}, headers=AUTH)
    elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.get_data(as_text=True)
    job = response.get_json()["job"]
    assert job["state"] == "queued" and response.headers["Location"] == job["links"]["self"]
    assert elapsed < 2.0  # no model in the request: enqueueing is a row in a file
    assert client.get(job["links"]["self"]).get_json()["state"] == "queued"
    assert queue_path(db_copy).exists()
    assert_error(client.get("/api/jobs/no-such-job"), 404)


def test_a_queued_job_survives_a_restart_and_a_worker_process_runs_it(db_copy, tmp_path):
    first = queued_app(db_copy).test_client()
    job = first.post("/api/documents", json={"text": REPORT}, headers=AUTH).get_json()["job"]
    del first  # the server that accepted it is gone; a new one knows the job
    restarted = queued_app(db_copy).test_client()
    assert restarted.get(job["links"]["self"]).get_json()["state"] == "queued"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
           "PYTHONPATH": str(PROJECT), "GAZETTEER_DATABASE": str(db_copy)}
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "gazetteer.cli", "worker"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        states = _follow(restarted, job["links"]["self"], seconds=180)
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
    done = restarted.get(job["links"]["self"]).get_json()
    assert done["state"] == "done", (tmp_path / "worker.log").read_text()
    assert states[0] == "queued" and states[-1] == "done"
    assert set(states) <= {"queued", "running", "done"}
    assert done["started_at"] <= done["finished_at"] and done["created"] is True
    assert done["mentions"] >= 3 and done["entities"] >= 3
    document = restarted.get(done["links"]["document"]).get_json()
    assert document["text"] == REPORT and len(document["mentions"]) == done["mentions"]
    again = restarted.post("/api/documents", json={"text": REPORT}, headers=AUTH)
    assert again.status_code == 200 and again.get_json()["created"] is False


def _follow(client, url, seconds):
    states, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(url).get_json()["state"]
        if not states or states[-1] != state:
            states.append(state)
        if state in ("done", "failed"):
            break
        time.sleep(0.05)
    return states


def test_inline_jobs_answer_201_when_done_and_record_the_job(db_copy, shared_nlp):
    client = writable_app(db_copy, shared_nlp, API_TOKEN=TOKEN).test_client()
    response = client.post("/api/documents", json={"text": REPORT}, headers=AUTH)
    assert response.status_code == 201
    body = response.get_json()
    assert body["job"]["state"] == "done" and body["job"]["document_id"] == body["id"]
    assert client.get(body["job"]["links"]["self"]).get_json()["mentions"] == len(body["mentions"])


def test_a_job_over_its_time_limit_fails_with_the_reason(db_copy, shared_nlp):
    client = writable_app(db_copy, shared_nlp, API_TOKEN=TOKEN, JOB_SECONDS=0.001).test_client()
    response = client.post("/api/documents", json={"text": REPORT * 200}, headers=AUTH)
    assert_error(response, 504)
    assert response.get_json()["error"]["code"] == "job_timeout"
    assert "GAZETTEER_JOB_SECONDS" in response.get_json()["error"]["message"]
    assert client.get("/api/documents").get_json()["total"] == 2  # nothing half-stored


def test_a_failed_job_shows_failed_with_its_reason_and_writes_recover(db_copy, shared_nlp):
    app = writable_app(db_copy, shared_nlp, API_TOKEN=TOKEN)
    client = app.test_client()
    engine = app.extensions["gazetteer"].jobs().engine()
    # packed first (VACUUM: the seeded file's pages had room enough for this small document,
    # 31,743 pages before, 29,869 after), then no growth: the disk is full, for this writer
    engine.db.execute("VACUUM")
    pages = engine.db.execute("PRAGMA page_count").fetchone()[0]
    engine.db.execute(f"PRAGMA max_page_count = {pages}")
    response = client.post("/api/documents", json={"text": REPORT}, headers=AUTH)
    assert_error(response, 503)
    assert response.get_json()["error"]["code"] == "disk_full"
    engine.db.execute("PRAGMA max_page_count = 1073741823")  # space freed
    retried = client.post("/api/documents", json={"text": REPORT}, headers=AUTH)
    assert retried.status_code == 201, retried.get_data(as_text=True)


def test_extract_is_bounded_in_size_and_time(db_copy, shared_nlp):
    small = writable_app(db_copy, shared_nlp, EXTRACT_MAX_BYTES=1000).test_client()
    assert_error(small.post("/api/extract", json={"text": "Homs. " * 400}), 413)
    assert small.post("/api/extract", json={"text": "Nusra took Idlib."}).status_code == 200
    slow = writable_app(db_copy, shared_nlp, EXTRACT_SECONDS=0.001).test_client()
    response = slow.post("/api/extract", json={"text": REPORT * 200})
    assert_error(response, 504)
    assert response.get_json()["error"]["code"] == "extract_timeout"


def _start_worker(db_path, log_path, **settings):
    """`gazetteer worker` as a child process over db_path (settings as GAZETTEER_* variables)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
           "PYTHONPATH": str(PROJECT), "GAZETTEER_DATABASE": str(db_path),
           **{f"GAZETTEER_{k.upper()}": v for k, v in settings.items()}}
    log = open(log_path, "wb")
    process = subprocess.Popen([sys.executable, "-m", "gazetteer.cli", "worker"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    process.log_file = log
    return process


def _stop(process):
    stop(process, 30)
    process.log_file.close()


def test_a_job_whose_worker_is_killed_is_reported_failed_and_the_worker_goes_on(db_copy, tmp_path):
    client = queued_app(db_copy).test_client()
    long_report = "\n\n".join(f"{REPORT} Item {n}." for n in range(3000))  # minutes of work
    job_url = client.post("/api/documents", json={"text": long_report},
                          headers=AUTH).get_json()["job"]["links"]["self"]
    worker = _start_worker(db_copy, tmp_path / "worker.log")
    try:
        deadline, job = time.monotonic() + 180, {}
        while time.monotonic() < deadline:
            job = client.get(job_url).get_json()
            if job["state"] != "queued":
                break
            time.sleep(0.05)
        assert job["state"] == "running", (tmp_path / "worker.log").read_text()
        assert job["worker"]["pid"] != worker.pid  # huey's worker process, a child
        os.kill(job["worker"]["pid"], signal.SIGKILL)  # mid-job, as the OOM killer does
        states = _follow(client, job_url, seconds=30)  # the kill takes effect
        failed = client.get(job_url).get_json()
        assert states == ["failed"] or states == ["running", "failed"]
        assert failed["state"] == "failed" and failed["error"]["code"] == "worker_died"
        assert str(job["worker"]["pid"]) in failed["error"]["message"]
        assert "post the document again" in failed["error"]["message"]
        assert client.get(job_url).get_json() == failed  # recorded, not recomputed
        # the consumer replaces the dead process: the next job is done
        small = client.post("/api/documents", json={"text": "Shelling hit Kafr Nabl."},
                            headers=AUTH).get_json()["job"]["links"]["self"]
        states = _follow(client, small, seconds=180)
        assert states[-1] == "done", (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        _stop(worker)
    assert client.get("/api/documents").get_json()["total"] == 3  # the seeds' 2 and the small one


REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of our own on a free loopback port, its files in a temp dir."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    pytest.importorskip("redis", reason="the redis package is in the [test] extra")
    from .serving import free_port

    port = free_port()
    process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                                "--dir", str(tmp_path), "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        stop(process, 30)


def test_a_job_runs_through_the_redis_queue_with_a_real_worker(db_copy, tmp_path, redis_url):
    import redis

    client = queued_app(db_copy, JOB_QUEUE=redis_url).test_client()
    response = client.post("/api/documents", json={"text": REPORT}, headers=AUTH)
    assert response.status_code == 202
    job_url = response.get_json()["job"]["links"]["self"]
    assert not queue_path(db_copy).exists()  # the queue is in Redis, not beside the database
    assert redis.Redis.from_url(redis_url).dbsize() > 0
    worker = _start_worker(db_copy, tmp_path / "worker.log", job_queue=redis_url)
    try:
        states = _follow(client, job_url, seconds=180)
    finally:
        _stop(worker)
    assert states[-1] == "done", (tmp_path / "worker.log").read_text()[-3000:]
    done = client.get(job_url).get_json()
    assert done["created"] is True and done["mentions"] >= 3
    document = client.get(done["links"]["document"]).get_json()
    assert document["text"] == REPORT and len(document["mentions"]) == done["mentions"]
    assert not queue_path(db_copy).exists()


def test_a_done_job_leaves_its_entities_export_rows_rendered(db_copy, shared_nlp):
    client = writable_app(db_copy, shared_nlp, API_TOKEN=TOKEN).test_client()
    with store.transaction(db := store.open_db(db_copy)):
        db.execute("DELETE FROM export_rows")
    body = client.post("/api/documents", json={"text": REPORT}, headers=AUTH).get_json()
    named = sorted({m["entity_id"] for m in body["mentions"]})
    rendered = db.execute("SELECT entity_id, count(*) FROM export_rows GROUP BY entity_id "
                          "ORDER BY entity_id").fetchall()
    assert named and rendered == [(i, len(store.FORMATS)) for i in named]
