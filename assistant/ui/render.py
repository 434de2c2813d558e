"""A turn as the chat shows it (HTML) and as a user exports it (Markdown). Pure functions.

Every string from a question, an answer or a document passes `html.escape` before it meets
markup; the Gradio chatbot sanitises the result once more.
"""
from __future__ import annotations

import html
import re

from ..links import document_path
from ..provenance import base_label
from ..schemas import AskResponse, Citation
from .conversation import Turn, response_of
from .figure_card import figure_markdown, num

MARKER = re.compile(r"\[(\d+)\]")
REPEATED_MARKER = re.compile(r"(\[(\d+)\])(?:,?\s*\[\2\])+")  # "[1], [1], [1]" says [1] once
PREVIEW_CHARS = 280


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def genitive(name: str) -> str:
    """`IFN` → `IFN:s`, `Kommunstyrelsen` → `Kommunstyrelsens`, `Styrelsens` stays."""
    name = name.strip()
    if name[-1:] in "sxzSXZ":
        return name
    return f"{name}:s" if name.isupper() or name[-1:].isdigit() else f"{name}s"


def scope_text(filters: dict | None, titles: dict[str, str]) -> str | None:
    """What the answer was limited to, as the answer names it: "Svar från IFN:s dokument"."""
    if not filters:
        return None
    sources = filters.get("source") or []
    sources = [sources] if isinstance(sources, str) else list(sources)
    body = (filters.get("body") or "").strip()
    organisation = (filters.get("organisation") or "").strip()
    if len(sources) == 1:
        what = f"dokumentet ”{titles.get(sources[0], sources[0])}”"
    elif sources:
        what = f"{len(sources)} valda dokument"
    elif body:
        what = f"{genitive(body)} dokument"
    else:
        what = f"{genitive(organisation)} dokument" if organisation else "dokument"
    if body and sources:
        what += f" som nämner {body}"
    if organisation and (body or sources):
        what += f" från {organisation}"
    lo, hi = filters.get("date_from"), filters.get("date_to")
    if lo and hi:
        what += f" daterade {lo}–{hi}"
    elif lo:
        what += f" daterade från {lo}"
    elif hi:
        what += f" daterade till {hi}"
    if filters.get("doc_type"):
        what += f" (filtyp {filters['doc_type']})"
    return f"Svar från {what}"


def user_html(text: str) -> str:
    return f'<div class="ra-question">{esc(text)}</div>'


def pending_html() -> str:
    return ('<div class="ra-pending" role="status"><span class="ra-spinner" aria-hidden="true"></span>'
            "Söker i dokumenten…</div>")


def error_html(message: str) -> str:
    return f'<div class="ra-error" role="alert"><strong>Det gick inte att svara.</strong> {esc(message)}</div>'


def turn_html(turn: Turn) -> str:
    """The assistant's message: who it heard (scope, resolved question), the answer, its sources."""
    if turn.get("error"):
        return error_html(turn["error"])
    resp = response_of(turn)
    if resp is None:
        return error_html("Svaret kunde inte visas. Ställ frågan igen.")
    by_id = {c.id: c for c in resp.citations}
    head = []
    if turn.get("scope"):
        head.append(f'<p class="ra-scope">{esc(turn["scope"])}:</p>')
    if resolved(turn, resp):
        head.append(f'<p class="ra-resolved">Tolkad som: <q>{esc(resp.question)}</q></p>')
    body = "".join(f"<p>{_paragraph(p, by_id)}</p>" for p in re.split(r"\n\s*\n", resp.answer.strip()) if p.strip())
    out = ['<div class="ra-answer">', *head, f'<div class="ra-text">{body}</div>']
    if resp.figures:
        out.append('<p class="ra-more">Beräkning, rader och diagram visas under '
                   '<a href="#ra-details">Underlag</a>.</p>')
    if resp.citations:
        out.append('<h3 class="ra-h">Källor</h3><ol class="ra-sources">')
        out.extend(_source_item(c) for c in resp.citations)
        out.append("</ol>")
    out.append("</div>")
    return "".join(out)


def resolved(turn: Turn, resp: AskResponse) -> bool:
    """The assistant answered another wording than the user typed (a resolved follow-up)."""
    asked = turn["question"].strip()
    return bool(resp.question) and _norm(resp.question) != _norm(asked)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _paragraph(text: str, by_id: dict[int, Citation]) -> str:
    """A paragraph of the answer: escaped, numbers kept whole, each known [n] a source link."""
    text = REPEATED_MARKER.sub(r"\1", text)
    out = []
    for line in (x.strip() for x in text.split("\n")):
        if not line:
            continue
        parts, pos = [], 0
        for m in MARKER.finditer(line):
            c = by_id.get(int(m.group(1)))
            parts.append(num(line[pos:m.start()]))
            parts.append(_cite_link(c) if c else esc(m.group(0)))
            pos = m.end()
        parts.append(num(line[pos:]))
        out.append("".join(parts))
    return "<br>".join(out)


def label_of(c: Citation) -> str:
    return c.label or base_label(c)


def _preview(c: Citation) -> str:
    if c.table_rows and c.table_header:
        pairs = [f"{h}: {v}" for h, v in zip(c.table_header[1:], c.table_rows[0][1:])]
        return f"{c.table_rows[0][0]} — " + "; ".join(pairs)
    quote = re.sub(r"\s+", " ", re.sub(r"</?\w+>|\*\*", "", c.quote)).strip()
    return quote if len(quote) <= PREVIEW_CHARS else quote[:PREVIEW_CHARS - 1].rstrip() + "…"


def _cite_link(c: Citation) -> str:
    """`[n]` as a link to the passage; hovering, focusing or (on touch screens) a first tap shows
    the source and its words, a second tap opens it."""
    return (f'<a class="ra-cite" href="{esc(document_path(c.source, c.start, c.end))}" target="_blank" '
            f'aria-label="Källa {c.id}: {esc(label_of(c))}">[{c.id}]'
            f'<span class="ra-pv" aria-hidden="true"><span class="ra-pv-label">{esc(label_of(c))}</span>'
            f'<span class="ra-pv-quote">{esc(_preview(c))}</span>'
            f'<span class="ra-pv-open">Öppna i dokumentet ↗</span></span></a>')


def _source_item(c: Citation) -> str:
    url = esc(document_path(c.source, c.start, c.end))
    return (f'<li class="ra-source" value="{c.id}"><details><summary><span class="ra-source-n">[{c.id}]</span> '
            f"{esc(label_of(c))}</summary>{quote_html(c)}"
            f'<a class="ra-open" href="{url}" target="_blank">Öppna i dokumentet (markerat stycke) ↗</a>'
            "</details></li>")


def quote_html(c: Citation) -> str:
    """A quoted table row under its header; any other passage as a quote."""
    if c.table_rows and c.table_header:
        head = "".join(f'<th scope="col">{esc(h or "Rad")}</th>' for h in c.table_header)
        rows = "".join("<tr>" + f'<th scope="row">{esc(r[0])}</th>' +
                       "".join(f'<td class="ra-num">{esc(v)}</td>' for v in r[1:]) + "</tr>" for r in c.table_rows)
        return (f'<div class="ra-table-wrap"><table class="ra-quote-table"><thead><tr>{head}</tr></thead>'
                f"<tbody>{rows}</tbody></table></div>")
    return f'<blockquote class="ra-quote">{esc(_preview(c) if len(c.quote) > 600 else c.quote.strip())}</blockquote>'


def markdown(turn: Turn, base_url: str = "") -> str:
    """An answer with its figures and sources, to paste into a memo or an e-mail."""
    resp = response_of(turn)
    lines = [f"**Fråga:** {turn['question'].strip()}"]
    if resp is None:
        return "\n".join(lines + ["", turn.get("error") or "Inget svar."])
    if resolved(turn, resp):
        lines.append(f"*Tolkad som:* {resp.question}")
    if turn.get("scope"):
        lines.append(f"*{turn['scope']}*")
    lines += ["", REPEATED_MARKER.sub(r"\1", resp.answer.strip())]
    for fig in resp.figures:
        lines += ["", *figure_markdown(fig)]
    if resp.citations:
        lines += ["", "**Källor**", ""]
        for c in resp.citations:
            quote = _preview(c).replace("\n", " ")
            url = base_url.rstrip("/") + document_path(c.source, c.start, c.end)
            lines.append(f"{c.id}. {label_of(c)} – ”{quote}” <{url}>")
    return "\n".join(lines) + "\n"


def plain(resp: AskResponse) -> str:
    """For the terminal: the answer, its figures and numbered sources with their labels."""
    lines = [REPEATED_MARKER.sub(r"\1", resp.answer.strip())]
    for fig in resp.figures:
        lines += ["", *figure_markdown(fig)]
    if resp.citations:
        lines += ["", "Källor:"]
        lines += [f"[{c.id}] {label_of(c)}: ”{_preview(c)}”" for c in resp.citations]
    return "\n".join(lines)


__all__ = ["plain", "esc", "genitive", "scope_text", "user_html", "pending_html", "error_html", "turn_html", "resolved",
           "quote_html", "markdown", "num", "label_of"]
