import os
from pathlib import Path

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
