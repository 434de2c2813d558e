"""Bounded answering work: how many answers are computed at once, and how long a caller waits.

A Python thread cannot be stopped, so a timed-out answer keeps its slot until it finishes:
runaway work is bounded by the number of slots, and later callers get a quick 503 with
Retry-After instead of piling up threads, memory and CPU (the issue's fuzz run grew the
server to 2.3 GB and left it burning a core after the client had gone).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import HTTPException

T = TypeVar("T")


class _Busy(Exception):
    pass


class WorkLimiter:
    def __init__(self, slots: int, timeout_s: float, wait_s: float) -> None:
        self.slots = slots
        self.timeout_s = timeout_s
        self.wait_s = min(wait_s, timeout_s)
        self._sem = threading.BoundedSemaphore(slots)

    async def run(self, fn: Callable[..., T], *args) -> T:
        def work() -> T:
            if not self._sem.acquire(timeout=self.wait_s):
                raise _Busy
            try:
                return fn(*args)
            finally:
                self._sem.release()

        try:
            with anyio.fail_after(self.timeout_s):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            raise HTTPException(504, f"Svaret tog längre tid än {self.timeout_s:g} s; försök igen.") from None
        except _Busy:
            raise HTTPException(503, "Servern är upptagen; försök igen om en stund.",
                                headers={"Retry-After": "5"}) from None
