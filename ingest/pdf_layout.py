"""Page geometry of a PDF: words into lines, running headers and footers, paragraphs.

A PDF holds positioned words, not paragraphs.  Here the words of one page become lines
(`PdfLine`), lines repeated at the same place on several pages become page furniture
(removed from the text, the page number stays in the page spans), and the remaining lines
become paragraphs: a paragraph is emitted as ONE line (so sentence splitting downstream never
sees a sentence cut by a line break), a deliberate line break (a list item, a vote line, the
end of a paragraph) stays a newline, and words hyphenated at a line end are joined.
Everything here is pure: words in, text out.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from statistics import median

# Words after a hyphen that show the hyphen is a real one ("Demokrati- och Medborgarservice").
CONJUNCTIONS = {"och", "eller", "samt", "resp", "resp.", "respektive", "som", "till", "and", "or", "&", "men"}
LIST_MARK = re.compile(r"^(?:[-–•▪◦·*\uf0b7\uf0a7]\s|\(?\d{1,2}[.)]\s|[a-z]\)\s)")
SENTENCE_END = re.compile(r"[.!?:;]\)?[\"”’]?$")


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    bold: bool = False  # set in a bold face (its font name says so); OCR words never are

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class PdfLine:
    words: tuple[Word, ...]  # left to right

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def bold(self) -> bool:
        """Every word of the line is bold: a heading's weight."""
        return all(w.bold for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def height(self) -> float:
        return median(w.height for w in self.words)

    def cells(self, gap: float | None = None) -> list[tuple[Word, ...]]:
        """Runs of words separated by more than `gap` (default: about one em): table cells."""
        gap = self.height * 0.9 if gap is None else gap
        out: list[list[Word]] = [[self.words[0]]]
        for prev, w in zip(self.words, self.words[1:]):
            if w.x0 - prev.x1 > gap:
                out.append([w])
            else:
                out[-1].append(w)
        return [tuple(c) for c in out]


@dataclass(frozen=True)
class PageLayout:
    number: int  # 1-based
    width: float
    height: float
    lines: tuple[PdfLine, ...]  # top to bottom, furniture included until removed


def group_lines(words: list[Word]) -> list[PdfLine]:
    """Words whose vertical centre falls inside a line's band belong to it (a superscript
    footnote digit joins its line; a label printed half a line above its values does not)."""
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        centre = (w.top + w.bottom) / 2
        for ln in reversed(lines[-3:]):
            first = ln[0]
            if first.top - 0.5 <= centre <= first.bottom + 0.5 and abs(w.height - first.height) < first.height:
                ln.append(w)
                break
        else:
            lines.append([w])
    out = [PdfLine(tuple(sorted(ln, key=lambda w: w.x0))) for ln in lines]
    return sorted(out, key=lambda ln: ln.top)


def _furniture_key(text: str) -> str:
    """Digits normalised so "SID 3 (25)" and "SID 4 (25)" are the same running footer."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text.strip().lower()))


def find_furniture(pages: list[PageLayout], edge_lines: int = 4) -> set[tuple[int, int]]:
    """(page number, line index) of running headers and footers: the first/last few lines of a
    page that recur, at the same height, on other pages."""
    seen: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for page in pages:
        n = len(page.lines)
        edge = set(range(min(edge_lines, n))) | set(range(max(0, n - edge_lines), n))
        body_size = median(ln.height for ln in page.lines) if page.lines else 0
        for i in sorted(edge):
            line = page.lines[i]
            # only the page margins, and no larger than the body text: a heading that opens
            # every page ("§ 12 …") is no furniture
            if line.top > page.height * 0.16 and line.bottom < page.height * 0.86:
                continue
            if line.height > body_size * 1.1:
                continue
            seen[_furniture_key(line.text)].append((page.number, i, line.top))
    found: set[tuple[int, int]] = set()
    for key, hits in seen.items():
        if not key.strip():
            continue
        # the same text at the same height (within a few points) on two or more pages
        tops = Counter(round(t / 4) for _, _, t in hits)
        for bucket, _ in tops.most_common():
            near = [(p, i) for p, i, t in hits if abs(t / 4 - bucket) <= 1.5]
            pages_hit = sorted({p for p, _ in near})
            if len(pages_hit) >= 2:
                found.update(near)
                if bucket * 4 < pages[0].height * 0.5:
                    # a running header names the body and date of the document it opens: keep it
                    # on the first page of each run of pages that carry it
                    found.difference_update((p, i) for p, i in near
                                            if p - 1 not in pages_hit and p - 2 not in pages_hit)
    # a lone page number in a margin ("3", "- 3 -", "Sida 3 av 9") is furniture even once
    for page in pages:
        for i, line in enumerate(page.lines):
            in_margin = line.top < page.height * 0.1 or line.bottom > page.height * 0.9
            if in_margin and re.fullmatch(r"(?:sida|sid|page|s\.)?\s*[-–]?\s*\d{1,4}\s*[-–]?\s*(?:\(\d+\)|av \d+|/\s*\d+)?",
                                          line.text.strip(), re.I):
                found.add((page.number, i))
    return found


def _join_hyphen(left: str, right: str) -> str:
    """"verksam-" + "het" → "verksamhet"; "Demokrati-" + "och" and "IT-" + "system" keep the hyphen."""
    first = right.split(" ", 1)[0]
    stem = left[:-1]
    if first.lower().strip(",.") in CONJUNCTIONS or not first[:1].islower():
        return left + " " + right
    if stem[-1:].isupper() or stem[-1:].isdigit():
        return left + right  # "IT-" + "tjänster" → "IT-tjänster"
    return stem + right


def join_lines(left: str, right: str, sep: str = " ") -> str:
    if re.search(r"[A-Za-zÅÄÖåäö]-$", left) and not left.endswith(" -"):
        return _join_hyphen(left, right)
    return left + sep + right


@dataclass(frozen=True)
class TextBlock:
    """A paragraph (or list, or heading) of one page: `lines` are the logical lines to emit."""
    lines: tuple[str, ...]
    x0: float
    size: float
    top: float
    bottom: float
    last_full: bool  # its last physical line ran to the right margin (the text may go on)
    bold: bool = False  # set in bold throughout


def paragraphs(lines: list[PdfLine], right_edge: float) -> list[TextBlock]:
    """Lines of running text into paragraphs.

    A line break is kept only where the writer made one: the next line's first word would
    have fitted on the line and the next line does not continue a sentence (a list, a vote
    line), or a list mark opens the next line.  A vertical gap larger than about half a line
    or a change of font size or weight starts a new paragraph."""
    blocks: list[TextBlock] = []
    cur: list[str] = []
    start: PdfLine | None = None
    item_x0 = 0.0  # where the current logical line began (a hanging indent continues it)
    prev: PdfLine | None = None

    def flush(last: PdfLine | None) -> None:
        nonlocal cur, start
        if cur and start is not None and last is not None:
            blocks.append(TextBlock(tuple(cur), start.x0, start.height, start.top, last.bottom,
                                    _is_full(last, right_edge), start.bold and last.bold))
        cur, start = [], None

    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if prev is not None:
            gap = line.top - prev.bottom
            if gap > 0.6 * prev.height or gap < -0.5 * prev.height or abs(line.height - prev.height) > 0.15 * prev.height \
                    or line.bold != prev.bold:  # a change of size or weight: a heading begins or ends
                flush(prev)
        if start is None:
            cur, start, item_x0 = [text], line, line.x0
        else:
            first = line.words[0]
            fits = prev.x1 + (first.x1 - first.x0) + 0.5 * prev.height < right_edge
            hanging = LIST_MARK.match(cur[-1]) is not None and line.x0 > item_x0 + 0.8 * line.height
            if LIST_MARK.match(text) or (fits and not hanging and (SENTENCE_END.search(cur[-1]) or not text[:1].islower())):
                cur.append(text)
                item_x0 = line.x0
            else:
                cur[-1] = join_lines(cur[-1], text)
        prev = line
    flush(prev)
    return blocks


def _is_full(line: PdfLine, right_edge: float) -> bool:
    return line.x1 >= right_edge - 3 * line.height


def right_edge(lines: list[PdfLine], page_width: float) -> float:
    """Where running text ends on this page (its right margin)."""
    ends = sorted(ln.x1 for ln in lines if len(ln.words) >= 4)
    if not ends:
        return page_width * 0.85
    return ends[max(0, math.ceil(len(ends) * 0.9) - 1)]  # the 90th percentile: a few wide lines are no margin
