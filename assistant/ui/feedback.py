"""Thumbs up/down on answers, stored with the question so staff can turn them into eval cases.

A small SQLite table in the data directory, bounded to MAX_ROWS (the oldest go first).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

MAX_ROWS = 5_000
MAX_TEXT = 4_000

SCHEMA = """CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, vote TEXT, question TEXT, resolved TEXT, answer TEXT,
  sources TEXT, filters TEXT, abstained INTEGER)"""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute(SCHEMA)

    def add(self, vote: str, question: str, resolved: str | None, answer: str, sources: list[str],
            filters: dict | None, abstained: bool) -> None:
        if vote not in ("up", "down"):
            raise ValueError(f"okänd röst: {vote}")
        row = (time.strftime("%Y-%m-%dT%H:%M:%S"), vote, question[:MAX_TEXT], (resolved or "")[:MAX_TEXT],
               answer[:MAX_TEXT], json.dumps(sources[:50], ensure_ascii=False),
               json.dumps(filters, ensure_ascii=False) if filters else None, int(abstained))
        with self._lock, self._db:
            self._db.execute("INSERT INTO feedback(at, vote, question, resolved, answer, sources, filters, abstained) "
                             "VALUES (?,?,?,?,?,?,?,?)", row)
            self._db.execute("DELETE FROM feedback WHERE id <= (SELECT MAX(id) FROM feedback) - ?", (MAX_ROWS,))

    def list(self, limit: int = 500, vote: str | None = None) -> list[dict]:
        sql = "SELECT id, at, vote, question, resolved, answer, sources, filters, abstained FROM feedback"
        args: tuple = ()
        if vote:
            sql, args = sql + " WHERE vote=?", (vote,)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [{"id": r[0], "at": r[1], "vote": r[2], "question": r[3], "resolved": r[4] or None, "answer": r[5],
                 "sources": json.loads(r[6] or "[]"), "filters": json.loads(r[7]) if r[7] else None,
                 "abstained": bool(r[8])} for r in rows]
