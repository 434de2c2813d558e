"""The document view: a document's text with the cited passage highlighted and scrolled to, its
outline (meeting, agenda, §, decisions, votes) and what the ingest found. Plain, escaped HTML
that needs no script and fetches nothing."""
from __future__ import annotations

import html
import re

from ingest.model import Discrepancy

from ..links import ANCHOR, document_path
from .library import document_date, ingest_notes
from .theme import DOCUMENT_CSS

MAX_VIEW_CHARS = 400_000   # a longer text is shown in windows around the passage
MAX_HEADINGS = 400


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def window(length: int, start: int | None, offset: int | None) -> tuple[int, int]:
    """The part of a long text to show: around the passage, or from `offset`."""
    if length <= MAX_VIEW_CHARS:
        return 0, length
    lo = offset if offset is not None else (max(0, start - MAX_VIEW_CHARS // 4) if start is not None else 0)
    lo = max(0, min(lo, length - MAX_VIEW_CHARS))
    return lo, min(length, lo + MAX_VIEW_CHARS)


MARKUP = re.compile(r"^(#{1,6} )(.*)$|&lt;/?(?:b|i|u|strong|em)&gt;|\*\*|\\\*", re.M)


def readable(escaped: str) -> str:
    """Markdown marks and stray HTML tags dimmed, heading lines bold, table cells apart: the text
    keeps every character (offsets stay true) but reads as a document."""
    def repl(m: re.Match) -> str:
        if m.group(1):
            return f'<span class="dv-mk">{m.group(1)}</span><span class="dv-h">{m.group(2)}</span>'
        return f'<span class="dv-mk">{m.group(0)}</span>'

    # a TAB separates the cells of a table row: shown as a visible gap with a rule, since a proportional
    # font's tab stops can run "27 000" and "41 668" together (the character itself stays, for copying)
    return MARKUP.sub(repl, escaped).replace("\t", '<span class="dv-tab">\t</span>')


def text_html(text: str, start: int | None, end: int | None, headings: list[int], lo: int, hi: int) -> str:
    """The text from lo to hi, escaped, with anchors at headings and the span [start, end) marked."""
    span = start is not None and end is not None and lo <= start < end
    cuts = sorted({lo, hi, *(h for h in headings if lo < h < hi), *((start, min(end, hi)) if span else ())})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if a in headings:
            out.append(f'<span class="dv-anchor" id="pos-{a}"></span>')
        piece = readable(esc(text[a:b]))
        if span and a == start:
            out.append(f'<mark id="{ANCHOR}" tabindex="-1"><span class="dv-sr">Markerat stycke börjar. </span>')
        out.append(piece)
        if span and b == min(end, hi) and a >= start:
            out.append('<span class="dv-sr"> Markerat stycke slutar.</span></mark>')
    return "".join(out)


def _people(people: list[dict]) -> str:
    return ", ".join(f"{p.get('name', '')}" + (f" ({p['party']})" if p.get("party") else "") for p in people)


def outline_html(source: str, structure: dict) -> str:
    out = []
    m = structure.get("meeting") or {}
    if m:
        facts = [(k, m.get(key)) for k, key in (("Organ", "body"), ("Datum", "date"), ("Tid", "time"),
                                                 ("Plats", "place")) if m.get(key)]
        out.append('<section><h2>Sammanträde</h2><dl class="dv-dl">' +
                   "".join(f"<dt>{k}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl></section>")
    if structure.get("agenda"):
        out.append("<section><h2>Dagordning</h2><ol class=\"dv-agenda\">")
        group = None
        for item in structure["agenda"]:
            if item.get("group") and item["group"] != group:
                group = item["group"]
                out.append(f'<li class="dv-group" aria-hidden="true">{esc(group)}</li>')
            page = f' <span class="dv-page">s. {esc(item["page"])}</span>' if item.get("page") else ""
            out.append(f'<li><span class="dv-num">{esc(item.get("number", ""))}</span> '
                       f'{esc(item.get("title", ""))}{page}</li>')
        out.append("</ol></section>")
    for par in structure.get("paragraphs", []):
        out.append(_paragraph_html(par))
    if structure.get("tjansteskrivelser"):
        out.append("<section><h2>Tjänsteskrivelser</h2><ul>")
        for t in structure["tjansteskrivelser"]:
            att = "".join(f"<li>{esc(a)}</li>" for a in t.get("att_satser", []))
            out.append(f"<li><strong>{esc(t.get('title', ''))}</strong> <span class=\"dv-meta\">"
                       f"{esc(t.get('date', ''))} {esc(t.get('diarienummer', ''))}</span>"
                       + (f"<ul>{att}</ul>" if att else "") + "</li>")
        out.append("</ul></section>")
    for ag in structure.get("agreements", []):
        parties = "".join(f"<li>{esc(p.get('name', ''))}" + (f", org.nr {esc(p['org_nr'])}" if p.get("org_nr") else "")
                          + "</li>" for p in ag.get("parties", []))
        period = f"<p>Period: {esc(ag['period'])}</p>" if ag.get("period") else ""
        link = f' <a href="#pos-{int(ag["start"])}">Gå till</a>' if isinstance(ag.get("start"), int) else ""
        out.append(f"<section><h2>Avtal</h2><p><strong>{esc(ag.get('title', ''))}</strong>{link}</p>{period}"
                   f"<ul>{parties}</ul></section>")
    for c in structure.get("corrections", []):
        href = esc(document_path(source, c.get("start"), c.get("end")))
        out.append(f'<section><h2>Rättelse</h2><p>Rättar {esc(c.get("corrects", ""))} ({esc(c.get("date", ""))}). '
                   f'<a href="{href}">Visa stycket</a></p></section>')
    headings = structure.get("outline", [])[:MAX_HEADINGS]
    if headings:
        items = "".join(f'<li><a href="#pos-{int(h.get("start", 0))}">{esc(" › ".join(h.get("path", [])))}</a></li>'
                        for h in headings)
        opened = " open" if len(headings) <= 40 and not out else ""
        out.append(f"<section><details{opened}><summary><h2 class=\"dv-inline\">Rubriker ({len(headings)})</h2>"
                   f"</summary><ol class=\"dv-headings\">{items}</ol></details></section>")
    return "".join(out)


def _paragraph_html(par: dict) -> str:
    head = " ".join(x for x in (par.get("paragraph", ""), par.get("title", "")) if x)
    meta = " · ".join(x for x in (par.get("body"), par.get("date"), par.get("diarienummer")) if x)
    out = [f"<section><h2>{esc(head)}</h2>" + (f'<p class="dv-meta">{esc(meta)}</p>' if meta else "")]
    if par.get("beslut"):
        out.append("<h3>Beslut</h3><ul>" + "".join(f"<li>{esc(b)}</li>" for b in par["beslut"]) + "</ul>")
    if par.get("yrkanden"):
        out.append("<h3>Yrkanden</h3><ul>" + "".join(
            f"<li>{esc(_people(y.get('who', [])))}: {esc(y.get('text', ''))}</li>" for y in par["yrkanden"]) + "</ul>")
    if par.get("propositionsordning"):
        out.append("<h3>Propositionsordning och omröstning</h3><ul>" +
                   "".join(f"<li>{esc(p if isinstance(p, str) else p.get('text', p))}</li>"
                           for p in par["propositionsordning"]) + "</ul>")
    if par.get("reservationer"):
        out.append(f"<h3>Reservationer</h3><p>{esc(_people(par['reservationer']))}</p>")
    if par.get("sarskilt_uttalande"):
        out.append(f"<h3>Särskilt uttalande</h3><p>{esc(par['sarskilt_uttalande'])}</p>")
    out.append("</section>")
    return "".join(out)


def report_html(doc: dict, checks: list[Discrepancy]) -> str:
    rows = [("Filtyp", doc.get("format", "")), ("Avsnitt (sökbara stycken)", doc.get("chunks", "")),
            ("Fakta (tabellceller och belopp)", doc.get("facts", "")), ("Inläst", doc.get("ingested_at", ""))]
    out = ['<section><h2>Inläsning</h2><dl class="dv-dl">' +
           "".join(f"<dt>{k}</dt><dd>{esc(v)}</dd>" for k, v in rows) + "</dl>"]
    notes = ingest_notes(doc)
    if checks:
        out.append("<h3>Tabellsummor som inte stämmer</h3><ul>" + "".join(
            f'<li>{esc(d.explanation)} <a href="{esc(document_path(d.source, d.start, d.end))}">Visa raden</a></li>'
            for d in checks) + "</ul>")
    if notes:
        out.append("<h3>Anmärkningar från inläsningen</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes)
                   + "</ul>")
    if not checks and not notes:
        out.append("<p>Inläsningen gav inga anmärkningar.</p>")
    out.append("</section>")
    return "".join(out)


def document_page(doc: dict, text: str, checks: list[Discrepancy], start: int | None = None,
                  end: int | None = None, offset: int | None = None) -> str:
    structure = doc.get("structure") or {}
    source = doc["source"]
    if start is not None and (end is None or not 0 <= start < end <= len(text)):
        start = end = None  # a span outside the text is ignored, not an error page
    lo, hi = window(len(text), start, offset)
    headings = sorted({int(h.get("start", 0)) for h in structure.get("outline", [])})
    body = text_html(text, start, end, headings, lo, hi)
    marked = start is not None
    date = document_date(source, structure)
    nav = []
    if lo > 0:
        nav.append(f'<a href="{esc(document_path(source))}?offset={max(0, lo - MAX_VIEW_CHARS)}">Föregående del</a>')
    if hi < len(text):
        nav.append(f'<a href="{esc(document_path(source))}?offset={hi}">Nästa del</a>')
    partial = (f'<p class="dv-meta">Texten är lång: tecken {lo}–{hi} av {len(text)} visas. {" · ".join(nav)}</p>'
               if nav else "")
    skip = f'<a class="dv-skip" href="#{ANCHOR}">Till markerat stycke</a>' if marked else ""
    return f"""<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(doc.get('title') or source)} – Rådsassistenten</title><style>{DOCUMENT_CSS}</style></head>
<body><header class="dv-header">{skip}<a href="/">← Till chatten</a>
<h1>{esc(doc.get('title') or source)}</h1>
<p class="dv-meta">{esc(source)}{' · ' + esc(date) if date else ''}</p></header>
<div class="dv-layout"><nav class="dv-outline" aria-label="Dokumentets struktur">
{outline_html(source, structure)}{report_html(doc, checks)}</nav>
<main class="dv-main"><h2 class="dv-sr">Dokumentets text</h2>{partial}
<div class="dv-text">{body}</div></main></div></body></html>"""
