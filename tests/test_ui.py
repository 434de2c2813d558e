"""The chat's pure parts (history bounds, rendering and escaping, scope wording, figure cards,
document view, feedback) and the provenance of citations, on small fixtures with the fake embedder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.links import document_path
from assistant.provenance import distinct_labels
from assistant.schemas import AskResponse, Citation, FigureOut, FigureRow
from assistant.ui import conversation as conv
from assistant.ui.docview import MAX_VIEW_CHARS, document_page, window
from assistant.ui.feedback import FeedbackStore
from assistant.ui.figure_card import card_html, chart, chart_series, num
from assistant.ui.render import genitive, markdown, plain, scope_text, turn_html, user_html

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
LONG = ROOT / "tests" / "fixtures" / "ui" / "2025-12-15_KF_protokoll_exempelby.txt"


def cite(i: int, **kw) -> Citation:
    base = dict(id=i, source="a.md", title="Mötesbok", section="Ekonomi > Budget", quote="Lokaler\t67 000",
                page=None, start=10 * i, end=10 * i + 5)
    return Citation(**(base | kw))


def response(answer: str = "Svar [1].", **kw) -> AskResponse:
    return AskResponse(**({"answer": answer, "abstained": False, "citations": [cite(1)]} | kw))


# -- history -------------------------------------------------------------------------
def test_history_cuts_long_answers_instead_of_rejecting_them():
    store = conv.empty_store()
    store = conv.add_turn(store, conv.make_turn("Vad beslutades i § 41?", response("x" * 9000)))
    messages = conv.history(store, "Och vem reserverade sig?")
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert all(len(m.content) <= 4000 for m in messages)
    assert messages[1].content.endswith("…")


def test_history_is_bounded_and_restarts_at_a_question_asked_as_written():
    store = conv.empty_store()
    for i in range(20):
        store = conv.add_turn(store, conv.make_turn(f"fråga {i}", response()))
    assert len(conv.history(store, "ny")) == 2 * conv.HISTORY_TURNS + 1
    store = conv.add_turn(store, conv.make_turn("som skriven", response(), literal=True))
    store = conv.add_turn(store, conv.make_turn("Och 2028?", response()))
    assert [m.content for m in conv.history(store, "mer") if m.role == "user"] == ["som skriven", "Och 2028?", "mer"]


def test_failed_turns_give_no_context():
    store = conv.add_turn(conv.empty_store(), conv.make_turn("trasig", error="fel"))
    assert [m.content for m in conv.history(store, "ny")] == ["ny"]


def test_store_is_bounded_and_survives_garbage():
    assert conv.normalise(None)["chats"][0]["turns"] == []
    assert conv.normalise({"chats": "nej"})["chats"][0]["turns"] == []
    assert conv.normalise({"chats": [{"turns": [{"no": 1}, {"question": "q"}]}]})["chats"][0]["turns"] == [
        {"question": "q"}]
    store = conv.empty_store()
    big = response("y" * 3900, citations=[cite(i, quote="z" * 600) for i in range(1, 30)])
    for c in range(conv.MAX_CHATS + 5):
        for t in range(10):
            store = conv.add_turn(store, conv.make_turn(f"fråga {c}.{t}", big))
        store = conv.new_chat(store)
    assert len(store["chats"]) <= conv.MAX_CHATS
    assert len(json.dumps(store["chats"], ensure_ascii=False)) <= conv.MAX_STORE_CHARS
    assert conv.response_of({"response": {"answer": 3}}) is None  # a tampered value is not a crash


def test_new_chat_keeps_the_old_one_in_the_list():
    store = conv.add_turn(conv.empty_store(), conv.make_turn("första", response()))
    old = store["current"]
    store = conv.new_chat(store)
    assert conv.turns(store) == [] and conv.new_chat(store) == store  # no pile of empty chats
    assert [cid for _, cid in conv.chat_choices(store)] == [old]
    assert conv.turns(conv.open_chat(store, old))[0]["question"] == "första"


# -- rendering -------------------------------------------------------------------------
def test_everything_from_documents_and_users_is_escaped():
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    turn = conv.make_turn(evil, response(f"Svar {evil} [1].", question=evil,
                                         citations=[cite(1, title=evil, section=evil, quote=evil)]))
    html = turn_html(turn) + user_html(evil)
    assert "<img" not in html and "<script" not in html
    assert "&lt;script&gt;" in html


def test_citation_markers_become_links_with_previews():
    turn = conv.make_turn("q", response("Summa 1 687 050 kr [1], [1]. Okänd [7].",
                                        citations=[cite(1, label="Mötesbok, Ekonomi › Budget")]))
    html = turn_html(turn)
    assert html.count('class="ra-cite"') == 1  # "[1], [1]" says [1] once
    assert f'href="{document_path("a.md", 10, 15)}"' in html.replace("&amp;", "&")
    assert "Mötesbok, Ekonomi › Budget" in html and "[7]" in html
    assert '<span class="ra-num">1 687 050 kr</span>' in html
    assert "tecken" not in html


def test_resolved_follow_up_is_shown_and_exported():
    turn = conv.make_turn("Och 2028?", response(question="Hur mycket betalar kommunen 2028?"))
    assert "Tolkad som" in turn_html(turn)
    assert "*Tolkad som:* Hur mycket betalar kommunen 2028?" in markdown(turn)
    same = conv.make_turn("Hur mycket?", response(question="Hur mycket"))
    assert "Tolkad som" not in turn_html(same)


def test_table_row_quotes_show_their_header():
    c = cite(1, table_header=["Belopp i kr", "2026", "2027"], table_rows=[["Lokaler", "67 000", "103 398"]])
    html = turn_html(conv.make_turn("q", response(citations=[c])))
    assert "<th scope=\"col\">2026</th>" in html and "<td class=\"ra-num\">67 000</td>" in html
    assert "Lokaler — 2026: 67 000; 2027: 103 398" in plain(response(citations=[c]))


def test_scope_names_the_limits():
    assert genitive("IFN") == "IFN:s" and genitive("Kommunstyrelsen") == "Kommunstyrelsens"
    assert genitive("Styrelsens") == "Styrelsens"
    assert scope_text({"body": "IFN"}, {}) == "Svar från IFN:s dokument"
    assert scope_text({"source": ["a.md"], "date_from": "2026-01-01"}, {"a.md": "Mötesbok"}) == \
        "Svar från dokumentet ”Mötesbok” daterade från 2026-01-01"
    assert scope_text({"source": ["a", "b"], "doc_type": "pdf"}, {}) == "Svar från 2 valda dokument (filtyp pdf)"
    assert scope_text(None, {}) is None
    assert scope_text({"organisation": "Umeå"}, {}) == "Svar från Umeås dokument"
    assert scope_text({"organisation": "Umeå", "body": "IFN"}, {}) == "Svar från IFN:s dokument från Umeå"


def test_library_rows_and_the_upload_form_for_editors_only():
    from assistant.ui.library import LibraryEntry, library_html, upload_form_html

    entries = [LibraryEntry("corpus/a.md", "A", "2026-01-02", "Kommunfullmäktige", "md", 3, 4, (), "Umeå", "protokoll"),
               LibraryEntry("corpus/b.pdf", "B", "", "", "pdf", 9, 0, ("x",), "Göteborg", "rapport", pages=12)]
    page = library_html(entries)
    assert "Umeå" in page and "Göteborg" in page and "protokoll" in page and ">12<" in page and "Sidor" in page
    assert "Sidor" not in library_html(entries[:1])  # no column of dashes when no document has pages
    assert "ra-upload-form" not in upload_form_html(frozenset()) and "/login" in upload_form_html(frozenset())
    public_only = upload_form_html(frozenset({"public"}))
    assert 'action="/api/upload"' in public_only and 'value="public"' in public_only
    assert 'value="internal"' not in public_only  # only the levels the key may write are offered


def test_errors_are_swedish_and_markdown_export_has_sources():
    turn = conv.make_turn("q", error="Frågan är för lång.")
    assert "Det gick inte att svara" in turn_html(turn) and 'role="alert"' in turn_html(turn)
    md = markdown(conv.make_turn("Fråga?", response()), "http://host/")
    assert md.startswith("**Fråga:** Fråga?") and "**Källor**" in md
    assert "<http://host/dokument/a.md?start=10&end=15#markering>" in md


# -- figures -------------------------------------------------------------------------
FIG = FigureOut(label="Summa", value=6994559, unit="kr", formula="1 687 050 + 2 603 541 + 2 703 968", citations=[1],
                rows=[FigureRow(label=f"Summa Umeå kommun, {y}", value=v, unit="kr", citation=1,
                                row="Summa Umeå kommun", column=f"{y} (*)", year=y)
                      for y, v in ((2026, 1687050), (2027, 2603541), (2028, 2703968))])


def test_figure_card_keeps_numbers_whole():
    html = card_html(FIG, {1: cite(1)}, 1)
    assert '<span class="ra-num">6 994 559 kr</span>' in html
    assert '<span class="ra-num">1 687 050</span> + <span class="ra-num">2 603 541</span>' in html
    assert "<th scope=\"row\">2026</th>" in html and "(*)" not in html  # footnote marks are not part of the year
    assert "Rader som används: Summa Umeå kommun" in html  # one row across years: named once
    assert num("2026-05-19 och 97,4 %") == '2026-05-19 och <span class="ra-num">97,4 %</span>'


def test_chart_draws_the_rows_of_a_computed_figure():
    series = chart_series(response(figures=[FIG]))
    assert series[1] == ["2026", "2027", "2028"] and series[0].startswith("Summa Umeå kommun")
    fig = chart(series)
    assert fig.layout.separators == ", " and list(fig.data[0].x) == [1687050, 2603541, 2703968]
    single = FigureOut(label="x", value=1, unit="kr", citations=[1])
    assert chart_series(response(figures=[single])) is None
    assert chart_series(response(figures=[single, single]))[3] == "kr"


# -- provenance ------------------------------------------------------------------------
def test_labels_tell_sources_apart():
    same = [cite(1, quote="Lokaler 67 000"), cite(2, quote="Lokaler 130 000"), cite(3, quote="Personal 1")]
    labels = distinct_labels(same, ["Pingstkyrkan", "Umeå Pastorat", None])
    assert len(set(labels)) == 3 and "(Pingstkyrkan)" in labels[0]
    twins = distinct_labels([cite(1), cite(2)])
    assert len(set(twins)) == 2


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    from fakes import HashEmbedder

    from assistant.service import Assistant
    from assistant.settings import Settings
    from index.store import CouncilIndex

    index = CouncilIndex(Settings(data_dir=tmp_path_factory.mktemp("ui-unit")), embedder=HashEmbedder())
    report = index.ingest_paths([CORPUS, LONG])  # ~4 s with the fake embedder
    assert not report.errors
    return Assistant(index)


def test_locate_a_table_row(small_index):
    from assistant.provenance import Provenance

    index = small_index.index
    row = next(f for f in index.facts if f.label == "Summa Umeå kommun" and f.entity == "Vän i Umeå")
    c = Provenance(index).locate(cite(1, source=row.source, section="", start=row.start, end=row.end))
    assert c.table_header[1:] == ["2026", "2027", "2028"] and c.table_rows[0][0] == "Summa Umeå kommun"
    assert c.section.endswith("Budget för perioden 2026–2028")
    prose = Provenance(index).locate(cite(1, source=row.source, start=row.start - 400, end=row.start - 300))
    assert prose.table_rows is None  # a passage that is no table row stays a quote


def test_answers_cite_table_rows_with_their_header(small_index):
    resp = small_index.ask("Hur stor är Umeå kommuns sammanlagda insats till Vän i Umeå 2026–2028?")
    fig = next(f for f in resp.figures if f.formula)
    assert [r.year for r in fig.rows] == [2026, 2027, 2028] and fig.rows[0].row == "Summa Umeå kommun"
    row = next(c for c in resp.citations if c.id == fig.rows[0].citation)
    assert row.table_header[1:] == ["2026", "2027", "2028"]
    assert row.table_rows == [["Summa Umeå kommun", "1 687 050", "2 603 541", "2 703 968"]]
    assert len({c.label for c in resp.citations}) == len(resp.citations)


def test_paragraph_of_a_decision(small_index):
    resp = small_index.ask("Vilka reserverade sig mot kommunstyrelsens beslut § 76?")
    assert any(c.paragraph == "§ 76" for c in resp.citations)


def test_long_history_goes_through_the_assistant(small_index):
    first = small_index.ask("Vad beslutade kommunfullmäktige i § 41?")
    assert len(first.answer) > 4000
    store = conv.add_turn(conv.empty_store(), conv.make_turn("Vad beslutade kommunfullmäktige i § 41?", first))
    resp = small_index.chat(conv.history(store, "Vilka reserverade sig mot beslutet i § 41?"))
    assert "Bo Berg" in resp.answer


# -- document view and feedback --------------------------------------------------------
def test_document_page_marks_the_span_and_escapes_the_text():
    text = "Rubrik\n<script>alert(1)</script> Summa 1 000 här.\nSlut"
    doc = {"source": "x<y>.md", "title": "T <b>", "format": "md", "chunks": 1, "facts": 0,
           "structure": {"outline": [{"path": ["Rubrik"], "start": 0}],
                         "paragraphs": [{"paragraph": "§ 5", "title": "<i>x</i>", "beslut": ["att <b>"]}]}}
    start = text.index("Summa")
    page = document_page(doc, text, [], start, start + len("Summa 1 000"))
    assert '<html lang="sv">' in page and "<script>alert" not in page and "<b>" not in page.split("<style>")[0]
    assert '<mark id="markering" tabindex="-1">' in page and "Summa 1 000" in page.split("<mark")[1]
    assert 'id="pos-0"' in page and "§ 5" in page
    assert "<mark" not in document_page(doc, text, [], 5, 999)  # a span outside the text is ignored


def test_table_cells_are_kept_apart_in_the_document_view():
    text = "Övriga personalkostnader\t27 000\t41 668\t43 275\n"
    page = document_page({"source": "b.md", "title": "B", "structure": {}}, text, [], 0, len(text) - 1)
    body = page.split('<div class="dv-text">')[1]
    assert body.count('<span class="dv-tab">\t</span>') == 3  # a visible gap, the TAB kept for copying
    assert "27 000" in body and "41 668" in body and "43 275" in body


def test_labels_do_not_repeat_the_title_as_a_section():
    from assistant.faces import citation_labels
    from assistant.provenance import base_label

    c = cite(1, title="Integration och inkludering Umeå", section="Integration och inkludering Umeå > Bakgrund")
    assert base_label(c) == "Integration och inkludering Umeå, Bakgrund"
    assert citation_labels([c])[1] == "Integration och inkludering Umeå — Bakgrund"


def test_long_documents_are_shown_in_windows_around_the_passage():
    assert window(100, None, None) == (0, 100)
    lo, hi = window(MAX_VIEW_CHARS * 3, MAX_VIEW_CHARS * 2, None)
    assert lo <= MAX_VIEW_CHARS * 2 < hi and hi - lo == MAX_VIEW_CHARS


def test_feedback_is_stored_with_the_question_and_bounded(tmp_path, monkeypatch):
    import assistant.ui.feedback as fb

    monkeypatch.setattr(fb, "MAX_ROWS", 3)
    store = FeedbackStore(tmp_path / "f.sqlite3")
    for i in range(5):
        store.add("up" if i % 2 else "down", f"fråga {i}", None, "svar", ["a.md"], {"body": "IFN"}, False)
    rows = store.list()
    assert [r["question"] for r in rows] == ["fråga 4", "fråga 3", "fråga 2"]
    assert store.list(vote="up")[0] == rows[1] and rows[0]["filters"] == {"body": "IFN"}
    with pytest.raises(ValueError):
        store.add("meh", "q", None, "a", [], None, False)


def test_swedish_page_rewrite():
    from assistant.ui.theme import rewrite

    page = rewrite('<html\n\tlang="en"><head>\n<meta content="https://raw.githubusercontent.com/x.jpg">\n</head>')
    assert 'lang="sv"' in page and "raw.githubusercontent" not in page and 'Navigator.prototype, "language"' in page


def test_routes_of_the_browser_face(small_index):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    settings = small_index.index.settings.model_copy(update={"api_keys": ["k"], "anonymous_read": True})
    with TestClient(create_app(settings, with_ui=True, embedder=small_index.index.embedder)) as client:
        page = client.get("/")
        assert page.status_code == 200 and 'lang="sv"' in page.text
        missing = client.get("/dokument/finns-inte.md")
        assert missing.status_code == 404 and "Dokumentet finns inte" in missing.text
        doc = client.get("/dokument/2026-05-19_KSNAU_motesbok.md", params={"start": 100, "end": 150})
        assert doc.status_code == 200 and '<mark id="markering"' in doc.text
        assert client.get("/api/feedback").status_code == 401  # staff only
        assert client.get("/api/feedback", headers={"X-API-Key": "k"}).json() == []


def test_access_seam_limits_what_a_caller_sees(small_index, tmp_path):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from assistant.ui.access import Access
    from assistant.ui.mount import mount_ui

    only = "corpus/2026-05-19_KSNAU_motesbok.md"
    access = Access(levels_of=lambda request: frozenset({"public"}), visible=lambda levels: {only})
    assert access.ask_kwargs(None) == {"levels": frozenset({"public"})}
    assert [d["source"] for d in access.documents(small_index.index, None)] == [only]
    assert Access().ask_kwargs(None) == {} and Access().may_read(None, "x.md")
    settings = small_index.index.settings.model_copy(update={"data_dir": tmp_path})
    with TestClient(mount_ui(FastAPI(), small_index, settings, access=access)) as client:
        assert client.get("/dokument/" + only).status_code == 200
        assert client.get("/dokument/2022_IOP_Van_i_Umea_forslag.md").status_code == 404
        page = client.get("/").text
        assert "Programrapport" not in page and "Mötesbok" not in page  # names are loaded per visitor
