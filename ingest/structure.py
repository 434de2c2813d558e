"""Recover a document's sections from its own headings.

Markdown files use `#` headings and bold title lines; text extracted from PDFs has numbered
headings (`1.6.1 Ekonomisk sammanfattning`, `15. Nomineringar …`) and short title lines.
Readers for HTML and DOCX emit markdown-like text, so one parser serves every format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Section

MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
BOLD_LINE = re.compile(r"^\s*(?:\*\*([^*].{1,200}?)\*\*|<b>([^<]{2,200})</b>)\s*$")
NUMBERED = re.compile(r"^\s*((?:\d{1,2}\.){0,3}\d{1,2})\.?\s+([A-ZÅÄÖ§][^\t]{2,90})$")
NUMBERED_LINE = re.compile(r"^\s*((?:\d{1,2}\.){0,3}\d{1,2})[.)]?\s+\S")
PAGE_FURNITURE = re.compile(r"(\d+\s*\(\d+\)\s*$)|(^\s*Sida \d+\s*$)|(^\s*\d+ av \d+\s*$)", re.I)
PARTY_TITLE = re.compile(
    r"(?:överenskommelse|avtal|partnerskap|IOP)[^\n]{0,120}?\bmellan\s+(.{3,60}?)\s+och\s+(.{3,60}?)"
    r"(?=\s+[–-]\s|\*\*|\s*$|[.,;])", re.I)
HOME_PARTY = re.compile(r"\b(kommun|region|kommunen|regionen|landsting)\b", re.I)
# "§ 12 Budget 2026", and the Finland-Swedish "196 § Upptagande av lån"
PARAGRAPH_LINE = re.compile(r"^\s*(?:\*\*)?(?:§\s*\d{1,4}\b|\d{1,4}\s*§(?=\s|$))[^\n]{0,120}$")
DOT_LEADER = re.compile(r"\.{4,}|…{2,}")
NUMBER_FIRST = re.compile(r"^(\d{1,4})\s*§\s*")
RESET_ENTITY = re.compile(r"^(tjänsteskrivelse|protokollsutdrag|§\s*\d+|dagordning|kallelse)\b", re.I)


@dataclass
class Heading:
    level: int
    title: str
    start: int       # offset of the heading line
    body_start: int  # offset just after the heading line


def clean_heading(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("**", "").replace("__", "").strip(" *#:\t")
    return re.sub(r"\s+", " ", text)


def _is_title_line(line: str, prev_blank: bool, next_line: str) -> bool:
    """A short stand-alone line in PDF-extracted text that reads like a heading."""
    s = line.strip()
    if not prev_blank or not (3 <= len(s) <= 60) or "\t" in s:
        return False
    if not s[0].isupper() or s[-1] in ".,;:!?–-)/" or PAGE_FURNITURE.search(s):
        return False
    words = s.split()
    if len(words) > 7 or sum(c.isdigit() for c in s) > 4:
        return False
    if re.search(r"\d[\d ]*(,\d+)?\s*(tkr|mnkr|mkr|kr|%)?$", s) and not re.search(r"\b(19|20)\d\d$", s):
        return False  # a label followed by a figure is a table row, not a heading
    nxt = next_line.strip()
    # A heading introduces running text; a short line after it means a table header or a list.
    return len(nxt) > 30 and (nxt[0].isupper() or nxt[0].isdigit() or nxt[0] in "•-")


def _number(line: str) -> tuple[str, int] | None:
    """A numbered line's parent number and own number ("2.3 Mål" → ("2.", 3))."""
    n = NUMBERED_LINE.match(line)
    if not n:
        return None
    parent, _, own = n.group(1).rpartition(".")
    return parent, int(own)


def _in_list(lines: list[str], i: int) -> bool:
    """Whether a numbered line is an item of a numbered list rather than a heading: a heading
    introduces text, so a numbered line whose nearest neighbouring line is the previous or the
    next number of the same list ("1. Granskning …" / "2. Protokollsutdrag …" under "Handlingar",
    a table of contents) is one item of a list."""
    own = _number(lines[i])
    if own is None:
        return False
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(lines) and not lines[j].strip():
            j += step
        other = _number(lines[j]) if 0 <= j < len(lines) else None
        if other is not None and other[0] == own[0] and other[1] == own[1] + step:
            return True
    return False


def find_headings(text: str, fmt: str, marked: tuple[int, ...] | frozenset[int] = ()) -> list[Heading]:
    """`marked`: offsets of lines the reader saw set as headings (a PDF's bold lines of their own)."""
    marked = frozenset(marked)
    headings: list[Heading] = []
    lines = text.split("\n")
    starts = [0]
    for ln in lines[:-1]:
        starts.append(starts[-1] + len(ln) + 1)

    def introduces_text(i: int) -> bool:
        """A marked line is a heading only when text follows it, not at once another marked line
        (a protocol paragraph's bold title line under its "§ 64 …" stays its first line)."""
        j = next((k for k in range(i + 1, len(lines)) if lines[k].strip()), None)
        return j is not None and starts[j] not in marked

    offset = 0
    markdown = fmt in ("md", "html", "docx")
    prev_blank = True
    for i, line in enumerate(lines):
        start, body_start = offset, offset + len(line) + 1
        offset = body_start
        stripped = line.strip()
        if not stripped:
            prev_blank = True
            continue
        m = MD_HEADING.match(line)
        par = PARAGRAPH_LINE.match(line) if not DOT_LEADER.search(line) else None  # not a table of contents
        if par and not m:
            # "§ 12 Budget 2026" opens a paragraph of a protocol in any format (named so however printed)
            headings.append(Heading(1, NUMBER_FIRST.sub(r"§ \1 ", clean_heading(stripped)), start, body_start))
        elif m:
            title = clean_heading(m.group(2))
            if title:
                # A tjänsteskrivelse or protokollsutdrag starts a new document inside a meeting book.
                level = 1 if RESET_ENTITY.match(title) else len(m.group(1))
                headings.append(Heading(level, title, start, body_start))
        elif markdown and BOLD_LINE.match(line) and (prev_blank or _party(clean_heading(line))):
            title = clean_heading(line)
            if title and not title.endswith("."):
                # An agreement's title line starts a new document inside a meeting book.
                headings.append(Heading(1 if _party(title) else 5, title, start, body_start))
        elif not markdown:
            n = NUMBERED.match(line)
            nxt = next((ln for ln in lines[i + 1:i + 4] if ln.strip()), "")
            dotted = stripped[len(n.group(1)):].startswith(".") if n else False
            footnote = n and not dotted and (len(stripped) > 45 or "," in stripped)
            if n and _in_list(lines, i):
                pass  # an item of a numbered list
            elif n and not footnote and not stripped.endswith(".") and not re.search(r"\d{3}\s*$", stripped):
                depth = n.group(1).count(".") + 1
                headings.append(Heading(min(depth, 4), clean_heading(stripped), start, body_start))
            elif _is_title_line(line, prev_blank, nxt) or (start in marked and not n and introduces_text(i)):
                headings.append(Heading(5, clean_heading(stripped), start, body_start))
        prev_blank = False
    return headings


def _party(title: str) -> str | None:
    m = PARTY_TITLE.search(title)
    if not m:
        return None
    a, b = (clean_heading(x) for x in m.groups())
    if HOME_PARTY.search(a) and not HOME_PARTY.search(b):
        return b
    if HOME_PARTY.search(b) and not HOME_PARTY.search(a):
        return a
    return b


def split_sections(text: str, fmt: str, marked: tuple[int, ...] = ()) -> list[Section]:
    """Sections in document order, each with its heading path and the entity it concerns."""
    headings = find_headings(text, fmt, marked)
    sections: list[Section] = []
    if not headings or headings[0].start > 0:
        first = headings[0].start if headings else len(text)
        sections.append(Section([], 0, first, 0))
    stack: list[Heading] = []
    entity: str | None = None
    parter_level: int | None = None
    for i, h in enumerate(headings):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        end = headings[i + 1].start if i + 1 < len(headings) else len(text)
        # Agreements name their parties in a title line or under a "Parter" heading.
        if RESET_ENTITY.match(h.title):
            entity, parter_level = None, None
        party = _party(h.title)
        if party:
            entity = party
        if h.title.lower() == "parter":
            parter_level = h.level
        elif parter_level is not None and h.level == parter_level + 1:
            if not HOME_PARTY.search(h.title):
                entity = h.title
        elif parter_level is not None and h.level <= parter_level:
            parter_level = None
        sections.append(Section([s.title for s in stack], h.body_start, end, h.start, entity))
    return sections


def document_title(text: str, source: str) -> str:
    """A running page header (PDF text) names the document best; else the first line."""
    from collections import Counter

    headers = Counter(re.sub(r"\s+\d+\s*\(\d+\)\s*$", "", ln).strip() for ln in text.split("\n")
                      if PAGE_FURNITURE.search(ln))
    best = [(n, h) for h, n in headers.items() if n >= 2 and len(h) >= 15]
    if best:
        return clean_heading(max(best)[1])
    for line in text.split("\n"):
        s = clean_heading(line)
        if 3 <= len(s) <= 150 and not re.fullmatch(r"[\d\s.:-]+", s):
            return s
    return source
