"""Scale-out: two API workers share one real `chroma run` server (COUNCIL_CHROMA_URL) and one
SQLite store. A write on one is seen by the other; writes from both at once lose no vectors."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tiny import header, ingest_via_api, two_level_settings

CHROMA = shutil.which("chroma") or str(Path(__import__("sys").executable).parent / "chroma")
PORTS = range(8410, 8420)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.skip("no free port in 8410-8419 for a Chroma server")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    if not Path(CHROMA).exists():
        pytest.skip("the chroma command is not installed")
    port = _free_port()
    proc = subprocess.Popen([CHROMA, "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "chroma run did not start"
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _eventually(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_two_workers_share_a_chroma_server(chroma_url, tmp_path):
    from assistant.api import create_app

    settings = two_level_settings(tmp_path, chroma_url=chroma_url, collection="two_workers")
    a = TestClient(create_app(settings, with_ui=False))
    b = TestClient(create_app(settings, with_ui=False))  # a second worker: its own index state and Chroma client
    with a, b:
        report = ingest_via_api(a, [str(settings.corpus_dir)], header("editor"))
        assert len(report["added"]) == 2
        def b_answers() -> bool:  # B's in-memory state (BM25, chunks) has the document
            hits = b.get("/api/search", params={"q": "Simhall Bibliotek"}).json()
            return any(h["source"] == "publika/2025_kultur_budget.md" for h in hits)

        _eventually(b_answers)  # B reloads in the background once it notices A's write
        # both write at once: one writer at a time across the workers, no vector lost
        extra = settings.corpus_dir / "extra"
        extra.mkdir()
        for i in range(6):
            (extra / f"{i}.md").write_text(f"# Dokument {i}\n\n" + " ".join(f"Mening {j} om sak {i}." for j in range(80)),
                                           encoding="utf-8")
        ja = a.post("/api/ingest", json={"paths": [str(extra)]}, headers=header("editor")).json()
        jb = b.post("/api/ingest", json={"paths": [str(extra / "0.md"), str(extra / "1.md")]},
                    headers=header("editor")).json()
        for client, job in ((a, ja), (b, jb)):
            _eventually(lambda: client.get(f"/api/jobs/{job['id']}", headers=header("editor")).json()["state"]
                        in ("done", "failed"), 120)
            assert client.get(f"/api/jobs/{job['id']}", headers=header("editor")).json()["state"] == "done"
        index = a.app.state.index
        listed = {cid for (cid,) in index._db.execute("SELECT chunk_id FROM chunks")}
        assert index._chroma_ids() == listed and len(listed) > 8
        assert a.delete("/api/documents/publika/2025_kultur_budget.md", headers=header("editor")).status_code == 200
        _eventually(lambda: not b_answers())
        assert index.reconcile() == {"pending": [], "orphans": 0, "restored": 0}


def test_a_job_taken_by_one_worker_is_reported_by_another(tmp_path):
    """Workers of one site share a job journal: a client polling `GET /api/jobs/{id}` may reach
    any of them."""
    from index.jobs import JobQueue

    journal = tmp_path / "jobs.sqlite3"
    a, b = JobQueue(journal=journal), JobQueue(journal=journal)
    try:
        def work(progress):
            progress(1, 2, "x.md")
            return {"added": ["x.md"]}

        job = a.wait(a.submit("ingest", "editor", work), 10)
        seen = b.get(job.id)
        assert seen is not None and seen.owner == "editor" and seen.to_dict()["state"] == "done"
        assert seen.to_dict()["result"] == {"added": ["x.md"]} and seen.to_dict()["finished"]
        assert b.get("no-such-job") is None
        # a state written late (the submitter's "queued" after the writer's "done") never wins
        from index.jobs import Job, JobJournal

        late = Job(job.id, "ingest", "editor")
        JobJournal(journal).record(late.id, late.fields(), 1)
        assert b.get(job.id).to_dict()["state"] == "done"
    finally:
        a.close()
        b.close()
