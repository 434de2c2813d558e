"""The CLI's local mode: the operator ingests any folder, removes by id or unique file name."""
from __future__ import annotations

import pytest

from tiny import BUDGET


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    from assistant import cli
    from assistant.settings import get_settings

    monkeypatch.setenv("COUNCIL_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("COUNCIL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("COUNCIL_PORT", "8409")  # nothing listens there: local mode
    get_settings.cache_clear()
    yield cli
    get_settings.cache_clear()


def test_local_ingest_and_remove_by_name(cli, tmp_path, capsys):
    from assistant.settings import get_settings
    from index.store import CouncilIndex

    for sub in ("a", "b"):
        (tmp_path / "arkiv" / sub).mkdir(parents=True)
        (tmp_path / "arkiv" / sub / "budget.md").write_text(BUDGET, encoding="utf-8")
    (tmp_path / "arkiv" / "a" / "unik.md").write_text(BUDGET.replace("Simhall", "Ishall"), encoding="utf-8")
    assert cli.main(["ingest", "--local", str(tmp_path / "arkiv")]) == 0
    assert cli.main(["remove", "budget.md"]) == 1  # two documents have that name: nothing is removed
    assert "flera dokument" in capsys.readouterr().err
    assert cli.main(["remove", "unik.md"]) == 0
    assert cli.main(["remove", "arkiv/b/budget.md"]) == 0
    index = CouncilIndex(get_settings())
    assert [d["source"] for d in index.documents()] == ["arkiv/a/budget.md"]
    index.close()


def test_key_command_prints_a_hashed_entry(cli, capsys):
    import hashlib
    import json

    assert cli.main(["key", "kansliet", "--role", "editor"]) == 0
    out = capsys.readouterr().out.splitlines()
    key = out[0].split(": ", 1)[1]
    entry = json.loads(out[1].split(": ", 1)[1])["kansliet"]
    assert entry == {"sha256": hashlib.sha256(key.encode()).hexdigest(), "role": "editor",
                     "levels": ["public", "internal"]}
    assert key not in out[1]


def test_several_workers_need_a_chroma_server(cli, capsys, monkeypatch):
    """Embedded Chroma belongs to one process: `serve --workers 2` without COUNCIL_CHROMA_URL
    refuses with the command to run, and starts nothing."""
    import uvicorn

    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append((a, k)))
    assert cli.main(["serve", "--workers", "2"]) == 2
    assert "COUNCIL_CHROMA_URL" in capsys.readouterr().err and not started
    monkeypatch.setenv("COUNCIL_CHROMA_URL", "http://127.0.0.1:8100")
    monkeypatch.setenv("COUNCIL_SESSION_SECRET", "s" * 32)  # (else serve sets one for its workers)
    cli.get_settings.cache_clear()
    assert cli.main(["serve", "--workers", "2"]) == 0
    (args, kwargs), = started
    assert args == ("assistant.api:serve_app",) and kwargs["factory"] and kwargs["workers"] == 2
