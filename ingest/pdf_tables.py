"""Borderless tables on a PDF page, found by the positions of their numbers.

Plain text extraction flattens a table into `Kommuninterna 0 0 0 … bidrag`.  Here the numbers
of a page are grouped ("1 513,3", "- 6 279" is one negative number) and numbers that stand
apart from their neighbours and line up under each other on several lines make the value
columns.  Everything left of the value columns is the row label; a label that wraps over
several lines is joined to its row, header lines above the first row are stacked per column
(two-row headers such as "Period | Helår" over "Utfall Budget …" become "Period Utfall"), and
the result is emitted as TAB-separated rows that `ingest.tables` already parses into facts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import lexicon
from .pdf_layout import LIST_MARK, PdfLine, Word, join_lines

NUMBER = re.compile(r"^\(?[-−–]?\d+(?:[,.]\d+)?%?\)?$")
THOUSANDS = re.compile(r"^\d{3}(?:[,.]\d+)?%?\)?$")
SIGN = {"-", "−", "–"}
UNIT_AFTER = {"€", "%", "kr", "tkr", "mnkr", "mkr", "mdkr", "st"}
YEAR = re.compile(r"^(?:19|20)\d\d$")
CONTINUES = re.compile(r"(?:[,/&-]|\boch|\bsamt|\beller|\bav|\bi|\bfor|\bför|\btill|\bmed)$", re.I)


@dataclass(frozen=True)
class NumberGroup:
    text: str
    x0: float
    x1: float
    isolated: bool  # a wide gap on its left: it stands in a cell of its own


def number_groups(line: PdfLine) -> tuple[list[NumberGroup], list[Word]]:
    """The numbers of a line (thousands groups and a spaced minus joined) and its other words."""
    words = line.words
    h = line.height
    groups: list[NumberGroup] = []
    rest: list[Word] = []
    i = 0
    while i < len(words):
        w = words[i]
        start = i
        sign = ""
        if w.text in SIGN and i + 1 < len(words) and NUMBER.match(words[i + 1].text) \
                and words[i + 1].x0 - w.x1 < 0.6 * h:
            sign = w.text + " "
            i += 1
            w = words[i]
        if not NUMBER.match(w.text):
            rest.append(words[start])
            i = start + 1
            continue
        parts = [w.text]
        x1 = w.x1
        j = i + 1
        while j < len(words) and THOUSANDS.match(words[j].text) and words[j].x0 - x1 < 0.45 * h \
                and re.fullmatch(r"[-−–]?\d{1,3}", parts[-1] if len(parts) == 1 else "000"):
            parts.append(words[j].text)
            x1 = words[j].x1
            j += 1
        if j < len(words) and words[j].text.lower() in UNIT_AFTER and words[j].x0 - x1 < 0.6 * h:
            parts.append(words[j].text)  # "7 282,73 €": the unit belongs to the cell
            x1 = words[j].x1
            j += 1
        left_gap = words[start].x0 - words[start - 1].x1 if start > 0 else 1e9
        groups.append(NumberGroup(sign + " ".join(parts), words[start].x0, x1, left_gap > 0.9 * h))
        i = j
    return groups, rest


def _is_year_line(groups: list[NumberGroup]) -> bool:
    return bool(groups) and all(YEAR.match(g.text) for g in groups)


def _candidate(line: PdfLine) -> bool:
    groups, _ = number_groups(line)
    isolated = [g for g in groups if g.isolated]
    return len(isolated) >= 2 or (len(isolated) == 1 and len(line.cells()) >= 2)


@dataclass(frozen=True)
class Column:
    x0: float
    x1: float

    def overlaps(self, x0: float, x1: float, tol: float = 1.0) -> bool:
        return x0 < self.x1 + tol and x1 > self.x0 - tol


@dataclass(frozen=True)
class PageTable:
    """One table on one page, ready to be emitted as TAB rows."""
    first_line: int  # index of its first line (header or row) in the page's lines
    last_line: int
    header: tuple[str, ...]  # label header, then one name per value column ("" when unknown)
    rows: tuple[tuple[str, ...], ...]  # label, then one cell per value column
    columns: tuple[Column, ...]
    top: float
    bottom: float

    def tsv(self, with_header: bool = True) -> str:
        out = []
        if with_header and any(self.header[1:]):
            out.append("\t".join(self.header))
        out.extend("\t".join(r) for r in self.rows)
        return "\n".join(out)


def _cluster(spans: list[tuple[float, float]]) -> list[tuple[float, float, int]]:
    """Overlapping x-ranges merged into columns, with how many numbers each holds."""
    out: list[list[float]] = []
    for x0, x1 in sorted(spans):
        if out and x0 <= out[-1][1] + 1.0:
            out[-1][1] = max(out[-1][1], x1)
            out[-1][2] += 1
        else:
            out.append([x0, x1, 1])
    return [(a, b, int(n)) for a, b, n in out]


def find_tables(lines: list[PdfLine]) -> list[PageTable]:
    """Tables among a page's lines (furniture already removed)."""
    tables: list[PageTable] = []
    cand = [_candidate(ln) for ln in lines]
    i = 0
    while i < len(lines):
        if not cand[i]:
            i += 1
            continue
        # a run of candidate rows; up to three label lines between rows
        j, last, rows = i, i, 0
        while j < len(lines):
            if cand[j]:
                if j > last and lines[j].top - lines[j - 1].bottom > 3 * lines[last].height:
                    break
                last, rows = j, rows + 1
            elif j - last > 3 or _prose(lines[j]):
                break
            j += 1
        if rows >= 2:
            table = _build(lines, i, last, min(j, last + 4))
            if table is not None:
                tables.append(table)
                i = table.last_line + 1
                continue
        i = last + 1
    return tables


def _prose(line: PdfLine) -> bool:
    return len(line.text) > 70 and len(line.cells()) == 1


def _build(lines: list[PdfLine], first: int, last: int, scan_end: int) -> PageTable | None:
    body = lines[first:last + 1]
    spans = [(g.x0, g.x1) for ln in body if _candidate(ln) and not _is_year_line(number_groups(ln)[0])
             for g in number_groups(ln)[0] if g.isolated]
    clusters = [c for c in _cluster(spans) if c[2] >= 2]
    if not clusters:
        return None
    # the label starts where most rows start their words; number columns left of it are keys
    starts = sorted(rest[0].x0 for ln in body for rest in [number_groups(ln)[1]] if rest)
    label_x = starts[len(starts) // 2] if starts else clusters[0][0]
    columns = [Column(a, b) for a, b, _ in clusters if b > label_x]
    columns = [c for k, c in enumerate(columns) if not _key_column(body, c, columns[k + 1] if k + 1 < len(columns) else None)]
    if len(columns) < 2:
        return None  # one number per line: page references, a table of contents, a § number
    h = body[0].height
    n_year = 0  # "2027 2028 2029" lines on top are header lines
    while n_year < len(body) and _is_year_line(number_groups(body[n_year])[0]):
        n_year += 1
    year_rows = body[:n_year]
    lead: list[PdfLine] = []  # label-only lines between the header and the first row ("Gemensamma tjänster")
    k = first - 1
    while not year_rows and k >= 0 and len(lead) < 2 and lines[k].x1 < columns[0].x0 and not _prose(lines[k]) \
            and lines[k + 1].top - lines[k].bottom < 2.2 * h and lines[k].height <= h * 1.15:
        lead.insert(0, lines[k])
        k -= 1
    header_lines, first_line = _header_lines(lines, first - len(lead), columns, year_rows)
    above = max((ln.bottom for ln in header_lines), default=None)
    rows: list[dict] = []
    pending: list[PdfLine] = list(lead)
    for ln in body[n_year:]:
        groups, rest = number_groups(ln)
        in_cols = [g for g in groups if any(c.overlaps(g.x0, g.x1) for c in columns)]
        if not in_cols:
            pending.append(ln)
            continue
        cells = [""] * len(columns)
        label_words: list[Word] = []
        for g in groups:
            k = next((k for k, c in enumerate(columns) if c.overlaps(g.x0, g.x1)), None)
            if k is None:
                label_words.append(Word(g.text, g.x0, g.x1, ln.top, ln.bottom))
            else:
                cells[k] = (cells[k] + " " + g.text).strip()
        for w in rest:
            k = _column_of(w, columns)
            if w.text in ("-", "–", "—") and k is not None and not columns[k].overlaps(w.x0, w.x1):
                continue  # a dash for an empty cell in a column without numbers
            if k is None:
                label_words.append(w)
            else:
                cells[k] = (cells[k] + " " + w.text).strip()  # a text value ("årligen, löpande")
        label_words.sort(key=lambda w: w.x0)
        row = {"label": " ".join(w.text for w in label_words), "cells": cells, "top": ln.top,
               "bottom": ln.bottom, "x0": label_words[0].x0 if label_words else None, "lines": [ln]}
        _attach_pending(rows, row, pending, h, rows[-1]["bottom"] if rows else above, columns)
        pending = []
        rows.append(row)
    if len(rows) < 2:
        return None
    end = last
    for k in range(last + 1, scan_end):  # label lines after the last row: its continuation
        ln = lines[k]
        if ln.x1 < columns[0].x0 and ln.top - lines[end].bottom < 0.9 * h and (
                continues_label(rows[-1]["label"], ln.text) or ln.top - rows[-1]["bottom"] < 0.6 * h):
            rows[-1]["label"] = _join_cell(rows[-1]["label"], ln.text)
            end = k
        else:
            break
    header = _header(header_lines, columns, label_x)
    first_line = min(first_line, first - len(lead))
    out_rows = tuple((r["label"], *r["cells"]) for r in rows)
    top = min([ln.top for ln in header_lines] + [rows[0]["top"]])
    return PageTable(first_line, max(end, first), header, out_rows, tuple(columns), top, rows[-1]["bottom"])


def _column_of(w: Word, columns: list[Column]) -> int | None:
    """The value column a word stands in: the one it overlaps, else the nearest one when the
    word lies right of the label; None for a label word."""
    if w.x1 < columns[0].x0 - 1:
        return None
    k = next((k for k, c in enumerate(columns) if c.overlaps(w.x0, w.x1)), None)
    if k is not None:
        return k
    return min(range(len(columns)), key=lambda k: max(columns[k].x0 - w.x1, w.x0 - columns[k].x1))


def _key_column(body: list[PdfLine], col: Column, nxt: Column | None) -> bool:
    """A number column with the label's words to its right ("6289 Utrustning uppstart") holds
    keys such as project numbers, not values: it belongs to the label."""
    with_value = with_text_after = 0
    for ln in body:
        groups, rest = number_groups(ln)
        if not any(col.overlaps(g.x0, g.x1) for g in groups):
            continue
        with_value += 1
        limit = nxt.x0 if nxt else 1e9
        if any(w.x0 > col.x1 and w.x1 < limit and len(w.text) >= 3 and w.text[:1].isalpha() for w in rest):
            with_text_after += 1
    return with_value > 0 and with_text_after * 2 >= with_value


def split_label(ln: PdfLine, columns: list[Column]) -> tuple[str, dict[int, str]]:
    """A label-only line's label text, and any words it has under value columns (a wrapped
    text value such as "årligen," / "löpande")."""
    label, cells = [], {}
    for w in ln.words:
        k = _column_of(w, columns)
        if k is None:
            label.append(w.text)
        else:
            cells[k] = (cells.get(k, "") + " " + w.text).strip()
    return " ".join(label), cells


def continues_label(prev: str, text: str) -> bool:
    """A label line that can only be the rest of the label above it: it starts in lower case or
    with a parenthesis, or the label above ends in a comma, a conjunction or an open parenthesis."""
    return bool(text[:1].islower() or text[:1] in "(&/" or CONTINUES.search(prev)
                or prev.count("(") > prev.count(")"))


def _join_cell(left: str, right: str) -> str:
    if not left:
        return right
    if lexicon.joins_to_word(left, right):
        return left + right  # "tillgängliggöran" + "de Hafreborg"
    return join_lines(left, right)


def _attach_pending(rows: list[dict], row: dict, pending: list[PdfLine], h: float, above: float | None,
                    columns: list[Column]) -> None:
    """Label-only lines before a row: the continuation of the row above, a group heading, or
    the start of this row's label (a label printed above, or on both sides of, its values).
    `above` is the bottom of the row (or header) above."""
    prev = rows[-1] if rows else None
    before: list[str] = []
    for ln, text, extra in _label_blocks(pending, columns, h):
        if not text:
            target = row if abs(ln.top - row["top"]) < h * 0.9 or prev is None else prev
            for k, v in extra.items():  # a wrapped text value
                target["cells"][k] = (target["cells"][k] + " " + v).strip()
            continue
        same_band = abs(ln.top - row["top"]) < h * 0.9  # a label centred on its values
        d_prev = ln.top - above if above is not None else 1e9
        d_next = row["top"] - ln.bottom
        continues = prev is not None and not before and continues_label(prev["label"], text)
        if same_band or (not continues and d_next < d_prev * 0.8):
            before.append(text)
        elif continues or (prev is not None and d_prev < d_next * 0.8):
            prev["label"] = _join_cell(prev["label"], text)
            for k, v in extra.items():
                prev["cells"][k] = _join_cell(prev["cells"][k], v)
        else:
            row["group"] = text  # equally far from both: a group heading
            before = []
    if before:
        label = before[0]
        for t in before[1:]:
            label = _join_cell(label, t)
        row["label"] = _join_cell(label, row["label"]) if row["label"] else label
    group = row.get("group") or (prev.get("group") if prev else None)
    if group and (LIST_MARK.match(row["label"] + " ") or row.get("group")):
        row["group"] = group
        if LIST_MARK.match(row["label"] + " "):
            row["label"] = f"{group} {row['label']}"
    elif "group" in row:
        del row["group"]


@dataclass(frozen=True)
class _Span:
    top: float
    bottom: float


def _label_blocks(pending: list[PdfLine], columns: list[Column], h: float):
    """Label-only lines that sit as close as the lines of one wrapped cell form one label
    ("Gemensamma" / "tjänster"); yields (span, text, words under value columns)."""
    out: list[list] = []
    for ln in pending:
        text, extra = split_label(ln, columns)
        if out and text and out[-1][1] and ln.top - out[-1][0].bottom < 0.5 * h:
            span, prev_text, prev_extra = out[-1]
            out[-1] = [_Span(span.top, ln.bottom), _join_cell(prev_text, text), {**prev_extra, **extra}]
        else:
            out.append([_Span(ln.top, ln.bottom), text, extra])
    return [tuple(b) for b in out]


def _header_lines(lines: list[PdfLine], first: int, columns: list[Column],
                  year_rows: list[PdfLine]) -> tuple[list[PdfLine], int]:
    """The header lines directly above the first row (at most eight, none of them prose)."""
    out = list(year_rows)
    k = first - 1
    anchor = lines[first]
    row_height = anchor.height
    left = min(c.x0 for c in columns)
    while k >= 0 and len(out) < 8:  # staggered (vertically centred) header cells take many lines
        ln = lines[k]
        if anchor.top - ln.bottom > 2.2 * ln.height or _prose(ln) or ln.text.rstrip().endswith("."):
            break
        if ln.x1 < left and len(out) == len(year_rows):
            break  # a caption left of the columns, not a header cell
        if ln.height > row_height * 1.15:
            break  # a caption or heading in a larger font
        out.insert(0, ln)
        anchor = ln
        k -= 1
    return sorted(out, key=lambda ln: ln.top), k + 1


def _header(header_lines: list[PdfLine], columns: list[Column], label_x: float) -> tuple[str, ...]:
    names: list[list[str]] = [[] for _ in columns]
    label_parts: list[str] = []
    span_names: list[str] = [""] * len(columns)
    for idx, ln in enumerate(header_lines):
        cells = ln.cells()
        value_cells = [c for c in cells if c[-1].x1 >= columns[0].x0 - 1]
        # a spanning line stands clear above the other header lines (not a wrapped cell's first line)
        spanning = (idx == 0 and len(header_lines) > 1 and 0 < len(value_cells) < len(columns) / 2 + 0.5
                    and all(o.top > ln.bottom + 0.3 * ln.height for o in header_lines[1:])
                    and all(sum(col.overlaps(c[0].x0, c[-1].x1) for col in columns) <= 1 for c in value_cells))
        if spanning:  # "Period | Helår" over several columns: each names the columns from it on
            for k, col in enumerate(columns):
                owner = [c for c in value_cells if c[0].x0 <= col.x1 + 1]
                if owner:
                    span_names[k] = " ".join(w.text for w in owner[-1])
            for c in cells:
                if c not in value_cells:
                    label_parts.append(" ".join(w.text for w in c))
            continue
        per_col: list[list[str]] = [[] for _ in columns]
        words: list[Word] = []
        for c in cells:
            hits = [k for k, col in enumerate(columns) if col.overlaps(c[0].x0, c[-1].x1)]
            if c[0].x0 < columns[0].x0 - 1 and c[0].x0 < label_x + 4 * ln.height and not hits:
                label_parts.append(" ".join(w.text for w in c))  # "Investeringar (tkr)": the label's name
            elif len(hits) == 1:
                per_col[hits[0]].append(" ".join(w.text for w in c))  # "mot budget" over one column
            else:
                words.extend(c)
        for w in words:
            k = next((k for k, c in enumerate(columns) if c.overlaps(w.x0, w.x1)), None)
            if k is None:
                if w.x1 < columns[0].x0 - 1:
                    label_parts.append(w.text)
                    continue
                k = min(range(len(columns)), key=lambda k: abs((columns[k].x0 + columns[k].x1) / 2 - (w.x0 + w.x1) / 2))
            per_col[k].append(w.text)
        for k, parts in enumerate(per_col):
            if parts:
                names[k].append(" ".join(parts))
    header = []
    for k in range(len(columns)):
        name = ""
        for frag in names[k]:
            name = _join_cell(name, frag)
        header.append(" ".join(x for x in (span_names[k], name) if x))
    return (_merge_label(label_parts), *header)


def _merge_label(parts: list[str]) -> str:
    out = ""
    for p in parts:
        out = _join_cell(out, p) if out else p
    return out
