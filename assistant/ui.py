"""Gradio chat: answers with their figures and numbered citations; a citation opens its passage."""
from __future__ import annotations

import html
import time

import gradio as gr

from .schemas import MAX_CHAT_MESSAGES, MAX_QUESTION_CHARS, AskResponse, ChatMessage, Filters
from .audit import AuditLog
from .security import ANONYMOUS, AccessDenied, Principal, Security

NOBODY = Principal("refused", "anonymous", frozenset())
from .service import Assistant


def render(resp: AskResponse) -> str:
    """The answer as markdown: text, a table of figures with formulas, and the sources."""
    out = [resp.answer]
    if resp.figures:
        out.append("\n**Beräknade siffror**\n\n| Vad | Värde | Formel | Källor |\n|---|---|---|---|")
        for f in resp.figures:
            value = f"{f.value:,.2f}".replace(",", " ").replace(".", ",").rstrip("0").rstrip(",")
            out.append(f"| {f.label} | {value} {f.unit or ''} | {f.formula or '–'} | "
                       f"{', '.join(f'[{c}]' for c in f.citations)} |")
    rows = _rows_used(resp)
    if len(rows) >= 2:
        out.append("\n**Rader som används**\n\n| Rad | Värde | |\n|---|---:|---|")
        top = max(abs(v) for _, v, _ in rows) or 1
        for label, value, ref in rows:
            bar = "█" * max(1, round(abs(value) / top * 20))
            out.append(f"| {label} [{ref}] | {_fmt(value)} | `{bar}` |")
    if resp.citations:
        out.append("\n**Källor**")
        for c in resp.citations:
            page = f", s. {c.page}" if c.page else ""
            quote = html.escape(c.quote[:500])
            out.append(f"<details><summary>[{c.id}] {html.escape(c.source)} — {html.escape(c.section or c.title)}"
                       f"{page}</summary>\n\n> {quote}\n\n<small>tecken {c.start}–{c.end}</small></details>")
    return "\n".join(out)


def _fmt(value: float) -> str:
    text = f"{value:,.2f}".replace(",", " ").replace(".", ",")
    return text.rstrip("0").rstrip(",")


def _rows_used(resp: AskResponse) -> list[tuple[str, float, int]]:
    """The rows computed figures used, as (label, value, citation) for the table and bar chart."""
    return [(r.label, r.value, r.citation) for fig in resp.figures if fig.formula for r in fig.rows]


def outline(doc: dict | None) -> str:
    """A document's structure as markdown: meeting, agenda, paragraphs and decisions, memos."""
    if not doc:
        return "Välj ett dokument."
    st = doc.get("structure") or {}
    out = [f"**{doc['title']}**  \n`{doc['source']}`"]
    m = st.get("meeting") or {}
    if m:
        out.append(" · ".join(x for x in (m.get("body"), m.get("date"), m.get("time"), m.get("place")) if x))
    if st.get("agenda"):
        out.append("\n**Dagordning**")
        group = None
        for item in st["agenda"]:
            if item.get("group") and item["group"] != group:
                group = item["group"]
                out.append(f"*{group}*")
            out.append(f"- {item['number']} {item['title']}")
    for par in st.get("paragraphs", []):
        out.append(f"\n**{par['paragraph']}** {par.get('title', '')} ({par.get('date', '')})")
        out.extend(f"- {b}" for b in par.get("beslut", []))
        if par.get("reservationer"):
            out.append("Reservationer: " + ", ".join(f"{p['name']} ({p['party']})" for p in par["reservationer"]))
    if st.get("tjansteskrivelser"):
        out.append("\n**Tjänsteskrivelser**")
        out.extend(f"- {t.get('date', '')} {t.get('diarienummer', '')}: {t.get('title', '')}"
                   for t in st["tjansteskrivelser"])
    for ag in st.get("agreements", []):
        out.append(f"\n**Avtal:** {ag['title']}" + (f" ({ag['period']})" if ag.get("period") else ""))
        out.extend(f"- {p['name']}" + (f", org.nr {p['org_nr']}" if p.get("org_nr") else "") +
                   (f", kontakt {p['contact']}" if p.get("contact") else "") for p in ag["parties"])
    for c in st.get("corrections", []):
        out.append(f"\n*Rättelse av {c['corrects']} ({c['date']})*")
    if len(out) == 1:
        out.extend(f"- {' > '.join(o['path'])}" for o in st.get("outline", [])[:60])
    return "\n".join(out)


def build_ui(assistant: Assistant, security: Security | None = None, audit: AuditLog | None = None) -> gr.Blocks:
    """The chat. Every handler reads the caller from its request with the same check as the API
    (`security.py`): a handler never sees a document the caller's key may not read, and the page
    itself is built without any document names (they are loaded per visitor)."""

    def principal_of(request: gr.Request | None) -> Principal:
        if security is None:
            return ANONYMOUS
        headers = dict(getattr(request, "headers", None) or {}) if request is not None else {}
        try:
            return security.principal_from_headers({k.lower(): v for k, v in headers.items()})
        except AccessDenied:
            return NOBODY  # the gate refuses such requests; if one slips through it sees nothing

    def levels_of(request: gr.Request | None) -> frozenset[str]:
        return principal_of(request).levels

    def sources(request: gr.Request | None) -> list[str]:
        return [d["source"] for d in assistant.index.documents(levels_of(request))]

    def respond(message: str, history: list[dict], source: str | None, body: str, request: gr.Request):
        messages = [ChatMessage(role=m["role"], content=_text(m["content"])) for m in history
                    if m.get("role") in ("user", "assistant")][-MAX_CHAT_MESSAGES + 1:]
        message = (message or "").strip()[:MAX_QUESTION_CHARS]
        if not message:
            return "Skriv en fråga."
        messages.append(ChatMessage(role="user", content=message))
        body = (body or "").strip()[:100]
        filters = Filters(source=source or None, body=body or None) if (source or body) else None
        started = time.perf_counter()
        principal = principal_of(request)
        with assistant.index.snapshot():  # one consistent index state for the whole answer
            resp = assistant.chat(messages, filters, levels=principal.levels)
        if audit is not None:
            audit.record(key_id=principal.key_id, role=principal.role, action="ui", question=message,
                         answer=resp.answer, citations=[c.source for c in resp.citations], abstained=resp.abstained,
                         latency_ms=(time.perf_counter() - started) * 1000)
        return render(resp)

    def show(source: str | None, request: gr.Request) -> str:
        return outline(assistant.index.document(source, levels_of(request)) if source else None)

    def refresh(request: gr.Request):
        names = sources(request)
        return gr.update(choices=names), gr.update(choices=[""] + names)

    with gr.Blocks(title="Rådsassistenten") as ui:
        gr.Markdown("# Rådsassistenten\nFråga om sammanträdeshandlingar. Svaren hänvisar till källan; "
                    "beräknade belopp visar formel och rader.")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    source = gr.Dropdown([""], value="", label="Bara i dokument", scale=2, allow_custom_value=True)
                    body = gr.Textbox(label="Organ (t.ex. KS, IFN)", value="", scale=1)
                gr.ChatInterface(respond, additional_inputs=[source, body],
                                 textbox=gr.Textbox(placeholder="Skriv en fråga, t.ex. om ett ärende, ett beslut eller en budget",
                                                    show_label=False),
                                 examples=[
                    ["Hur mycket betalar Umeå kommun till Pingstkyrkan i Umeå 2027?", "", ""],
                    ["Vilka reserverade sig mot kommunstyrelsens beslut § 76?", "", ""],
                    ["Hur stor är Umeå kommuns sammanlagda insats till Vän i Umeå 2026–2028?", "", ""]])
            with gr.Column(scale=2):
                gr.Markdown("### Dokument")
                pick = gr.Dropdown([], value=None, label="Visa struktur", allow_custom_value=True)
                tree = gr.Markdown("Välj ett dokument.")
                pick.change(show, inputs=pick, outputs=tree)
                gr.Button("Uppdatera listan").click(refresh, outputs=[pick, source])
        ui.load(refresh, outputs=[pick, source])  # each visitor sees the documents their key may read
    ui.queue(max_size=64, default_concurrency_limit=4)  # bounded: a crowd waits or is told to, never piles up
    return ui


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(c.get("text", "") if isinstance(c, dict) else str(c) for c in content)
    return str(content)
