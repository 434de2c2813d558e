"""What the browser face asks of access control, in one small seam.

The defaults here see everything and record nothing (tests of the UI alone). The app wires in
access control (assistant/security.py, in api.create_app): `levels_of` reads the caller's
principal from the request (headers or the login cookie), `visible` lists the sources those
levels may read, and `record` writes the answer to the audit log; the chat passes `levels=` to
`Assistant.ask/chat`, and the library, the filters, the examples and the document view show only
visible documents.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Levels = frozenset[str] | None  # None: unrestricted


def _unrestricted(request: Any) -> Levels:
    return None


def _every_source(levels: Levels) -> set[str] | None:
    return None


def _no_record(request: Any, question: str, resp: Any, latency_ms: float) -> None:
    return None


def _no_upload(request: Any) -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True)
class Access:
    levels_of: Callable[[Any], Levels] = _unrestricted
    visible: Callable[[Levels], set[str] | None] = _every_source
    record: Callable[[Any, str, Any, float], None] = _no_record  # the audit log: who asked what, what they got
    # the levels this caller may upload documents at (an editor's key); empty: no upload form. The
    # form posts to /api/upload, which checks the role and level again: this only decides what is shown
    upload_levels: Callable[[Any], frozenset[str]] = _no_upload

    def ask_kwargs(self, request: Any) -> dict[str, Any]:
        """Extra keyword arguments for Assistant.ask/chat."""
        levels = self.levels_of(request)
        return {} if levels is None else {"levels": levels}

    def sources(self, request: Any) -> set[str] | None:
        """The sources this caller may read; None when every one."""
        levels = self.levels_of(request)
        return None if levels is None else self.visible(levels)  # visible: None when every document is

    def documents(self, index, request: Any) -> list[dict]:
        allowed = self.sources(request)
        return [d for d in index.documents() if allowed is None or d["source"] in allowed]

    def may_read(self, request: Any, source: str) -> bool:
        allowed = self.sources(request)
        return allowed is None or source in allowed
