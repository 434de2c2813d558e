"""Stage 5 of the pipeline: the chosen candidates become a short answer that leads with the
answer itself, then its support, with numbered citations.

English questions get the assistant's own sentences in English (`i18n.py`); quotes stay as the
documents print them.
"""
from __future__ import annotations

import re

from ingest.numbers import format_number

from . import query as T
from .candidates import Candidate, Rendered
from .i18n import say
from .query import AnalyzedQuery
from .ranker import Scored
from .schemas import Citation, FigureOut, FigureRow

MAX_SUPPORT = 2           # further passages after the lead
SUPPORT_RATIO = 0.5       # a supporting candidate scores at least this share of the lead's score
MAX_CHARS = 700


class Citations:
    """Numbered citations in the order they are first used."""

    def __init__(self) -> None:
        self.items: list[Citation] = []
        self._keys: dict[tuple, int] = {}

    def add(self, source: str, title: str, section: str, quote: str, page: int | None, start: int, end: int) -> int:
        key = (source, start, end)
        if key not in self._keys:
            self._keys[key] = len(self.items) + 1
            self.items.append(Citation(id=self._keys[key], source=source, title=title, section=section,
                                       quote=quote.strip()[:600], page=page, start=start, end=end))
        return self._keys[key]

    def has(self, source: str, start: int, end: int) -> bool:
        return (source, start, end) in self._keys


def clean(text: str) -> str:
    text = re.sub(r"</?\w+>|\*\*|\\\*", "", text)
    text = re.sub(r"\s*\n\s*", " ", text)
    return re.sub(r"\s+", " ", text).replace("\t", " ").strip()


def render_sentence(q: AnalyzedQuery, c: Candidate, cites: Citations, lead: bool) -> Rendered:
    """A sentence candidate: the asked value first when there is one, then the sentence, cited."""
    n = cites.add(c.source, c.title, c.section, c.evidence, c.page, c.start, c.end)
    quote = clean(c.evidence)
    value = _asked_value(q, c) if lead else None
    figures: tuple = ()
    if value is not None and value.text.strip() and value.text.strip() != quote:
        text = f"{clean(value.text)} [{n}]: ”{quote}”"
        if value.number is not None and value.kind in T.NUMERIC_TYPES:
            unit = value.unit if value.kind == T.AMOUNT else ("%" if value.kind == T.PERCENT else None)
            label = _label(c, value)
            figures = (FigureOut(label=label, value=value.number, unit=unit, formula=None, citations=[n],
                                 rows=[FigureRow(label=label, value=value.number, unit=unit, citation=n)]),)
    else:
        text = f"{quote} [{n}]"
    return Rendered(text=text, figures=figures)


def _asked_value(q: AnalyzedQuery, c: Candidate):
    """Of the values of the asked type, the one nearest the question's words."""
    kind = q.answer_type
    if kind in (T.PASSAGE, T.DECISION):
        return None
    options = c.states(kind) or (c.states(T.AMOUNT) if kind == T.COUNT else []) or \
        (c.states(T.PERSON) if kind == T.PARTY else [])
    if not options:
        return None
    low = c.evidence.lower()
    spots = [i for t in q.terms if (i := low.find(t.lower()[:max(4, len(t) - 2)])) >= 0]
    if not spots or len(options) == 1:
        return options[0]
    return min(options, key=lambda v: min(abs(v.start - s) for s in spots))


def _label(c: Candidate, value) -> str:
    """A figure from a sentence is labelled by the words before it (the clause it belongs to)."""
    head = clean(c.evidence[:value.start])[-90:]
    head = re.sub(r"^\S*\s", "", head) if len(head) >= 90 else head
    return (head or clean(c.evidence)[:90]).strip(" ,:;")


def compose(q: AnalyzedQuery, ranked: list[Scored], threshold: float, cites: Citations) -> tuple[str, list, list[str]]:
    """The lead candidate's answer, then up to two supporting passages from other places."""
    lead = ranked[0]
    parts, figures, warnings = [], [], []
    first = _render(q, lead.candidate, cites, lead=True)
    parts.append(first.text)
    figures.extend(first.figures)
    warnings.extend(first.warnings)
    used = [(lead.candidate.source, lead.candidate.start, lead.candidate.end)]
    length = len(first.text)
    floor = max(threshold, SUPPORT_RATIO * lead.score)
    support = []
    for s in ranked[1:]:
        c = s.candidate
        if len(support) >= MAX_SUPPORT or s.score < floor:
            break
        if any(c.source == src and c.start < e and c.end > b for src, b, e in used):
            continue  # the same passage again
        if c.reader != "sentence" or cites.has(c.source, c.start, c.end):
            continue
        r = _render(q, c, cites, lead=False)
        if length + len(r.text) > MAX_CHARS and support:
            break
        support.append(r.text)
        used.append((c.source, c.start, c.end))
        length += len(r.text)
    if support:
        parts.append(f"{say(q.lang, 'evidence')}: " + " ".join(support))
    return "\n\n".join(parts), figures, warnings


def _render(q: AnalyzedQuery, c: Candidate, cites: Citations, lead: bool) -> Rendered:
    if c.render is not None:
        return c.render(cites)
    return render_sentence(q, c, cites, lead)


def format_value(v: float) -> str:
    return format_number(v)
