"""The assistant, as a pipeline: analyse → retrieve → read → rank → compose.

`ask` reads as the pipeline. Readers (the sentence reader, and the structure, figure and check
engines wrapped here) propose `Candidate`s with evidence spans; one fitted `Ranker` orders
them and abstains below its threshold; `compose` writes the answer with numbered citations.
The default answer is extractive and deterministic.
"""
from __future__ import annotations

import bisect
import re
from collections import OrderedDict, defaultdict

import numpy as np
from wordfreq import zipf_frequency

from rapidfuzz import process

from index.store import CouncilIndex
from index.text import fold, stem, tokens, words
from ingest.model import Chunk, Fact

from .analysis import DIFF_WORDS, SHARE_WORDS, SUM_WORDS, Query, analyse, content_terms, detect_language
from .candidates import Candidate, Rendered, read_sentences
from .combine import read_arithmetic, read_pairs
from .roles import read_roles
from .compose import Citations, clean, compose
from .figures import FigureEngine, FigureResult
from .i18n import explain, say
from .provenance import Provenance
from .query import AMOUNT, COUNT, DECISION, PERCENT, AnalyzedQuery, analyze
from .ranker import FEATURES, Evidence, Ranker, Scored
from .retrieval import Hit, retrieve
from .schemas import AskResponse, ChatMessage, FigureOut, FigureRow, Filters
from .statements import Value, values
from .words import compound_parts, lemma
from .structured import (StructuredAnswer, agenda_answer, agreement_answer, decision_answer, dnr_answer,
                         meeting_answer)

FOCUS_MAX_DF = 6
SENTENCE_PASSAGES = 10   # passages whose sentences are read as candidates
MAX_HISTORY = 6          # user messages a chat answer reads back over
MAX_FILTER_ENGINES = 16  # figure engines kept for filtered questions (bounded)
CONTINUES = re.compile(r"^\s*(och|men|samt|än|and|but|what about|how about)\b", re.I)
EVERYDAY = 4.0           # Zipf frequency in Swedish above which a word is too common to name a topic
SENTENCE_CACHE = 50_000  # sentence vectors kept in memory (about 75 MB at 384 floats)


def _unit_kind(unit: str | None) -> str:
    if unit == "%":
        return PERCENT
    if unit and unit.lower() in ("kr", "tkr", "mnkr", "mkr", "mdkr", "euro", "€"):
        return AMOUNT
    return COUNT


class Assistant:
    def __init__(self, index: CouncilIndex) -> None:
        self.index = index
        self._engine: FigureEngine | None = None
        self._generation = -1
        self._facts_by_source: dict[str, list[Fact]] = {}
        self._docs: list[dict] = []
        self._texts: dict[str, str] = {}
        # derived once per index state (reset in _sync), filled on first use
        self._title_map: dict[str, str] = {}
        self._fact_chunks: dict[str, Chunk] | None = None
        self._engines: dict[frozenset[str], FigureEngine] = {}  # for filtered questions
        self._evidence_cache: Evidence | None = None
        self._meta: dict[str, dict] = {}
        self._sentence_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.ranker = Ranker.load()
        self._provenance = Provenance(index)

    # -- state ------------------------------------------------------------------------
    def _sync(self) -> None:
        self.index.refresh()
        if self._generation != self.index._loaded_generation or self._engine is None:
            self._fact_chunks, self._engines = None, {}
            self._evidence_cache = None

            by_source = defaultdict(list)
            for f in self.index.facts:
                by_source[f.source].append(f)
            self._facts_by_source = {s: sorted(v, key=lambda f: f.start) for s, v in by_source.items()}
            self._docs = [d for d in (self.index.document(x["source"]) for x in self.index.documents()) if d]
            self._texts = {d["source"]: self.index.document_text(d["source"]) or "" for d in self._docs}
            self._title_map = {d["source"]: d["title"] for d in self._docs}
            self._meta = {d["source"]: d.get("metadata") or {} for d in self._docs}
            self._engine = FigureEngine(self.index.facts, self.index.discrepancies, self._title_map,
                                        self.index.fact_vectors)
            self._generation = self.index._loaded_generation

    # -- public -----------------------------------------------------------------------
    def ask(self, question: str, filters: Filters | None = None, reply_lang: str | None = None, *,
            levels: frozenset[str] | None = None) -> AskResponse:
        """`levels`: the access levels the caller may read (None: all, for in-process operator use)."""
        # every answer's citations say where they sit (section, §, page, table header): one place
        return self._provenance.annotate(self._answer(question, filters, reply_lang, levels))

    def _answer(self, question: str, filters: Filters | None = None, reply_lang: str | None = None,
                levels: frozenset[str] | None = None) -> AskResponse:
        """analyse → retrieve → read → rank → compose."""
        self._sync()
        if not self.index.chunks:
            return AskResponse(answer=say(reply_lang or detect_language(question), "no_documents"), abstained=True,
                               question=question)
        q, hits, candidates = self.read(question, filters, reply_lang, levels=levels)
        admissible, missing = self.admit(q, candidates)
        if not admissible and missing:  # about a name, word, body or organisation no evidence has
            return AskResponse(answer=say(q.lang, "abstain_partial", missing=", ".join(missing)), abstained=True,
                               question=question)
        ranked = self.ranker.rank(q, admissible, self._ranker_evidence(), self.similarity(q))
        if self.ranker.abstains(ranked):
            if missing:  # the documents that would answer are about another body or municipality
                return AskResponse(answer=say(q.lang, "abstain_partial", missing=", ".join(missing)),
                                   abstained=True, question=question)
            return self._abstain(q, ranked, question)
        cites = Citations()
        answer, figures, warnings = compose(q, ranked, cites)
        return AskResponse(answer=answer, abstained=False, figures=figures, citations=cites.items,
                           warnings=warnings, question=question)

    def read(self, question: str, filters: Filters | None = None, reply_lang: str | None = None, *,
             levels: frozenset[str] | None = None) -> tuple[AnalyzedQuery, list[Hit], list[Candidate]]:
        """The question analysed, the passages retrieved and every reader's candidate answers."""
        self._sync()
        legacy = analyse(question)
        if reply_lang:  # a follow-up in English about a Swedish question is answered in English
            legacy.lang = reply_lang
        self._correct_spelling(legacy)
        legacy.vector = self.index.query_vector(legacy.search_text)
        q = analyze(question, legacy)
        sources = self._sources(filters, levels)
        hits = retrieve(self.index, legacy, k=max(self.index.settings.top_k, SENTENCE_PASSAGES), sources=sources)
        ranks = {h.chunk.chunk_id: i for i, h in enumerate(hits)}
        candidates = [*self._read_structure(q, sources), *self._read_figures(q, hits, sources, ranks),
                      *self._read_checks(q, hits, sources), *read_sentences(q, hits, SENTENCE_PASSAGES)]
        first = {}
        for i, h in enumerate(hits):
            first.setdefault(h.chunk.source, i)
        candidates += read_roles(q, [d for d in self._docs if sources is None or d["source"] in sources], self._texts,
                                 first)
        candidates += [*read_pairs(q, candidates), *read_arithmetic(q, candidates)]  # answers of two statements
        return q, hits, candidates

    def admit(self, q: AnalyzedQuery, candidates: list[Candidate]) -> tuple[list[Candidate], list[str]]:
        """The candidates that may answer, and what the question names that the evidence lacks.
        A name or a word no document has means nothing can answer; evidence from a document that
        never names the body or organisation asked about cannot answer."""
        strangers = self._unknown_names(q) or self._unknown_words(q)
        if strangers:
            return [], strangers
        return self._admissible(q, candidates)

    def _unknown_names(self, q: AnalyzedQuery) -> list[str]:
        """Names in the question that no ingested document mentions, nor anything spelt nearly so."""
        vocab = self.index.bm25.vocabulary
        out = []
        for name in (*q.names, *q.organisations):
            for part in re.split(r"[\s-]+", name):
                t = tokens(part)
                if not t or len(part) < 4 or t[0] in vocab:
                    continue
                pool = [v for v in vocab if v[:2] == t[0][:2] and abs(len(v) - len(t[0])) <= 2]
                if not (pool and process.extractOne(t[0], pool, score_cutoff=84)):
                    out.append(name)
                    break
        return list(dict.fromkeys(out))

    def _unknown_words(self, q: AnalyzedQuery) -> list[str]:
        """A Swedish content word of six letters or more, not an everyday one, that no document has, in any inflection,
        as a compound of known words, or spelt nearly so ("kanelbullar", "isbanan" once the only
        document about the ice rink is gone): nothing can be about it."""
        if q.lang != "sv":
            return []  # English words are judged by meaning, not letters
        vocab = self.index.bm25.vocabulary
        out = []
        for term in q.terms:
            if len(term) < 6 or any(ch.isdigit() for ch in term) or zipf_frequency(term.lower(), "sv") >= EVERYDAY:
                continue  # an everyday word ("betalar", "beslutade") says how, not what, is asked
            forms = {tokens(term)[0] if tokens(term) else term, stem(lemma(term))}
            parts = compound_parts(term)
            if forms & vocab or (parts and all(stem(p) in vocab for p in parts)):
                continue
            if any(len(f) >= 4 and any(f in v for v in vocab) for f in forms):
                continue  # a part of a compound the documents use ("driften" in "driftkostnaden")
            t = next(iter(forms))
            pool = [v for v in vocab if v[:2] == t[:2] and abs(len(v) - len(t)) <= 2]
            if not (pool and process.extractOne(t, pool, score_cutoff=84)):
                out.append(term)
        return out

    def _admissible(self, q: AnalyzedQuery, candidates: list[Candidate]) -> tuple[list[Candidate], list[str]]:
        """Only evidence from documents of the bodies and organisations the question names."""
        if not q.bodies and not q.organisations:
            return candidates, []
        ev = self._ranker_evidence()
        kept, missing = [], []
        for c in candidates:
            gone = ev.missing_names(q, c, self._meta.get(c.source, {}))
            if gone:
                missing.extend(x for x in gone if x not in missing)
            else:
                kept.append(c)
        return kept, missing

    def similarity(self, q: AnalyzedQuery):
        """Cosine between the question and each text, by the index's embedder; sentence vectors
        are kept in a bounded cache, so a passage asked about again costs nothing."""
        qv = q.legacy.vector

        def sims(texts: list[str]) -> list[float]:
            if qv is None:
                return [0.0] * len(texts)
            # read once into a local: another thread may evict an entry between two looks
            got = {t: self._sentence_vectors.get(t) for t in dict.fromkeys(texts)}
            missing = [t for t, v in got.items() if v is None]
            if missing:
                for t, v in zip(missing, self.index.embedder.embed_passages(missing)):
                    got[t] = v
                    self._sentence_vectors[t] = v
                while len(self._sentence_vectors) > SENTENCE_CACHE:
                    try:
                        self._sentence_vectors.popitem(last=False)
                    except KeyError:  # emptied by another thread meanwhile
                        break
            return [float(np.dot(got[t], qv)) for t in texts]

        return sims

    def _abstain(self, q: AnalyzedQuery, ranked: list[Scored], question: str) -> AskResponse:
        """No candidate answers well enough: say so; for an amount, show the nearest passage."""
        if q.numeric and ranked and ranked[0].features[FEATURES.index("doc_cover")] >= 0.8:
            near = next((s.candidate for s in ranked if s.candidate.reader == "sentence"), None)
            if near is not None:
                cites = Citations()
                n = cites.add(near.source, near.title, near.section, near.evidence, near.page, near.start, near.end)
                text = say(q.lang, "no_figure") + say(q.lang, "related") + f"{clean(near.evidence)} [{n}]"
                return AskResponse(answer=text, abstained=True, citations=cites.items, question=question)
        return AskResponse(answer=say(q.lang, "abstain"), abstained=True, question=question)

    def _ranker_evidence(self) -> Evidence:
        if self._evidence_cache is None:
            bm = self.index.bm25
            self._evidence_cache = Evidence(bm.idf, lambda s: self._texts.get(s, ""), lambda t: t in bm.vocabulary,
                                            {s: tuple(m.get("organisations") or ()) for s, m in self._meta.items()})
        return self._evidence_cache

    # -- readers around the structure, figure and check engines ---------------------------
    def _read_structure(self, q: AnalyzedQuery, sources: set[str] | None) -> list[Candidate]:
        lq = q.legacy
        docs = [d for d in self._docs if sources is None or d["source"] in sources]
        structured = meeting_answer(lq, docs, self._texts)
        if structured is None and lq.intent == "decision":
            structured = decision_answer(lq, docs, self._texts)
            if structured is None and ITEM_NUMBER_Q.search(lq.search_text):
                structured = agenda_answer(lq, docs, self._texts)
        elif structured is None and (lq.intent in ("agenda", "lookup") or (lq.arenden and not lq.wants_amount)):
            structured = agenda_answer(lq, docs, self._texts, strict=lq.intent != "agenda")
        structured = (structured or dnr_answer(lq, docs, self._texts)
                      or agreement_answer(lq, docs, self._texts, self._engine.entities_in(lq)))
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

    def _read_figures(self, q: AnalyzedQuery, hits: list[Hit], sources: set[str] | None,
                      ranks: dict[str, int]) -> list[Candidate]:
        lq = q.legacy
        if not lq.wants_amount:
            return []
        result = self._figures(lq, hits, sources)
        if result is None or not result.facts:
            return []
        chunks = self._chunks_of_facts()
        first = result.facts[0]
        chunk = chunks.get(first.fact_id)
        rank = min((ranks.get(c.chunk_id, 99) for f in result.facts if (c := chunks.get(f.fact_id))), default=99)
        kinds = tuple(Value(_unit_kind(fig.unit), f"{fig.value}", fig.value, fig.unit, 0) for fig in result.figures)
        evidence = " ".join(dict.fromkeys(_row_label(f) + " " + clean(f.quote) for f in result.facts[:8]))
        return [Candidate(reader="figure", source=first.source, start=first.start, end=first.end,
                          evidence=evidence[:2000], context=(chunk.title + " > " + chunk.section) if chunk else "",
                          rank=rank, values=kinds, confidence=1.0, page=first.page, section=first.section or "",
                          title=self._title_map.get(first.source, first.source),
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
            ref = cites.add(d.source, self._title_map.get(d.source, d.source), d.table, d.explanation, None,
                            d.start, d.end)
            warnings.append(d.explanation)
            parts.append(f"{say(lq.lang, 'note')} {explain(d, lq.lang)} [{ref}]")
        return Rendered(" ".join(parts), tuple(figures), tuple(warnings))

    def _read_checks(self, q: AnalyzedQuery, hits: list[Hit], sources: set[str] | None = None) -> list[Candidate]:
        lq = q.legacy
        if lq.intent != "consistency":
            return []
        found = self._consistency(lq, hits, sources)
        if not found:
            return []
        d = found[0]
        text = self._texts.get(d.source, "")
        quote = text[d.start:d.end] if text else d.explanation

        def render(cites: Citations) -> Rendered:
            out, warnings = [], []
            for x in found:
                body = self._texts.get(x.source, "")
                ref = cites.add(x.source, self._title_map.get(x.source, x.source), x.table,
                                body[x.start:x.end] if body else x.explanation, None, x.start, x.end)
                warnings.append(x.explanation)
                out.append(say(lq.lang, "consistency_no", explanation=explain(x, lq.lang), formula=x.formula)
                           + f" [{ref}]")
            return Rendered(" ".join(out), (), tuple(warnings))

        return [Candidate(reader="check", source=d.source, start=d.start, end=d.end,
                          evidence=f"{d.row} {d.table} {quote} {d.explanation}", context=d.table, rank=0,
                          values=tuple(values(d.explanation)), confidence=1.0, section=d.table,
                          title=self._title_map.get(d.source, d.source), render=render)]

    def chat(self, messages: list[ChatMessage], filters: Filters | None = None, *,
             levels: frozenset[str] | None = None) -> AskResponse:
        """The last user message, read in the light of the conversation. A message is a follow-up
        when it says so ("Och 2028?", "What about …") or when, asked alone, nothing answers it
        ("Vilka reserverade sig?"); then it is resolved against the resolved question before it.
        A question that is answerable on its own is never mixed with earlier ones."""
        self._sync()
        users = [m.content for m in messages if m.role == "user"][-MAX_HISTORY:]
        question = users[0]
        for current in users[1:]:
            if CONTINUES.match(current) or not self._answerable_alone(current, filters, levels):
                question = self._resolve(question, current)
            else:
                question = current
        return self.ask(question, filters, reply_lang=detect_language(users[-1]), levels=levels)

    def _answerable_alone(self, question: str, filters: Filters | None, levels: frozenset[str] | None = None) -> bool:
        q, _, candidates = self.read(question, filters, levels=levels)
        return not self.ranker.abstains(self.ranker.rank(q, candidates, self._ranker_evidence(), self.similarity(q)))

    def _resolve(self, last: str, current: str) -> str:
        now, before = self._engine.entities_in(analyse(current)), self._engine.entities_in(analyse(last))
        others = [t for t in content_terms(analyse(current)) if not t.isdigit()
                  and t not in self._engine._entity_tokens(now)]
        if now and before and set(now) != set(before) and len(others) <= 1:  # "Och för Umeå Pastorat?"
            for e in before:
                m = re.search(re.escape(e), last, re.I)
                if m:
                    return last[:m.start()] + now[0] + last[m.end():]
        return resolve_follow_up([last], current)

    def search(self, query: str, k: int = 10, filters: Filters | None = None, *,
               levels: frozenset[str] | None = None) -> list[tuple[Hit, str]]:
        self._sync()
        q = analyse(query)
        return [(h, h.chunk.text) for h in retrieve(self.index, q, k=k, sources=self._sources(filters, levels))]

    # -- steps ------------------------------------------------------------------------
    def _correct_spelling(self, q: Query) -> None:
        """Words the documents do not have but nearly do ("Pingstkyrkn", "komunen") are searched
        as the documents spell them, in addition to how they were typed."""
        vocab = self.index.bm25.vocabulary
        fixes = []
        for t in content_terms(q):
            if t in vocab or len(t) < 5:
                continue
            pool = [v for v in vocab if v[:2] == t[:2] and abs(len(v) - len(t)) <= 2]
            best = process.extractOne(t, pool, score_cutoff=84) if pool else None
            if best:
                fixes.append(best[0])
        if fixes:
            extra = " " + " ".join(fixes)
            q.tokens = q.tokens + fixes
            q.search_text += extra
            q.base_text += extra

    def _sources(self, filters: Filters | None, levels: frozenset[str] | None = None) -> set[str] | None:
        """The documents an answer may use (None: all): the caller's access levels, then the filters."""
        visible = self.index.visible_sources(levels)
        if not filters:
            return visible
        docs = self._docs if visible is None else [d for d in self._docs if d["source"] in visible]
        names = {d["source"] for d in docs}
        if filters.source:
            wanted = [filters.source] if isinstance(filters.source, str) else filters.source
            # an id, or its last path components ("x.md" matches "corpus/x.md", never "corpus/ax.md")
            names &= {n for n in names for w in wanted if n == w or n.endswith("/" + w.lstrip("/"))}
        if filters.doc_type:
            names &= {d["source"] for d in docs if d["format"] == filters.doc_type.lower().lstrip(".")}
        if filters.body:
            body = re.compile(r"\b" + re.escape(filters.body) + r"\b", re.I)
            names &= {s for s in names if body.search(self._meta.get(s, {}).get("body") or "")
                      or body.search(self._texts.get(s, ""))}
        if filters.organisation:
            org = fold(filters.organisation.lower())
            names &= {s for s in names if any(fold(o.lower()).startswith(org[:max(4, len(org) - 1)])
                                              for o in self._meta.get(s, {}).get("organisations") or [])}
        if filters.date_from or filters.date_to:
            names &= {s for s in names if _within(self._meta.get(s, {}).get("date") or
                                                   _doc_date(s, self._texts.get(s, "")),
                                                   filters.date_from, filters.date_to)}
        return names

    def _support(self, hits: list[Hit]) -> dict[str, float]:
        support: dict[str, float] = {}
        for rank, h in enumerate(hits[:8]):
            facts = self._facts_by_source.get(h.chunk.source, [])
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
        df = self.index.bm25.df
        known = [t for t in qtoks if t in df and not t.isdigit()]
        if not known:
            return []
        # only a rare, topical word is a reliable focus (a near-miss names one: "pistmaskin", "budgetram")
        rare = [t for t in known if df[t] <= FOCUS_MAX_DF]
        return [t for t in rare if df[t] == min(df[x] for x in rare)]

    def _figures(self, q: Query, hits: list[Hit], sources: set[str] | None) -> FigureResult | None:
        engine = self._engine
        if sources is not None:
            key = frozenset(sources)
            engine = self._engines.get(key)  # a local: another thread may reset the cache meanwhile
            if engine is None:
                if len(self._engines) >= MAX_FILTER_ENGINES:  # bounded: arbitrary filters must not grow it
                    self._engines = {}
                keep = [i for i, f in enumerate(self.index.facts) if f.source in sources]
                vectors = (self.index.fact_vectors[keep] if len(self.index.fact_vectors) == len(self.index.facts)
                           else None)
                engine = FigureEngine([self.index.facts[i] for i in keep],
                                      [d for d in self.index.discrepancies if d.source in sources],
                                      self._title_map, vectors)
                self._engines[key] = engine
        chunks = self._chunks_of_facts()
        return engine.answer(q, self._support(hits), focus=self._focus(q, engine),
                             context=lambda f: c.index_text() if (c := chunks.get(f.fact_id)) else "")

    def _chunks_of_facts(self) -> dict[str, Chunk]:
        """Each fact's surrounding passage (for the focus check), found once per index state."""
        if self._fact_chunks is None:
            by_source: dict[str, list[Chunk]] = defaultdict(list)
            for c in self.index.chunks.values():
                by_source[c.source].append(c)
            self._fact_chunks = {}
            for src, facts in self._facts_by_source.items():
                chunks = sorted(by_source.get(src, []), key=lambda c: c.start)
                starts = [c.start for c in chunks]
                for f in facts:
                    i = bisect.bisect_right(starts, f.start) - 1
                    if i >= 0:
                        self._fact_chunks[f.fact_id] = chunks[i]
        return self._fact_chunks

    def _consistency(self, q: Query, hits: list[Hit], allowed: set[str] | None = None) -> list:
        """The table rows whose printed sums do not add up that the question is about (only in
        the documents the answer may use)."""
        qt = set(tokens(q.search_text))
        sources = {h.chunk.source for h in hits[:5]}
        scored = []
        for d in self.index.discrepancies:
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
        text = self._texts.get(f.source, "")
        if f.kind == "text" and text:
            at = text.find(f.quote[:40], max(0, f.start - 600))
            if 0 <= at <= f.start:  # the sentence the fact was read from
                start, end, quote = at, f.end, text[at:f.end]
                stops = [i for i in (text.find(". ", f.end), text.find("\n", f.end)) if i >= 0]
                end = min(stops) + 1 if stops else len(text)
                quote = text[start:end]
        return cites.add(f.source, self._title_map.get(f.source, f.source), f.section or "", quote, f.page, start, end)

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

def _row_label(f: Fact) -> str:
    """`Summa Umeå kommun, 2027 (**), Vän i Umeå` for a cell; the clause for an amount in text."""
    if f.kind == "text":
        return clean(f.label)[:120]
    column = re.sub(r"\s*\(\**\)\s*$", "", (f.column or "").strip())  # footnote marks such as "(**)"
    return ", ".join(x for x in (f.label, column, f.entity or "") if x)


# words that say what is measured or computed, not what about ("betalar", "sammanlagt")
MEASURE = re.compile("|".join(r.pattern for r in (SUM_WORDS, DIFF_WORDS, SHARE_WORDS)) +
                     r"|\b(betal\w*|få|får|fick|bidr\w*|kost\w*|uppg\w*|ge|ger|gav|lämna\w*|avsat\w*|"
                     r"beräkn\w*|värd\w*|räkna\w*|pay|paid|get|cost)\b", re.I)
ITEM_NUMBER_Q = re.compile(r"\b(ärendenummer|vilket ärende|vilken punkt|dagordning\w*)", re.I)


FOLLOW_UP = re.compile(r"^(och|men|samt|and|what about|how about|vilka|vem|vad)\b", re.I)


def resolve_follow_up(previous: list[str], current: str) -> str:
    """`Och 2028?` after a figure question asks the same for 2028; a short question leans on the last one."""
    if not previous:
        return current
    last = previous[-1]
    cq = analyse(current)
    content = [t for t in content_terms(cq) if not t.isdigit()]
    if cq.years and len(content) <= 1:
        years = re.findall(r"\b(?:19|20)\d\d\b", last)
        if years:
            new = re.sub(r"\b(?:19|20)\d\d\b", "\0", last, count=1)
            new = re.sub(r"\b(?:19|20)\d\d\b", "", new).replace("\0", str(cq.years[0]))
            return re.sub(r"\s+", " ", new).strip()
        return f"{last} {current}"
    if len(content) <= 3 and (FOLLOW_UP.match(current) or not cq.identifiers):
        ids = analyse(last).identifiers
        return f"{current} ({last})" if not ids else f"{current} {' '.join(ids)}"
    return current


def _doc_date(source: str, text: str) -> str | None:
    m = re.search(r"(19|20)\d\d-\d\d-\d\d", source) or re.search(r"(19|20)\d\d-\d\d-\d\d", text[:3000])
    if m:
        return m.group(0)
    y = re.search(r"(19|20)\d\d", source)
    return f"{y.group(0)}-01-01" if y else None


def _within(date: str | None, lo: str | None, hi: str | None) -> bool:
    if date is None:
        return False
    return (not lo or date >= lo) and (not hi or date <= hi)
