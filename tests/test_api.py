"""End to end over the sample corpus through the HTTP API."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_health_and_documents(client):
    assert client.get("/healthz").json()["documents"] == 5
    docs = client.get("/api/documents").json()
    # a document's id is its path under its ingest root (the corpus folder)
    assert {d["source"] for d in docs} >= {"corpus/2026-05-19_KSNAU_motesbok.md", "corpus/2022_IOP_Van_i_Umea_forslag.md"}
    assert all(d["chunks"] > 0 and d["ingested_at"] for d in docs)


def test_pingstkyrkan_2027(client):
    r = client.post("/api/ask", json={"question": "Hur mycket betalar Umeå kommun till Pingstkyrkan i Umeå 2027?"})
    body = r.json()
    assert r.status_code == 200 and not body["abstained"]
    assert any(f["value"] == 1037065 and f["unit"] == "kr" for f in body["figures"])
    assert "1 037 065 kr" in body["answer"]
    assert any(c["source"].endswith("/2026-05-19_KSNAU_motesbok.md") for c in body["citations"])
    for c in body["citations"]:
        assert set(c) >= {"id", "source", "title", "section", "quote", "page", "start", "end"}


def test_computed_sum_has_formula_and_cites_every_row(client):
    body = client.post("/api/ask", json={"question": "Hur stor är Umeå kommuns sammanlagda ekonomiska insats "
                                                     "till Vän i Umeå för hela perioden 2026–2028?"}).json()
    fig = next(f for f in body["figures"] if f["value"] == 6994559)
    assert fig["formula"] == "1 687 050 + 2 603 541 + 2 703 968"
    assert len(fig["citations"]) == 3


def test_abstains_outside_corpus(client):
    for q in ["Hur bakar man kanelbullar?", "asdf qwerty zxcv"]:
        body = client.post("/api/ask", json={"question": q}).json()
        assert body["abstained"] and not body["figures"]


def test_bad_input_is_a_clear_4xx(client):
    r = client.post("/api/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "Ogiltig" in r.json()["detail"]
    assert client.post("/api/ask", json={"question": ""}).status_code == 422
    assert client.post("/api/ask", json={}).status_code == 422
    assert client.get("/api/documents/finns-inte.md").status_code == 404
    assert client.get("/api/documents/corpus/2022_IOP_Van_i_Umea_forslag.md").status_code == 200


def test_search_facts_checks_docs(client):
    hits = client.get("/api/search", params={"q": "pistmaskin"}).json()
    assert hits and hits[0]["source"] == "corpus/2026-05-19_KSNAU_motesbok.md" and "score" in hits[0]
    facts = client.get("/api/facts", params={"entity": "Pastorat", "label": "Lokaler", "year": 2026}).json()
    assert [f["value"] for f in facts] == [130000]
    checks = client.get("/api/checks").json()
    assert any(c["row"] == "Individ och familjeomsorg" and c["computed"] == 525.5 for c in checks)
    assert client.get("/docs").status_code == 200
    assert client.get("/").status_code == 200  # the Gradio chat


def test_chat_follow_up(client):
    first = "Hur mycket betalar Umeå kommun till Vän i Umeå 2027?"
    body = client.post("/api/chat", json={"messages": [
        {"role": "user", "content": first}, {"role": "assistant", "content": "…"},
        {"role": "user", "content": "Och 2028?"}]}).json()
    assert any(f["value"] == 2703968 for f in body["figures"])


def test_chat_swaps_party_and_follows_the_language(client):
    turns = ["Hur mycket betalar Umeå kommun till Pingstkyrkan i Umeå 2027?", "Och 2028?",
             "Och för Umeå Pastorat?", "And in 2026?"]
    messages = []
    answers = []
    for t in turns:
        messages.append({"role": "user", "content": t})
        body = client.post("/api/chat", json={"messages": messages}).json()
        messages.append({"role": "assistant", "content": body["answer"]})
        answers.append(body)
    assert any(f["value"] == 1077067 for f in answers[1]["figures"])
    assert any("Umeå Pastorat" in f["label"] for f in answers[2]["figures"])
    last = answers[3]
    assert any(f["value"] == 672000 and "Umeå Pastorat" in f["label"] for f in last["figures"])
    assert "Obs!" not in last["answer"] and "Underlag" not in last["answer"]  # written in English
    assert "Note: The original decision stated" in last["answer"]


def test_english_question_gets_english_answer_with_the_same_citations(client):
    en = client.post("/api/ask", json={"question": "What did the committee decide in § 76?"}).json()
    sv = client.post("/api/ask", json={"question": "Vad beslutade kommunstyrelsen i § 76?"}).json()
    assert en["answer"].startswith("Decision in § 76") and sv["answer"].startswith("Beslut i § 76")
    assert [c["quote"] for c in en["citations"]][:5] == [c["quote"] for c in sv["citations"]][:5]


def test_near_miss_body_abstains_but_the_right_body_answers(client):
    miss = client.post("/api/ask", json={
        "question": "Hur hög var svarsfrekvensen i äldrenämndens årliga SAM-uppföljning 2025?"}).json()
    hit = client.post("/api/ask", json={
        "question": "Hur hög var svarsfrekvensen i kommunstyrelsens årliga SAM-uppföljning 2025?"}).json()
    assert miss["abstained"] and "äldrenämndens" in miss["answer"]
    assert not hit["abstained"] and "95,7" in hit["answer"]


def test_change_across_documents_shows_both_periods(client):
    body = client.post("/api/ask", json={
        "question": "Hur har Umeå kommuns finansiering av Vän i Umeå förändrats mellan IOP-perioderna?"}).json()
    sources = {c["source"] for c in body["citations"]}
    assert {"corpus/2022_IOP_Van_i_Umea_forslag.md", "corpus/2026-05-19_KSNAU_motesbok.md"} <= sources
    assert any(f["value"] == 1982 for f in body["figures"]) and any(f["value"] == 1687050 for f in body["figures"])


def test_golden_floor(corpus_settings):
    """The project's golden set must not drop below the level reached (see README)."""
    from assistant.service import Assistant
    from eval.runner import load_questions, run
    from index.store import CouncilIndex

    questions = load_questions(ROOT / "eval" / "golden.jsonl")
    assistant = Assistant(CouncilIndex(corpus_settings))
    summary = run(questions, lambda q: assistant.ask(q).model_dump())
    print(summary["by_kind"], summary["score"])
    assert summary["score"] >= GOLDEN_FLOOR


GOLDEN_FLOOR = 0.68  # the fitted pipeline on the sample corpus alone (README); it trades in-sample golden points for held-out ones


def test_a_cost_printed_with_a_minus_sign_is_answered_as_its_size(client):
    """A result statement prints costs negative; asked for the net cost, the answer is its size,
    and says how the table printed it (the figure's formula shows the sign change)."""
    r = client.post("/api/ask", json={"question": "Vad blev Samordningsförbundets nettokostnad 2016?"}).json()
    assert not r["abstained"]
    fig = next(f for f in r["figures"] if "ettokostnad" in f["label"])
    assert fig["value"] == 12342 and fig["formula"] == "−(−12 342)"
    assert "12 342 tkr" in r["answer"] and "minustecken" in r["answer"]
