"""Process-level guards around a data directory.

- `own(data_dir)`: one owner process per data directory for the life of the process. Chroma's
  embedded store is not safe for two processes; a second one (a second `council ingest --local`,
  a CLI run beside the server) gets a clear `StoreBusy` instead of silently losing vectors.
  The lock is an flock, so the kernel releases it when the owner dies, even by kill -9.
- `writing(data_dir)`: one writer at a time across processes that share a data directory
  (several API workers in front of one Chroma server).
- `crash_point(name)`: a test hook. When `COUNCIL_TEST_CRASH_AT` names this point the process
  kills itself with SIGKILL there, as a power cut or `kill -9` would. Unset (always, outside
  the crash tests) it costs one dictionary lookup.
"""
from __future__ import annotations

import fcntl
import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

_owners: dict[str, list] = {}  # real path → [fd, number of holders in this process]
_owners_lock = threading.Lock()


class StoreBusy(RuntimeError):
    pass


def own(data_dir: Path) -> str:
    key = os.path.realpath(data_dir)
    with _owners_lock:
        if key in _owners:
            _owners[key][1] += 1
            return key
        fd = os.open(Path(key) / ".owner.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreBusy(f"Datakatalogen {key} används redan av process {holder} (t.ex. servern). "
                            "Stoppa den, gå via servern (COUNCIL_CLIENT_KEY), eller använd en Chroma-server "
                            "(COUNCIL_CHROMA_URL).") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _owners[key] = [fd, 1]
        return key


def disown(key: str) -> None:
    with _owners_lock:
        entry = _owners.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            fcntl.flock(entry[0], fcntl.LOCK_UN)
            os.close(entry[0])
            del _owners[key]


_thread_write_locks: dict[str, threading.Lock] = {}


@contextmanager
def writing(data_dir: Path):
    key = os.path.realpath(data_dir)
    with _owners_lock:
        local = _thread_write_locks.setdefault(key, threading.Lock())
    with local, open(Path(key) / ".write.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def crash_point(name: str) -> None:
    if os.environ.get("COUNCIL_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
