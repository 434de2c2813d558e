"""Stage 3 of the pipeline: readers propose candidate answers, each with its evidence span.

Every reader emits the same small type, `Candidate` (modelled on Haystack's
`ExtractedAnswer`: the evidence, where it is, what it states, how sure the reader is, and how
to write it), so one ranker can order all of them. The sentence reader lives here; the
structure, figure and check readers wrap the older engines in `service.py`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from index.text import fold
from ingest.model import Chunk
from ingest.numbers import NUMBER_RE
from ingest.tables import YEAR

from . import query as T
from .query import AnalyzedQuery
from .statements import BULLET, MONEY_UNIT, NUM, Sentence, Value, has_decision, parse_number, split_sentences, values


@dataclass(frozen=True)
class Rendered:
    text: str                                   # the answer sentence(s) with [n] citations
    figures: tuple = ()                         # FigureOut
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    reader: str                 # sentence | figure | structure | check
    source: str
    start: int
    end: int
    evidence: str               # the text that supports it (a sentence, the quoted rows)
    context: str                # title and section path of the passage
    rank: int                   # retrieval rank of the passage it was read from (99: not retrieved)
    dense_rank: int | None = None   # the passage's rank by meaning (e5) and by words (BM25)
    bm25_rank: int | None = None
    passage: str = field(default="", compare=False, repr=False)   # the whole passage it was read from
    values: tuple[Value, ...] = ()
    confidence: float = 0.0     # the reader's own certainty, 0..1
    page: int | None = None
    section: str = ""
    title: str = ""
    render: Callable[..., Rendered] | None = field(default=None, compare=False, repr=False)

    def states(self, kind: str) -> list[Value]:
        return [v for v in self.values if v.kind == kind]


def asked_values(q: AnalyzedQuery, c: Candidate) -> list[Value]:
    """The values of the asked type a candidate states (a count may be stated as an amount or a vote
    result; a party by a person's party label), less those the question itself gives: "Hur många platser
    har förskolan på Tallvägen 3?" is not answered by "3", nor "Vilka talade emot Anna Berg (L):s
    motion?" by Anna Berg. A question checking a value it states ("Stämmer det att … 5 mnkr?") may be
    answered by that value."""
    kind = q.answer_type
    if kind == T.COUNT:  # a count of votes is read from the vote's result before any other number near it
        kinds = (T.VOTE, T.COUNT, T.AMOUNT) if T.ABOUT_VOTE.search(q.text) else (T.COUNT, T.AMOUNT, T.VOTE)
        if _COUNTED.search(" ".join(q.asks)) and not _MONEY_ASKED.search(q.text):
            # "hur många brandstationer" counts things: no sum of money answers it ("hur stort", a
            # magnitude, may be either)
            kinds = tuple(k for k in kinds if k != T.AMOUNT)
        if _MAGNITUDE.fullmatch(" ".join(q.asks)):
            # "hur stor var uppslutningen", no unit named: a size, which a share may state ("64 procent")
            kinds = (kinds[0], T.PERCENT, *kinds[1:])
    elif kind == T.PARTY:
        kinds = (T.PARTY, T.PERSON)
    elif kind == T.PERSON:  # "vem levererar systemet?": a company may be the one asked for
        kinds = (T.PERSON, T.ORG)
    else:
        kinds = (kind,)
    checked = q.legacy.intent == "consistency"
    for k in kinds:
        found = [v for v in c.states(k) if checked or not given(q.text, v)]
        if found:
            return found
    return []


_COUNTED = re.compile(r"\b(många|antal\w*|many|number)\b", re.I)
_MAGNITUDE = re.compile(r"hur stort?", re.I)
_MONEY_ASKED = re.compile(rf"\b{MONEY_UNIT}(?![\wåäö])", re.I)


@lru_cache(maxsize=512)
def _question(text: str) -> tuple[str, frozenset[float]]:
    """The question folded, and the numbers it states, read as a sentence's numbers are read."""
    numbers = (parse_number(m.group(0)) for m in re.finditer(NUM, text))
    return fold(text.lower()), frozenset(n for n in numbers if n is not None)


def given(question: str, v: Value) -> bool:
    """The question states the value: the same number, or the same name from the start of a word
    (the genitive "Bergs" holds "Berg")."""
    asked, numbers = _question(question)
    if v.number is not None:
        return float(v.number) in numbers
    name = fold(v.text.lower()).strip("() ")
    at = asked.find(name) if name else -1
    while at >= 0:
        if at == 0 or not asked[at - 1].isalnum():
            return True
        at = asked.find(name, at + 1)
    return False


MIN_SENTENCE = 12
MAX_SENTENCE = 700


TYPED_PASSAGES = 4   # further passages read because they state what the question asks for


def typed_passages(q: AnalyzedQuery, hits: list, limit: int, extra: int = TYPED_PASSAGES) -> list[int]:
    """The retrieval ranks, beyond the best `limit`, of the first few passages that state a value
    of the asked type (a vote result for "hur gick omröstningen", a date for "när"): a long
    question's words pull in its whole paragraph, and the one passage holding the answer's type
    may rank below the cut. Passage answers and decisions have no type to look for."""
    if q.answer_type in (T.PASSAGE, T.DECISION):
        return []
    return [i for i, h in enumerate(hits) if i >= limit and q.answer_type in passage_kinds(h.chunk.text)][:extra]


@lru_cache(maxsize=5_000)
def passage_kinds(text: str) -> frozenset[str]:
    """The kinds of value a passage states."""
    return frozenset(v.kind for s in split_sentences(text, 0) for v in values(s.text))


def read_sentences(q: AnalyzedQuery, hits: list, limit: int = 10, also: list[int] | tuple = ()) -> list[Candidate]:
    """Every sentence of the best passages (and of the passages at the ranks `also`), typed by
    what it states."""
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    headings: set[tuple[str, str]] = set()
    for rank in [*range(min(limit, len(hits))), *also]:
        hit = hits[rank]
        chunk: Chunk = hit.chunk
        unit = _table_unit(chunk)
        header = _column_labels(chunk.text)
        head = _heading(chunk)
        if head and (chunk.source, chunk.section) not in headings:
            headings.add((chunk.source, chunk.section))
            out.append(Candidate(reader="sentence", source=chunk.source, start=chunk.start, end=chunk.start + len(head[1]),
                                 evidence=head[0], context=chunk.title, rank=rank, dense_rank=hit.dense_rank,
                                 bm25_rank=hit.bm25_rank, passage=chunk.text, values=tuple(values(head[0])),
                                 page=chunk.page, section=chunk.section, title=chunk.title))
        for s in _with_lists(split_sentences(chunk.text, chunk.start)):
            text = s.text.strip()
            if len(text) < MIN_SENTENCE or (chunk.source, s.start) in seen:
                continue
            seen.add((chunk.source, s.start))
            if len(text) > MAX_SENTENCE:  # cut at a word, and say so (never "att ingå i e")
                text = text[:MAX_SENTENCE].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"
            row = "\t" in text
            vals = values(text, unit if row else None)
            if has_decision(text):
                vals.append(Value(T.DECISION, text, None, None, 0))
            where = " > ".join(x for x in (chunk.title, chunk.section) if x)
            if row and header and not _cells(text).startswith(header):  # a row is read under its column labels
                where += " | " + header
            out.append(Candidate(reader="sentence", source=chunk.source, start=s.start, end=s.end, evidence=text,
                                 context=where, rank=rank,
                                 dense_rank=hit.dense_rank, bm25_rank=hit.bm25_rank, passage=chunk.text,
                                 values=tuple(vals), page=chunk.page, section=chunk.section, title=chunk.title))
    return out


def _heading(chunk: Chunk) -> tuple[str, str] | None:
    """A passage's heading read with its first line, as a statement of its own: a protocol's
    paragraph heading carries what its text never repeats ("§ 247 Dnr KS-2025-00664" over "Taxa
    för VA 2026"), a report's numbered heading its number. (The shown text, and the first line.)"""
    if not chunk.section_path:
        return None
    heading = chunk.section_path[-1].strip()
    first = next((line.strip() for line in chunk.text.splitlines() if line.strip()), "")
    if not heading or not first or len(heading) > MAX_SENTENCE:
        return None
    first = re.sub(r"\s*\.{4,}\s*\d*\s*$", "", first)[:200]   # a table of contents' dot leader and page
    return f"{heading} | {first}", first


MAX_LIST = 12
SHORT_LINE = 60


def _with_lists(sentences: list[Sentence]) -> list[Sentence]:
    """Sentences as read, plus what a short line means only with its neighbours:
    - a sentence ending in ':' is read together with the list that follows (instead of alone), and so
      is a heading with at least two list lines under it (beside the heading alone);
    - a short line (a form label, a name above its role in a signature block, a heading) is also
      read joined with the line before and the line after ("Sammanträdesplats" / "Stadshuset …",
      "Andreas Lundgren (S)" / "Ordförande")."""
    out: list[Sentence] = []
    for i, s in enumerate(sentences):
        text = s.text.rstrip()
        heading = len(text) <= SHORT_LINE and not text.endswith((".", "?", "!", ":"))
        if text.endswith(":") or heading:
            items = []
            for nxt in sentences[i + 1:i + 1 + MAX_LIST]:
                if BULLET.match(nxt.text) or (len(nxt.text) < 80 and not nxt.text.rstrip().endswith((".", ":"))):
                    items.append(nxt)
                else:
                    break
            if items and (not heading or len(items) >= 2):  # a heading needs a list under it
                out.append(Sentence(s.start, items[-1].end,
                                    text + (" " if text.endswith(":") else ": ")
                                    + "; ".join(BULLET.sub("", x.text).strip() for x in items)))
                if not heading:
                    continue
        out.append(s)
        if len(text) <= SHORT_LINE:
            before = sentences[i - 1] if i > 0 else None
            after = sentences[i + 1] if i + 1 < len(sentences) else None
            if before is not None and after is not None:
                out.append(Sentence(before.start, after.end, f"{before.text.strip()} | {text} | {after.text.strip()}"))
            elif after is not None:
                out.append(Sentence(s.start, after.end, f"{text} | {after.text.strip()}"))
    return out


def _column_labels(text: str) -> str:
    """A passage's first table line when it labels columns (words or years rather than amounts),
    its cells apart by two spaces: "Belopp i tkr  Kvartal Budget  Helår Bokslut", "Not  2031  2030"."""
    line = next((x for x in text.splitlines() if "\t" in x), "")
    cells = _cells(line).split("  ") if line.strip() else []
    amounts = sum(1 for c in cells if NUMBER_RE.fullmatch(c.rstrip(" %")) and not YEAR.fullmatch(c))
    return "  ".join(cells) if cells and amounts * 2 < len(cells) else ""


def _cells(line: str) -> str:
    """A table line's non-empty cells, two spaces apart."""
    return "  ".join(c.strip() for c in line.split("\t") if c.strip())


def _table_unit(chunk: Chunk) -> str | None:
    """A table's unit from its caption or section ("Belopp i tkr", "mnkr")."""
    m = re.search(r"\b(tkr|mnkr|mkr|mdkr|tusen kronor|miljoner kronor)\b", chunk.section + " " + chunk.text[:300], re.I)
    if not m:
        return None
    u = m.group(1).lower()
    return {"tusen kronor": "tkr", "miljoner kronor": "mnkr", "mkr": "mnkr"}.get(u, u)
