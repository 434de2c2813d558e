"""Bounded everything: chats, filters, page sizes, answer slots and time, caches."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from tiny import ingest_all, two_level_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from assistant.api import create_app

    settings = two_level_settings(tmp_path_factory.mktemp("limits"))
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=False)) as c:
        yield c


def test_long_history_is_cut_not_refused(client):
    first = {"role": "user", "content": "Hur mycket kostar Simhall 2026?"}
    long_answer = {"role": "assistant", "content": "Simhall, 2026: 800 [1]. " + "Underlag " * 700}  # > 4 000 chars
    r = client.post("/api/chat", json={"messages": [first, long_answer, {"role": "user", "content": "Och 2027?"}]})
    assert r.status_code == 200 and r.json()["question"] == "Hur mycket kostar Simhall 2027?"
    many = [first, long_answer] * 60 + [{"role": "user", "content": "Och 2027?"}]
    r = client.post("/api/chat", json={"messages": many})
    assert r.status_code == 200


def test_chat_question_rules(client):
    r = client.post("/api/chat", json={"messages": [{"role": "user", "content": "Simhall?"},
                                                    {"role": "assistant", "content": "800"}]})
    assert r.status_code == 422 and "role=user" in r.json()["detail"]
    r = client.post("/api/chat", json={"messages": [{"role": "user", "content": "x" * 2001}]})
    assert r.status_code == 422 and "för lång" in r.json()["detail"]
    assert client.post("/api/chat", json={"messages": []}).status_code == 422


@pytest.mark.parametrize("filters", [{"date_from": "not a date"}, {"date_to": "2026-13-01"}, {"doc_type": "exe"},
                                     {"source": ["x.md"] * 51}, {"body": "K" * 101}, {"source": ""}])
def test_filters_are_validated(client, filters):
    r = client.post("/api/ask", json={"question": "Simhall 2027?", "filters": filters})
    assert r.status_code == 422, r.text


def test_valid_filters_still_work(client):
    r = client.post("/api/ask", json={"question": "Hur mycket kostar Simhall 2027?",
                                      "filters": {"date_from": "2025-01-01", "doc_type": ".MD",
                                                  "source": "2025_kultur_budget.md"}})
    body = r.json()
    assert r.status_code == 200 and not body["abstained"]
    assert {c["source"] for c in body["citations"]} == {"publika/2025_kultur_budget.md"}
    r = client.post("/api/ask", json={"question": "Hur mycket kostar Simhall 2027?",
                                      "filters": {"source": "ultur_budget.md"}})  # not a whole file name
    assert r.json()["abstained"] and not r.json()["citations"]


def test_page_sizes(client):
    assert client.get("/api/documents", params={"limit": 1}).json().__len__() == 1
    assert client.get("/api/documents", params={"limit": 0}).status_code == 422
    assert client.get("/api/facts", params={"limit": 100_000}).status_code == 422
    assert client.get("/api/search", params={"q": "Simhall", "k": 51}).status_code == 422


def test_work_limiter_times_out_and_sheds_load():
    from assistant.limits import WorkLimiter

    limiter = WorkLimiter(slots=1, timeout_s=0.3, wait_s=0.1)
    release = threading.Event()

    async def scenario():
        t = time.perf_counter()
        with pytest.raises(HTTPException) as slow:
            await limiter.run(release.wait, 5)
        assert slow.value.status_code == 504 and time.perf_counter() - t < 1.5
        with pytest.raises(HTTPException) as busy:  # the runaway answer still holds the only slot
            await limiter.run(lambda: 1)
        assert busy.value.status_code == 503
        release.set()
        await asyncio.sleep(0.05)
        assert await limiter.run(lambda: 2) == 2  # the slot came back

    asyncio.run(scenario())


def test_caches_stay_bounded(client):
    from assistant.corpus import MAX_FILTER_ENGINES

    assistant = client.app.state.assistant
    for i in range(40):
        client.post("/api/ask", json={"question": f"Hur mycket kostar ord{i}xyz Simhall 2027?",
                                      "filters": {"source": ["2025_kultur_budget.md", f"nr{i}.md"][: 1 + i % 2],
                                                  "date_from": f"20{10 + i % 15}-01-01"}})
    assert len(assistant.corpus._engines) <= MAX_FILTER_ENGINES
    info = assistant.corpus.engine._partial_words.cache_info()
    assert info.maxsize and info.currsize <= info.maxsize
