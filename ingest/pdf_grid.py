"""Text laid out in columns: forms ("Status | Pågående") and text tables ("Uppdrag | Kommentar").

Reading such a region line by line interleaves its columns ("Vilket fokusområde stödjer
Fokusområde 3 … projektet? Fokusområde 10 …").  A region is found by gutters: x positions where
a cell starts on several lines and that no word of the region crosses.  Each row (lines held
together by normal line spacing) is read column by column: a two-column form becomes
"key: value" lines (running text, so amounts in it stay facts), three or more columns become
TAB rows (the table parser's format).
"""
from __future__ import annotations

import re

from .pdf_layout import PdfLine, Word, join_lines

TOL = 4.0


def _gutters(line: PdfLine) -> list[float]:
    return [c[0].x0 for c in line.cells()[1:]]


def _match(x: float, xs: list[float]) -> bool:
    return any(abs(x - g) <= TOL for g in xs)


def _crosses(line: PdfLine, gutters: list[float]) -> bool:
    return any(w.x0 < g - TOL and w.x1 > g + TOL for w in line.words for g in gutters)


def split_regions(lines: list[PdfLine]) -> list[tuple[str, list[PdfLine]]]:
    """Consecutive lines as ("text", lines) and ("grid", lines) runs."""
    out: list[tuple[str, list[PdfLine]]] = []
    i = 0
    while i < len(lines):
        region = _grid_at(lines, i)
        if region:
            out.append(("grid", lines[i:i + region]))
            i += region
            continue
        if out and out[-1][0] == "text":
            out[-1][1].append(lines[i])
        else:
            out.append(("text", [lines[i]]))
        i += 1
    return out


def _grid_at(lines: list[PdfLine], i: int) -> int:
    """How many lines from i form a column region (0 when none starts here)."""
    first = lines[i]
    if len(first.cells()) < 2 or (first.bold and len(first.cells()) == 2):
        return 0  # one column; or a bold line over a form: its heading ("Projekt (3) - Hafreborg   Projektbeskrivning")
    gutters = _gutters(first)
    left = first.x0
    multi, shared = 1, set()
    j = i + 1
    while j < len(lines):
        ln, prev = lines[j], lines[j - 1]
        if ln.top - prev.bottom > 2.0 * prev.height or abs(ln.height - first.height) > 0.2 * first.height:
            break
        if ln.bold and not prev.bold and len(ln.cells()) <= 2:
            break  # a bold line after the rows: the next part's heading
        g = _gutters(ln)
        if g:
            if not all(_match(x, gutters) for x in g) and not any(_match(x, gutters) for x in g):
                break
            if _crosses(ln, [x for x in gutters if not _match(x, g)]):
                break
            shared.update(round(x) for x in g if _match(x, gutters))
            gutters = sorted(set(gutters) | {x for x in g if not _match(x, gutters)})
            multi += 1
        elif not (_match(ln.x0, gutters) or abs(ln.x0 - left) <= TOL) or _crosses(ln, gutters):
            break
        j += 1
    if multi < 2 or not shared:
        return 0
    if len(gutters) == 1:  # "Rubrik ....... 6": a title and a number is a list, not a form
        seconds = [" ".join(w.text for w in c) for ln in lines[i:j] for c in ln.cells()[1:2]]
        if sum(bool(re.fullmatch(r"[\d\s.,%()-]+", t)) for t in seconds) * 2 >= len(seconds):
            return 0
    return j - i


def _rows(lines: list[PdfLine]) -> list[list[PdfLine]]:
    rows: list[list[PdfLine]] = []
    bottom = None
    for ln in lines:
        if bottom is None or ln.top - bottom > 0.6 * ln.height:
            rows.append([ln])
        else:
            rows[-1].append(ln)
        bottom = ln.bottom if bottom is None else max(bottom, ln.bottom)
    return rows


def render_grid(lines: list[PdfLine]) -> list[str]:
    """The region's rows as logical lines ("key: value" or TAB-joined cells)."""
    counts: dict[float, int] = {}
    for ln in lines:
        for x in _gutters(ln):
            key = next((k for k in counts if abs(k - x) <= TOL), x)
            counts[key] = counts.get(key, 0) + 1
    starts = [min(ln.x0 for ln in lines)] + sorted(x for x, n in counts.items() if n >= 2)
    out = []
    for row in _rows(lines):
        cells = [""] * len(starts)
        for ln in row:
            parts: dict[int, list[Word]] = {}
            for w in ln.words:
                k = max(k for k, s in enumerate(starts) if s <= w.x0 + TOL or k == 0)
                parts.setdefault(k, []).append(w)
            for k, ws in parts.items():
                text = " ".join(w.text for w in ws)
                cells[k] = join_lines(cells[k], text) if cells[k] else text
        if len(starts) == 2:
            key, value = cells
            if key and value:
                out.append(key + ("" if re.search(r"[:?.]$", key) else ":") + " " + value)
            else:
                out.append(key or value)
        else:
            out.append("\t".join(cells))
    return out
