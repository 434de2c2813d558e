import os
from contextlib import contextmanager
from pathlib import Path

import mcp.client.stdio  # noqa: F401  its `errlog=sys.stderr` default binds at import: not to a test's capsys
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory):
    """Settings whose index holds the whole sample corpus (ingested once per test session)."""
    from assistant.settings import Settings
    from index.store import CouncilIndex

    settings = Settings(data_dir=tmp_path_factory.mktemp("store"), corpus_dir=CORPUS)
    report = CouncilIndex(settings).ingest_paths([CORPUS], sync_dir=CORPUS)
    assert not report.errors, report.errors
    return settings


@pytest.fixture(scope="session")
def client(corpus_settings):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    with TestClient(create_app(corpus_settings, with_ui=True)) as c:
        yield c


FIXTURES = ROOT / "tests" / "fixtures"
TINY_CORPUS = [FIXTURES / "iop_exempelby.md", FIXTURES / "protokoll_exempelby.txt"]


class HashEmbedder:
    """A fast stand-in for the embedding model: hashed bags of stemmed words (deterministic)."""
    name, dim = "test-hash-64", 64

    def _vector(self, text):
        import zlib

        import numpy as np

        from index.text import tokens

        v = np.zeros(self.dim, dtype=np.float32)
        for w in tokens(text):
            v[zlib.crc32(w.encode()) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_passages(self, texts):
        import numpy as np

        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text):
        return self._vector(text)


@pytest.fixture(scope="session")
def tiny_settings(tmp_path_factory):
    """Settings whose index holds two small fixture documents, embedded with HashEmbedder."""
    from assistant.settings import Settings
    from index.store import CouncilIndex

    settings = Settings(data_dir=tmp_path_factory.mktemp("tiny"), corpus_dir=FIXTURES)
    report = CouncilIndex(settings, embedder=HashEmbedder()).ingest_paths(TINY_CORPUS)
    assert not report.errors and len(report.added) == 2, report
    return settings


def tiny_app(settings, with_ui=False):
    """The app over a HashEmbedder store: its index must embed questions (and load fact vectors)
    with the same embedder the store was built with."""
    from unittest import mock

    from assistant.api import create_app

    with mock.patch("index.store.make_embedder", lambda *_args, **_kwargs: HashEmbedder()):
        app = create_app(settings, with_ui=with_ui)
        assert app.state.index.embedder.name == HashEmbedder.name
    return app


@contextmanager
def serve(app):
    """The app served by uvicorn in a background thread on a free loopback port; yields its URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def tiny_server(tiny_settings):
    with serve(tiny_app(tiny_settings)) as url:
        yield url


@pytest.fixture(scope="session")
def keyed_server(tiny_settings):
    """The tiny app with API keys configured."""
    with serve(tiny_app(tiny_settings.model_copy(update={"api_keys": ["hemlig-nyckel"]}))) as url:
        yield url


@pytest.fixture(scope="session")
def corpus_app(corpus_settings):
    """The whole app (UI included) over the sample corpus."""
    from assistant.api import create_app

    return create_app(corpus_settings, with_ui=True)


@pytest.fixture(scope="session")
def corpus_server(corpus_app):
    with serve(corpus_app) as url:
        yield url
