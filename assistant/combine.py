"""Readers over the other readers' candidates: answers that take two statements.

Some questions are answered by no single sentence: they ask two things ("Vem var ordförande
och vem var sekreterare?"), compare two documents or meetings ("… i kallelsen respektive i
protokollet", "den 2 mars och den 7 oktober"), ask whether two statements agree ("Stämmer
perioden … med perioden i beslutsgången?"), or ask for a figure computed from two stated
values ("Hur mycket högre är … än …?"; `analysis.COMPARATIVE`). These readers propose such
answers as candidates of their own, so the one ranker weighs them against single statements:

- `read_pairs`: two statements side by side, each cited (reader `pair`);
- `read_arithmetic`: a difference of two stated values, or the sum of a stated list, with the
  formula and every operand cited (reader `arithmetic`);
- `read_agreement`: for a question whether a value agrees, the same value stated in two places,
  compared: equal, or nearly equal and so the same quantity stated two ways, with the difference
  computed from both cited statements (reader `pair`);
- `read_tallies`: the number who took part in a vote, or the share of ja (or nej) votes, from
  its counted result ("Med 9 ja-röster mot 2 nej-röster … 3 stycken avstod"), cited (reader
  `arithmetic`).

They only look at a question's best few candidates (by its words and the passage's retrieval
rank), so a question costs a bounded number of extra candidates.
"""
from __future__ import annotations

import math
import re
from dataclasses import replace

from ingest.numbers import format_number

from . import query as T
from .candidates import Candidate, Rendered, given
from .compose import Citations, figure_label, render_sentence, shown, subtract
from .i18n import say
from .query import AnalyzedQuery
from .schemas import FigureOut, FigureRow
from .statements import DATE, Tally, Value, noun_after, tally
from .words import keys, vocabulary

POOL = 8          # best candidates that computed figures are read from
PER_DOCUMENT = 3  # … and the best of each other document among the passages read
ANCHORS = 6       # best candidates that are paired with another
COMPLEMENTS = 2   # … each with the statements that best add what it lacks
MAX_PAIRS = 12
JOIN = " … "

# the grammar of a question that asks for two things or compares two statements
TWO_PARTS = re.compile(r"\b(respektive|både|jämfört med|jämförelse|i förhållande till|compared|both|respectively|"
                       r"överensstämmer|går\s+\w+(?:\s+\w+)*?\s+ihop|också|även|also|match(?:es)?)\b|"
                       r"\b(och|samt|and)\s+(vem|vad|vilk\w+|när|hur|var|vems|varför|who|what|when|how|which|whose|why)\b",
                       re.I)
YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def asks_two(q: AnalyzedQuery) -> bool:
    """Whether the question asks for two statements: two clauses, two dates or years, a comparison."""
    if TWO_PARTS.search(q.text) or q.legacy.intent == "consistency":
        return True
    if len(set(q.dates) | {m.group(0) for m in DATE.finditer(q.text)}) >= 2:
        return True  # two meetings ("den 2 mars och den 7 oktober 2025")
    return len(set(YEAR.findall(q.text))) >= 2 and not re.search(r"\d{4}\s*[-–]\s*\d{4}", q.text)


def relevance(q: AnalyzedQuery, c: Candidate, weight: dict[str, float] | None = None) -> float:
    """A cheap first look: the share of the question's words the statement (or its heading) has,
    each word by its `weight` (default 1), and the passage's retrieval rank."""
    terms = list(q.word_terms)
    if not terms:
        return 1.0 / (1 + c.rank)
    local, ctx = vocabulary(c.evidence), vocabulary(c.context)
    w = [weight.get(t, 1.0) for t in terms] if weight else [1.0] * len(terms)
    words = sum(wt * max(local.has(t), 0.5 * ctx.has(t)) for wt, t in zip(w, terms)) / (sum(w) or 1.0)
    return words + 0.3 / (1 + c.rank)


def _best(q: AnalyzedQuery, candidates: list[Candidate]) -> list[Candidate]:
    """The best few candidates, and the best few of every other document among them."""
    scored = sorted(((relevance(q, c), i, c) for i, c in enumerate(candidates)), key=lambda x: (-x[0], x[1]))
    pool = [c for _, _, c in scored[:POOL]]
    taken = {c.source for c in pool}
    per: dict[str, int] = {}
    for _, _, c in scored[POOL:]:
        if c.source in taken:
            continue
        if per.get(c.source, 0) < PER_DOCUMENT and len(per) < 2:
            per[c.source] = per.get(c.source, 0) + 1
            pool.append(c)
    return pool


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.source == b.source and a.start < b.end and b.start < a.end


def _shifted(values: tuple[Value, ...], by: int) -> tuple[Value, ...]:
    return tuple(Value(v.kind, v.text, v.number, v.unit, v.start + by) for v in values)


def _joined(reader: str, parts: list[Candidate], render, confidence: float) -> Candidate:
    first = parts[0]
    evidence, values = "", ()
    for c in parts:
        if evidence:
            evidence += JOIN
        values += _shifted(c.values, len(evidence))
        evidence += c.evidence
    ranks = [c.dense_rank for c in parts if c.dense_rank is not None]
    bm = [c.bm25_rank for c in parts if c.bm25_rank is not None]
    return Candidate(reader=reader, source=first.source, start=first.start, end=first.end, evidence=evidence,
                     context=" | ".join(dict.fromkeys(c.context for c in parts)), rank=min(c.rank for c in parts),
                     dense_rank=min(ranks) if ranks else None, bm25_rank=min(bm) if bm else None,
                     passage=" ".join(c.passage for c in parts)[:6000], values=values, confidence=confidence,
                     page=first.page, section=first.section, title=first.title, render=render)


def _render_one(q: AnalyzedQuery, c: Candidate, cites: Citations) -> Rendered:
    return c.render(cites) if c.render is not None else render_sentence(q, c, cites, lead=True)


def read_pairs(q: AnalyzedQuery, candidates: list[Candidate]) -> list[Candidate]:
    """Two statements that together answer a question asking for two. Each of the best few
    statements is paired with the statement that best covers the question's words it lacks
    ("ordförande" in one line, "sekreterare" in another), and with the best statement of another
    document (the same question about two meetings or two documents)."""
    if not asks_two(q) or len(candidates) < 2:
        return []
    terms = list(q.word_terms)
    singles = [c for c in candidates if c.reader not in ("pair", "arithmetic")]
    covers, weight = _coverage(terms, singles)
    rel = {id(c): relevance(q, c, weight) for c in singles}
    anchors = sorted(singles, key=lambda c: -rel[id(c)])[:ANCHORS]
    chosen: dict[tuple, tuple[Candidate, Candidate]] = {}
    for a in anchors:
        missing = frozenset(terms) - covers[id(a)]
        others = [b for b in singles if b is not a and not _overlaps(a, b)
                  and a.evidence not in b.evidence and b.evidence not in a.evidence]
        if not others:
            continue
        ranked = sorted(others, key=lambda b: (_asked_in_both(q, a, b),
                                               max((weight[t] for t in covers[id(b)] & missing), default=0.0),
                                               sum(weight[t] for t in covers[id(b)] & missing), rel[id(b)]), reverse=True)
        for b in ranked[:COMPLEMENTS]:
            if covers[id(b)] & missing or _asked_in_both(q, a, b):
                chosen.setdefault(_key(a, b), (a, b))
        elsewhere = [b for b in others if b.source != a.source]
        if elsewhere:  # the same question of another document is answered the same way: by the same reader
            b = max(elsewhere, key=lambda b: (_asked_in_both(q, a, b), b.reader == a.reader, rel[id(b)]))
            chosen.setdefault(_key(a, b), (a, b))
    out = []
    for a, b in list(chosen.values())[:MAX_PAIRS]:
        a, b = sorted((a, b), key=lambda c: (c.source, c.start))

        def render(cites: Citations, a=a, b=b) -> Rendered:
            ra, rb = _render_one(q, a, cites), _render_one(q, b, cites)
            return Rendered(f"{ra.text}\n\n{rb.text}", ra.figures + rb.figures, ra.warnings + rb.warnings)

        out.append(_joined("pair", [a, b], render, (a.confidence + b.confidence) / 2))
    return out


AGREE_POOL = 12     # statements of the asked value (best by the question's words) compared pairwise
AGREE_PAIRS = 3     # pairs proposed
SAME_QUANTITY = 0.05  # two values this close (relative) state one quantity, or one of them is wrong


def read_agreement(q: AnalyzedQuery, candidates: list[Candidate]) -> list[Candidate]:
    """For a question whether a value agrees ("Stämmer hyran i avtalet med den i beslutet?"): two
    statements of a value of the asked type and unit that are equal or nearly so, compared. A
    value stated twice with a small difference (12 450 against 12 540 kronor) is one quantity
    stated two ways, and the difference is the answer; two values far apart are two quantities.
    The pairs whose two statements together cover most of the question's words come first."""
    kind = q.answer_type
    if q.legacy.intent != "consistency" or kind not in T.NUMERIC_TYPES:
        return []
    terms = list(q.word_terms)
    singles = [c for c in candidates if c.reader in ("sentence", "figure") and c.states(kind)]
    if len(singles) < 2:
        return []
    covers, weight = _coverage(terms, singles)
    total = sum(weight.values()) or 1.0
    pool = sorted(singles, key=lambda c: -relevance(q, c, weight))[:AGREE_POOL]
    found: list[tuple[float, Candidate, Candidate, Value, Value]] = []
    for i, a in enumerate(pool):
        for b in pool[i + 1:]:
            if _overlaps(a, b) or a.evidence in b.evidence or b.evidence in a.evidence:
                continue
            close = [(va, vb) for va in a.states(kind) for vb in b.states(kind)
                     if va.number is not None and vb.number is not None and va.unit == vb.unit
                     and abs(va.number - vb.number) <= SAME_QUANTITY * max(abs(va.number), abs(vb.number))]
            if not close or all(va.number == 0 for va, _ in close):
                continue
            va, vb = min(close, key=lambda p: abs(p[0].number - p[1].number))
            cover = sum(weight[t] for t in covers[id(a)] | covers[id(b)]) / total
            found.append((cover, a, b, va, vb))
    found.sort(key=lambda x: -x[0])
    return [_compared(q, a, b, va, vb, cover) for cover, a, b, va, vb in found[:AGREE_PAIRS]]


def _compared(q: AnalyzedQuery, a: Candidate, b: Candidate, va: Value, vb: Value, cover: float) -> Candidate:
    """The comparison as a candidate; the reader's confidence is how much of the question the two
    statements cover (a value stated twice is a finding only about what the question names)."""
    (a, va), (b, vb) = sorted([(a, va), (b, vb)], key=lambda p: (p[0].source, p[0].start))
    unit = va.unit

    def render(cites: Citations) -> Rendered:
        ia = cites.add(a.source, a.title, a.section, a.evidence, a.page, a.start, a.end)
        ib = cites.add(b.source, b.title, b.section, b.evidence, b.page, b.start, b.end)
        quotes = f"”{a.evidence.strip()}” [{ia}] ”{b.evidence.strip()}” [{ib}]"
        if va.number == vb.number:
            return Rendered(f"{say(q.lang, 'values_agree', value=shown(va.number, unit), a=ia, b=ib)} {quotes}")
        _, diff, formula = subtract([(va, a), (vb, b)])
        rows = [FigureRow(label=figure_label(a, va), value=va.number, unit=unit, citation=ia),
                FigureRow(label=figure_label(b, vb), value=vb.number, unit=unit, citation=ib)]
        fig = FigureOut(label=figure_label(a, va), value=diff, unit=unit, formula=formula, citations=[ia, ib],
                        rows=rows)
        text = say(q.lang, "values_differ", first=shown(va.number, unit), second=shown(vb.number, unit), a=ia,
                   b=ib, diff=shown(diff, unit), formula=formula)
        return Rendered(f"{text} {quotes}", (fig,))

    joined = _joined("pair", [a, b], render, cover)
    return replace(joined, values=(va, vb) + joined.values)


def _coverage(terms: list[str], statements: list[Candidate]) -> tuple[dict[int, frozenset], dict[str, float]]:
    """Which of the question's words each statement (or its heading) has, and each word's weight:
    a word few statements have names what is asked ("protokollförare"); one most have is context
    (the body's name, the document's own town in every letterhead)."""
    covers = {id(c): frozenset(t for t in terms if vocabulary(c.evidence + " " + c.context).has(t))
              for c in statements}
    df = {t: sum(1 for c in statements if t in covers[id(c)]) for t in terms}
    return covers, {t: math.log(1 + len(statements) / (1 + df[t])) for t in terms}


def _key(a: Candidate, b: Candidate) -> tuple:
    return tuple(sorted([(a.source, a.start, a.end, a.reader), (b.source, b.start, b.end, b.reader)]))


def _asked_in_both(q: AnalyzedQuery, a: Candidate, b: Candidate) -> bool:
    """Both statements state a value of the asked type (two dates, two names, two amounts)."""
    kind = q.answer_type
    if kind in (T.PASSAGE, T.DECISION):
        return False
    return bool(a.states(kind)) and bool(b.states(kind))


def read_arithmetic(q: AnalyzedQuery, candidates: list[Candidate]) -> list[Candidate]:
    """A figure computed from stated values: the difference of two values of one kind and unit (in
    one statement or two), or the sum of every value of one unit in a stated list or row."""
    op = q.operation
    if op not in ("diff", "sum") or not q.numeric and op == "sum":
        return []
    pool = [c for c in _best(q, [c for c in candidates if c.reader in ("sentence", "figure", "structure")])
            if _numbers(c)][:4]
    out: list[Candidate] = []
    if op == "sum":
        for c in pool:
            vals = _list_values(c) or _named_values(q, c)
            if vals:
                out.append(_computed(q, "sum", [(v, c) for v in vals]))
        return out[:4]
    seen = set()
    terms = list(q.word_terms)
    rel = {id(c): relevance(q, c) for c in pool}
    found: list[tuple[bool, float, list]] = []
    for i, a in enumerate(pool):
        for b in pool[i:]:
            if a is not b and _overlaps(a, b):
                continue
            for va in _operands(q, a):
                for vb in _operands(q, b):
                    if (a is b and va.start >= vb.start) or va.unit != vb.unit or va.number == vb.number:
                        continue
                    na, nb = _counted(a, va), _counted(b, vb)
                    if na and nb and not (keys(na) & keys(nb)):
                        # counts of two things ("1,5 cykelplatser/lägenhet", "2,0 cykelplatser/radhus")
                        continue
                    key = (a.source, a.start, va.start, b.source, b.start, vb.start)
                    if key in seen:
                        continue
                    seen.add(key)
                    named = bool(na) and any(vocabulary(na).has(t) for t in terms)
                    found.append((named, (rel[id(a)] + rel[id(b)]) / 2, [(va, a), (vb, b)]))
    # counts of the thing the question names first ("… per radhus": two counts of places per
    # house), then the differences of the statements nearest the question's words (each statement
    # by its own words: two statements together always cover more of them than one); a bounded number
    found.sort(key=lambda x: (-x[0], -x[1]))  # stable: pairs in the order read break ties
    return [_computed(q, "diff", operands) for _, _, operands in found[:6]]


def _counted(c: Candidate, v: Value) -> str:
    """What a count counts, as printed after it ("2,0 cykelplatser/radhus"); '' for any other value."""
    return noun_after(c.evidence, v) if v.kind == T.COUNT else ""


def _list_values(c: Candidate) -> list[Value]:
    """The values of a stated list whose every item states one value of one unit ("Läxhjälp 0,4 mnkr;
    Simskola 1,1 mnkr"): only then is the list's total a sum of like things. A sentence that names
    several amounts for different purposes is no list to add up."""
    head, _, body = c.evidence.partition(": ")
    if not body or "; " not in body:
        return []
    offset = len(head) + 2
    items, at = [], offset
    for part in body.split("; "):
        items.append((at, at + len(part)))
        at += len(part) + 2
    nums = _numbers(c)
    found = []
    for a, b in items:
        inside = [v for v in nums if a <= v.start < b]
        if len(inside) != 1:
            return []
        found.append(inside[0])
    return found if len({v.unit for v in found}) == 1 else []


LABEL_WORDS = 4   # the words before a value that say what it is of ("underhållsmedel om 700 000 kronor")


def _named_values(q: AnalyzedQuery, c: Candidate) -> list[Value]:
    """The values of the asked kind and one unit that a statement names by a word of the question
    ("lånemedel om 4 mnkr samt underhållsmedel om 0,7 mnkr år 2029 och underhållsmedel 0,3 mnkr år 2030"
    asked "hur mycket underhållsmedel sammanlagt"): each value is known by the few words before it
    (after the value before it), and the question's words that tell the values apart (named before
    some, not all) pick them. Two or more picked make a sum of like things."""
    labels, end = [], 0
    for v in _numbers(c):
        labels.append((v, vocabulary(" ".join(c.evidence[end:v.start].split()[-LABEL_WORDS:]))))
        end = v.start + len(v.text)
    labels = [(v, words) for v, words in labels if v.kind == q.answer_type or q.answer_type not in T.NUMERIC_TYPES]
    if len(labels) < 2:
        return []
    named = {t: {id(v) for v, words in labels if words.has(t) > 0} for t in q.word_terms}
    telling = [t for t, which in named.items() if 0 < len(which) < len(labels)]
    picked = {i for t in telling for i in named[t]}
    found = [v for v, _ in labels if id(v) in picked]
    return found if len(found) >= 2 and len({v.unit for v in found}) == 1 else []


def _operands(q: AnalyzedQuery, c: Candidate) -> list[Value]:
    """The numbers of a statement that a difference may be taken of: not those the question itself
    gives, which name what is compared ("zon 4 än i zon 2", "mellan steg 1 och steg 3")."""
    return [v for v in _numbers(c) if not given(q.text, v)]


def _numbers(c: Candidate) -> list[Value]:
    """The numbers a statement states that can take part in arithmetic (not years, not identifiers)."""
    return [v for v in c.values if v.kind in T.NUMERIC_TYPES and v.number is not None][:12]


def _computed(q: AnalyzedQuery, op: str, operands: list[tuple[Value, Candidate]]) -> Candidate:
    if op == "diff":
        operands, value, formula = subtract(operands)
    else:
        value = round(sum(v.number for v, _ in operands), 6)
        formula = " + ".join(format_number(v.number) for v, _ in operands)
    unit = operands[0][0].unit
    kind = operands[0][0].kind
    parts = list(dict.fromkeys(c for _, c in operands))

    def render(cites: Citations) -> Rendered:
        ids = {id(c): cites.add(c.source, c.title, c.section, c.evidence, c.page, c.start, c.end) for c in parts}
        refs = "".join(f"[{ids[id(c)]}]" for c in parts)
        rows = [FigureRow(label=figure_label(c, v), value=v.number, unit=unit, citation=ids[id(c)])
                for v, c in operands]
        fig = FigureOut(label=figure_label(operands[0][1], operands[0][0]), value=value, unit=unit, formula=formula,
                        citations=list(ids.values()), rows=rows)
        key = "difference" if op == "diff" else "sum_of"
        quotes = " ".join(f"”{c.evidence.strip()}” [{ids[id(c)]}]" for c in parts)
        return Rendered(f"{say(q.lang, key, value=shown(value, unit), formula=formula)} {refs}. {quotes}", (fig,))

    computed = Value(kind, format_number(value), value, unit, 0)
    joined = _joined("arithmetic", parts, render, 0.5)
    return replace(joined, values=(computed,) + joined.values)


# the grammar of a question asking for a number computed from a vote's counts
TALLY_TOTAL = re.compile(r"\b(sammanlagt|totalt|tillsammans|sammantaget|in total|altogether)\b", re.I)
TALLY_NO = re.compile(r"\b(nej|no)\b", re.I)
TALLY_YES = re.compile(r"\b(ja|yes)\b", re.I)


def read_tallies(q: AnalyzedQuery, candidates: list[Candidate]) -> list[Candidate]:
    """For a question about a vote that asks how many took part, or what share voted ja (or nej):
    that number, computed from each of the best counted results among the statements, with the
    abstentions stated right after a result counted in."""
    if q.answer_type not in (T.COUNT, T.PERCENT) or not T.ABOUT_VOTE.search(q.text):
        return []
    share = q.answer_type == T.PERCENT
    if not share and not TALLY_TOTAL.search(q.text):
        return []
    side = "nej" if TALLY_NO.search(q.text) and not TALLY_YES.search(q.text) else "ja"
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for c in _best(q, [c for c in candidates if c.reader == "sentence" and c.states(T.VOTE)]):
        at = c.passage.find(c.evidence[:40]) if c.passage else -1
        text = c.passage[at:] if at >= 0 else c.evidence
        t = tally(text)
        if t is None or t.start >= len(c.evidence) or (c.source, c.start) in seen:
            continue
        seen.add((c.source, c.start))
        stated = re.sub(r"\s+", " ", text[:max(t.end, len(c.evidence))]).strip()
        if share:
            part = t.yes if side == "ja" else t.no
            if t.yes + t.no == 0:
                continue
            value = round(100.0 * part / (t.yes + t.no), 2)
            formula = f"{part} / ({t.yes} + {t.no}) × 100"
            kind, unit, key = T.PERCENT, "%", "vote_share"
        else:
            counts = [t.yes, t.no] + ([t.abstain] if t.abstain is not None else [])
            value = float(sum(counts))
            formula = " + ".join(str(n) for n in counts)
            kind, unit, key = T.COUNT, None, "vote_total"
        out.append(_tallied(q, c, stated, t, value, formula, kind, unit, key, side))
    return out[:3]


def _tallied(q: AnalyzedQuery, c: Candidate, stated: str, t: Tally, value: float, formula: str, kind: str,
             unit: str | None, key: str, side: str) -> Candidate:
    written = format_number(value)
    counts = [("ja", t.yes), ("nej", t.no)] + ([("avstår", t.abstain)] if t.abstain is not None else [])

    def render(cites: Citations) -> Rendered:
        n = cites.add(c.source, c.title, c.section, stated, c.page, c.start, c.start + len(stated))
        rows = [FigureRow(label=label, value=float(count), unit=None, citation=n) for label, count in counts]
        fig = FigureOut(label=figure_label(c, c.states(T.VOTE)[0]), value=value, unit=unit, formula=formula,
                        citations=[n], rows=rows)
        return Rendered(f"{say(q.lang, key, value=written, formula=formula, side=side)} [{n}]: ”{stated}”", (fig,))

    return replace(c, reader="arithmetic", evidence=stated, confidence=0.5, render=render,
                   values=(Value(kind, written, value, unit, 0),) + c.values)
