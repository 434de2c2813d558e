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

from .lexicon import joins_to_word
from .pdf_layout import PdfLine, Word, join_lines

TOL = 4.0


def _gutters(line: PdfLine) -> list[float]:
    return [c[0].x0 for c in line.cells()[1:]]


def _match(x: float, xs: list[float]) -> bool:
    return any(abs(x - g) <= TOL for g in xs)


def _crosses(line: PdfLine, gutters: list[float]) -> bool:
    return any(w.x0 < g - TOL and w.x1 > g + TOL for w in line.words for g in gutters)


def split_regions(lines: list[PdfLine]) -> list[tuple[str, list[PdfLine]]]:
    """Consecutive lines as ("text", lines), ("grid", lines) and ("stacked", lines) runs."""
    out: list[tuple[str, list[PdfLine]]] = []
    numbers = [_numbers_of(ln) for ln in lines]  # each line's numeric cells, read once
    i = 0
    while i < len(lines):
        stacked = stacked_table_at(lines, i, numbers)
        if stacked:
            out.append(("stacked", lines[i:i + stacked]))
            i += stacked
            continue
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
        return 0  # one column; or a bold line over a form: its heading ("Åtgärd (2) - Ny lekplats   Beskrivning")
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


# -- a table whose column headings are stacked over its numbers --------------------------------
# "Besök hittills i år | Samma period i fjol | Bedömning för året" printed as centred words on
# several short lines over "Antal besök 412 398 420": read line by line the headings
# interleave ("Besök Samma hittills period Bedömning …"); read by the columns their numbers stand
# in, each heading is whole again.

NUMBER_CELL = re.compile(r"[−–-]?\(?\d{1,3}(?:[\u00a0\u202f ]\d{3})*(?:[.,]\d+)?\)?(?:\s?%)?")
MAX_HEADING_LINES = 12  # stacked headings of a small font: one word per 5 pt
MAX_HEADING_WORDS = 6   # per line: a line of running text has more


def _numbers_of(line: PdfLine) -> list[tuple[Word, ...]] | None:
    """The numeric cells that end a row with a text label ("Antal besök | 412 | 398"),
    or None when the line is no such row (at least two numbers)."""
    cells = line.cells()
    k = len(cells)
    while k > 0 and NUMBER_CELL.fullmatch(" ".join(w.text for w in cells[k - 1])):
        k -= 1
    if k == 0 or len(cells) - k < 2 or not re.search(r"[^\W\d_]", " ".join(w.text for w in cells[0])):
        return None
    return cells[k:]


def stacked_table_at(lines: list[PdfLine], i: int, numbers: list[list[tuple[Word, ...]] | None]) -> int:
    """How many lines from i are a table with stacked headings (at least two heading lines over
    rows of numbers), 0 when none starts here. `numbers`: each line's `_numbers_of`."""
    j = i
    while j < len(lines) and j - i <= MAX_HEADING_LINES and numbers[j] is None:
        j += 1
    if j - i < 2 or j >= len(lines) or (first := numbers[j]) is None:
        return 0
    width = len(first)
    k = j
    while k < len(lines) and (nums := numbers[k]) is not None and len(nums) == width \
            and (k == j or lines[k].top - lines[k - 1].bottom <= 2.5 * lines[k].height):
        k += 1
    zones = _zones(lines[j:k], numbers[j:k])
    heading = lines[i:j]
    for a, b in zip(heading, heading[1:] + [lines[j]]):
        if b.top - a.bottom > 3.0 * a.height:
            return 0  # not one block
    centres = [(c[0].x0 + c[-1].x1) / 2 for c in first]
    covered = set()
    for ln in heading:  # (no heading line is a row of numbers: the scan above stopped at the first)
        if len(ln.words) > MAX_HEADING_WORDS:
            return 0
        for w in ln.words:
            if _zone(zones, w) == 0:
                return 0  # over the labels: a heading of the text above, not of a column
            if sum(w.x0 <= c <= w.x1 for c in centres) >= 2:
                return 0  # a word over two columns: running text, not a heading (centred ones may
                #           reach past the halfway line between two columns)
            covered.add(_zone(zones, w))
    if not set(range(1, width + 1)) <= covered:
        return 0  # every column of numbers has a heading
    return k - i


def _zones(rows: list[PdfLine], cells: list[list[tuple[Word, ...]]]) -> list[float]:
    """Left edges of the label column and of each numeric column (halfway between neighbours);
    `cells`: each row's numeric cells."""
    width = len(cells[0])
    centres = [sum((c[p][0].x0 + c[p][-1].x1) / 2 for c in cells) / len(cells) for p in range(width)]
    label_right = max(w.x1 for r, c in zip(rows, cells) for w in r.words if w.x0 < c[0][0].x0)
    first_left = min(c[0][0].x0 for c in cells)
    edges = [float("-inf"), (label_right + first_left) / 2]
    edges += [(a + b) / 2 for a, b in zip(centres, centres[1:])]
    return edges


def _zone(zones: list[float], w: Word) -> int:
    centre = (w.x0 + w.x1) / 2
    return max(k for k, edge in enumerate(zones) if centre >= edge)


def render_stacked(lines: list[PdfLine]) -> list[str]:
    """The heading lines as one TAB row of whole headings, then each row of numbers."""
    numbers = [_numbers_of(ln) for ln in lines]
    rows = [(ln, nums) for ln, nums in zip(lines, numbers) if nums is not None]
    heading = lines[:next(k for k, nums in enumerate(numbers) if nums is not None)]
    zones = _zones([ln for ln, _ in rows], [nums for _, nums in rows])
    parts: list[list[Word]] = [[] for _ in zones]
    for ln in heading:
        for w in ln.words:
            parts[_zone(zones, w)].append(w)
    head = []
    for ws in parts:
        text = ""
        for w in sorted(ws, key=lambda w: (w.top, w.x0)):
            # a centred heading breaks words without a hyphen ("Motsvaran" / "de")
            text = (text + w.text if joins_to_word(text, w.text) else join_lines(text, w.text)) if text else w.text
        head.append(text)
    out = ["\t".join(head)]
    for r, nums in rows:
        label = " ".join(w.text for w in r.words if w.x0 < nums[0][0].x0)
        out.append("\t".join([label, *(" ".join(w.text for w in c) for c in nums)]))
    return out
