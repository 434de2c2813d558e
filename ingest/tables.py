"""Find tables in a section and parse them into rows of numbers.

Two shapes occur: rows whose cells are separated (TAB or markdown pipes), and rows from
PDF text whose columns were lost (`Steget Vidare 2 2 070 1 767 303`). For the latter the
split into label and values is chosen by the table's own arithmetic (budget − utfall =
differens, parts add up to the total); a row with no consistent split is marked uncertain.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from .model import Block, Table, TableRow
from .numbers import normalise_unit, parse_number
from .structure import PAGE_FURNITURE

NUM_TOKEN = re.compile(r"^[-−–]?\d+(?:,\d+)?%?$")
UNIT_TOKEN = re.compile(r"^(tkr|mnkr|mkr|mknr|mdkr|kr|%|st|procent)$", re.I)
YEAR = re.compile(r"\b(19[5-9]\d|20[0-9]\d)\b")
TAGS = re.compile(r"</?(?:b|i|u|strong|em|span)[^>]*>", re.I)
BULLET = re.compile(r"^\s*[\uf0b7\uf0a7•·▪◦‣]\s*")
TOTAL_LABEL = re.compile(r"^(summa|total|tot\.|totalt|resultat\b|s:a)", re.I)


@dataclass
class Line:
    text: str
    start: int
    end: int

    @property
    def clean(self) -> str:
        return BULLET.sub("", TAGS.sub("", self.text).replace("**", "")).strip()


def split_lines(text: str, start: int, end: int) -> list[Line]:
    out, pos = [], start
    for raw in text[start:end].split("\n"):
        out.append(Line(raw, pos, pos + len(raw)))
        pos += len(raw) + 1
    return out


def cells_of(line: str) -> list[str] | None:
    """Cells of a delimited row (TAB or markdown pipe table), or None for other lines."""
    s = TAGS.sub("", line).replace("**", "")
    if "\t" in s:
        cells = [c.strip() for c in s.split("\t")]
    elif s.strip().startswith("|") and s.count("|") >= 3:
        cells = [c.strip() for c in s.strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            return None  # the |---|---| separator
    else:
        return None
    while cells and not cells[-1]:
        cells.pop()
    return cells if len([c for c in cells if c]) >= 2 else None


def numeric_tail(text: str) -> tuple[str, list[str], str | None]:
    """Split `Steget Vidare 2 2 070 1 767 303` into label words and trailing number tokens."""
    words = text.split()
    unit = None
    if words and UNIT_TOKEN.match(words[-1]) and len(words) > 1 and NUM_TOKEN.match(words[-2]):
        unit = words.pop().lower()
    nums: list[str] = []
    while words and (NUM_TOKEN.match(words[-1]) or words[-1] in ("-", "−")):
        nums.insert(0, words.pop())
    # "- 267": a minus sign separated from its number
    return " ".join(words), nums, unit


def is_number_row(line: str) -> bool:
    if "\t" in line or len(line) > 140:
        return False
    label, nums, unit = numeric_tail(TAGS.sub("", line))
    if not nums or label.endswith((".", ":", ";")) or len(label.split()) > 10:
        return False
    if len(nums) == 1 and not unit and YEAR.fullmatch(nums[0]) and label:
        return False  # "… fram till 2035": a year ends a prose line
    return bool(label) or len(nums) >= 2


def _groupings(tokens: list[str], columns: int) -> list[list[float]]:
    """Every way to read the tokens as `columns` Swedish numbers (`2 070` may be one or two)."""
    results = []
    n = len(tokens)
    if columns <= 0 or n < columns:
        return results
    for cuts in itertools.combinations(range(1, n), columns - 1):
        bounds = (0, *cuts, n)
        values = []
        for a, b in zip(bounds, bounds[1:]):
            group = tokens[a:b]
            if any(t in ("-", "−") for t in group[1:]):
                break
            if group[0] in ("-", "−"):
                if len(group) == 1:
                    values.append(0.0)
                    continue
                group = ["-" + group[1]] + group[2:]
            if len(group) > 1 and not all(re.fullmatch(r"\d{3}(,\d+)?", t) for t in group[1:]):
                break
            if len(group) > 1 and not re.fullmatch(r"[-−–]?\d{1,3}", group[0]):
                break
            if any("," in t for t in group[:-1]):
                break
            v = parse_number(" ".join(group).rstrip("%"))
            if v is None:
                break
            values.append(v)
        else:
            results.append(values)
    return results


def _consistent(values: list[float]) -> bool:
    """The arithmetic a budget row usually obeys: a difference column or a total column
    (budget − utfall = differens; kvinnor + män = totalt; parts = ny budget)."""
    eps = 0.051 if any(abs(v - round(v)) > 1e-9 for v in values) else 0.5
    if len(values) in (3, 4) and abs(abs(values[0] - values[1]) - abs(values[2])) <= eps:
        return True
    if len(values) >= 3 and abs(sum(values[:-1]) - values[-1]) <= eps * len(values):
        return True
    return len(values) >= 3 and abs(values[0] + values[1] - values[2]) <= eps


def split_row(tokens: list[str], columns: int) -> tuple[int, list[float], bool]:
    """Choose how many leading tokens belong to the label and how to group the rest.

    Returns (label tokens taken from the numbers, values, uncertain).
    """
    candidates = readings(tokens, columns, (columns, columns - 1), first=True)
    if not candidates:
        return 0, [], True
    good = [c for c in candidates if _consistent(c[1])]
    if len(good) >= 1:
        take, values = min(good, key=lambda c: c[0])
        return take, values, len({tuple(g[1]) for g in good}) > 1
    take, values = candidates[0]
    return take, values, len(candidates) > 1


def readings(tokens: list[str], columns: int, counts: tuple[int, ...],
             first: bool = False) -> list[tuple[int, list[float]]]:
    """The ways to read a row's tokens as `counts` columns (label tokens taken from the numbers,
    values); with `first`, only those of the first count that has any (a total row may lack the
    last, percent, column)."""
    candidates = []
    for cols in counts:
        for take in range(0, min(2, len(tokens) - cols) + 1):
            for values in _groupings(tokens[take:], cols):
                candidates.append((take, values))
        if candidates and first:
            break
    return candidates


def _magnitudes(rows: list[list[float]], columns: int) -> list[float | None]:
    """Each column's typical size: the median log10 of its values, each weighed by its digits (a
    number misread in pieces leaves short pieces, so the digits are where the true sizes are)."""
    out: list[float | None] = []
    for i in range(columns):
        logs = sorted((math.log10(abs(r[i])), len(str(int(abs(r[i]))))) for r in rows if i < len(r) and r[i])
        half, seen, size = sum(w for _, w in logs) / 2, 0, None
        for size, w in logs:
            seen += w
            if seen >= half:
                break
        out.append(size)
    return out


MISFIT = 1.0  # a reading this much nearer (in powers of ten) to its columns' sizes replaces the first


def _misfit(values: list[float], sizes: list[float | None]) -> float:
    gaps = [abs(math.log10(abs(v)) - sizes[i]) for i, v in enumerate(values) if v and i < len(sizes)
            and sizes[i] is not None]
    return sum(gaps) / len(gaps) if gaps else math.inf


def _resized(chosen: tuple[int, list[float]], others: list[tuple[int, list[float]]],
             sizes: list[float | None]) -> tuple[int, list[float]] | None:
    """Another reading of a row whose digits group two ways, when its values are clearly the size
    of their columns' values and the first reading's are not: under columns of millions,
    "245 310" is 245 310, not 245 and 310, and "183 040 171 000" is 183 040 and 171 000, not 183
    and 40 171 000. None when the first reading fits as well."""
    base = _misfit(chosen[1], sizes)
    same_label = [r for r in others if r[0] == chosen[0]]  # the label stays as first read
    best = min(same_label, key=lambda r: _misfit(r[1], sizes), default=None)
    if best is None or best == chosen or not _misfit(best[1], sizes) < base - MISFIT:
        return None
    return best


def choose_columns(rows: list[list[str]]) -> int:
    """Column count that makes the most rows add up; ties go to the count most rows allow."""
    best, best_score = 1, (-1, -1)
    max_tokens = max((len(r) for r in rows), default=1)
    for c in range(1, min(max_tokens, 7) + 1):
        consistent = sum(1 for r in rows if any(_consistent(v) for t in range(0, 3) for v in _groupings(r[t:], c)))
        possible = sum(1 for r in rows if any(_groupings(r[t:], c) for t in range(0, 3)))
        score = (consistent if c >= 3 else 0, possible)
        if score > best_score:
            best, best_score = c, score
    return best


def _merge_header_fragments(parts: list[str]) -> list[str]:
    merged: list[str] = []
    for p in parts:
        if merged and (p[:1].islower() or p[:1].isdigit() or merged[-1].endswith("-")):
            joiner = "" if merged[-1].endswith("-") and p[:1].islower() else " "
            merged[-1] = merged[-1].rstrip("-") + joiner + p if joiner == "" else merged[-1] + joiner + p
        else:
            merged.append(p)
    return merged


DATES_ONLY = re.compile(r"(?:(?:19|20)\d\d(?:-\d\d-\d\d)?\s*)+")


def column_labels(header_lines: list[str], columns: int) -> tuple[list[str], str]:
    """Column labels from the lines above a column-less table; returns (labels, caption)."""
    paragraphs, current = [], []
    for ln in header_lines:
        if ln.strip():
            current.append(ln.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    if columns == 1:
        return [""], " ".join(paragraphs)
    for i in range(len(paragraphs) - 1, -1, -1):
        # one line: "Budget 2031 Utfall 2031 Differens", "Kvinnor Män Totalt %"; a balance sheet's
        # "2031-12-31 2030-12-31" or "2031 2030" has one column per date or year
        if DATES_ONLY.fullmatch(paragraphs[i]):
            parts = paragraphs[i].split()
        else:
            parts = _merge_header_fragments(re.split(r"\s+(?=[A-ZÅÄÖ%])", paragraphs[i]))
        rest = paragraphs[:i]
        if len(parts) == columns:
            return parts, " ".join(rest)
        if len(parts) == columns + 1 and not YEAR.search(parts[-1]):
            return parts[:-1], " ".join(rest)  # "… Differens Insatser": a group label follows
        if len(parts) == columns + 1:
            return parts[1:], " ".join([*rest, parts[0]])
        # the row labels' heading, then a label per column that starts with a number ("Lägenhet
        # 1 rum 2 rum 3 rum", "Zon 1 km 5 km")
        first, *numbered = re.split(r"\s+(?=\d)", paragraphs[i])
        if len(numbered) == columns and not first[:1].isdigit():
            return numbered, " ".join([*rest, first])
    merged = _merge_header_fragments(paragraphs)
    if len(merged) >= columns + 1:
        return merged[-columns:], " ".join(merged[:-columns])
    if len(merged) == columns:
        return merged, ""
    return [f"kolumn {i + 1}" for i in range(columns)], " ".join(merged)


def parse_delimited(lines: list[Line]) -> tuple[list[str], list[str], list[TableRow]]:
    """A TAB/pipe table: header rows are the leading rows without numbers."""
    header_rows: list[list[str]] = []
    rows: list[TableRow] = []
    width = 0
    for ln in lines:
        cells = cells_of(ln.text)
        if cells is None:
            continue
        width = max(width, len(cells))
        values = [_cell_value(c) for c in cells[1:]]
        numeric = [v for v in values if v is not None]
        header_like = not numeric or (not cells[0] and all(_is_year_cell(c) for c in cells[1:] if c))
        if header_like and not rows:
            header_rows.append(cells)
            continue
        label = cells[0]
        rows.append(TableRow(label, cells[1:], values, ln.start, ln.end, ln.clean,
                             is_total=bool(TOTAL_LABEL.match(label))))
    # A merged header cell ("Finansiering" over three columns) spans the empty cells to its
    # right; the bottom header row (units such as "Tkr") never spans.
    filled = []
    for r, hr in enumerate(header_rows):
        row = [hr[i] if i < len(hr) else "" for i in range(width)]
        if r < len(header_rows) - 1:
            last = ""
            for i in range(2, width):
                if row[i]:
                    last = row[i]
                elif last:
                    row[i] = last
        filled.append(row)
    columns = []
    for i in range(1, width):
        parts = []
        for row in filled:
            if row[i] and row[i] not in parts:
                parts.append(row[i])
        columns.append(" ".join(parts).strip())
    caption = " ".join(hr[0] for hr in header_rows if hr and hr[0])
    return columns, [caption] if caption else [], rows


def _is_year_cell(cell: str) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d(\s*\(\*+\))?|(19|20)\d\d\s*\D{0,12}", cell.strip()))


def _cell_value(cell: str) -> float | None:
    s = re.sub(r"\s*(?:%|€|kr|tkr|mnkr)$", "", cell.strip(), flags=re.I).strip()  # "7 282,73 €"
    if _is_year_cell(cell) and not re.fullmatch(r"\d{4}", cell.strip()):
        return None
    return parse_number(s)


def parse_number_rows(lines: list[Line], header_lines: list[str]) -> tuple[list[str], str, list[TableRow], str | None]:
    """Rows from PDF text: label words, then numbers whose column boundaries were lost."""
    parsed, pending_label, pending_start = [], [], None
    units = set()
    group = ""
    for ln in lines:
        s = ln.clean
        if not s or PAGE_FURNITURE.search(s):
            continue
        if is_number_row(s):
            label, nums, unit = numeric_tail(s)
            if unit:
                units.add(normalise_unit(unit))
            if label and pending_label:
                group, pending_label = " ".join(pending_label), []  # a group heading, not a label
            full_label = " ".join([*pending_label, label]).strip()
            parsed.append((full_label, nums, pending_start if pending_start is not None else ln.start, ln, group,
                           tuple(pending_label)))
            pending_label, pending_start = [], None
        else:
            pending_label.append(s)
            pending_start = ln.start if pending_start is None else pending_start
    laid = [_laid_out(p[3].text) for p in parsed]
    aligned = len(parsed) >= 2 and all(laid) and len({len(x[1]) for x in laid if x}) == 1
    columns = len(laid[0][1]) if aligned else (_header_columns(header_lines) or choose_columns([p[1] for p in parsed]))
    labels, caption = column_labels(header_lines, columns)
    unit = units.pop() if len(units) == 1 else None
    rows = []
    if aligned:  # the gaps between the columns say where each number ends
        for (_, _, start, ln, group, pending), (cell, values, cells) in zip(parsed, laid):
            label = " ".join(x for x in (*pending, cell) if x)
            rows.append(TableRow(label, cells, values, start, ln.end, ln.clean,
                                 is_total=bool(TOTAL_LABEL.match(label)), group=group))
        return labels, caption, rows, unit
    # the rows as first read show how large each column's values are (a median: a few misread rows
    # do not move it); a row is then read again, with all its columns or one fewer, if that fits them
    first = [split_row(p[1], columns) for p in parsed]
    sizes = _magnitudes([values for _, values, _ in first], columns)
    for (label, nums, start, ln, group, _), (take, values, uncertain) in zip(parsed, first):
        if values and (other := _resized((take, values), readings(nums, columns, (columns, columns - 1)),
                                         sizes)) is not None:
            (take, values), uncertain = other, True
        if take:
            label = (label + " " + " ".join(nums[:take])).strip()
        if not values:
            continue
        rows.append(TableRow(label, nums[take:], list(values), start, ln.end, ln.clean,
                             is_total=bool(TOTAL_LABEL.match(label)), uncertain=uncertain, group=group))
    return labels, caption, rows, unit


FENCE = re.compile(r"^(```|~~~)")   # a markdown code fence around a table is no header of it
WIDE_GAP = re.compile(r"\s{2,}|\t")


def _laid_out(raw: str) -> tuple[str, list[float], list[str]] | None:
    """A row of text laid out in columns (as `pdftotext -layout` writes a table: cells apart by two
    spaces or more): its label and one number per cell ("B      18 400     22 750" is two
    numbers, not one, three or four). None when the line is not laid out so."""
    cells = [c for c in WIDE_GAP.split(TAGS.sub("", raw).strip()) if c]
    if len(cells) < 3:
        return None
    values = [parse_number(c.rstrip("%").strip()) for c in cells[1:]]
    if any(v is None for v in values) or parse_number(cells[0]) is not None:
        return None
    return cells[0].strip(), [float(v) for v in values], cells[1:]


def _header_columns(header_lines: list[str]) -> int | None:
    """Column count announced by a one-line header such as `Budget 2016 Utfall 2016 Differens`."""
    for ln in reversed([h for h in header_lines if h.strip()]):
        parts = _merge_header_fragments(re.split(r"\s+(?=[A-ZÅÄÖ%])", ln.strip()))
        if 2 <= len(parts) <= 7 and all(len(p) <= 25 for p in parts) and not is_number_row(ln):
            keywords = sum(bool(re.search(r"budget|utfall|differens|avvikelse|bokslut|prognos|kvinnor|män|"
                                          r"totalt|antal|%|andel|(19|20)\d\d", p, re.I)) for p in parts)
            if keywords >= len(parts) - 1:
                return len(parts)
    return None


def find_blocks(text: str, start: int, end: int, delimited_only: bool) -> list[Block]:
    """Split a section body into paragraphs and tables (a table is never cut)."""
    lines = split_lines(text, start, end)
    kinds = []
    for ln in lines:
        if not ln.text.strip() or PAGE_FURNITURE.search(ln.text):
            kinds.append("blank")
        elif cells_of(ln.text) is not None:
            kinds.append("cells")
        elif not delimited_only and is_number_row(ln.clean):
            kinds.append("numrow")
        else:
            kinds.append("text")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if kinds[i] == "blank":
            i += 1
            continue
        if kinds[i] in ("cells", "numrow"):
            kind = kinds[i]
            j, last, numrows, gap = i, i, 0, 0
            shape = _shape(lines[i].clean) if kind == "numrow" else None
            while j < len(lines):
                k = kinds[j]
                if k == kind and kind == "numrow" and numrows >= 2 and _shape(lines[j].clean) != shape:
                    break  # one value per row after several: a new list-table starts
                if k == kind:
                    last, gap = j, 0
                    numrows += 1
                elif k == "blank":
                    pass
                elif kind == "numrow" and k == "text" and len(lines[j].clean) <= 45 and gap <= 2:
                    gap += 1  # a row label on its own line, or a group heading
                else:
                    break
                if gap > 3:
                    break
                j += 1
            if numrows >= 2 or kind == "cells":
                # pull the header lines above a column-less table into it
                h = i
                if kind == "numrow":
                    while blocks and blocks[-1].kind == "text" and _headerish(blocks[-1].text):
                        h_block = blocks.pop()
                        h = _line_index(lines, h_block.start)
                    i = min(i, h)
                a, b = lines[i].start, lines[last].end
                blocks.append(Block("table", a, b, text[a:b]))
                i = last + 1
                continue
        j = i
        while j + 1 < len(lines) and kinds[j + 1] == "text":
            j += 1
        a, b = lines[i].start, lines[j].end
        blocks.append(Block("text", a, b, text[a:b]))
        i = j + 1
    return blocks


def _shape(line: str) -> bool:
    return len(numeric_tail(line)[1]) > 1


def _line_index(lines: list[Line], offset: int) -> int:
    return next(i for i, ln in enumerate(lines) if ln.start == offset)


def _headerish(text: str) -> bool:
    ls = [ln.strip() for ln in text.split("\n") if ln.strip()]
    return bool(ls) and len(ls) <= 4 and all(len(ln) <= 60 and not ln.endswith(".") for ln in ls)


def parse_table(block: Block, source: str, table_no: int, section_path: list[str], entity: str | None,
                before: str) -> Table | None:
    """Turn a table block into a Table; `before` is the text just above it (its caption)."""
    lines = split_lines(block.text, 0, len(block.text))
    for ln in lines:
        ln.start += block.start
        ln.end += block.start
    unit = None
    if any(cells_of(ln.text) is not None for ln in lines):
        columns, captions, rows = parse_delimited(lines)
        caption = " ".join(captions)
    else:
        # a line of years alone ("2031 2030") heads the columns of the rows below it
        numeric = [i for i, ln in enumerate(lines) if ln.clean and is_number_row(ln.clean)]
        first_row = next((i for i in numeric if not DATES_ONLY.fullmatch(lines[i].clean.strip())), numeric[0])
        if not numeric_tail(lines[first_row].clean)[0]:
            # values without a label: the line(s) just above are the row's label, not header
            j = first_row - 1
            while j >= 0 and not lines[j].clean:
                j -= 1
            while j > 0 and lines[j - 1].clean:
                j -= 1
            first_row = max(0, j)
        header = [ln.clean for ln in lines[:first_row] if not FENCE.match(ln.clean)]
        columns, caption, rows, unit = parse_number_rows(lines[first_row:], header)
    if not rows:
        return None
    context = _caption_from(before)
    if len(caption.split()) < 2:  # "Namn", "Kostnadsslag": the real caption stands above the table
        caption = context if not caption else f"{context} {caption}".strip()
    table = Table(f"{source}#t{table_no}", source, section_path, caption.strip(), columns, unit, rows,
                  block.start, block.end, entity, context=context)
    table.years = [_year_of(c) for c in columns]
    return table


def _caption_from(before: str) -> str:
    """The sentence or title line right above a table (survey tables put their question there)."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", before) if p.strip() and p.strip() not in ("*Följdfråga*",)]
    if not paras:
        return ""
    lines = [TAGS.sub("", ln).replace("**", "").replace("*", "").strip(" #") for ln in paras[-1].split("\n")]
    tail = []
    for ln in reversed(lines):
        if not ln or len(ln) > 60 or ln.endswith("."):
            break
        tail.insert(0, ln)  # a title just above the table, after running text
    cap = " ".join(tail) if tail and len(tail) < len(lines) else " ".join(lines)
    return re.sub(r"\s+", " ", cap)[:300]


def _year_of(label: str) -> int | None:
    years = YEAR.findall(label or "")
    return int(years[-1]) if len(set(years)) == 1 else None
