"""Where a cited passage sits in its document, in the words a reader checks it by.

An answer's citations carry character offsets; a reader needs the section, the § and the page,
and for a table row the table's header (a quoted row "Summa Umeå kommun 1 687 050 2 603 541
2 703 968" says nothing without its years). This module fills those optional `Citation` fields
from the index, once per answer, and gives every citation of an answer a distinct label.
"""
from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass

from index.store import CouncilIndex
from ingest.model import Fact
from ingest.numbers import format_number

from .schemas import AskResponse, Citation

PARAGRAPH = re.compile(r"§\s*\d+[a-z]?\b")  # a heading that opens a paragraph ("§ 76 …")
CELL_SPLIT = re.compile(r"\t+|\s*\|\s*|\s{2,}")
FOOTNOTE = re.compile(r"\s*\(\**\)\s*$")
MAX_TABLE_ROWS = 8  # a citation spanning more rows is a passage, not a row to tabulate


@dataclass(frozen=True)
class _Document:
    """What locating a passage needs from one document, built once per index state."""
    title: str
    heading_starts: list[int]
    heading_paths: list[list[str]]
    page_starts: list[int]
    pages: list[int]
    table_facts: list[Fact]      # sorted by start
    fact_starts: list[int]


class Provenance:
    """Fills `page`, `section`, `paragraph`, `table_header`/`table_rows` and `label` of citations."""

    def __init__(self, index: CouncilIndex) -> None:
        self.index = index
        self._generation = -1
        self._docs: dict[str, _Document] = {}

    def annotate(self, resp: AskResponse) -> AskResponse:
        if not resp.citations:
            return resp
        self._sync()
        cites = [self._locate(c) for c in resp.citations]
        labels = distinct_labels(cites, [self._party(c) for c in cites])
        cites = [c.model_copy(update={"label": label}) for c, label in zip(cites, labels)]
        return resp.model_copy(update={"citations": cites})

    def locate(self, c: Citation) -> Citation:
        """One citation with its section, §, page and table header filled where they are known."""
        self._sync()
        return self._locate(c)

    def _locate(self, c: Citation) -> Citation:
        doc = self._docs.get(c.source)
        if doc is None:
            return c
        update: dict = {}
        i = bisect.bisect_right(doc.heading_starts, c.start) - 1
        path = doc.heading_paths[i] if i >= 0 else []
        if not c.section and path:
            update["section"] = " > ".join(path)
        para = next((m.group(0) for p in reversed(path + c.section.split(" > ")) if (m := PARAGRAPH.match(p.strip()))),
                    None)
        if para:
            update["paragraph"] = re.sub(r"§\s*", "§ ", para)
        if c.page is None and doc.page_starts:
            j = bisect.bisect_right(doc.page_starts, c.start) - 1
            if j >= 0:
                update["page"] = doc.pages[j]
        header, rows = _table(doc, c.start, c.end)
        if rows:
            update["table_header"], update["table_rows"] = header, rows
        return c.model_copy(update=update) if update else c

    def _party(self, c: Citation) -> str | None:
        """The party or body a quoted table row is about (three agreements print the same rows)."""
        doc = self._docs.get(c.source)
        if doc is None:
            return None
        i = bisect.bisect_left(doc.fact_starts, c.start)
        while i < len(doc.table_facts) and doc.table_facts[i].start < c.end:
            if doc.table_facts[i].entity:
                return doc.table_facts[i].entity
            i += 1
        return None

    def _sync(self) -> None:
        # the caller (`Assistant.ask`) has just refreshed the index for this answer
        if self._generation == self.index._loaded_generation:
            return
        chunks_by_source = defaultdict(list)
        for ch in self.index.chunks.values():
            if ch.page is not None:
                chunks_by_source[ch.source].append((ch.start, ch.page))
        facts_by_source = defaultdict(list)
        for f in self.index.facts:
            if f.kind == "table":
                facts_by_source[f.source].append(f)
        docs = {}
        for d in self.index.documents():
            full = self.index.document(d["source"]) or {}
            outline = sorted((full.get("structure") or {}).get("outline", []), key=lambda o: o.get("start", 0))
            pages = sorted(chunks_by_source.get(d["source"], []))
            facts = sorted(facts_by_source.get(d["source"], []), key=lambda f: (f.start, f.end))
            docs[d["source"]] = _Document(
                title=d["title"], heading_starts=[o.get("start", 0) for o in outline],
                heading_paths=[list(o.get("path", [])) for o in outline],
                page_starts=[s for s, _ in pages], pages=[p for _, p in pages],
                table_facts=facts, fact_starts=[f.start for f in facts])
        self._docs = docs
        self._generation = self.index._loaded_generation


def _table(doc: _Document, start: int, end: int) -> tuple[list[str] | None, list[list[str]] | None]:
    """The table rows a citation quotes, with the columns their cells stand under."""
    i = bisect.bisect_left(doc.fact_starts, start)
    rows: dict[tuple[str, int], list[Fact]] = {}
    while i < len(doc.table_facts) and doc.table_facts[i].start < end:
        f = doc.table_facts[i]
        if f.end <= end:
            rows.setdefault((f.table_id or "", f.start), []).append(f)
        i += 1
    # only a quote of whole rows, from one table whose columns were read with certainty, is tabulated
    if (not rows or len(rows) > MAX_TABLE_ROWS or len({t for t, _ in rows}) > 1
            or min(s for _, s in rows) - start > 2 or any(f.uncertain for cells in rows.values() for f in cells)):
        return None, None
    columns: list[str] = []
    for cells in rows.values():
        for f in cells:
            col = _column(f)
            if col not in columns:
                columns.append(col)
    if not all(columns):
        return None, None
    unit = next((f.unit for cells in rows.values() for f in cells if f.unit), None)
    header = [f"Belopp i {unit}" if unit and unit not in ("%", "st") else ""] + columns
    out = []
    for cells in rows.values():
        printed = [p.strip() for p in CELL_SPLIT.split(cells[0].quote.strip()) if p.strip()]
        label = _clean_label(cells[0].label)
        by_col = {_column(f): format_number(f.value) for f in cells}
        # the row as printed when its cells line up with the parsed columns, else the parsed values
        if len(printed) == len(columns) + 1:
            values = printed[1:]
        else:
            values = [by_col.get(col, "") for col in columns]
        out.append([label] + values)
    return header, out


def _column(f: Fact) -> str:
    return FOOTNOTE.sub("", (f.column or "").strip())  # "2026 (*)" → "2026"


def _clean_label(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"</?\w+>|\*\*", "", text)).strip()


def short_title(title: str) -> str:
    return title if len(title) <= 60 else title[:57].rstrip() + "…"


def base_label(c: Citation) -> str:
    """Document, then the last parts of the section path, the § and the page."""
    title = c.title or c.source
    parts = [short_title(title)]
    # a section named like the document (its title heading) says nothing the title does not
    section = [p.strip() for p in (c.section or "").split(" > ")
               if p.strip() and _clean_label(p).casefold() != _clean_label(title).casefold()]
    tail = [p for p in section[-2:] if not c.paragraph or p.strip() != c.paragraph]
    if c.paragraph and not any(c.paragraph in p for p in tail):
        parts.append(c.paragraph)
    if tail:
        parts.append(" › ".join(short_title(p) for p in tail))
    if c.page is not None:
        parts.append(f"s. {c.page}")
    return ", ".join(parts)


def distinct_labels(cites: list[Citation], parties: list[str | None] | None = None) -> list[str]:
    """One label per citation; where two would read the same, each adds the party its row is
    about, then its row label or first words, and last a running number."""
    parties = parties or [None] * len(cites)
    labels = [base_label(c) for c in cites]
    for widen in (lambda c, p, label: f"{label} ({p})" if p else label,
                  lambda c, p, label: f"{label}: ”{_snippet(c)}”",
                  lambda c, p, label: label):
        counts: dict[str, int] = defaultdict(int)
        for label in labels:
            counts[label] += 1
        if all(n == 1 for n in counts.values()):
            return labels
        labels = [widen(c, p, label) if counts[label] > 1 else label for c, p, label in zip(cites, parties, labels)]
    counts = defaultdict(int)
    out = []
    for label in labels:
        counts[label] += 1
        out.append(label if counts[label] == 1 and labels.count(label) == 1 else f"{label} ({counts[label]})")
    return out


def _snippet(c: Citation) -> str:
    words = (c.table_rows[0][0] if c.table_rows else _clean_label(c.quote)).split()
    return " ".join(words[:6]) + ("…" if len(words) > 6 else "")
