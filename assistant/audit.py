"""The audit log: who asked what and what they were told, and who changed the index.

One SQLite file beside the index (`audit.sqlite3`, WAL: several workers may append). Each row:
time (UTC), key id, role, action (ask, chat, ui, search, openai, mcp-ask, mcp-search, ingest,
upload, remove, reindex),
question, answer, citations (the cited document ids), abstained, latency, HTTP status.
Personnummer (ÅÅMMDD-NNNN, ÅÅÅÅMMDD-NNNN, also without the dash), e-mail addresses and phone
numbers are redacted before anything is written. Rows older than the retention period, or
beyond the row limit, are deleted (at start and then at most hourly). `council audit` reads it.

Rows are written behind the answer: `record` queues the row (a bounded queue; a full queue makes the
caller wait, never drops a row) and one writer thread commits what has gathered in one transaction.
Under load an insert and commit per answer, each taking the lock and the GIL in the request thread,
cost a tenth of the server's time. Reading (`entries`, `purge`) and closing wait until the queue is
written; a `kill -9` loses at most the rows of its last moments, as a power cut with
`synchronous=NORMAL` already may.
"""
from __future__ import annotations

import atexit
import json
import logging
import queue
import re
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, key_id TEXT, role TEXT, action TEXT,
  question TEXT, answer TEXT, citations TEXT, abstained INTEGER, latency_ms REAL, status INTEGER);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
"""
MAX_TEXT = 4000
PURGE_EVERY_S = 3600
QUEUED_ROWS = 10_000  # rows waiting for the writer; beyond, `record` waits
BATCH_ROWS = 500
INSERT = ("INSERT INTO audit (at, key_id, role, action, question, answer, citations, abstained, latency_ms, status) "
          "VALUES (?,?,?,?,?,?,?,?,?,?)")
log = logging.getLogger(__name__)

# month 01-12, day 01-31 (or 61-91: samordningsnummer); an organisation number (month ≥ 20) is not a person
PERSONNUMMER = re.compile(r"(?<![\d-])(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
                          r"[-+ ]?\d{4}(?![\d-])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +46 / 0046 / 0, an area code and groups of digits: 070-123 45 67, 090-16 10 00, +46 (0)90 16 10 00
PHONE = re.compile(r"(?<![\w/.,])(?:\+46|0046|0)[\s-]?(?:\(0\)\s?)?[1-9]\d{0,2}[\s/-]?\d{2,4}(?:[\s-]?\d{2,4}){0,3}"
                   r"(?![\d,])")


def redact(text: str | None) -> str | None:
    if not text:
        return text
    text = EMAIL.sub("[e-post]", text)
    text = PERSONNUMMER.sub("[personnummer]", text)
    return PHONE.sub(lambda m: "[telefon]" if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0), text)


class AuditLog:
    def __init__(self, path: Path, retention_days: int = 90, max_rows: int = 1_000_000, enabled: bool = True) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.max_rows = max_rows
        self.enabled = enabled
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._purged = 0.0
        self._rows: queue.Queue[tuple | None] = queue.Queue(QUEUED_ROWS)
        self._writer: threading.Thread | None = None
        if enabled:
            self._connect()
            self.purge()
            self._writer = threading.Thread(target=self._write_behind, name="audit-writer", daemon=True)
            self._writer.start()
            atexit.register(self.close)  # a CLI process (MCP over stdio) writes its last rows on exit

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a power cut may lose the last rows, never corrupt
            self._db.executescript(SCHEMA)
        return self._db

    def record(self, *, key_id: str, role: str, action: str, question: str | None = None,
               answer: str | None = None, citations: list[str] | None = None, abstained: bool | None = None,
               latency_ms: float | None = None, status: int = 200) -> None:
        if not self.enabled or self._writer is None:
            return
        row = (datetime.now(timezone.utc).isoformat(timespec="milliseconds"), key_id, role, action,
               redact((question or "")[:MAX_TEXT]) or None, redact((answer or "")[:MAX_TEXT]) or None,
               json.dumps(sorted(set(citations or [])), ensure_ascii=False),
               None if abstained is None else int(abstained),
               None if latency_ms is None else round(latency_ms, 1), status)
        self._rows.put(row)

    def _write_behind(self) -> None:
        while True:
            batch = [self._rows.get()]
            while len(batch) < BATCH_ROWS and batch[-1] is not None:
                try:
                    batch.append(self._rows.get_nowait())
                except queue.Empty:
                    break
            rows = [r for r in batch if r is not None]
            try:
                if rows:
                    with self._lock:
                        db = self._connect()
                        with db:
                            db.executemany(INSERT, rows)
                        if time.monotonic() - self._purged > PURGE_EVERY_S:
                            self._purge_locked()
            except sqlite3.Error:  # a locked or full disk loses this batch, not the server
                log.exception("audit: %d rows could not be written", len(rows))
            finally:
                for _ in batch:
                    self._rows.task_done()
            if batch[-1] is None:
                return

    def flush(self) -> None:
        """Until every queued row is written."""
        if self._writer is not None and self._writer.is_alive():
            self._rows.join()

    def purge(self) -> int:
        self.flush()
        with self._lock:
            return self._purge_locked()

    def _purge_locked(self) -> int:
        self._purged = time.monotonic()
        db = self._connect()
        removed = 0
        with db:
            if self.retention_days > 0:
                cutoff = (datetime.now(timezone.utc) - timedelta(days=self.retention_days)).isoformat()
                removed += db.execute("DELETE FROM audit WHERE at < ?", (cutoff,)).rowcount
            removed += db.execute("DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?",
                                  (self.max_rows,)).rowcount
        return removed

    def entries(self, limit: int = 50, since: str | None = None, key_id: str | None = None,
                action: str | None = None) -> list[dict]:
        if not self.path.exists():
            return []
        self.flush()
        sql, args = "SELECT at, key_id, role, action, question, answer, citations, abstained, latency_ms, status " \
                    "FROM audit WHERE 1=1", []
        for column, value in (("at >= ?", since), ("key_id = ?", key_id), ("action = ?", action)):
            if value:
                sql += f" AND {column}"
                args.append(value)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(max(1, min(limit, 100_000)))
        with self._lock:
            rows = self._connect().execute(sql, args).fetchall()
        keys = ("at", "key_id", "role", "action", "question", "answer", "citations", "abstained", "latency_ms",
                "status")
        out = []
        for r in reversed(rows):
            d = dict(zip(keys, r))
            d["citations"] = json.loads(d["citations"] or "[]")
            d["abstained"] = None if d["abstained"] is None else bool(d["abstained"])
            out.append(d)
        return out

    def close(self) -> None:
        writer, self._writer = self._writer, None  # later records are not taken
        if writer is not None and writer.is_alive():
            self._rows.put(None)
            writer.join()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
