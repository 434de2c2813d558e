"""The readers around the older engines: meeting structure, table figures and sum checks.

Each proposes at most one `Candidate` with its evidence and a `render` that writes it with
numbered citations; the ranker weighs them against the sentence reader's candidates. They read
one `Corpus` snapshot.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import replace

from index.text import tokens, words
from ingest.model import Fact

from .analysis import DIFF_WORDS, SHARE_WORDS, SUBTRACT_WORDS, SUM_WORDS, Query, content_terms
from .candidates import Candidate, Rendered
from .compose import Citations, clean
from .corpus import Corpus
from .figures import FigureEngine, FigureResult
from .i18n import explain, say
from .query import AMOUNT, COUNT, DECISION, PERCENT, AnalyzedQuery
from .retrieval import Hit
from .schemas import FigureOut, FigureRow
from .statements import Value, values
from .structured import (StructuredAnswer, agenda_answer, agreement_answer, decision_answer, dnr_answer,
                         meeting_answer)

FOCUS_MAX_DF = 6


FIGURE_SCALE = 8.0  # an engine score this high is half-way sure (4 and 16 scored the same, ±1)


def _squash(score: float) -> float:
    """The figure engine's match score as the reader's confidence, 0..1: how well its best row
    matched the question, not just that it found one."""
    return max(0.0, score) / (max(0.0, score) + FIGURE_SCALE)


def _unit_kind(unit: str | None) -> str:
    if unit == "%":
        return PERCENT
    if unit and unit.lower() in ("kr", "tkr", "mnkr", "mkr", "mdkr", "euro", "€"):
        return AMOUNT
    return COUNT


class EngineReaders:
    """The structure, figure and check readers over one corpus snapshot."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    def read(self, q: AnalyzedQuery, hits: list[Hit], sources: set[str] | None) -> list[Candidate]:
        ranks = {h.chunk.chunk_id: i for i, h in enumerate(hits)}
        found = [*self.structure(q, sources), *self.figures(q, hits, sources, ranks), *self.checks(q, hits, sources)]
        return [_retrieved_as(c, hits) for c in found]

    def structure(self, q: AnalyzedQuery, sources: set[str] | None) -> list[Candidate]:
        lq = q.legacy
        docs = [d for d in self.corpus.docs if sources is None or d["source"] in sources]
        structured = meeting_answer(lq, docs, self.corpus.texts)
        if structured is None and lq.intent == "decision":
            structured = decision_answer(lq, docs, self.corpus.texts)
            if structured is None and ITEM_NUMBER_Q.search(lq.search_text):
                structured = agenda_answer(lq, docs, self.corpus.texts)
        elif structured is None and (lq.intent in ("agenda", "lookup") or (lq.arenden and not lq.wants_amount)):
            structured = agenda_answer(lq, docs, self.corpus.texts, strict=lq.intent != "agenda")
        structured = (structured or dnr_answer(lq, docs, self.corpus.texts)
                      or agreement_answer(lq, docs, self.corpus.texts, self.corpus.engine.entities_in(lq)))
        if not structured or not structured.quotes:
            return []
        first = structured.quotes[0]
        evidence = " ".join(qt.text for qt in structured.quotes)[:2000]
        shown = re.sub(r"\{q:\d+\}", "", structured.text)
        return [Candidate(reader="structure", source=first.source, start=first.start, end=first.end,
                          evidence=shown + " " + evidence, context=first.title + " > " + first.section, rank=0,
                          values=tuple(values(shown)) + ((Value(DECISION, shown, None, None, 0),) if lq.intent == "decision"
                                                         else ()),
                          confidence=1.0, section=first.section, title=first.title,
                          render=lambda cites, s=structured: Rendered(self._render_quotes(s, cites)))]

    def figures(self, q: AnalyzedQuery, hits: list[Hit], sources: set[str] | None,
                      ranks: dict[str, int]) -> list[Candidate]:
        lq = q.legacy
        if not (lq.wants_amount or q.numeric):  # the older analysis' amount words, or a number asked for
            return []
        result = self._figures(lq, hits, sources)
        if result is None or not result.facts:
            return []
        chunks = self.corpus.fact_chunks()
        first = result.facts[0]
        chunk = chunks.get(first.fact_id)
        rank = min((ranks.get(c.chunk_id, 99) for f in result.facts if (c := chunks.get(f.fact_id))), default=99)
        # a bare number (a table without a unit) may be a count or an amount: the question decides
        kinds = tuple(Value(kind, f"{fig.value}", fig.value, fig.unit, 0) for fig in result.figures
                      for kind in ((_unit_kind(fig.unit),) if fig.unit else (COUNT, AMOUNT)))
        evidence = " ".join(dict.fromkeys(_row_label(f) + " " + clean(f.quote) for f in result.facts[:8]))
        return [Candidate(reader="figure", source=first.source, start=first.start, end=first.end,
                          evidence=evidence[:2000], context=(chunk.title + " > " + chunk.section) if chunk else "",
                          rank=rank, values=kinds, confidence=_squash(result.score), page=first.page, section=first.section or "",
                          title=self.corpus.titles.get(first.source, first.source),
                          render=lambda cites, r=result: self._render_figures(lq, r, cites))]

    def _render_figures(self, lq: Query, result: FigureResult, cites: Citations) -> Rendered:
        parts = [self._render(result.sentence, result.facts, cites)]
        figures, warnings = [], []
        for fig in result.figures:
            ids = [self._cite_fact(f, cites) for f in fig.facts]
            rows = [FigureRow(label=_row_label(f), value=f.value, unit=f.unit, citation=i, row=clean(f.label),
                              column=f.column or None, year=f.year) for f, i in zip(fig.facts, ids)]
            figures.append(FigureOut(label=fig.label, value=fig.value, unit=fig.unit, formula=fig.formula,
                                     citations=ids, rows=rows))
        for f in result.corrected:
            ref = self._cite_fact(f, cites)
            parts.append(say(lq.lang, "note") + " " + say(lq.lang, "corrected", quote=clean(f.label), ref=ref,
                                                          by=f.superseded_by))
        for d in result.warnings:
            ref = cites.add(d.source, self.corpus.titles.get(d.source, d.source), d.table, d.explanation, None,
                            d.start, d.end)
            warnings.append(d.explanation)
            parts.append(f"{say(lq.lang, 'note')} {explain(d, lq.lang)} [{ref}]")
        return Rendered(" ".join(parts), tuple(figures), tuple(warnings))

    def checks(self, q: AnalyzedQuery, hits: list[Hit], sources: set[str] | None = None) -> list[Candidate]:
        lq = q.legacy
        if lq.intent != "consistency":
            return []
        found = self._consistency(lq, hits, sources)
        if not found:
            return []
        d = found[0]
        text = self.corpus.texts.get(d.source, "")
        quote = text[d.start:d.end] if text else d.explanation

        def render(cites: Citations) -> Rendered:
            out, warnings = [], []
            for x in found:
                body = self.corpus.texts.get(x.source, "")
                ref = cites.add(x.source, self.corpus.titles.get(x.source, x.source), x.table,
                                body[x.start:x.end] if body else x.explanation, None, x.start, x.end)
                warnings.append(x.explanation)
                out.append(say(lq.lang, "consistency_no", explanation=explain(x, lq.lang), formula=x.formula)
                           + f" [{ref}]")
            return Rendered(" ".join(out), (), tuple(warnings))

        return [Candidate(reader="check", source=d.source, start=d.start, end=d.end,
                          evidence=f"{d.row} {d.table} {quote} {d.explanation}", context=d.table, rank=0,
                          values=tuple(values(d.explanation)), confidence=1.0, section=d.table,
                          title=self.corpus.titles.get(d.source, d.source), render=render)]

    def _support(self, hits: list[Hit]) -> dict[str, float]:
        support: dict[str, float] = {}
        for rank, h in enumerate(hits[:8]):
            facts = self.corpus.facts_by_source.get(h.chunk.source, [])
            starts = [f.start for f in facts]
            i = bisect.bisect_left(starts, h.chunk.start)
            bonus = 2.5 / (1 + 0.5 * rank)
            while i < len(facts) and facts[i].start < h.chunk.end:
                key = facts[i].source + f"#{facts[i].start}"
                support[key] = max(support.get(key, 0.0), bonus)
                i += 1
        return support

    def _focus(self, q: Query, engine: FigureEngine) -> list[str]:
        """The question's rarest content word(s) beyond the party and body it names."""
        kept = " ".join(w for w in words(q.base_text) if not MEASURE.fullmatch(w) and not MEASURE.search(w + " "))
        qtoks = set(content_terms(Query(kept, kept, q.lang, [], [], base_text=kept)))
        qtoks -= engine._entity_tokens(engine.entities_in(q))
        for src in engine.named_documents(set(tokens(q.base_text))):
            qtoks -= engine.body_tokens.get(src, frozenset())
        df = self.corpus.index.bm25.df
        known = [t for t in qtoks if t in df and not t.isdigit()]
        if not known:
            return []
        # only a rare, topical word is a reliable focus (a near-miss names one: "snöröjning", "lokalhyra")
        rare = [t for t in known if df[t] <= FOCUS_MAX_DF]
        return [t for t in rare if df[t] == min(df[x] for x in rare)]

    def _figures(self, q: Query, hits: list[Hit], sources: set[str] | None) -> FigureResult | None:
        engine = self.corpus.engine_for(sources)
        return engine.answer(q, self._support(hits), focus=self._focus(q, engine), context=self._passage())

    def _passage(self):
        chunks = self.corpus.fact_chunks()
        return lambda f: c.index_text() if (c := chunks.get(f.fact_id)) else ""

    def warm(self) -> None:
        """Read what each fact is about once, before the first question does."""
        engine, passage = self.corpus.engine, self._passage()
        for f in engine.facts:
            engine.about(f, passage)

    def _consistency(self, q: Query, hits: list[Hit], allowed: set[str] | None = None) -> list:
        """The table rows whose printed sums do not add up that the question is about (only in
        the documents the answer may use)."""
        qt = set(tokens(q.search_text))
        sources = {h.chunk.source for h in hits[:5]}
        scored = []
        for d in self.corpus.index.discrepancies:
            if allowed is not None and d.source not in allowed:
                continue
            overlap = len(qt & set(tokens(d.row + " " + d.table)))
            if overlap:
                scored.append((overlap + (1 if d.source in sources else 0), d))
        if not scored:
            return []
        top = max(sc for sc, _ in scored)
        return [d for _, d in sorted([x for x in scored if x[0] == top], key=lambda x: x[1].start)[:3]]

    def _cite_fact(self, f: Fact, cites: Citations) -> int:
        """A table row is cited as printed; an amount in running text by its whole sentence."""
        start, end, quote = f.start, f.end, f.quote
        text = self.corpus.texts.get(f.source, "")
        if f.kind == "text" and text:
            at = text.find(f.quote[:40], max(0, f.start - 600))
            if 0 <= at <= f.start:  # the sentence the fact was read from
                start, end, quote = at, f.end, text[at:f.end]
                stops = [i for i in (text.find(". ", f.end), text.find("\n", f.end)) if i >= 0]
                end = min(stops) + 1 if stops else len(text)
                quote = text[start:end]
        return cites.add(f.source, self.corpus.titles.get(f.source, f.source), f.section or "", quote, f.page, start, end)

    def _render_quotes(self, answer: StructuredAnswer, cites: Citations) -> str:
        def repl(m: re.Match) -> str:
            qt = answer.quotes[int(m.group(1))]
            return f"[{cites.add(qt.source, qt.title, qt.section, qt.text, None, qt.start, qt.end)}]"

        return re.sub(r"\{q:(\d+)\}", repl, answer.text)

    def _render(self, sentence: str, facts: list[Fact], cites: Citations) -> str:
        by_id = {f.fact_id: f for f in facts}
        seen: set[int] = set()

        def repl(m: re.Match) -> str:
            n = self._cite_fact(by_id[m.group(1)], cites)
            if n in seen:
                return ""
            seen.add(n)
            return f"[{n}]"

        text = re.sub(r"\{c:(\w+)\}", repl, sentence)
        return re.sub(r" +([,;.])(?=\s|$)", r"\1", text)  # a row already cited leaves no gap


def _retrieved_as(c: Candidate, hits: list[Hit]) -> Candidate:
    """The candidate with the retrieval ranks of the best passage that holds its evidence (99 and
    none when no retrieved passage does): an engine's answer is judged by the same signals as a
    sentence, never given a rank it did not earn."""
    for i, h in enumerate(hits):
        ch = h.chunk
        if ch.source == c.source and ch.start <= c.start < max(ch.end, ch.start + 1):
            return replace(c, rank=min(c.rank, i) if c.reader == "figure" else i,
                           dense_rank=h.dense_rank, bm25_rank=h.bm25_rank)
    return replace(c, rank=c.rank if c.reader == "figure" else 99)


def _row_label(f: Fact) -> str:
    """`Summa Umeå kommun, 2027 (**), Vän i Umeå` for a cell; the clause for an amount in text."""
    if f.kind == "text":
        return clean(f.label)[:120]
    column = re.sub(r"\s*\(\**\)\s*$", "", (f.column or "").strip())  # footnote marks such as "(**)"
    return ", ".join(x for x in (f.label, column, f.entity or "") if x)


# words that say what is measured or computed, not what about ("betalar", "sammanlagt")
MEASURE = re.compile("|".join(r.pattern for r in (SUM_WORDS, DIFF_WORDS, SUBTRACT_WORDS, SHARE_WORDS)) +
                     r"|\b(betal\w*|få|får|fick|bidr\w*|kost\w*|uppg\w*|ge|ger|gav|lämna\w*|avsat\w*|"
                     r"beräkn\w*|värd\w*|räkna\w*|pay|paid|get|cost)\b", re.I)
ITEM_NUMBER_Q = re.compile(r"\b(ärendenummer|vilket ärende|vilken punkt|dagordning\w*)", re.I)
