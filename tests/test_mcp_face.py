"""The MCP face through the SDK's own client: in-process, over streamable HTTP at /mcp, and over
stdio (`council mcp`)."""
import os
import sys

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from assistant.faces import Faces
from assistant.mcp_face import build_mcp

TOOLS = {"search", "ask", "facts", "documents", "document_outline"}
GLANTAN_2027 = "Hur mycket betalar Exempelby kommun till Föreningen Gläntan 2027?"


def run(coro_fn):
    return anyio.run(coro_fn)


@pytest.fixture(scope="module")
def tiny_mcp(tiny_settings):
    from conftest import tiny_app

    app = tiny_app(tiny_settings)
    return build_mcp(app.state.faces, tiny_settings, local=True)


def test_tools_are_listed_with_input_and_output_schemas(tiny_mcp):
    async def go():
        async with Client(tiny_mcp) as c:
            return (await c.list_tools()).tools

    tools = {t.name: t for t in run(go)}
    assert set(tools) == TOOLS
    for t in tools.values():
        assert t.description and t.output_schema and t.output_schema.get("type") == "object"
    ask = tools["ask"].input_schema
    assert ask["required"] == ["question"] and ask["properties"]["question"]["maxLength"] == 2000
    assert "ctx" not in ask["properties"]


def test_ask_search_facts_documents_outline(tiny_mcp):
    async def go():
        async with Client(tiny_mcp) as c:
            return {
                "ask": await c.call_tool("ask", {"question": GLANTAN_2027}),
                "search": await c.call_tool("search", {"query": "reservation budget", "k": 3}),
                "facts": await c.call_tool("facts", {"entity": "Gläntan", "year": 2027, "limit": 1}),
                "documents": await c.call_tool("documents", {}),
                "outline": await c.call_tool("document_outline", {"source": "protokoll_exempelby.txt"}),
                "missing": await c.call_tool("document_outline", {"source": "finns-inte.md"}),
                "invalid": await c.call_tool("search", {"query": "", "k": 500}),
            }

    r = run(go)
    ask = r["ask"].structured_content
    assert not r["ask"].is_error and "462 000 kr [1]" in ask["answer"] and not ask["abstained"]
    assert ask["figures"][0]["value"] == 462000 and ask["figures"][0]["citations"] == [1]
    c1 = ask["citations"][0]
    assert c1["source"] == "fixtures/iop_exempelby.md" and c1["url"].endswith(f"?start={c1['start']}&end={c1['end']}#markering")
    assert f"]({c1['url']})" in ask["markdown"] and "**Källor**" in ask["markdown"]
    passages = r["search"].structured_content["passages"]
    assert 1 <= len(passages) <= 3 and passages[0]["source"] == "fixtures/protokoll_exempelby.txt"
    facts = r["facts"].structured_content
    assert facts["truncated"] and len(facts["facts"]) == 1 and facts["facts"][0]["entity"] == "Föreningen Gläntan"
    docs = r["documents"].structured_content["documents"]
    assert {d["source"] for d in docs} == {"fixtures/iop_exempelby.md", "fixtures/protokoll_exempelby.txt"}
    outline = r["outline"].structured_content
    par = next(p for p in outline["paragraphs"] if p["paragraph"] == "§ 12")
    assert {p["name"] for p in par["reservationer"]} == {"Bo Berg", "Cecilia Ek"}
    assert outline["meeting"]["date"] == "2025-11-24" and outline["sections"]
    assert all(s["start"] <= s["end"] for s in outline["sections"])
    assert r["missing"].is_error and "finns inte" in r["missing"].content[0].text
    assert r["invalid"].is_error


def test_streamable_http_at_mcp(tiny_server):
    async def go():
        async with Client(tiny_server + "/mcp") as c:
            names = {t.name for t in (await c.list_tools()).tools}
            answer = await c.call_tool("ask", {"question": GLANTAN_2027})
            return names, answer.structured_content

    names, answer = run(go)
    assert names == TOOLS and "462 000 kr" in answer["answer"]
    assert answer["citations"][0]["url"].startswith(tiny_server + "/dokument/fixtures/iop_exempelby.md?start=")


def test_keys_guard_mcp_over_http(keyed_server):
    r = httpx.post(keyed_server + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                   headers={"Accept": "application/json, text/event-stream"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"

    async def go():
        http = httpx2.AsyncClient(headers={"Authorization": "Bearer hemlig-nyckel"}, timeout=60)
        async with http, Client(streamable_http_client(keyed_server + "/mcp", http_client=http)) as c:
            return (await c.call_tool("documents", {})).structured_content

    assert len(run(go)["documents"]) == 2


def test_council_mcp_over_stdio(tiny_settings, tmp_path):
    """The CLI entry point serves the same tools over stdio (no embedding needed for `documents`).
    It runs on a copy of the store: this test process owns the original (one owner per data
    directory with embedded Chroma)."""
    import shutil

    store = shutil.copytree(tiny_settings.data_dir, tmp_path / "store", ignore=shutil.ignore_patterns(".owner.lock"))
    env = {**os.environ, "COUNCIL_DATA_DIR": str(store), "PYTHONPATH": os.getcwd()}

    async def go():
        params = StdioServerParameters(command=sys.executable, args=["-m", "assistant.cli", "mcp"], env=env)
        async with Client(params, read_timeout_seconds=120) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            docs = (await c.call_tool("documents", {})).structured_content["documents"]
            return names, docs

    names, docs = run(go)
    assert names == TOOLS and {d["source"] for d in docs} == {"fixtures/iop_exempelby.md", "fixtures/protokoll_exempelby.txt"}


PINGST = "Hur mycket betalar Umeå kommun till Pingstkyrkan i Umeå 2027?"


def test_pingstkyrkan_2027_through_mcp(corpus_app, corpus_settings):
    mcp = build_mcp(corpus_app.state.faces, corpus_settings, local=True)

    async def go():
        async with Client(mcp) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            return names, await c.call_tool("ask", {"question": PINGST})

    names, result = run(go)
    answer = result.structured_content
    assert names == TOOLS and not result.is_error
    assert "1 037 065" in answer["answer"]
    # the same answer as the JSON API gives (POST /api/ask runs Assistant.ask with the caller's levels)
    assert answer["answer"] == corpus_app.state.assistant.ask(PINGST, levels=frozenset({"public"})).answer
    assert any(f["value"] == 1037065 for f in answer["figures"])
    assert any(c["source"] == "corpus/2026-05-19_KSNAU_motesbok.md" and "/dokument/corpus/2026-05-19_KSNAU_motesbok.md?start="
               in c["url"] for c in answer["citations"])
    assert isinstance(corpus_app.state.faces, Faces)
