"""Writes are jobs: queued, running, done or failed with a reason; the queue lives in a file
beside the database, so a job outlives the server that accepted it; a real `gazetteer worker`
process runs it. Extraction is bounded in size and time."""

import os
import shutil
import subprocess
import sys
import time

import pytest

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
    pages = engine.db.execute("PRAGMA page_count").fetchone()[0]
    engine.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full, for this writer
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
