"""A real server (uvicorn in a thread) over the sample corpus and the UI fixtures, with the fast
fake embedder: for the browser tests, and by hand (`python tests/uiserver.py --port 8601`)."""
from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

CORPUS = [ROOT / "data" / "corpus", ROOT / "tests" / "fixtures" / "ui"]


def build_app(data_dir: Path):
    from fakes import HashEmbedder

    from assistant.api import create_app
    from assistant.settings import Settings
    from index.store import CouncilIndex

    settings = Settings(data_dir=data_dir, corpus_dir=CORPUS[0])
    embedder = HashEmbedder()
    report = CouncilIndex(settings, embedder=embedder).ingest_paths(CORPUS)
    assert not report.errors, report.errors
    return create_app(settings, with_ui=True, embedder=embedder)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """uvicorn on 127.0.0.1 in a daemon thread; `stop()` ends it."""

    def __init__(self, app, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 60) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the UI test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8601)
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "store-ui")
    args = ap.parse_args()
    srv = ServerThread(build_app(args.data), args.port).start()
    print(f"serving {srv.url}", flush=True)
    srv.thread.join()
