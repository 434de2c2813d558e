"""What the browser face asks of access control, in one small seam.

With no keys configured everything is visible (the defaults here). When access control is
wired in (assistant/security.py), `levels_of` reads the caller's principal from the request
(headers or the login cookie) and `visible` lists the sources those levels may read; the chat
then passes `levels=` to `Assistant.ask/chat`, and the library, the filters, the examples and
the document view show only visible documents.
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


@dataclass(frozen=True)
class Access:
    levels_of: Callable[[Any], Levels] = _unrestricted
    visible: Callable[[Levels], set[str] | None] = _every_source

    def ask_kwargs(self, request: Any) -> dict[str, Any]:
        """Extra keyword arguments for Assistant.ask/chat."""
        levels = self.levels_of(request)
        return {} if levels is None else {"levels": levels}

    def sources(self, request: Any) -> set[str] | None:
        """The sources this caller may read; None when every one."""
        levels = self.levels_of(request)
        return None if levels is None else (self.visible(levels) or set())

    def documents(self, index, request: Any) -> list[dict]:
        allowed = self.sources(request)
        return [d for d in index.documents() if allowed is None or d["source"] in allowed]

    def may_read(self, request: Any, source: str) -> bool:
        allowed = self.sources(request)
        return allowed is None or source in allowed
