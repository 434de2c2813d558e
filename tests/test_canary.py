"""An internal canary document never reaches a caller without the internal level, through any
face: ask, chat, search, facts, checks, documents, healthz counts and the Gradio UI. A key with
the internal level does see it (so these tests can fail)."""
from __future__ import annotations

import json
import re
import uuid
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tiny import CANARY_MARKERS, header, ingest_all, two_level_settings

CANARY_ID = "interna/2026_hemlig_forstudie.md"
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
    page = client.get(f"/dokument/{CANARY_ID}", headers=headers)
    # a 404 page repeats the id the caller asked for; that is the caller's own words
    out["ui-document"] = page.text if page.status_code == 200 else page.text.replace(CANARY_ID, "")
    out["ui-page"] = client.get("/", headers=headers).text
    out["gradio-info"] = client.get("/gradio_api/info", headers=headers).text
    out["gradio-config"] = client.get("/config", headers=headers).text
    out["openapi"] = client.get("/openapi.json", headers=headers).text
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
    assert {"ask0", "search", "facts", "checks", "documents", "document", "ui0", "ui-library", "ui-document"} <= leaked
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
