"""The library: what documents the assistant reads, with what it found in each."""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass

from index.store import CouncilIndex

from ..provenance import passage_url

DATE = re.compile(r"(?:19|20)\d\d-\d\d-\d\d")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


@dataclass(frozen=True)
class LibraryEntry:
    source: str
    title: str
    date: str          # "2026-05-19", "2026" or ""
    body: str          # the meeting's body when the document is a meeting's papers
    doc_type: str      # md, txt, pdf, docx, html
    chunks: int
    facts: int
    warnings: tuple[str, ...]  # table sums that do not add up, and what the ingest reported

    @property
    def url(self) -> str:
        return passage_url(self.source)


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
        out.append(LibraryEntry(
            source=d["source"], title=d["title"] or d["source"], date=document_date(d["source"], st),
            body=(st.get("meeting") or {}).get("body", ""), doc_type=d["format"] or "", chunks=d["chunks"] or 0,
            facts=d["facts"] or 0, warnings=tuple(explanations.get(d["source"], []) + ingest_notes(full))))
    return sorted(out, key=lambda e: (e.date or "0000", e.title), reverse=True)


def bodies(entries: list[LibraryEntry]) -> list[str]:
    return sorted({e.body for e in entries if e.body})


def library_html(entries: list[LibraryEntry]) -> str:
    """An accessible table: every title opens the document view."""
    if not entries:
        return '<p class="ra-empty">Inga dokument är inlästa ännu.</p>'
    rows = []
    for e in entries:
        warn = (f'<span class="ra-warn">{len(e.warnings)}</span>' if e.warnings else "0")
        rows.append(
            f'<tr><th scope="row"><a href="{html.escape(e.url)}" target="_blank">{html.escape(e.title)}</a>'
            f'<span class="ra-file">{html.escape(e.source)}</span></th>'
            f'<td class="ra-nowrap">{html.escape(e.date or "–")}</td><td>{html.escape(e.body or "–")}</td>'
            f"<td>{html.escape(e.doc_type)}</td><td class=\"ra-r\">{e.chunks}</td><td class=\"ra-r\">{e.facts}</td>"
            f'<td class="ra-r">{warn}</td></tr>')
    return ('<div class="ra-table-wrap"><table class="ra-library"><caption>Inlästa dokument '
            f"({len(entries)})</caption><thead><tr><th scope=\"col\">Dokument</th><th scope=\"col\">Datum</th>"
            '<th scope="col">Organ</th><th scope="col">Typ</th><th scope="col" class="ra-r">Avsnitt</th>'
            '<th scope="col" class="ra-r">Fakta</th><th scope="col" class="ra-r">Varningar</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")
