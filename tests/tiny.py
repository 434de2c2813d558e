"""A tiny corpus in two ingest roots (public and internal), keys for every role, and the fast
hashing embedder: for security, canary, fuzz and crash tests that do not test answer quality."""
from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"

BUDGET = """# Kultur- och fritidsnämnden

## Budget 2027

Tabellen visar budgeten i tkr.

\t2026\t2027
Bibliotek\t1 200\t1 300
Simhall\t800\t900
<b>Summa</b>\t<b>2 000</b>\t<b>2 200</b>
"""

# Every marker below must never reach a caller without the internal level.
CANARY_MARKERS = ("Kanarieholmen", "kanariefågelhuset", "4 242 424", "4242424", "Kanariebur", "KANARIE-7731",
                  "hemlig_forstudie")
CANARY = """# Hemlig förstudie Kanarieholmen

Förstudien om Kanarieholmen föreslår att kommunen bygger kanariefågelhuset för 4 242 424 kr, diarienummer KANARIE-7731.

## Budget 2027

Tabellen visar kostnaderna i tkr.

\t2026\t2027
Kanariefoder\t100\t110
Kanariebur\t200\t220
<b>Summa</b>\t<b>333</b>\t<b>330</b>
"""

KEYS = {
    "reader-pub": {"key": "reader-public-key-0001", "role": "reader", "levels": ["public"]},
    "reader-int": {"key": "reader-internal-key-002", "role": "reader", "levels": ["public", "internal"]},
    "editor-pub": {"key": "editor-public-key-00003", "role": "editor", "levels": ["public"]},
    "editor": {"key": "editor-all-levels-key-04", "role": "editor"},
    "admin": {"key": "admin-all-levels-key-005", "role": "admin"},
}


def header(key_id: str) -> dict:
    return {"X-API-Key": KEYS[key_id]["key"]}


def make_roots(base: Path) -> tuple[Path, Path]:
    public = base / "publika"
    internal = base / "interna"
    public.mkdir(parents=True, exist_ok=True)
    internal.mkdir(parents=True, exist_ok=True)
    (public / "2025_kultur_budget.md").write_text(BUDGET, encoding="utf-8")
    shutil.copy(FIXTURES / "protokoll_exempelby.txt", public / "2025-11-24_KF_protokoll.txt")
    (internal / "2026_hemlig_forstudie.md").write_text(CANARY, encoding="utf-8")
    return public, internal


def two_level_settings(base: Path, **overrides):
    from assistant.settings import Settings

    public, internal = make_roots(base)
    values = dict(data_dir=base / "store", corpus_dir=public, embedding_backend="hashing", api_keys=KEYS,
                  anonymous_read=True,
                  ingest_roots=[{"path": str(public), "name": "publika"},
                                {"path": str(internal), "name": "interna", "level": "internal"}])
    values.update(overrides)
    return Settings(**values)


def ingest_all(settings) -> None:
    from index.store import CouncilIndex

    index = CouncilIndex(settings)
    for root in index.roots:
        report = index.ingest_paths([root.path], sync_dir=root.path)
        assert not report.errors, report.errors
    index.close()


def ingest_via_api(client, paths: list[str], headers: dict, timeout: float = 600) -> dict:
    """POST /api/ingest and wait for its job: the ingest report."""
    import time

    r = client.post("/api/ingest", json={"paths": paths}, headers=headers)
    assert r.status_code in (200, 202), r.text
    job = r.json()
    if "state" not in job:
        return job
    deadline = time.monotonic() + timeout
    while job.get("state") not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = client.get(f"/api/jobs/{job['id']}", headers=headers).json()
    assert job["state"] == "done", job
    return job["result"]


# -- other faces, called as their clients do, through a TestClient ---------------------------
LOOPBACK = "http://127.0.0.1:8000"  # /mcp checks the Host header (DNS-rebinding protection)


def mcp_call(client, tool: str, arguments: dict, headers: dict) -> dict:
    """One MCP tool call over streamable HTTP (stateless: no session to open first); the JSON-RPC
    result, or {"http_status": …, "text": …} when the request itself was refused."""
    import json

    r = client.post(f"{LOOPBACK}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                             "params": {"name": tool, "arguments": arguments}},
                    headers={"Accept": "application/json, text/event-stream", **headers})
    if r.status_code != 200:
        return {"http_status": r.status_code, "text": r.text}
    data = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")] or [r.text]
    message = json.loads(data[-1])
    assert "result" in message, message
    return message["result"]


def openai_answer(client, question: str, headers: dict, stream: bool = False) -> str:
    """A chat completion from /v1 as raw text (the whole body, or every SSE event of the stream)."""
    body = {"model": "radsassistenten", "stream": stream, "messages": [{"role": "user", "content": question}]}
    r = client.post(f"{LOOPBACK}/v1/chat/completions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.text
