"""The OpenAI-compatible face, driven by the official `openai` client against the app served by
uvicorn (tiny fixture corpus, fast fake embedder), and once over the sample corpus."""
import json
from urllib.parse import parse_qs, urlparse

import httpx
import openai
import pytest

from assistant.faces import (MAX_MESSAGES, QuestionTooLong, bounded_conversation, citation_labels, render_markdown,
                             request_key)
from assistant.links import passage_url
from assistant.openai_face import MODEL_ID, _pieces
from assistant.schemas import AskResponse, Citation

GLANTAN_2027 = "Hur mycket betalar Exempelby kommun till Föreningen Gläntan 2027?"
SYSTEM = {"role": "system", "content": "Du är en hjälpsam assistent. Svara alltid på engelska."}


@pytest.fixture(scope="module")
def client(tiny_server):
    return openai.OpenAI(base_url=tiny_server + "/v1", api_key="ingen-nyckel-behovs", max_retries=0, timeout=60)


def _cited_text(settings, url: str) -> str:
    """The document text a passage link points at."""
    from index.store import CouncilIndex

    u = urlparse(url)
    assert u.path.startswith("/dokument/") and u.fragment == "markering"
    q = parse_qs(u.query)
    source = u.path.removeprefix("/dokument/")
    text = CouncilIndex(settings).document_text(source)
    return text[int(q["start"][0]):int(q["end"][0])]


# -- units --------------------------------------------------------------------------------------
def test_passage_url_quotes_the_name_and_carries_the_span():
    url = passage_url("https://rad.example.se/", "Protokoll KS 2026 å.pdf", 10, 42)
    assert url == "https://rad.example.se/dokument/Protokoll%20KS%202026%20%C3%A5.pdf?start=10&end=42#markering"
    assert passage_url("http://x", "a.md") == "http://x/dokument/a.md"


def test_request_key_reads_bearer_and_x_api_key():
    assert request_key({"authorization": "Bearer abc "}) == "abc"
    assert request_key({"x-api-key": "k"}) == "k"
    assert request_key({"authorization": "Basic abc"}) is None
    assert request_key(None) is None and request_key({"authorization": "Bearer "}) is None


def test_conversation_is_bounded_not_rejected():
    long_answer = "Svar. " * 2000 + "\n\n**Källor**\n\n- [1] …"
    history = [("system", "Var kort.")]
    for i in range(40):
        history += [("user", f"Fråga {i}?"), ("assistant", long_answer)]
    out = bounded_conversation(history + [("user", "Och 2028?")])
    assert len(out) == MAX_MESSAGES and out[-1].content == "Och 2028?" and out[-1].role == "user"
    assert all(m.role in ("user", "assistant") and len(m.content) <= 4000 for m in out)
    assert not any("Källor" in m.content for m in out if m.role == "assistant")
    with pytest.raises(QuestionTooLong):
        bounded_conversation([("user", "x" * 2001)])
    with pytest.raises(ValueError):
        bounded_conversation([("user", "Fråga?"), ("assistant", "Svar.")])
    with pytest.raises(ValueError):
        bounded_conversation([("system", "bara system")])
    with pytest.raises(ValueError):  # an image alone is no question, and the one before is not answered again
        bounded_conversation([("user", "Fråga?"), ("user", "  ")])


def test_markdown_answer_links_each_source_and_marks_where_it_is_cited():
    cites = [Citation(id=1, source="a b.md", title="Mötesbok", section="Ekonomi > Budget > Tabell", quote="Rad\t1 000",
                      page=3, start=5, end=9),
             Citation(id=2, source="c.md", title="Plan [utkast]", section="", quote="<b>Text</b>", start=0, end=4)]
    resp = AskResponse(answer="Det är 1 000 kr [1], enligt planen [2].", abstained=False, citations=cites)
    out = render_markdown(resp, "http://h:1")
    assert out.text.startswith("Det är 1 000 kr [1], enligt planen [2].\n\n**Källor**")
    assert "- [1] [Mötesbok — Budget > Tabell, s. 3](http://h:1/dokument/a%20b.md?start=5&end=9#markering): ”Rad · 1 000”" \
        in out.text
    assert "- [2] [Plan (utkast)](http://h:1/dokument/c.md?start=0&end=4#markering): ”Text”" in out.text
    for c in out.citations:
        assert out.text[c.start_index:c.end_index] == f"[{c.id}]" and c.start_index < len(resp.answer)
    assert citation_labels(cites)[1] == "Mötesbok — Budget > Tabell, s. 3"


def test_labels_tell_apart_sections_that_end_alike():
    def cite(i, section):
        return Citation(id=i, source="m.md", title="Mötesbok", section=section, quote="q", start=i, end=i + 1)

    a = cite(1, "Överenskommelse mellan Umeå kommun och Vän i Umeå > Ekonomi > Budget")
    b = cite(2, "Överenskommelse mellan Umeå kommun och Pingstkyrkan > Ekonomi > Budget")
    c = cite(3, "Överenskommelse mellan Umeå kommun och Pingstkyrkan > Ekonomi > Fakturering")
    labels = citation_labels([a, b, c])
    assert labels[1] == "Mötesbok — … Vän i Umeå > Ekonomi > Budget"
    assert labels[2] == "Mötesbok — … Pingstkyrkan > Ekonomi > Budget" and labels[3] == "Mötesbok — Ekonomi > Fakturering"
    assert citation_labels([a])[1] == "Mötesbok — Ekonomi > Budget"


def test_stream_pieces_rebuild_the_text():
    text = "Ett svar [1].\n\n" + "ord " * 100 + "\n- [1] [x](http://y)"
    pieces = _pieces(text)
    assert "".join(pieces) == text and all(len(p) <= 160 for p in pieces)


# -- through the official client -------------------------------------------------------------
def test_models(client):
    assert [m.id for m in client.models.list()] == [MODEL_ID]
    assert client.models.retrieve(MODEL_ID).id == MODEL_ID
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_completion_carries_answer_sources_and_annotations(client, tiny_settings):
    r = client.chat.completions.create(model=MODEL_ID, messages=[SYSTEM, {"role": "user", "content": GLANTAN_2027}])
    msg = r.choices[0].message
    assert r.object == "chat.completion" and r.choices[0].finish_reason == "stop" and msg.role == "assistant"
    assert "462 000 kr [1]" in msg.content and "\n**Källor**\n" in msg.content
    assert msg.annotations and msg.annotations[0].type == "url_citation"
    first = msg.annotations[0].url_citation
    assert f"({first.url})" in msg.content  # the same link in the text, for clients that show no annotations
    assert msg.content[first.start_index:first.end_index] == "[1]"
    assert "462 000" in _cited_text(tiny_settings, first.url)
    council = r.model_extra["council"]
    assert any(f["value"] == 462000 and f["unit"] == "kr" for f in council["figures"]) and not council["abstained"]


def test_stream_is_chunks_then_finish_then_done(client, tiny_server):
    stream = client.chat.completions.create(model=MODEL_ID, stream=True,
                                            messages=[{"role": "user", "content": GLANTAN_2027}])
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks) and len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    annotations = [a for c in chunks for a in (c.choices[0].delta.model_extra or {}).get("annotations") or []]
    full = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": GLANTAN_2027}])
    assert content == full.choices[0].message.content and "462 000 kr" in content
    assert annotations == [a.model_dump() for a in full.choices[0].message.annotations]
    # on the wire: SSE data lines ending in [DONE]
    with httpx.stream("POST", tiny_server + "/v1/chat/completions", timeout=60,
                      json={"model": MODEL_ID, "stream": True, "messages": [{"role": "user", "content": GLANTAN_2027}]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    assert json.loads(events[-2][6:])["choices"][0]["finish_reason"] == "stop"


def test_follow_up_and_content_parts(client):
    first = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": GLANTAN_2027}])
    r = client.chat.completions.create(model=MODEL_ID, messages=[
        {"role": "user", "content": [{"type": "text", "text": GLANTAN_2027}]},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "Och 2026?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    assert "450 000 kr" in r.choices[0].message.content


def test_long_history_is_cut_not_refused(client):
    history = []
    for _ in range(30):
        history += [{"role": "user", "content": "Vilka reserverade sig? " * 300},
                    {"role": "assistant", "content": "Bo Berg (M) … " * 800}]
    r = client.chat.completions.create(model=MODEL_ID, messages=history + [{"role": "user", "content": GLANTAN_2027}])
    assert "462 000 kr" in r.choices[0].message.content


def test_abstains_with_no_sources(client):
    r = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Hur bakar man kanelbullar?"}])
    content = r.choices[0].message.content
    assert ("besvarar frågan" in content or "kan inte besvaras" in content) and not r.choices[0].message.annotations
    assert r.model_extra["council"]["abstained"]


def test_errors_have_openai_shape(client, tiny_server):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hej?"}])
    assert e.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Fråga?"},
                                                                 {"role": "assistant", "content": "Svar."}])
    assert "role=user" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "x" * 3000}])
    assert e.value.code == "string_above_max_length"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL_ID, messages=[])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL_ID, n=2, messages=[{"role": "user", "content": "Hej?"}])
    url = tiny_server + "/v1/chat/completions"
    r = httpx.post(url, content=b"{inte json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and set(r.json()["error"]) == {"message", "type", "param", "code"}
    r = httpx.post(url, json={"model": MODEL_ID, "messages": [{"role": "wizard", "content": "Hej"}]})
    assert r.status_code == 400 and r.json()["error"]["param"].startswith("messages.0")
    r = httpx.post(url, content=b"[" + b" " * 1_000_001 + b"]", headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert httpx.get(tiny_server + "/healthz").status_code == 200  # nothing broke


def test_keys_guard_the_face(keyed_server):
    bad = openai.OpenAI(base_url=keyed_server + "/v1", api_key="fel", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.models.list()
    assert e.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": GLANTAN_2027}])
    good = openai.OpenAI(base_url=keyed_server + "/v1", api_key="hemlig-nyckel", max_retries=0)
    r = good.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": GLANTAN_2027}])
    assert "462 000 kr" in r.choices[0].message.content


# -- the sample corpus (ingested once per session with the real embedder) ------------------------
PINGST = "Hur mycket betalar Umeå kommun till Pingstkyrkan i Umeå 2027?"


def test_pingstkyrkan_2027_through_the_openai_client(corpus_server, corpus_settings):
    client = openai.OpenAI(base_url=corpus_server + "/v1", api_key="x", max_retries=0, timeout=120)
    full = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": PINGST}])
    content = full.choices[0].message.content
    stream = client.chat.completions.create(model=MODEL_ID, stream=True, messages=[{"role": "user", "content": PINGST}])
    streamed = "".join(c.choices[0].delta.content or "" for c in stream)
    for text in (content, streamed):
        assert "1 037 065" in text
        assert f"{corpus_server}/dokument/corpus/2026-05-19_KSNAU_motesbok.md?start=" in text
    cited = [a.url_citation.url for a in full.choices[0].message.annotations]
    assert any("1 037 065" in _cited_text(corpus_settings, u) for u in cited)
