"""The library: what documents the assistant reads, with what it found in each."""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass

from index.store import CouncilIndex

from ..links import document_path

DATE = re.compile(r"(?:19|20)\d\d-\d\d-\d\d")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


@dataclass(frozen=True)
class LibraryEntry:
    source: str
    title: str
    date: str          # "2026-05-19", "2026" or ""
    body: str          # the body whose papers these are (the meeting's, else the one the front page names)
    doc_type: str      # md, txt, pdf, docx, html
    chunks: int
    facts: int
    warnings: tuple[str, ...]  # table sums that do not add up, and what the ingest reported
    organisation: str = ""     # the issuing organisation (Umeå, Göteborg …)
    kind: str = ""             # protokoll, kallelse, avtal, rapport … (from the document itself)
    pages: int | None = None   # PDF pages; None for text formats, which have none

    @property
    def url(self) -> str:
        return document_path(self.source)


def document_date(source: str, structure: dict) -> str:
    meeting = structure.get("meeting") or {}
    if meeting.get("date"):
        return meeting["date"]
    m = DATE.search(source) or YEAR.search(source)
    return m.group(0) if m else ""


def ingest_notes(doc: dict) -> list[str]:
    """Whatever the ingest recorded about a document (pages read by OCR, skipped parts …), in
    whichever of the places a report may be kept; empty when it recorded nothing."""
    st = doc.get("structure") or {}
    report = doc.get("report") or st.get("report") or st.get("ingest_report") or {}
    notes = list(doc.get("warnings") or st.get("warnings") or [])
    if isinstance(report, dict):
        notes += [str(w) for w in report.get("warnings", [])]
    elif isinstance(report, list):
        notes += [str(w) for w in report]
    return [str(n) for n in notes]


def catalogue(index: CouncilIndex, documents: list[dict] | None = None) -> list[LibraryEntry]:
    """The library rows of `documents` (default: every ingested document)."""
    index.refresh()
    checks = Counter()
    explanations: dict[str, list[str]] = {}
    for d in index.discrepancies:
        checks[d.source] += 1
        explanations.setdefault(d.source, []).append(d.explanation)
    out = []
    for d in index.documents() if documents is None else documents:
        full = index.document(d["source"]) or {}
        st = full.get("structure") or {}
        meta = full.get("metadata") or d.get("metadata") or {}
        report = full.get("report") if isinstance(full.get("report"), dict) else {}
        pages = report.get("pages")
        out.append(LibraryEntry(
            source=d["source"], title=d["title"] or d["source"], date=document_date(d["source"], st),
            body=(st.get("meeting") or {}).get("body") or meta.get("body") or "", doc_type=d["format"] or "",
            chunks=d["chunks"] or 0, facts=d["facts"] or 0,
            warnings=tuple(explanations.get(d["source"], []) + ingest_notes(full)),
            organisation=meta.get("organisation") or "", kind=meta.get("kind") or "",
            pages=pages if isinstance(pages, int) else None))
    return sorted(out, key=lambda e: (e.date or "0000", e.title), reverse=True)


def bodies(entries: list[LibraryEntry]) -> list[str]:
    return sorted({e.body for e in entries if e.body})


def organisations(entries: list[LibraryEntry]) -> list[str]:
    return sorted({e.organisation for e in entries if e.organisation})


def library_html(entries: list[LibraryEntry]) -> str:
    """An accessible table: every title opens the document view."""
    if not entries:
        return '<p class="ra-empty">Inga dokument är inlästa ännu.</p>'
    paged = any(e.pages is not None for e in entries)  # pages only where some document has them (PDF)
    rows = []
    for e in entries:
        warn = (f'<span class="ra-warn">{len(e.warnings)}</span>' if e.warnings else "0")
        kind = html.escape(e.kind + " " if e.kind else "") + f'<span class="ra-file">{html.escape(e.doc_type)}</span>'
        # the body, with the organisation it belongs to under it ("Kommunfullmäktige / Umeå")
        who = html.escape(e.body or e.organisation or "–") + (
            f'<span class="ra-file">{html.escape(e.organisation)}</span>' if e.body and e.organisation else "")
        pages = f'<td class="ra-r">{e.pages if e.pages is not None else "–"}</td>' if paged else ""
        rows.append(
            f'<tr><th scope="row"><a href="{html.escape(e.url)}" target="_blank">{html.escape(e.title)}</a>'
            f'<span class="ra-file">{html.escape(e.source)}</span></th>'
            f'<td class="ra-nowrap">{html.escape(e.date or "–")}</td><td>{who}</td><td>{kind}</td>{pages}'
            f'<td class="ra-r">{e.chunks}</td><td class="ra-r">{e.facts}</td><td class="ra-r">{warn}</td></tr>')
    pages_head = '<th scope="col" class="ra-r">Sidor</th>' if paged else ""
    return ('<div class="ra-table-wrap"><table class="ra-library"><caption>Inlästa dokument '
            f"({len(entries)})</caption><thead><tr><th scope=\"col\">Dokument</th><th scope=\"col\">Datum</th>"
            f'<th scope="col">Organ och organisation</th><th scope="col">Typ</th>{pages_head}'
            '<th scope="col" class="ra-r">Avsnitt</th><th scope="col" class="ra-r">Fakta</th>'
            '<th scope="col" class="ra-r">Varningar</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


LEVEL_NAMES = {"public": "Alla som får läsa här (public)", "internal": "Bara interna läsare (internal)"}
FILE_TYPES = ".txt,.md,.html,.htm,.pdf,.docx"


def upload_form_html(levels) -> str:
    """For an editor: a form that sends a file to `POST /api/upload` (the same endpoint, role and
    checks as the API; the login cookie carries the key) and follows its ingest job. The script
    that shows the progress is in the page's head (theme.HEAD_SCRIPT). Only the levels the key may
    write are offered. Empty for everyone else, with a note on how documents are added."""
    if not levels:
        return ('<p class="ra-upload-note">Dokument läggs till av en redaktör: <a href="/login">logga in</a> med '
                "en API-nyckel med rollen editor, använd <code>POST /api/upload</code>, eller låt driften köra "
                "<code>council ingest --local</code>.</p>")
    options = "".join(f'<option value="{lv}">{html.escape(LEVEL_NAMES[lv])}</option>'
                      for lv in ("public", "internal") if lv in levels)
    return ('<form id="ra-upload-form" class="ra-upload" method="post" action="/api/upload" '
            'enctype="multipart/form-data"><h2 class="ra-h2">Ladda upp dokument</h2>'
            '<p class="ra-upload-note">Text, Markdown, HTML, PDF eller Word (.docx). Ett dokument med samma namn '
            "ersätts. Inläsningen tar från några sekunder till några minuter.</p>"
            # the browser names its own file button in its own language: ours is a Swedish label
            '<div class="ra-upload-fields"><span class="ra-up-label" id="ra-up-file-label">Fil</span>'
            f'<span class="ra-pick-row"><input id="ra-up-file" class="ra-file-input" name="file" type="file" '
            f'accept="{FILE_TYPES}" required aria-labelledby="ra-up-file-label ra-up-pick ra-up-name">'
            '<label for="ra-up-file" class="ra-pick" id="ra-up-pick">Välj fil …</label>'
            '<span id="ra-up-name" class="ra-file">Ingen fil vald</span></span>'
            f'<label for="ra-up-level">Vem får läsa det</label><select id="ra-up-level" name="level">{options}</select>'
            '</div><button type="submit" class="ra-upload-send">Ladda upp</button>'
            '<progress id="ra-up-progress" max="100" value="0" hidden aria-label="Uppladdning och inläsning">'
            '</progress><p id="ra-up-status" role="status" aria-live="polite"></p></form>')
