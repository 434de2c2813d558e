"""Stage 5 of the pipeline: the chosen candidates become a short answer that leads with the
answer itself, then its support, with numbered citations.

English questions get the assistant's own sentences in English (`i18n.py`); quotes stay as the
documents print them.
"""
from __future__ import annotations

import re

from ingest.numbers import format_number

from . import query as T
from .candidates import Candidate, Rendered, asked_values, given
from .i18n import say
from .query import AnalyzedQuery
from .ranker import Scored
from .schemas import Citation, FigureOut, FigureRow

MAX_SUPPORT = 2           # further passages after the lead
SUPPORT_GAP = 2.0         # a supporting candidate's logit is at most this far below the lead's
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
        text = f"{_shown_value(q, value)} [{n}]: ”{quote}”"
        if value.number is not None and value.kind in T.NUMERIC_TYPES:
            unit = value.unit if value.kind == T.AMOUNT else ("%" if value.kind == T.PERCENT else None)
            label = figure_label(c, value)
            figures = (FigureOut(label=label, value=value.number, unit=unit, formula=None, citations=[n],
                                 rows=[FigureRow(label=label, value=value.number, unit=unit, citation=n)]),)
    else:
        text = f"{quote} [{n}]"
    return Rendered(text=text, figures=figures)


def _shown_value(q: AnalyzedQuery, value) -> str:
    """A value as the answer leads with it; a span of clock time as its length ("20 minuter
    (09.30–09.50)", "1 timme 45 minuter (…)")."""
    shown_text = clean(value.text)
    if value.kind != T.DURATION or value.unit != "minuter" or value.number is None:
        return shown_text
    hours, minutes = divmod(int(value.number), 60)
    parts = [f"{n} {say(q.lang, unit if n == 1 else unit + 's')}" for n, unit in ((hours, "hour"), (minutes, "minute"))
             if n]
    return f"{' '.join(parts)} ({shown_text})"


def _asked_value(q: AnalyzedQuery, c: Candidate):
    """Of the values of the asked type, the one nearest the question's words."""
    kind = q.answer_type
    if kind in (T.PASSAGE, T.DECISION):
        return None
    options = asked_values(q, c)
    if not options:
        return None
    low = c.evidence.lower()
    spots = [i for t in q.terms if (i := low.find(t.lower()[:max(4, len(t) - 2)])) >= 0]
    if not spots or len(options) == 1:
        return options[0]
    return min(options, key=lambda v: min(abs(v.start - s) for s in spots))


def figure_label(c: Candidate, value) -> str:
    """A figure from a sentence is labelled by the words before it (the clause it belongs to), cut
    at a word."""
    head = clean(c.evidence[:value.start])[-90:]
    head = re.sub(r"^\S*\s", "", head) if len(head) >= 90 else head
    return (head or clean(c.evidence)[:90]).strip(" ,:;")


def compose(q: AnalyzedQuery, ranked: list[Scored], cites: Citations) -> tuple[str, list, list[str]]:
    """The lead candidate's answer, then up to two supporting passages from other places."""
    lead = ranked[0]
    parts, figures, warnings = [], [], []
    computed = _difference(q, ranked, cites) if q.operation == "diff" and lead.candidate.reader == "sentence" \
        else None
    if computed is not None:
        parts.append(computed.text)
        figures.extend(computed.figures)
    first = _render(q, lead.candidate, cites, lead=True)
    parts.append(first.text)
    figures.extend(first.figures)
    warnings.extend(first.warnings)
    used = [(lead.candidate.source, lead.candidate.start, lead.candidate.end)]
    length = len(first.text)
    floor = lead.score - SUPPORT_GAP
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


def subtract(operands: list[tuple]) -> tuple[list[tuple], float, str]:
    """Two stated values, each with what states it: the larger first, their difference, and the
    formula as shown ("12 540 − 12 450"). The one subtraction of the answers computed from text."""
    (a, ca), (b, cb) = sorted(operands, key=lambda p: -p[0].number)
    return [(a, ca), (b, cb)], round(a.number - b.number, 6), f"{format_number(a.number)} − {format_number(b.number)}"


def shown(value: float, unit: str | None) -> str:
    """A figure as an answer writes it: "90 kr", "4,5%", "12"."""
    return format_number(value) + ("%" if unit == "%" else f" {unit}" if unit else "")


def _difference(q: AnalyzedQuery, ranked: list[Scored], cites: Citations) -> Rendered | None:
    """A difference asked for and stated by no table: the first two values of the asked kind and the
    same unit, in the lead sentence (in its order) and then the next best sentences, subtracted,
    with both cited. The formula is shown, so a reader can check which numbers were used."""
    kind = T.AMOUNT if q.answer_type == T.AMOUNT else T.COUNT
    floor = ranked[0].score - SUPPORT_GAP
    picked: list[tuple] = []
    for s in ranked[:1 + MAX_SUPPORT]:
        if s is not ranked[0] and s.score < floor:
            break
        for v in s.candidate.states(kind):
            if v.number is None or given(q.text, v) or (picked and (v.unit != picked[0][0].unit
                                                                     or v.number == picked[0][0].number)):
                continue  # (a number the question gives names what is compared: "zon 4 än i zon 2")
            picked.append((v, s.candidate))
            if len(picked) == 2:
                break
        if len(picked) == 2:
            break
    if len(picked) < 2:
        return None
    [(a, ca), (b, cb)], value, formula = subtract(picked)
    ids = [cites.add(c.source, c.title, c.section, c.evidence, c.page, c.start, c.end) for c in (ca, cb)]
    unit = a.unit if kind == T.AMOUNT else None
    refs = "".join(f"[{i}]" for i in dict.fromkeys(ids))
    label = figure_label(ca, a)
    fig = FigureOut(label=label, value=value, unit=unit, formula=formula, citations=list(dict.fromkeys(ids)),
                    rows=[FigureRow(label=figure_label(ca, a), value=a.number, unit=unit, citation=ids[0]),
                          FigureRow(label=figure_label(cb, b), value=b.number, unit=unit, citation=ids[1])])
    return Rendered(f"{say(q.lang, 'difference', value=shown(value, unit), formula=formula)} {refs}.", (fig,))


def _render(q: AnalyzedQuery, c: Candidate, cites: Citations, lead: bool) -> Rendered:
    if c.render is not None:
        return c.render(cites)
    return render_sentence(q, c, cites, lead)
