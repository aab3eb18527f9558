"""The task queue (huey) that runs the API's writes and bounded extractions in worker
processes, so that no web process loads spaCy or makes a reader wait behind the model.

Huey keeps the queue, each job's state and the results in a SQLite file beside the database
(nothing new to run; a job survives a restart of the server) or in Redis when
GAZETTEER_JOB_QUEUE is a redis:// URL. An app given an engine of its own (tests, a single
process) runs the same tasks inline, in huey's immediate mode.
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.exceptions import HueyException, ResultTimeout, TaskException, TaskTimeout

from . import faults, store
from .config import Settings
from .errors import ExtractTimedOut, GazetteerError
from .store import now
from .types import Document

if TYPE_CHECKING:
    from .pipeline import Engine

STATES = ("queued", "running", "done", "failed")
_KEY = "gazetteer-job:"
_CANCEL = "gazetteer-cancel:"  # set by the web process when an extract's client went away
CLIENT_POLL_SECONDS = 0.25  # how often a waiting extract request looks at its client
log = logging.getLogger("gazetteer.jobs")
# A running job's worker renews its heartbeat this often; a job whose heartbeat is older than
# HEARTBEAT_STALE_SECONDS has lost its worker (another host, or a pid reused since).
HEARTBEAT_SECONDS = 10.0
HEARTBEAT_STALE_SECONDS = 6 * HEARTBEAT_SECONDS


@dataclass(frozen=True)
class Job:
    """One ingest job as /api/jobs/<id> shows it."""

    id: str
    state: str  # queued, running, done, failed
    document_id: str
    source: str
    queued_at: str
    started_at: str | None = None
    finished_at: str | None = None
    created: bool | None = None  # False when the document was already stored
    mentions: int | None = None
    entities: int | None = None
    error: dict | None = None  # {"code", "message"} when failed
    worker: dict | None = None  # {"host", "pid"} of the process running it
    heartbeat_at: str | None = None  # renewed while it runs, so a dead worker shows

    def as_dict(self) -> dict:
        return asdict(self)


def queue_path(database: Path) -> Path:
    """The queue's SQLite file: beside the database, so backups and moves keep them together."""
    return database.with_name(database.name + ".jobs")


def make_huey(settings: Settings, immediate: bool = False) -> Huey:
    """A huey over SQLite (default), Redis (a redis:// URL), or memory (immediate)."""
    target = settings.job_queue
    if target.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("gazetteer", url=target, immediate=immediate)
    if target != "sqlite":
        raise GazetteerError(f'GAZETTEER_JOB_QUEUE must be "sqlite" or a redis:// URL, '
                             f"not {target!r}")
    return SqliteHuey("gazetteer", filename=str(queue_path(settings.database)),
                      immediate=immediate, timeout=30)


class JobQueue:
    """Ingest and extract as huey tasks; the same object enqueues (web) and runs (worker)."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._lock = threading.Lock()  # an inline engine serves one task at a time
        self.huey = make_huey(settings, immediate=engine is not None)
        if engine is not None:  # inline: no consumer, so the time limit is ours to keep
            self.huey._timeout_handler = _alarm
        self._ingest = self.huey.task(name="ingest", timeout=settings.job_seconds)(
            self._run_ingest)
        self._extract = self.huey.task(name="extract", timeout=settings.extract_seconds,
                                       context=True)(self._run_extract)
        self._inline = threading.local()  # the request's client check, for inline extracts
        self.huey.on_startup(name="load_engine")(self.engine)

    # ---- the web side ----------------------------------------------------------------------

    def submit(self, doc: Document) -> Job:
        """Queue a document for ingest; returns its job (already done when inline)."""
        job_id = _new_id()
        self._save(Job(job_id, "queued", doc.id, doc.source[:500], now()))
        task = self._ingest.s(job_id, doc)
        task.id = job_id  # one name for one piece of work, in our records and huey's
        self.huey.enqueue(task)
        return self.job(job_id)  # type: ignore[return-value]

    def job(self, job_id: str) -> Job | None:
        """The job as it stands; a running job whose worker died (SIGKILL, out of memory,
        host down) is marked failed here, with the reason, instead of running for ever."""
        data = self.huey.get(_KEY + job_id, peek=True)
        if not data:
            return None
        job = Job(**data)
        if job.state == "running" and worker_gone(job):
            job = replace(job, state="failed", finished_at=now(), error=_died(job))
            self._save(job)
        return job

    def wait(self, job_id: str, seconds: float) -> Job | None:
        """The job once it is done or failed, or as it stands after seconds."""
        import time

        deadline, delay = time.monotonic() + seconds, 0.02
        job = self.job(job_id)
        while job is not None and job.state in ("queued", "running") \
                and time.monotonic() < deadline:
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.25)
            job = self.job(job_id)
        return job

    def extract(self, doc: Document, client_gone: Callable[[], bool] | None = None) -> dict:
        """The extract result, computed by a worker within GAZETTEER_EXTRACT_SECONDS; raises
        ExtractTimedOut when over (the worker stops: its task is interrupted). client_gone,
        asked while waiting, tells whether the client went away: then the worker is told to
        stop after the piece of text it is on, and ClientGone is raised."""
        limit = self.settings.extract_seconds
        self._inline.client_gone = client_gone  # inline, the task runs in this very call
        try:
            result = self._extract(doc)
        finally:
            self._inline.client_gone = None
        try:
            value = self._wait_for(result, limit + 5, client_gone)
        except ResultTimeout:
            raise ExtractTimedOut(_too_slow(limit)) from None
        except TaskException as exc:
            raise _task_error(exc, limit) from None
        if isinstance(value, dict) and "error" in value:
            raise _rebuilt_error(value["error"])
        return value

    def _wait_for(self, result, seconds: float, client_gone: Callable[[], bool] | None):
        """The task's value (the worker's own alarm ends it at the limit; the margin in
        seconds is queueing), looking at the client between short waits."""
        import time

        deadline = time.monotonic() + seconds
        while True:
            step = min(CLIENT_POLL_SECONDS, max(0.01, deadline - time.monotonic()))
            try:
                return result.get(blocking=True, timeout=step, backoff=1.3, max_delay=0.1)
            except ResultTimeout:
                if time.monotonic() >= deadline:
                    result.revoke()
                    raise
            if client_gone is not None and client_gone():
                self.huey.put(_CANCEL + result.id, True)  # the worker stops at its next piece
                result.revoke()  # and never starts, if it had not
                raise ClientGone("the client closed the connection: extraction stopped")

    # ---- the worker side -------------------------------------------------------------------

    def engine(self) -> Engine:
        """This process's engine (loaded at the worker's start, so no job pays for it)."""
        with self._lock:
            if self._engine is None:
                from .pipeline import open_engine

                self._engine = open_engine(self.settings)
            return self._engine

    def _run_ingest(self, job_id: str, doc: Document) -> dict:
        job = self.job(job_id) or Job(job_id, "queued", doc.id, doc.source[:500], now())
        job = replace(job, state="running", started_at=now(), worker=_this_worker(),
                      heartbeat_at=now())
        self._save(job)
        try:
            with self._heartbeat(job):
                created, mentions = self._ingest_now(doc)
        except (Exception, TaskTimeout) as exc:  # recorded on the job; the worker goes on
            self._save(replace(job, state="failed", finished_at=now(),
                               error=_describe(exc, self.settings.job_seconds, self.settings)))
            return {"state": "failed"}
        except _OutOfTime:  # the alarm: recorded, then on to huey as its TaskTimeout
            timeout = TaskTimeout(f"timeout ({self.settings.job_seconds}s)")
            self._save(replace(job, state="failed", finished_at=now(),
                               error=_describe(timeout, self.settings.job_seconds,
                                               self.settings)))
            raise
        self._save(replace(job, state="done", finished_at=now(), created=created,
                           mentions=len(mentions),
                           entities=len({m.entity_id for m in mentions})))
        return {"state": "done"}

    def _ingest_now(self, doc: Document):
        from .pipeline import ingest_document

        engine = self.engine()
        with self._lock:
            created, mentions = ingest_document(engine, doc)
            # rendered here, the report's entities are read, not rebuilt, by the next download
            store.render_export_rows(engine.db, {m.entity_id for m in mentions})
            return created, mentions

    def _run_extract(self, doc: Document, task=None) -> dict:
        from dataclasses import replace as with_changes

        from .formats import extract_result
        from .pipeline import analyse

        engine = with_changes(self.engine(), between_pieces=self._stop_when_client_gone(task))
        try:
            with self._lock:
                ((_, mentions, entities),) = analyse(engine, [doc])
        except GazetteerError as exc:
            return {"error": {"status": exc.status, "code": exc.code, "message": exc.message}}
        except _ClientLeft as left:
            log.info("extract %s: stopped after %d of %d pieces: the client went away",
                     task.id if task else "-", left.done, left.total)
            return {"error": {"status": 499, "code": "client_gone", "message": str(left)}}
        finally:
            if task is not None:
                self.huey.get(_CANCEL + task.id)  # read and removed: keys do not pile up
        return extract_result(doc, mentions, entities)

    def _stop_when_client_gone(self, task) -> Callable[[int, int], None]:
        """The check between pieces of an extraction: the web process's cancel mark (worker)
        or the request's own client (inline)."""
        inline_check = getattr(self._inline, "client_gone", None)
        name = task.id if task is not None else "-"

        def check(done: int, total: int) -> None:
            log.info("extract %s: piece %d of %d analysed", name, done, total)
            if done == total:
                return
            cancelled = task is not None and self.huey.get(_CANCEL + task.id, peek=True)
            if cancelled or (inline_check is not None and inline_check()):
                raise _ClientLeft(done, total)

        return check

    def _save(self, job: Job) -> None:
        self.huey.put(_KEY + job.id, job.as_dict())

    @contextmanager
    def _heartbeat(self, job: Job) -> Iterator[None]:
        """Renew the running job's heartbeat from a thread until the block ends; the thread
        is stopped before the block's outcome is saved, so it never overwrites it."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_SECONDS):
                self._save(replace(job, heartbeat_at=now()))

        thread = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def run_worker(settings: Settings, workers: int) -> None:
    """Process jobs until interrupted: `gazetteer worker`, and the workers `serve` starts."""
    import multiprocessing

    if not logging.getLogger().handlers:  # what the workers did, on standard error
        logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s: %(message)s")
        logging.getLogger("gazetteer").setLevel(logging.INFO)
    queue = JobQueue(settings)
    forks = "fork" in multiprocessing.get_all_start_methods()
    consumer = queue.huey.create_consumer(
        workers=workers, worker_type="process" if forks else "thread", initial_delay=0.05, backoff=1.5,
        max_delay=0.5, periodic=False, check_worker_health=True)
    consumer.run()


def _this_worker() -> dict:
    import os
    import socket

    return {"host": socket.gethostname(), "pid": os.getpid()}


def worker_gone(job: Job) -> bool:
    """Whether a running job's worker is gone: on this host its process is (or is a zombie);
    anywhere, its heartbeat stopped. Jobs recorded before workers were named are left alone."""
    if job.worker is None or job.heartbeat_at is None:
        return False
    import socket

    if job.worker.get("host") == socket.gethostname() and not _alive(job.worker["pid"]):
        return True
    return _age_seconds(job.heartbeat_at) > HEARTBEAT_STALE_SECONDS


def _alive(pid: int) -> bool:
    """Whether process pid runs: /proc on Linux (a zombie, killed but not reaped yet, is
    dead), signal 0 elsewhere."""
    import os

    if Path("/proc/self/stat").exists():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        # the state follows the command name, which is in parentheses and may hold spaces
        return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _age_seconds(stamp: str) -> float:
    from datetime import datetime, timezone

    then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - then).total_seconds()


def _died(job: Job) -> dict:
    where = job.worker or {}
    return {"status": 500, "code": "worker_died",
            "message": f"the worker running this job (pid {where.get('pid')} on "
                       f"{where.get('host')}) died before it finished (killed, or out of "
                       f"memory): post the document again (if it was stored before the "
                       f"worker died, the post answers 200 with it; nothing is stored twice)"}


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


def _describe(exc: BaseException, limit: float, settings: Settings) -> dict:
    """{"code", "message"} for a failed job: our errors as they are, storage faults named,
    anything else by its type and text."""
    if isinstance(exc, TaskTimeout):
        return {"status": 504, "code": "job_timeout",
                "message": f"the job took longer than {limit:g} s (GAZETTEER_JOB_SECONDS): "
                           f"split the document, or raise the limit"}
    if isinstance(exc, GazetteerError):
        return {"status": exc.status, "code": exc.code, "message": exc.message}
    fault = faults.storage_fault(exc, settings.database)
    if fault is not None:
        return {"status": fault.status, "code": fault.code, "message": fault.message}
    return {"status": 500, "code": "internal_error", "message": f"{type(exc).__name__}: {exc}"[:500]}


def _too_slow(limit: float) -> str:
    return (f"extraction took longer than {limit:g} s (GAZETTEER_EXTRACT_SECONDS) and was "
            f"stopped: send a shorter text, or POST it to /api/documents, which runs as a job")


def _task_error(exc: TaskException, limit: float) -> GazetteerError:
    if "TaskTimeout" in str(exc.metadata.get("error", "")):
        return ExtractTimedOut(_too_slow(limit))
    return GazetteerError(f"extraction failed: {exc.metadata.get('error', 'unknown error')}"[:500])


def _rebuilt_error(error: dict) -> GazetteerError:
    rebuilt = GazetteerError(error["message"])
    rebuilt.status, rebuilt.code = error["status"], error["code"]
    return rebuilt


class ClientGone(GazetteerError):
    """The client of a request closed its connection before the answer: no one reads it."""

    status = 499  # nginx's "client closed request"
    code = "client_gone"


class _ClientLeft(BaseException):
    """Raised between pieces when the client went away: not an Exception, so that the
    pipeline's per-document handlers let it through."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"the client went away: stopped after {done} of {total} pieces")
        self.done, self.total = done, total


class _OutOfTime(BaseException):
    """Raised by the alarm: not an Exception, so that no stage's "one document failed, go on"
    handler can swallow the time limit."""


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """The worker's time limit for inline tasks: SIGALRM where signals can be used (the main
    thread), none in a server thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum, _frame):
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _OutOfTime:
        raise TaskTimeout(f"timeout ({seconds}s)") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


__all__ = ["Job", "JobQueue", "STATES", "queue_path", "run_worker", "HueyException"]
