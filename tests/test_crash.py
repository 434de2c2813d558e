"""Crash safety: kill -9 an ingest (a separate process) at three points of a document's write,
restart, and SQLite, Chroma and BM25 agree: every listed document has all its vectors (the
right ones), no orphans; re-running the ingest completes. Also: one owner per data directory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tiny import BUDGET

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh process, as a restart would: open the store (which reconciles), then report.
CHECK = r"""
import json, sys
import numpy as np
from assistant.settings import Settings
from index.store import CouncilIndex
index = CouncilIndex(Settings())
repair = index.reconcile(full=False)
db = index._db
listed = dict(db.execute("SELECT chunk_id, source FROM chunks"))
docs = {s: n for s, n in db.execute("SELECT source, chunks FROM documents")}
got = index.collection.get(include=["embeddings"], limit=100000)
stale = 0
for cid, vec in zip(got["ids"], got["embeddings"]):
    if cid in index.chunks:
        want = index.embedder.embed_passages([index.chunks[cid].index_text()])[0]
        stale += int(not np.allclose(np.asarray(vec), want, atol=1e-5))
searchable = all(index.dense_search("", k=1, vector=index.embedder.embed_passages([c.index_text()])[0])[0][0] == cid
                 for cid, c in index.chunks.items())
bm25 = set(index.bm25.ids)
print(json.dumps({"repair": repair, "listed": sorted(listed), "chroma": sorted(got["ids"]), "stale": stale,
                  "docs": docs, "per_doc": {s: sum(1 for x in listed.values() if x == s) for s in docs},
                  "bm25_ok": bm25 == set(listed), "searchable": searchable,
                  "pending": db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]}))
"""


def run(env: dict, *args: str, crash: str | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    e.pop("COUNCIL_TEST_CRASH_AT", None)
    if crash:
        e["COUNCIL_TEST_CRASH_AT"] = crash
    return subprocess.run([sys.executable, *args], env=e, capture_output=True, text=True, timeout=300, cwd=ROOT)


def check(env: dict) -> dict:
    p = run(env, "-c", CHECK)
    assert p.returncode == 0, p.stderr[-3000:]
    state = json.loads(p.stdout.strip().splitlines()[-1])
    assert state["listed"] == state["chroma"], "Chroma and SQLite disagree"
    assert state["stale"] == 0 and state["bm25_ok"] and state["searchable"] and state["pending"] == 0
    assert all(state["per_doc"][s] == n > 0 for s, n in state["docs"].items()), state["per_doc"]
    return state


@pytest.fixture()
def env(tmp_path):
    corpus = tmp_path / "handlingar"
    corpus.mkdir()
    (corpus / "a_budget.md").write_text(BUDGET, encoding="utf-8")
    (corpus / "b_protokoll.txt").write_text((ROOT / "tests/fixtures/protokoll_exempelby.txt").read_text("utf-8"),
                                             encoding="utf-8")
    return {"COUNCIL_DATA_DIR": str(tmp_path / "store"), "COUNCIL_CORPUS_DIR": str(corpus),
            "COUNCIL_EMBEDDING_BACKEND": "hashing", "COUNCIL_API_KEYS": "{}", "HF_HUB_OFFLINE": "1"}, corpus


def ingest(env: dict, corpus: Path, crash: str | None = None) -> subprocess.CompletedProcess:
    return run(env, "-m", "assistant.cli", "ingest", "--local", "--sync", str(corpus), crash=crash)


@pytest.mark.parametrize("point", ["pending", "chroma_delete", "chroma_add"])
def test_kill_during_ingest_then_restart(env, point):
    env, corpus = env
    first = ingest(env, corpus)
    assert first.returncode == 0, first.stderr[-2000:]
    before = check(env)
    # an update that changes the document's chunks, and a new document after it
    (corpus / "a_budget.md").write_text(BUDGET.replace("Simhall", "Simhallen Navet") + "\n\n## Ny del\n\n" +
                                        " ".join(f"Mening {i} om isbanan nummer {i}." for i in range(150)),
                                        encoding="utf-8")
    (corpus / "c_ny.md").write_text("# Nytt\n\nEtt nytt dokument om badhuset.", encoding="utf-8")
    crashed = ingest(env, corpus, crash=point)
    assert crashed.returncode == -9, (crashed.returncode, crashed.stderr[-2000:])
    after = check(env)  # the restart repaired Chroma: the old version of a_budget.md, whole
    assert after["docs"] == before["docs"]
    assert after["repair"]["pending"] == ["handlingar/a_budget.md"]
    rerun = ingest(env, corpus)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    final = check(env)
    assert set(final["docs"]) == {"handlingar/a_budget.md", "handlingar/b_protokoll.txt", "handlingar/c_ny.md"}
    assert final["docs"]["handlingar/a_budget.md"] > before["docs"]["handlingar/a_budget.md"]


def test_kill_during_remove(env):
    env, corpus = env
    assert ingest(env, corpus).returncode == 0
    (corpus / "b_protokoll.txt").unlink()
    crashed = ingest(env, corpus, crash="chroma_delete")
    assert crashed.returncode == -9
    state = check(env)  # the removal did not commit: the document is listed with all its vectors
    assert "handlingar/b_protokoll.txt" in state["docs"]
    assert ingest(env, corpus).returncode == 0
    assert set(check(env)["docs"]) == {"handlingar/a_budget.md"}


def test_one_owner_per_data_directory(env, tmp_path):
    from assistant.settings import Settings
    from index.store import CouncilIndex, StoreBusy

    env, corpus = env
    settings = Settings(data_dir=Path(env["COUNCIL_DATA_DIR"]), embedding_backend="hashing")
    index = CouncilIndex(settings)  # this test process now owns the directory
    try:
        other = ingest(env, corpus)
        assert other.returncode == 2 and "används redan av process" in other.stderr
        with pytest.raises(StoreBusy):
            subprocess_owner = run(env, "-c", "from assistant.settings import Settings\n"
                                              "from index.store import CouncilIndex\nCouncilIndex(Settings())")
            assert subprocess_owner.returncode != 0 and "StoreBusy" in subprocess_owner.stderr
            raise StoreBusy("seen in the subprocess")
    finally:
        index.close()
    assert ingest(env, corpus).returncode == 0  # released when its owner closes (or dies)
