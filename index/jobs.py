"""One writer at a time: ingest, upload, remove and reindex run as jobs on one background thread.

A request that changes the index gets a job id at once (`GET /api/jobs/{id}` reports its
progress); answers keep coming from the current index state meanwhile, and the new state is
swapped in when the job has written. The queue is bounded (a full queue is a 503, not a pile
of threads) and only the latest finished jobs are remembered. With a journal (a SQLite file in
the data directory) every worker process of a site can report every job: a client that polls
may reach another worker than the one that took the job.
"""
from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str | None], None]


@dataclass
class Job:
    id: str
    kind: str                       # ingest, upload, remove, reindex
    owner: str                      # the key id that asked for it
    state: str = "queued"           # queued → running → done | failed
    done: int = 0
    total: int = 0
    current: str | None = None
    result: dict | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    version: int = field(default=0, repr=False, compare=False)   # bumped at each journal write
    _event: threading.Event = field(default_factory=threading.Event, repr=False)

    def fields(self) -> dict:
        """Its state as stored (times as epoch seconds); `Job(**fields)` is the same job."""
        return {k: getattr(self, k) for k in ("id", "kind", "owner", "state", "done", "total", "current", "result",
                                               "error", "created", "started", "finished")}

    def to_dict(self) -> dict:
        """Its state as the API shows it (no owner; times as ISO)."""
        out = self.fields()
        del out["owner"]
        return {**out, **{k: _iso(out[k]) for k in ("created", "started", "finished")}}


class JobJournal:
    """The jobs' states in SQLite, shared by the worker processes of one data directory."""

    def __init__(self, path: Path, keep: int = 200) -> None:
        self.path, self.keep = path, keep
        # one connection for the queue's life (a job's every step is written; each writer thread
        # takes the lock), not one opened per write
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, body TEXT NOT NULL, at REAL NOT NULL, "
                       "version INTEGER NOT NULL DEFAULT 0)")
            if "version" not in {r[1] for r in db.execute("PRAGMA table_info(jobs)")}:  # a journal from before versions
                db.execute("ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 0")

    def record(self, job_id: str, fields: dict, version: int) -> None:
        """Write a job's state as of `version`; a later version is never overwritten by an earlier
        one (the caller's "queued" may reach the database after the writer's "done"). A new job
        (its first version) trims the journal to the latest `keep`."""
        try:
            with self._lock, self._db as db:
                db.execute("INSERT INTO jobs (id, body, at, version) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                           "SET body = excluded.body, at = excluded.at, version = excluded.version "
                           "WHERE excluded.version > jobs.version",
                           (job_id, json.dumps(fields, ensure_ascii=False, default=str), time.time(), version))
                if version == 1:
                    db.execute("DELETE FROM jobs WHERE id NOT IN (SELECT id FROM jobs ORDER BY at DESC LIMIT ?)",
                               (self.keep,))
        except sqlite3.Error:  # the job runs on; only another worker's view of it is late
            log.exception("job journal: could not record %s", job_id)

    def get(self, job_id: str) -> Job | None:
        try:
            with self._lock:
                row = self._db.execute("SELECT body FROM jobs WHERE id = ?", (job_id,)).fetchone()
        except sqlite3.Error:
            return None
        return Job(**json.loads(row[0])) if row else None


def _iso(t: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) if t else None


class QueueFull(Exception):
    pass


class JobQueue:
    def __init__(self, max_pending: int = 16, keep: int = 200, journal: Path | None = None) -> None:
        self._journal = JobJournal(journal, keep) if journal else None
        self._queue: queue.Queue[tuple[Job, Callable[[Progress], dict]] | None] = queue.Queue(max_pending)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="council-writer", daemon=True)
        self._thread.start()

    def submit(self, kind: str, owner: str, work: Callable[[Progress], dict]) -> Job:
        job = Job(uuid.uuid4().hex, kind, owner)
        with self._lock:
            try:
                self._queue.put_nowait((job, work))
            except queue.Full:
                raise QueueFull from None
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:  # forget the oldest finished jobs first
                old = next((k for k, j in self._jobs.items() if j.state in ("done", "failed")), None)
                if old is None:
                    break
                del self._jobs[old]
        self._record(job)
        return job

    def get(self, job_id: str) -> Job | None:
        """A job of this process, or (with a journal) of another worker of the same site."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None and self._journal:
            return self._journal.get(job_id)
        return job

    def _record(self, job: Job) -> None:
        if self._journal:
            with self._lock:  # the state and its version read together
                job.version += 1
                fields, version = job.fields(), job.version
            self._journal.record(job.id, fields, version)

    def wait(self, job: Job, timeout: float) -> Job:
        job._event.wait(timeout)
        return job

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, work = item
            job.state, job.started = "running", time.time()
            self._record(job)

            def progress(done: int, total: int, current: str | None, job: Job = job) -> None:
                job.done, job.total, job.current = done, total, current
                self._record(job)

            try:
                job.result = work(progress)
                job.state = "done"
            except Exception as exc:  # a failed job is reported, the writer keeps going
                log.exception("job %s (%s) failed", job.id, job.kind)
                job.error = f"{type(exc).__name__}: {exc}"[:500]
                job.state = "failed"
            finally:
                job.finished = time.time()
                job.current = None
                self._record(job)
                job._event.set()
