"""The audit log: every answer and every change is recorded with its caller, personal data redacted,
old rows deleted, and `council audit` prints it."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from tiny import header, ingest_all, two_level_settings


def test_redaction():
    from assistant.audit import redact

    text = ("Ring Anna på 070-123 45 67 eller +46 90 16 10 00, mejla anna.andersson@umea.se; "
            "personnummer 850101-1234, 19850101-1234 och 8501011234. Org.nr 802000-1234, dnr KS-2026/00467, "
            "belopp 1 037 065 kr, datum 2026-05-19, § 76, ärende 195/26, 22,35 kronor.")
    out = redact(text)
    for secret in ("070-123 45 67", "+46 90 16 10 00", "anna.andersson@umea.se", "850101-1234", "19850101-1234",
                   "8501011234"):
        assert secret not in out, secret
    assert out.count("[personnummer]") == 3 and "[e-post]" in out and out.count("[telefon]") == 2
    for kept in ("802000-1234", "KS-2026/00467", "1 037 065 kr", "2026-05-19", "§ 76", "195/26", "22,35"):
        assert kept in out, kept


def test_answers_and_changes_are_logged(tmp_path, capsys, monkeypatch):
    from assistant.api import create_app

    settings = two_level_settings(tmp_path)
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=False)) as client:
        client.post("/api/ask", json={"question": "Vad är budgeten för Simhall 2027, 850101-1234?"},
                    headers=header("reader-pub"))
        client.post("/api/chat", json={"messages": [{"role": "user", "content": "Bibliotek 2027?"}]})
        client.post("/api/upload", files={"file": ("ny.md", b"# Ny\n\nMejla kontakt@example.se om simhallen.")},
                    headers=header("editor"), params={"wait": 30})
        client.delete("/api/documents/uploads/ny.md", headers=header("editor"))
        rows = client.app.state.audit.entries(limit=10)
    assert [r["action"] for r in rows] == ["ask", "chat", "upload", "remove"]
    ask = rows[0]
    assert ask["key_id"] == "reader-pub" and ask["role"] == "reader" and ask["latency_ms"] > 0
    assert "850101-1234" not in ask["question"] and "[personnummer]" in ask["question"]
    assert "900" in ask["answer"] and "publika/2025_kultur_budget.md" in ask["citations"] and ask["abstained"] is False
    assert rows[1]["key_id"] == "anonymous"
    assert rows[2]["key_id"] == "editor" and "uploads/ny.md" in rows[2]["question"]

    monkeypatch.setenv("COUNCIL_DATA_DIR", str(settings.data_dir))
    from assistant import cli
    from assistant.settings import get_settings

    get_settings.cache_clear()
    try:
        assert cli.main(["audit", "--action", "ask"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "reader-pub (reader)  ask" in out and "[personnummer]" in out and "850101-1234" not in out


def test_retention(tmp_path):
    from assistant.audit import AuditLog

    log = AuditLog(tmp_path / "audit.sqlite3", retention_days=30, max_rows=3)
    old = (datetime.now(timezone.utc) - timedelta(days=31)).isoformat()
    with sqlite3.connect(tmp_path / "audit.sqlite3") as db:
        db.execute("INSERT INTO audit (at, key_id, action) VALUES (?, 'gammal', 'ask')", (old,))
    for i in range(5):
        log.record(key_id=f"k{i}", role="reader", action="ask", question=str(i))
    log.purge()
    assert [r["key_id"] for r in log.entries()] == ["k2", "k3", "k4"]


def test_answers_through_the_openai_face_and_mcp_are_logged_with_their_caller(tmp_path):
    from assistant.api import create_app
    from tiny import mcp_call, openai_answer

    settings = two_level_settings(tmp_path)
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=False)) as client:
        openai_answer(client, "Vad är budgeten för Simhall 2027, 850101-1234?",
                      {"Authorization": "Bearer " + header("reader-pub")["X-API-Key"]})
        openai_answer(client, "Vad kostar Bibliotek 2027?", {}, stream=True)
        mcp_call(client, "ask", {"question": "Vad kostar Simhall 2026?"}, header("reader-int"))
        mcp_call(client, "search", {"query": "simhall"}, header("editor"))
        rows = client.app.state.audit.entries(limit=10)
    assert [(r["action"], r["key_id"], r["role"]) for r in rows] == [
        ("openai", "reader-pub", "reader"), ("openai", "anonymous", "anonymous"),
        ("mcp-ask", "reader-int", "reader"), ("mcp-search", "editor", "editor")]
    assert "[personnummer]" in rows[0]["question"] and "850101" not in rows[0]["question"]
    assert "900" in rows[0]["answer"] and rows[0]["citations"] == ["publika/2025_kultur_budget.md"]
    assert rows[2]["latency_ms"] > 0 and rows[2]["abstained"] is False


def test_rows_are_written_behind_and_none_is_lost(tmp_path):
    """`record` only queues; the writer commits in batches. Every row of many threads arrives, a
    second reader sees them after `close`, and a closed log takes no more rows."""
    import threading

    from assistant.audit import AuditLog

    log = AuditLog(tmp_path / "audit.sqlite3", retention_days=30, max_rows=100_000)

    def ask(n: int) -> None:
        for i in range(250):
            log.record(key_id=f"t{n}", role="reader", action="ask", question=f"{n}-{i}", latency_ms=1.0)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(log.entries(limit=10_000)) == 2000  # reading waits for the queue
    log.record(key_id="last", role="reader", action="ask", question="sist")
    log.close()
    log.record(key_id="after", role="reader", action="ask", question="efter stängning")
    rows = AuditLog(tmp_path / "audit.sqlite3").entries(limit=10_000)
    assert len(rows) == 2001 and rows[-1]["key_id"] == "last"
    assert sorted(r["question"] for r in rows if r["key_id"] == "t3") == sorted(f"3-{i}" for i in range(250))
