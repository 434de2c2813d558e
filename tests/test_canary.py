"""An internal canary document never reaches a caller without the internal level, through any
face: ask, chat, search, facts, checks, documents, healthz counts, the Gradio UI and its
/gradio_api routes, the document view, the OpenAI face (/v1, plain and streamed), MCP over HTTP
(/mcp) and over stdio (`council mcp`), and the LlamaIndex retriever and query engine. A key with
the internal level does see it (so these tests can fail)."""
from __future__ import annotations

import json
import re
import uuid
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tiny import CANARY_MARKERS, header, ingest_all, mcp_call, openai_answer, two_level_settings

CANARY_ID = "interna/2026_hemlig_forstudie.md"
CANARY_FILE = "2026_hemlig_forstudie.md"
QUESTIONS = [
    "Vad föreslår förstudien om Kanarieholmen?",
    "Hur mycket kostar kanariefågelhuset?",
    "Stämmer summan för Kanariebur och Kanariefoder 2027?",
    "Vilket diarienummer har KANARIE-7731?",
    "Hur mycket är budgeten för Kanariebur 2027?",
    "Vilka dokument finns om hemlig förstudie?",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from assistant.api import create_app

    settings = two_level_settings(tmp_path_factory.mktemp("canary"))
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=True)) as c:
        yield c


def _ui(client, name: str, data: list, headers: dict, session: str) -> str:
    """Call one of the chat's events as the browser does (Gradio's own protocol, one session)."""
    deps = client.get("/config", headers=headers).json()["dependencies"]
    index = next(i for i, d in enumerate(deps) if d.get("api_name") == name)
    body = {"data": data, "fn_index": index, "session_hash": session}
    if not deps[index].get("queue", True) or name == "start":
        r = client.post("/gradio_api/run/predict", json=body, headers=headers)
        assert r.status_code == 200, r.text
        return r.text
    assert client.post("/gradio_api/queue/join", json=body, headers=headers).status_code == 200
    lines = []
    with client.stream("GET", f"/gradio_api/queue/data?session_hash={session}", headers=headers) as resp:
        for line in resp.iter_lines():
            lines.append(line)
            if "process_completed" in line:
                break
    return "\n".join(lines)


def _ui_answer(client, question: str, headers: dict) -> str:
    session = uuid.uuid4().hex
    _ui(client, "start", [question, None, None], headers, session)  # the question shown, the answer under way
    return _ui(client, "run", [None, None, None], headers, session)


def _faces(client, headers: dict) -> dict[str, str]:
    """Every response a caller can get that could carry document content, as raw text."""
    out = {}
    for i, q in enumerate(QUESTIONS):
        out[f"ask{i}"] = client.post("/api/ask", json={"question": q}, headers=headers).text
        for f in ({"source": CANARY_ID}, {"source": "2026_hemlig_forstudie.md"}, {"body": "Kanarieholmen"}):
            out[f"ask{i}-{f}"] = client.post("/api/ask", json={"question": q, "filters": f}, headers=headers).text
        out[f"ui{i}"] = _ui_answer(client, q, headers)
    chat = client.post("/api/chat", json={"messages": [
        {"role": "user", "content": QUESTIONS[4]}, {"role": "assistant", "content": "…"},
        {"role": "user", "content": "Och 2026?"}]}, headers=headers).json()
    # the resolved question is made of the caller's own words, never of a document's
    said = set((QUESTIONS[4] + " Och 2026?").replace("?", " ").split())
    assert set(chat.pop("question").replace("?", " ").split()) <= said
    out["chat"] = json.dumps(chat, ensure_ascii=False)
    out["search"] = client.get("/api/search", params={"q": "Kanarieholmen kanariefågelhuset", "k": 50},
                               headers=headers).text
    out["facts"] = client.get("/api/facts", params={"limit": 10000}, headers=headers).text
    out["facts-filtered"] = client.get("/api/facts", params={"source": "2026_hemlig_forstudie.md"}, headers=headers).text
    out["checks"] = client.get("/api/checks", headers=headers).text
    out["documents"] = client.get("/api/documents", headers=headers).text
    out["document"] = client.get(f"/api/documents/{CANARY_ID}", headers=headers).text
    out["healthz"] = client.get("/healthz", headers=headers).text
    out["ui-library"] = _ui(client, "refresh_library", [], headers, uuid.uuid4().hex)
    for name in (CANARY_ID, CANARY_FILE):
        page = client.get(f"/dokument/{name}", headers=headers)
        # a 404 page repeats the id the caller asked for; that is the caller's own words
        out[f"ui-document-{name}"] = page.text if page.status_code == 200 else page.text.replace(name, "")
    out["ui-document"] = out[f"ui-document-{CANARY_ID}"]
    for name in ("on_load", "refresh_library"):  # Gradio's named API, as a script would call it
        out[f"gradio-call-{name}"] = _gradio_call(client, name, headers)
    out.update(_other_faces(client, headers))
    out["ui-page"] = client.get("/", headers=headers).text
    out["gradio-info"] = client.get("/gradio_api/info", headers=headers).text
    out["gradio-config"] = client.get("/config", headers=headers).text
    out["openapi"] = client.get("/openapi.json", headers=headers).text
    return out


def _gradio_call(client, name: str, headers: dict) -> str:
    """POST /gradio_api/call/<name>, then read its result stream (Gradio's documented HTTP API)."""
    data = [{"chats": [], "current": None}] if name == "on_load" else []
    r = client.post(f"/gradio_api/call/{name}", json={"data": data}, headers=headers)
    if r.status_code != 200:
        return r.text
    event = r.json()["event_id"]
    return client.get(f"/gradio_api/call/{name}/{event}", headers=headers).text


def _other_faces(client, headers: dict) -> dict[str, str]:
    """The OpenAI face and the MCP tools, sent the key as their clients send it."""
    bearer = {"Authorization": "Bearer " + headers["X-API-Key"]} if headers else {}
    out = {}
    for i, q in enumerate(QUESTIONS):
        out[f"openai{i}"] = openai_answer(client, q, bearer)
        out[f"openai-stream{i}"] = openai_answer(client, q, bearer, stream=True)
        out[f"mcp-ask{i}"] = json.dumps(mcp_call(client, "ask", {"question": q}, bearer), ensure_ascii=False)
        out[f"mcp-ask-source{i}"] = json.dumps(mcp_call(client, "ask", {"question": q, "source": CANARY_FILE},
                                                        bearer), ensure_ascii=False).replace(CANARY_FILE, "")
    out["openai-models"] = client.get("/v1/models", headers=bearer).text
    for tool, args in (("search", {"query": "Kanarieholmen kanariefågelhuset", "k": 50}),
                       ("facts", {"limit": 500}), ("facts-filtered", {"source": CANARY_FILE}),
                       ("documents", {})):
        result = mcp_call(client, tool.split("-")[0], args, bearer)
        out[f"mcp-{tool}"] = json.dumps(result, ensure_ascii=False).replace(CANARY_FILE, "")
    for name in (CANARY_ID, CANARY_FILE):  # a refusal repeats the name the caller gave
        result = mcp_call(client, "document_outline", {"source": name}, bearer)
        out[f"mcp-outline-{name}"] = json.dumps(result, ensure_ascii=False).replace(name, "")
    return out


def _leaks(faces: dict[str, str]) -> list[tuple[str, str]]:
    """Markers in a response, beyond the caller's own words (an answer may repeat the question,
    and "… nämner inte <a word of the question> …" names what the caller asked about, just as it
    would if the internal document did not exist)."""
    from assistant.i18n import say

    markers = CANARY_MARKERS + ("hemlig", "Hemlig", CANARY_ID)
    asked = QUESTIONS + ["Kanarieholmen kanariefågelhuset"]
    own_words = {w.strip("?") for q in asked for w in q.split()}
    out = []
    for face, text in faces.items():
        text = unquote(unquote(text))  # links in answers carry percent-encoded text
        for q in asked:
            text = text.replace(q, "").replace(json.dumps(q)[1:-1], "")
        own = "|".join(re.escape(w) for w in sorted(own_words, key=len, reverse=True))
        before, after = say("sv", "abstain_partial", missing="\0").split("\0")
        text = re.sub(re.escape(before) + f"(?:{own})(?:, (?:{own}))*" + re.escape(after), "", text)
        out.extend((face, m) for m in markers if m in text)
    return out


@pytest.mark.parametrize("who", ["anonymous", "reader-pub", "editor-pub"])
def test_internal_canary_never_reaches_a_public_caller(client, who):
    headers = {} if who == "anonymous" else header(who)
    faces = _faces(client, headers)
    assert not _leaks(faces)
    assert json.loads(faces["healthz"])["documents"] == 2  # counts only what the caller may see
    assert client.get(f"/api/documents/{CANARY_ID}", headers=headers).status_code == 404


def test_internal_reader_sees_the_canary(client):
    faces = _faces(client, header("reader-int"))
    leaked = {face for face, _ in _leaks(faces)}
    assert {"ask0", "search", "facts", "checks", "documents", "document", "ui0", "ui-library", "ui-document",
            f"ui-document-{CANARY_FILE}", "gradio-call-on_load", "openai0", "openai-stream0", "mcp-ask0",
            "mcp-search", "mcp-facts", "mcp-documents", f"mcp-outline-{CANARY_ID}"} <= leaked
    assert json.loads(faces["healthz"])["documents"] == 3
    body = client.post("/api/ask", json={"question": QUESTIONS[1]}, headers=header("reader-int")).json()
    assert not body["abstained"] and any(c["source"] == CANARY_ID for c in body["citations"])


def test_ui_behind_the_same_gate(tmp_path):
    from assistant.api import create_app

    settings = two_level_settings(tmp_path, anonymous_read=False)
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=True)) as c:
        r = c.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        for path in ("/gradio_api/info", "/config", "/healthzx", "/docsx", "/api", "/loginx/../gradio_api/info"):
            assert c.get(path).status_code == 401
        assert c.post("/gradio_api/queue/join", json={"data": [None] * 3, "fn_index": 2,
                                                      "session_hash": "x"}).status_code == 401
        assert c.post("/gradio_api/upload", files={"files": ("x.md", b"x")}, headers=header("admin")).status_code == 403
        assert c.get("/gradio_api/info", headers=header("reader-pub")).status_code == 200
        assert c.post("/login", data={"key": "wrong"}).status_code == 401
        r = c.post("/login", data={"key": "reader-internal-key-002"}, follow_redirects=False)
        assert r.status_code == 303
        assert "Kanarieholmen" in c.get(f"/dokument/{CANARY_ID}").text  # the login cookie carries the key's levels
        assert "Kanarieholmen" in unquote(_ui_answer(c, QUESTIONS[0], {}))
        c.cookies.clear()
        assert c.get("/gradio_api/info").status_code == 401


def test_llamaindex_components_see_public_documents_unless_told(client):
    from assistant.llamaindex import CouncilQueryEngine, CouncilRetriever
    from assistant.security import ALL_LEVELS

    faces = client.app.state.faces

    def seen(**levels) -> dict[str, str]:
        out = {}
        nodes = CouncilRetriever(faces, k=50, **levels).retrieve("Kanarieholmen kanariefågelhuset")
        out["retriever"] = json.dumps([[n.node.get_content(), n.node.metadata] for n in nodes], ensure_ascii=False)
        for i, q in enumerate(QUESTIONS):
            r = CouncilQueryEngine(faces=faces, **levels).query(q)
            out[f"engine{i}"] = json.dumps([str(r), [n.node.get_content() for n in r.source_nodes], r.metadata],
                                           ensure_ascii=False)
        return out

    assert not _leaks(seen())  # the default: public documents only
    assert not _leaks(seen(levels=frozenset({"public"})))
    leaked = {face for face, _ in _leaks(seen(levels=ALL_LEVELS))}
    assert {"retriever", "engine0"} <= leaked


def test_council_mcp_over_stdio_reads_public_documents_unless_told(client, tmp_path):
    """The stdio server an agent starts runs on the machine, but the agent passes what it reads on
    to its model: internal documents only with `--levels public,internal`."""
    import asyncio
    import os
    import shutil
    import sys

    from mcp import Client, StdioServerParameters

    settings = client.app.state.settings
    store = shutil.copytree(settings.data_dir, tmp_path / "store", ignore=shutil.ignore_patterns(".owner.lock"))
    env = {**os.environ, "COUNCIL_DATA_DIR": str(store), "COUNCIL_EMBEDDING_BACKEND": "hashing",
           "COUNCIL_API_KEYS": "{}", "PYTHONPATH": os.getcwd()}

    async def go(*extra: str) -> dict[str, str]:
        params = StdioServerParameters(command=sys.executable, args=["-m", "assistant.cli", "mcp", *extra], env=env)
        out = {}
        async with Client(params, read_timeout_seconds=120) as c:
            for tool, args in (("documents", {}), ("facts", {"limit": 500}), ("ask", {"question": QUESTIONS[1]}),
                               ("search", {"query": "Kanarieholmen kanariefågelhuset", "k": 50}),
                               ("document_outline", {"source": CANARY_ID})):
                r = await c.call_tool(tool, args)
                out[tool] = json.dumps(r.structured_content or [x.model_dump() for x in r.content],
                                       ensure_ascii=False).replace(CANARY_ID, "") if tool == "document_outline" and \
                    r.is_error else json.dumps(r.structured_content, ensure_ascii=False)
        return out

    assert not _leaks(asyncio.run(go()))
    leaked = {face for face, _ in _leaks(asyncio.run(go("--levels", "public,internal")))}
    assert {"documents", "facts", "ask", "search", "document_outline"} <= leaked
    audit = client.app.state.audit.__class__(store / "audit.sqlite3")
    assert [r["role"] for r in audit.entries(action="mcp-ask", key_id="mcp-stdio")] == ["reader", "reader"]


def test_a_file_name_shared_with_an_internal_document_resolves_to_the_public_one(tmp_path):
    """Asking for `protokoll.md` must behave as if the internal `protokoll.md` did not exist:
    otherwise a 404 ("more than one has that name") tells a public caller that it does."""
    from assistant.api import create_app

    settings = two_level_settings(tmp_path)
    public, internal = (settings.ingest_roots[0]["path"], settings.ingest_roots[1]["path"])
    (tmp_path / "publika" / "protokoll.md").write_text("# Protokoll\n\nSimhallen öppnar i maj.", encoding="utf-8")
    (tmp_path / "interna" / "protokoll.md").write_text("# Protokoll\n\nKanarieholmen säljs.", encoding="utf-8")
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=True)) as c:
        for headers in ({}, header("reader-pub")):
            doc = c.get("/api/documents/protokoll.md", headers=headers)
            assert doc.status_code == 200 and doc.json()["source"] == "publika/protokoll.md"
            page = c.get("/dokument/protokoll.md", headers=headers)
            assert page.status_code == 200 and "Simhallen" in page.text and "Kanarieholmen" not in page.text
            outline = mcp_call(c, "document_outline", {"source": "protokoll.md"},
                               {"Authorization": "Bearer " + headers["X-API-Key"]} if headers else {})
            assert outline["structuredContent"]["source"] == "publika/protokoll.md"
        # a key that reads both has two documents of that name: it must say which
        assert c.get("/api/documents/protokoll.md", headers=header("reader-int")).status_code == 404
        assert c.get("/api/documents/interna/protokoll.md", headers=header("reader-int")).json()["level"] == "internal"
        # a public editor removing "protokoll.md" removes the public one, never the internal one
        r = c.delete("/api/documents/protokoll.md", headers=header("editor-pub"))
        assert r.status_code == 200 and r.json()["removed"] == "publika/protokoll.md"
        assert c.get("/api/documents/interna/protokoll.md", headers=header("reader-int")).status_code == 200
    assert public and internal


def test_answers_to_a_public_caller_do_not_depend_on_internal_documents(client, tmp_path):
    """The same questions against the same store without the internal document: the same answers
    (the unknown-name and unknown-word gates once read every document's words)."""
    from assistant.api import create_app

    settings = two_level_settings(tmp_path)
    (tmp_path / "interna" / "2026_hemlig_forstudie.md").unlink()
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=False)) as without:
        for q in ("Vad kostar Kanarieholmen?", "Hur mycket kostar kanariefågelhuset?"):
            # anonymous: the answers must not depend on whether the internal document exists
            assert client.post("/api/ask", json={"question": q}).json()["answer"] == \
                without.post("/api/ask", json={"question": q}).json()["answer"], q


@pytest.mark.parametrize("who", ["anonymous", "reader-pub"])
def test_a_name_only_internal_documents_have_is_unknown_to_a_public_caller(client, who):
    """No side channel: a name that only an internal document has is answered exactly as a name
    that no document has (the gates read only the words of the documents the caller may read)."""
    headers = {} if who == "anonymous" else header(who)

    def ask(name: str) -> dict:
        return client.post("/api/ask", json={"question": f"Vad föreslår förstudien om {name}?"}, headers=headers).json()

    hidden, made_up = ask("Kanarieholmen"), ask("Papegojholmen")
    assert hidden["abstained"] and made_up["abstained"]
    assert hidden["answer"].replace("Kanarieholmen", "X") == made_up["answer"].replace("Papegojholmen", "X")
    inside = client.post("/api/ask", json={"question": "Vad föreslår förstudien om Kanarieholmen?"},
                         headers=header("reader-int")).json()
    assert "nämner inte" not in inside["answer"]
