"""The Gradio chat: questions and answers with clickable sources, an "Underlag" panel with the
figures of the chosen answer, conversations kept in the browser, and a library of the documents.

The chat never locks: every answer step catches its own errors and says them in Swedish, the
question box is never disabled, and the history sent to the assistant is bounded and cut (see
`conversation.history`). Answers come only from `Assistant.chat`/`Assistant.ask`.
"""
from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote

import gradio as gr

from ..schemas import Filters
from ..service import Assistant
from . import conversation as conv
from .access import Access
from .feedback import FeedbackStore
from .figure_card import chart, chart_alt, chart_series, details_html
from .library import bodies, catalogue, library_html, organisations, upload_form_html
from .render import esc, markdown, pending_html, scope_text, turn_html, user_html
from .theme import AFTER_ANSWER_JS, FOCUS_INPUT_JS

log = logging.getLogger(__name__)

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STORAGE_KEY = "radsassistenten-chattar"
BUSY_SECONDS = 60
ANSWER_CONCURRENCY = 2
MAX_EXAMPLES = 3  # the machine answers two questions at a time; more wait in Gradio's queue


def example_questions(index, documents: list[dict]) -> list[str]:
    """One example of each kind the ingested documents can answer (an agenda item, a decision, a
    meeting), from the newest documents: built from what is ingested, never fixed text."""
    kinds: dict[str, str] = {}
    for d in sorted(documents, key=lambda d: d["source"], reverse=True):
        st = (index.document(d["source"]) or {}).get("structure") or {}
        numbered = [a["number"] for a in st.get("agenda", []) if "/" in str(a.get("number", ""))]  # "195/26"
        if numbered:
            kinds.setdefault("agenda", f"Vad handlar ärende {numbered[-1]} om?")
        for par in st.get("paragraphs", [])[:1]:
            if par.get("reservationer"):
                kinds.setdefault("decision", f"Vilka reserverade sig mot beslutet i {par['paragraph']}?")
            elif par.get("beslut"):
                kinds.setdefault("decision", f"Vad beslutades i {par['paragraph']}?")
        meeting = st.get("meeting") or {}
        if meeting.get("body") and meeting.get("date"):
            kinds.setdefault("meeting", f"Var sammanträder {meeting['body']} {meeting['date']}?")
    return [kinds[k] for k in ("agenda", "decision", "meeting") if k in kinds]


def build_ui(assistant: Assistant, feedback: FeedbackStore, access: Access | None = None,
             secret: str | None = None) -> gr.Blocks:
    """The page holds no document names: the library, the filters and the examples are filled
    per visitor on load, with what that visitor may read."""
    index = assistant.index
    access = access or Access()

    def titles(request: gr.Request | None) -> dict[str, str]:
        return {d["source"]: d["title"] or d["source"] for d in access.documents(index, request)}

    # -- views ------------------------------------------------------------------------
    def messages(store: conv.Store, pending: str | None = None) -> list[dict]:
        out = []
        for t in conv.turns(store):
            out += [{"role": "user", "content": user_html(t["question"])},
                    {"role": "assistant", "content": turn_html(t)}]
        if pending is not None:
            out += [{"role": "user", "content": user_html(pending)}, {"role": "assistant", "content": pending_html()}]
        return out

    def panel(store: conv.Store, selected: int, request: gr.Request | None = None) -> list:
        """Underlag for one turn: figure cards, chart and its words, the Markdown export."""
        ts = conv.turns(store)
        turn = ts[selected] if ts and -len(ts) <= selected < len(ts) else None
        resp = conv.response_of(turn) if turn else None
        series = chart_series(resp)
        md = markdown(turn, _base_url(request)) if turn else ""
        link = (f'<a download="svar.md" href="data:text/markdown;charset=utf-8,{quote(md)}">'
                "Ladda ner svaret som Markdown-fil (.md)</a>" if md else "")
        literal = bool(ts) and selected in (-1, len(ts) - 1) and _was_resolved(ts[-1])
        return [details_html(resp),
                gr.update(value=chart(series) if series else None, visible=bool(series)),
                gr.update(value=f'<p class="ra-chart-alt">{esc(chart_alt(series))}</p>' if series else "",
                          visible=bool(series)),
                md, link,
                gr.update(visible=literal, value=f"Ställ frågan som den skrevs: ”{ts[-1]['question'][:80]}”"
                          if literal else "Ställ frågan som den skrevs"),
                gr.update(choices=conv.chat_choices(store), value=None)]

    def view(store: conv.Store, request: gr.Request | None = None) -> list:
        return [store, store, messages(store), -1, *panel(store, -1, request),
                gr.update(visible=not conv.turns(store))]

    # -- answering ----------------------------------------------------------------------
    def start(question: str, store: conv.Store, busy: dict | None):
        """Show the question and "Söker…" at once; a second question waits until the answer is in
        (the box stays usable: what is typed is kept)."""
        question = (question or "").strip()
        if not question or _under_way(busy):
            return gr.skip(), gr.skip(), gr.skip()
        return messages(store, pending=question), "", {"question": question, "since": time.monotonic()}

    def answer(busy: dict | None, store: conv.Store, filters: dict | None, literal: bool = False,
               request: gr.Request | None = None) -> list:
        """The answer step. Whatever happens, it clears `busy`, so the chat can never lock."""
        try:
            return _answer((busy or {}).get("question"), conv.normalise(store), filters, literal, request)
        except Exception:  # noqa: BLE001 - rendering failed: keep the chat usable, show what is stored
            log.exception("showing the answer failed")
            return [None] + [gr.skip()] * len(view_out)

    def _answer(question: str | None, store: conv.Store, filters: dict | None, literal: bool,
                request: gr.Request | None) -> list:
        if not question:
            return [None, *view(store, request)]
        scope = scope_text(filters, titles(request))
        try:
            if len(question) > conv.QUESTION_CHARS:
                raise _UserError(f"Frågan är för lång ({len(question)} tecken). Korta den till högst "
                                 f"{conv.QUESTION_CHARS} tecken.")
            extra = access.ask_kwargs(request)
            f = Filters(**filters) if filters else None
            started = time.monotonic()
            with index.snapshot():  # one consistent index state for the whole answer
                if literal:
                    resp = assistant.ask(question, f, **extra)
                else:
                    resp = assistant.chat(conv.history(store, question), f, **extra)
            access.record(request, question, resp, (time.monotonic() - started) * 1000)
            if resp.abstained and filters:
                resp = resp.model_copy(update={"answer": resp.answer + "\n\nAvgränsningen kan vara för snäv: "
                                               "ändra eller rensa den under Bibliotek."})
            turn = conv.make_turn(question, resp, filters=filters, literal=literal, scope=scope)
        except _UserError as exc:
            turn = conv.make_turn(question, error=str(exc), filters=filters, scope=scope)
        except Exception:  # noqa: BLE001 - the chat must stay usable whatever went wrong
            log.exception("answering failed")
            turn = conv.make_turn(question, error="Ett fel uppstod när svaret togs fram. Frågan finns kvar "
                                  "i samtalet; försök igen om en stund.", filters=filters, scope=scope)
        store = conv.add_turn(store, turn, replace_last=literal)
        return [None, *view(store, request)]

    def ask_literally(store: conv.Store, busy: dict | None):
        ts = conv.turns(store)
        if not ts or _under_way(busy):
            return gr.skip(), gr.skip()
        return (messages({**store, "chats": [{**conv.current_chat(store), "turns": ts[:-1]}]},
                         pending=ts[-1]["question"]), {"question": ts[-1]["question"], "since": time.monotonic()})

    # -- the rest -----------------------------------------------------------------------
    def select(store: conv.Store, evt: gr.SelectData, request: gr.Request):
        idx = evt.index if isinstance(evt.index, int) else evt.index[0]
        turn = idx // 2
        return [turn, *panel(store, turn, request)]

    def vote(store: conv.Store, evt: gr.LikeData):
        idx = evt.index if isinstance(evt.index, int) else evt.index[0]
        ts = conv.turns(store)
        if not 0 <= idx // 2 < len(ts):
            return
        turn = ts[idx // 2]
        resp = conv.response_of(turn)
        if evt.liked not in (True, False, "Like", "Dislike"):
            return  # a vote taken back
        up = evt.liked in (True, "Like")
        feedback.add("up" if up else "down", turn["question"], resp.question if resp else None,
                     resp.answer if resp else (turn.get("error") or ""),
                     sorted({c.source for c in resp.citations}) if resp else [], turn.get("filters"),
                     bool(resp and resp.abstained))
        gr.Info("Tack! Omdömet är sparat." if up else
                "Tack! Omdömet är sparat och hjälper oss att förbättra svaren.")

    def apply_filters(sources, organisation, body, date_from, date_to, doc_type, request: gr.Request):
        bad = [d for d in (date_from, date_to) if d and not DATE.match(d.strip())]
        if bad:
            return gr.skip(), (f'<p class="ra-error" role="alert">Datum skrivs ÅÅÅÅ-MM-DD (t.ex. 2026-05-19), '
                               f"inte ”{esc(bad[0])}”.</p>"), gr.skip(), gr.skip()
        filters = {k: v for k, v in {"source": list(sources or []) or None,
                                     "organisation": (organisation or "").strip() or None,
                                     "body": (body or "").strip() or None,
                                     "date_from": (date_from or "").strip() or None,
                                     "date_to": (date_to or "").strip() or None, "doc_type": doc_type or None}.items()
                   if v}
        filters = filters or None
        names = titles(request)
        note = _scope_note(filters, names)
        said = scope_text(filters, names) or "Ingen avgränsning: alla dokument."
        return filters, f'<p role="status">{esc(said)}</p>', note, gr.Tabs(selected="chatt") if filters else gr.skip()

    def clear_filters():
        return (None, '<p role="status">Ingen avgränsning: alla dokument.</p>', _scope_note(None, {}), [], None, None,
                "", "", None)

    def refresh_library(request: gr.Request | None = None) -> list:
        """The library and the choices built from it, for this visitor."""
        documents = access.documents(index, request)
        entries = catalogue(index, documents)
        examples = example_questions(index, documents)
        return [library_html(entries), gr.update(choices=[(e.title, e.source) for e in entries]),
                gr.update(choices=organisations(entries)), gr.update(choices=bodies(entries)),
                gr.update(choices=sorted({e.doc_type for e in entries})),
                upload_form_html(access.upload_levels(request) if request is not None else frozenset()),
                *[gr.update(value=examples[i], visible=True) if i < len(examples) else gr.update(visible=False)
                  for i in range(MAX_EXAMPLES)]]
    with gr.Blocks(title="Rådsassistenten") as ui:
        browser = gr.BrowserState(conv.empty_store(), storage_key=STORAGE_KEY, secret=secret)
        store = gr.State(conv.empty_store())
        selected = gr.State(-1)
        busy = gr.State(None)       # {"question", "since"} while an answer is under way
        filters = gr.State(None)
        with gr.Row(elem_id="ra-header"):
            gr.HTML("<h1>Rådsassistenten</h1><p>Fråga om protokoll, ärenden och budgetar. Svaren hänvisar "
                    "till källan; beräknade belopp visar formel och rader.</p>")
            new = gr.Button("Ny chatt", variant="secondary", size="md", scale=0, min_width=110, elem_id="ra-new")
        with gr.Tabs(selected="chatt") as tabs:
            with gr.Tab("Chatt", id="chatt"):
                scope_note = gr.HTML(_scope_note(None, {}), elem_id="ra-scope-note")
                with gr.Row():
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(
                            label="Samtal", show_label=False, elem_id="ra-chat", height="62vh", autoscroll=False,
                            buttons=[], layout="panel",
                            feedback_options=("Like", "Dislike"), group_consecutive_messages=False,
                            placeholder="<p><strong>Ställ en fråga om handlingarna.</strong> Svaret kommer först, "
                                        "med numrerade källor [1] som du kan öppna.</p>")
                        # our own example buttons: Gradio's sit in a role=list without list items, named in English
                        with gr.Row(elem_id="ra-examples") as examples_row:
                            example_buttons = [gr.Button("", size="sm", variant="secondary", visible=False)
                                               for _ in range(MAX_EXAMPLES)]
                        literal = gr.Button("Ställ frågan som den skrevs", visible=False, size="sm",
                                            variant="secondary", elem_id="ra-literal")
                        with gr.Row(equal_height=False, elem_id="ra-ask-row"):
                            box = gr.Textbox(label="Din fråga", elem_id="ra-input", lines=1, max_lines=6, scale=5,
                                             placeholder="T.ex. om ett ärende, ett beslut eller en budget",
                                             autofocus=True, submit_btn=False)
                            send = gr.Button("Skicka", variant="primary", elem_id="ra-send", scale=1, min_width=96)
                    with gr.Column(scale=2, min_width=300, elem_id="ra-details"):
                        gr.HTML('<h2 class="ra-h2">Underlag</h2>')
                        details = gr.HTML(details_html(None), elem_id="ra-figures")
                        plot = gr.Plot(label="Diagram över raderna", visible=False, elem_id="ra-chart")
                        alt = gr.HTML("", visible=False, elem_id="ra-chart-alt")
                        with gr.Accordion("Kopiera eller ladda ner svaret", open=False):
                            export = gr.Textbox(label="Svaret med källor som Markdown", lines=6, max_lines=14,
                                                interactive=False, buttons=["copy"], elem_id="ra-export")
                            download = gr.HTML("")
                        with gr.Accordion("Tidigare chattar", open=False):
                            history = gr.Dropdown(label="Öppna en tidigare chatt", choices=[], value=None,
                                                  elem_id="ra-history")
                            forget = gr.Button("Radera sparade chattar i den här webbläsaren", size="sm",
                                               variant="secondary")
            with gr.Tab("Bibliotek", id="bibliotek"):
                gr.HTML('<h2 class="ra-h2">Avgränsa frågorna</h2><p class="ra-upload-note">Välj dokument, '
                        "organisation, organ, datum eller filtyp. Svaren nämner avgränsningen.</p>")
                with gr.Row():
                    f_source = gr.Dropdown(label="Dokument", choices=[], multiselect=True, value=[],
                                           elem_id="ra-f-source")
                    f_org = gr.Dropdown(label="Organisation (kommun, region …)", choices=[], value=None,
                                        allow_custom_value=True, elem_id="ra-f-org")
                    f_body = gr.Dropdown(label="Organ (t.ex. KS, IFN)", choices=[], value=None,
                                         allow_custom_value=True, elem_id="ra-f-body")
                with gr.Row():
                    f_from = gr.Textbox(label="Från datum (ÅÅÅÅ-MM-DD)", elem_id="ra-f-from")
                    f_to = gr.Textbox(label="Till datum (ÅÅÅÅ-MM-DD)", elem_id="ra-f-to")
                    f_type = gr.Dropdown(label="Filtyp", choices=[], value=None, elem_id="ra-f-type")
                with gr.Row():
                    apply = gr.Button("Använd i chatten", variant="primary", elem_id="ra-apply")
                    clear = gr.Button("Rensa avgränsning", variant="secondary", elem_id="ra-clear")
                filter_msg = gr.HTML("")
                library = gr.HTML('<p class="ra-empty">Läser in listan…</p>', elem_id="ra-library")
                refresh = gr.Button("Uppdatera listan", variant="secondary", size="sm", elem_id="ra-refresh")
                upload = gr.HTML(upload_form_html(frozenset()), elem_id="ra-upload")

        view_out = [store, browser, chatbot, selected, details, plot, alt, export, download, literal, history,
                    examples_row]
        panel_out = [details, plot, alt, export, download, literal, history]

        library_out = [library, f_source, f_org, f_body, f_type, upload, *example_buttons]

        def on_load(saved, request: gr.Request):
            return [*view(conv.normalise(saved), request), *refresh_library(request)]

        ui.load(on_load, inputs=[browser], outputs=view_out + library_out, show_progress="hidden")

        def ask_chain(trigger, literal_mode: bool = False):
            if literal_mode:
                first = trigger(ask_literally, [store, busy], [chatbot, busy], queue=False, show_progress="hidden")
            else:
                first = trigger(start, [box, store, busy], [chatbot, box, busy], queue=False, show_progress="hidden")

            def run(under_way, st, flt, request: gr.Request):
                return answer(under_way, st, flt, literal_mode, request)

            first.then(run, [busy, store, filters], [busy, *view_out], show_progress="hidden",
                       concurrency_limit=ANSWER_CONCURRENCY, concurrency_id="answer"
                       ).then(None, js=AFTER_ANSWER_JS)

        ask_chain(box.submit)
        ask_chain(send.click)
        ask_chain(literal.click, literal_mode=True)

        for button in example_buttons:
            ask_chain(lambda fn, inputs, outputs, b=button, **kw: b.click(lambda q: q, b, box, queue=False)
                      .then(fn, inputs, outputs, **kw))

        def new_chat(st, request: gr.Request):
            return view(conv.new_chat(conv.normalise(st)), request)

        for trigger in (new.click, chatbot.clear):  # the chatbot's own bin starts a new chat too
            trigger(new_chat, [store], view_out, show_progress="hidden").then(None, js=FOCUS_INPUT_JS)
        history.input(lambda chat_id, st, request=None: view(conv.open_chat(conv.normalise(st), chat_id), request)
                      if chat_id else [gr.skip()] * len(view_out), [history, store], view_out, show_progress="hidden")
        forget.click(lambda request=None: view(conv.empty_store(), request), None, view_out, show_progress="hidden")
        chatbot.select(select, [store], [selected, *panel_out], show_progress="hidden")
        chatbot.like(vote, [store], None, show_progress="hidden")
        apply.click(apply_filters, [f_source, f_org, f_body, f_from, f_to, f_type], [filters, filter_msg, scope_note, tabs],
                    show_progress="hidden")
        clear.click(clear_filters, None, [filters, filter_msg, scope_note, f_source, f_org, f_body, f_from, f_to,
                                          f_type],
                    show_progress="hidden")
        refresh.click(refresh_library, None, library_out, show_progress="hidden")
    return ui


def _under_way(busy: dict | None) -> bool:
    """An answer is being computed; one that never came back (a dropped connection) stops
    counting after BUSY_SECONDS."""
    return bool(busy) and time.monotonic() - busy.get("since", 0) < BUSY_SECONDS


class _UserError(Exception):
    """A problem with the question itself, told to the user as it is."""


def _was_resolved(turn: conv.Turn) -> bool:
    from .render import resolved

    resp = conv.response_of(turn)
    return bool(resp) and not turn.get("literal") and resolved(turn, resp)


def _scope_note(filters: dict | None, titles: dict[str, str]) -> str:
    """The chat's heading (for screen readers) and the active limits, if any."""
    text = scope_text(filters, titles)
    note = (f'<p class="ra-scope-active" role="status"><strong>Avgränsning:</strong> '
            f"{esc(text.removeprefix('Svar från '))}. Ändra eller rensa under fliken Bibliotek.</p>" if text else "")
    return '<h2 class="ra-sr">Samtal</h2>' + note


def _base_url(request: gr.Request | None) -> str:
    try:
        return str(request.base_url) if request is not None else ""
    except Exception:  # noqa: BLE001 - a request without a URL (tests, scripts): relative links
        return ""
