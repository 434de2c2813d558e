"""The assistant: analyse → retrieve → (compute figures) → compose → cite.

The default answer is extractive and deterministic: the sentences and table rows that
answer the question, each with a numbered citation, and figures computed by the figures
engine. When the documents do not support an answer it abstains.
"""
from __future__ import annotations

import bisect
import re
from collections import defaultdict

from rapidfuzz import process

from index.store import CouncilIndex
from index.text import fold, tokens, words
from ingest.facts import SENTENCE_END
from ingest.model import Chunk, Fact

from .analysis import (DIFF_WORDS, EN_MARKERS, EN_SV, SHARE_WORDS, SUM_WORDS, Query, analyse,
                       content_terms, detect_language)
from .figures import FigureEngine, FigureResult
from .i18n import explain, say
from .provenance import Provenance
from .retrieval import Hit, retrieve
from .structured import (StructuredAnswer, agenda_answer, agreement_answer, decision_answer, dnr_answer,
                         meeting_answer)
from .schemas import AskResponse, ChatMessage, Citation, FigureOut, FigureRow, Filters

FOCUS_MAX_DF = 6
# questions that can only be answered by a number (others may be answered by a passage)
NUMERIC_Q = re.compile(r"^\s*(hur (mycket|stor|stort|höga?|många)|vilket belopp|vad kostar|how (much|many))\b|"
                       r"\b(sammanlag|totalt|summan|skillnad|andel|värdet|beloppet|kostnaden)", re.I)
# words about the paperwork itself, which documents need not contain to answer
META_TERMS = {tokens(w, keep_stopwords=True)[0] for w in ("ärendenummer", "diarienummer", "dnr", "paragraf", "dokument", "dokumenten",
                                     "handling", "handlingarna", "protokoll", "rubrik", "rubriken", "enligt")}


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
        self._name_words: dict[str, set[str]] | None = None
        self._doc_words: dict[str, set[str]] = {}
        self._engines: dict[frozenset[str], FigureEngine] = {}  # for filtered questions
        self._provenance = Provenance(index)

    # -- state ------------------------------------------------------------------------
    def _sync(self) -> None:
        self.index.refresh()
        if self._generation != self.index._loaded_generation or self._engine is None:
            self._fact_chunks, self._name_words, self._doc_words, self._engines = None, None, {}, {}

            by_source = defaultdict(list)
            for f in self.index.facts:
                by_source[f.source].append(f)
            self._facts_by_source = {s: sorted(v, key=lambda f: f.start) for s, v in by_source.items()}
            self._docs = [d for d in (self.index.document(x["source"]) for x in self.index.documents()) if d]
            self._texts = {d["source"]: self.index.document_text(d["source"]) or "" for d in self._docs}
            self._title_map = {d["source"]: d["title"] for d in self._docs}
            self._engine = FigureEngine(self.index.facts, self.index.discrepancies, self._title_map,
                                        self.index.fact_vectors)
            self._generation = self.index._loaded_generation

    # -- public -----------------------------------------------------------------------
    def ask(self, question: str, filters: Filters | None = None, reply_lang: str | None = None) -> AskResponse:
        # every answer's citations say where they sit (section, §, page, table header): one place
        return self._provenance.annotate(self._answer(question, filters, reply_lang))

    def _answer(self, question: str, filters: Filters | None = None, reply_lang: str | None = None) -> AskResponse:
        self._sync()
        q = analyse(question)
        if reply_lang:  # a follow-up in English about a Swedish question is answered in English
            q.lang = reply_lang
        sources = self._sources(filters)
        if not self.index.chunks:
            return AskResponse(answer=say(q.lang, "no_documents"), abstained=True, question=question)
        self._correct_spelling(q)
        q.vector = self.index.query_vector(q.search_text)
        hits = retrieve(self.index, q, k=self.index.settings.top_k, sources=sources)
        docs = [d for d in self._docs if sources is None or d["source"] in sources]
        structured = meeting_answer(q, docs, self._texts)  # "i vilken lokal sammanträder …" is about the meeting
        if structured is None and q.intent == "decision":
            structured = decision_answer(q, docs, self._texts)
            if structured is None and ITEM_NUMBER_Q.search(q.search_text):  # "vilket ärendenummer har rättelsen …"
                structured = agenda_answer(q, docs, self._texts)
        elif structured is None and (q.intent in ("agenda", "lookup") or (q.arenden and not q.wants_amount)):
            structured = agenda_answer(q, docs, self._texts, strict=q.intent != "agenda")
        structured = (structured or dnr_answer(q, docs, self._texts)
                      or agreement_answer(q, docs, self._texts, self._engine.entities_in(q)))
        if not structured and self._should_abstain(q, hits):
            return AskResponse(answer=say(q.lang, "abstain"), abstained=True, question=question)
        cites = Citations()
        parts: list[str] = []
        figures: list[FigureOut] = []
        warnings: list[str] = []
        result = None
        if q.intent == "consistency":
            parts.extend(self._consistency(q, hits, cites, warnings))
        if structured:
            parts.append(self._render_quotes(structured, cites))
        if q.wants_amount and (not parts or q.intent == "figure"):
            result = self._figures(q, hits, sources)
            if result is None and q.intent == "figure" and not structured and NUMERIC_Q.search(q.search_text):
                # numbers are sacred: no fact states the asked amount, so say so and show what is near
                cites_near = Citations()
                near = self._evidence(q, hits, cites_near, limit=2)
                text = say(q.lang, "no_figure") + (say(q.lang, "related") + " ".join(near) if near else "")
                return AskResponse(answer=text, abstained=True, citations=cites_near.items, question=question)
        if result:
            text = self._render(result.sentence, result.facts, cites)
            parts.insert(0, text)  # the figure answers first; structure and passages support it
            for fig in result.figures:
                ids = [self._cite_fact(f, cites) for f in fig.facts]
                rows = [FigureRow(label=_row_label(f), value=f.value, unit=f.unit, citation=i, row=_clean(f.label),
                                  column=f.column or None, year=f.year) for f, i in zip(fig.facts, ids)]
                figures.append(FigureOut(label=fig.label, value=fig.value, unit=fig.unit, formula=fig.formula,
                                         citations=ids, rows=rows))
            for f in result.corrected:
                ref = self._cite_fact(f, cites)
                parts.append(say(q.lang, "note") + " " + say(q.lang, "corrected", quote=_clean(f.label), ref=ref,
                                                         by=f.superseded_by))
            for d in result.warnings:
                ref = cites.add(d.source, self._title_map.get(d.source, d.source), d.table, d.explanation, None,
                                d.start, d.end)
                warnings.append(d.explanation)
                parts.append(f"{say(q.lang, 'note')} {explain(d, q.lang)} [{ref}]")
        evidence = self._evidence(q, hits, cites, limit=1 if (result or structured) else 3)
        if evidence:
            lead = say(q.lang, "evidence")
            parts.append(("" if not parts else f"{lead}: ") + " ".join(evidence))
        # a question that names documents ("programrapporten 2024 … nämndens budget 2026") hears from each
        for src in self._named_documents(q, sources) - {c.source for c in cites.items}:
            more = self._evidence(q, retrieve(self.index, q, k=4, sources={src}), cites, limit=1)
            if more:
                title = self._title_map.get(src, src)
                parts.append(say(q.lang, "from_document", title=title) + " " + " ".join(more))
        if not parts:
            return AskResponse(answer=say(q.lang, "abstain"), abstained=True, question=question)
        absent = [] if q.identifiers else self._unsupported_names(q, cites)
        if absent:
            return AskResponse(answer=say(q.lang, "abstain_partial", missing=", ".join(absent)), abstained=True,
                               question=question)
        return AskResponse(answer="\n\n".join(parts), abstained=False, figures=figures, citations=cites.items,
                           warnings=warnings, question=question)

    def chat(self, messages: list[ChatMessage], filters: Filters | None = None) -> AskResponse:
        """The last user message, read in the light of the conversation: each follow-up is resolved
        against the resolved question before it ("Och 2028?" → "… 2028", "Och för Umeå Pastorat?")."""
        self._sync()
        users = [m.content for m in messages if m.role == "user"]
        question = users[0]
        for current in users[1:]:
            question = self._resolve(question, current)
        return self.ask(question, filters, reply_lang=detect_language(users[-1]))

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

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[tuple[Hit, str]]:
        self._sync()
        q = analyse(query)
        return [(h, h.chunk.text) for h in retrieve(self.index, q, k=k, sources=self._sources(filters))]

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

    def _sources(self, filters: Filters | None) -> set[str] | None:
        if not filters:
            return None
        docs = self._docs
        names = {d["source"] for d in docs}
        if filters.source:
            wanted = [filters.source] if isinstance(filters.source, str) else filters.source
            names &= {n for n in names for w in wanted if n == w or n.endswith(w)}
        if filters.doc_type:
            names &= {d["source"] for d in docs if d["format"] == filters.doc_type.lower().lstrip(".")}
        if filters.body:
            body = re.compile(r"\b" + re.escape(filters.body) + r"\b", re.I)
            names &= {s for s in names if body.search(self._texts.get(s, ""))}
        if filters.date_from or filters.date_to:
            names &= {s for s in names if _within(_doc_date(s, self._texts.get(s, "")),
                                                   filters.date_from, filters.date_to)}
        return names

    def _should_abstain(self, q: Query, hits: list[Hit]) -> bool:
        if not hits:
            return True
        terms = [t for t in content_terms(q) if t not in META_TERMS]
        if not terms:
            return not q.identifiers
        vocab = self.index.bm25.vocabulary
        missing = [t for t in terms if t not in vocab and not _fuzzy_known(t, vocab)]
        if q.lang == "en":
            # English words the glossary does not know say little about the documents, unless most are
            # unknown ("recommend a good pizza place")
            if len(missing) >= 2 and len(missing) >= 0.5 * len(terms) and not q.identifiers:
                return True
            terms = [t for t in terms if t not in missing] or terms
            missing = []
        if any(len(t) >= 6 for t in missing) and not q.identifiers:
            return True
        # "månadskort för bussen": one word unknown and the other only made up of known parts
        only_parts = [t for t in terms if t not in vocab and t not in missing and _compound_only(t, vocab)]
        if only_parts and any(len(t) >= 4 for t in missing) and not q.identifiers:
            return True
        top_text = set(tokens(" ".join(h.chunk.index_text() for h in hits[:8])))
        # a word also counts when it is part of a compound there ("drift" in "driftkostnaden")
        covered = sum(1 for t in terms if t in top_text or any(x.startswith(t[:5]) for x in top_text if len(t) >= 6)
                      or (len(t) >= 4 and any(t in x for x in top_text)))
        return covered / len(terms) < 0.5

    def _named_documents(self, q: Query, sources: set[str] | None) -> set[str]:
        """Documents the question names by their kind and year ("programrapporten 2024",
        "IOP-förslaget 2022"): a word of the file name or title that few documents share, with the
        document's year or a second such word."""
        docs = [d for d in self._docs if sources is None or d["source"] in sources]
        if len(docs) < 2:
            return set()
        every = self._document_name_words()
        words_of = {d["source"]: every[d["source"]] for d in docs}
        df: dict[str, int] = defaultdict(int)
        for ws in words_of.values():
            for w in ws:
                df[w] += 1
        qt = [t for t in tokens(q.base_text) if len(t) >= 3 and not t.isdigit()]
        named = set()
        for src, ws in words_of.items():
            rare = {w for w in ws if df[w] <= max(1, len(docs) // 5)}
            hits = {w for w in rare for t in qt if t == w or (len(t) >= 6 and len(w) >= 6 and t[:6] == w[:6])}
            year = re.match(r"((?:19|20)\d\d)", src)
            if hits and ((year and int(year.group(1)) in q.years) or len(hits) >= 2):
                named.add(src)
        return named if len(named) <= MAX_NAMED_DOCUMENTS else set()  # many alike: the words name no one

    def _document_name_words(self) -> dict[str, set[str]]:
        """The words of each document's file name and title (once per index state)."""
        if self._name_words is None:
            words_of = {d["source"]: {t for t in tokens(re.sub(r"[_.]", " ", d["source"]) + " " + d["title"])
                                      if len(t) >= 3 and not t.isdigit() and t not in DOC_GENERIC}
                        for d in self._docs}
            # a word nearly every document uses (the municipality's name) names none of them; judged
            # on an even sample, so a large archive costs no more than a few dozen documents
            every = list(self._texts.values())
            texts = [fold(t.lower()) for t in every[::max(1, len(every) // COMMON_SAMPLE)]]
            common = {w for w in set().union(*words_of.values())
                      if len(texts) >= 3 and sum(w in t for t in texts) >= 0.8 * len(texts)}
            self._name_words = {src: ws - common for src, ws in words_of.items()}
        return self._name_words

    def _unsupported_names(self, q: Query, cites: Citations) -> list[str]:
        """Names in the question (a municipality, a nämnd, an organisation, a person) that no cited
        document mentions anywhere: the answer would be about someone else ("äldrenämndens
        SAM-uppföljning" answered with kommunstyrelsens). Checked per document, not per passage,
        so a name retrieval merely missed does not turn an answer into a refusal."""
        names = [(w, stem) for w, stem in named_terms(q.text)
                 if q.lang != "en" or (w.lower() not in EN_SV and w.lower() not in EN_MARKERS)]
        if not names or not cites.items:
            return []
        seen: set[str] = set()
        for src in {c.source for c in cites.items}:
            seen |= self._document_words(src)
        return [w for w, stem in names if not any(x.startswith(stem[:6]) for x in seen)]

    def _document_words(self, source: str) -> set[str]:
        if source not in self._doc_words:
            self._doc_words[source] = set(tokens(" ".join([self._texts.get(source, ""), source.replace("_", " "),
                                                           self._title_map.get(source, "")])))
        return self._doc_words[source]

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
            if key not in self._engines:
                keep = [i for i, f in enumerate(self.index.facts) if f.source in sources]
                vectors = (self.index.fact_vectors[keep] if len(self.index.fact_vectors) == len(self.index.facts)
                           else None)
                self._engines[key] = FigureEngine([self.index.facts[i] for i in keep], self.index.discrepancies,
                                                  self._title_map, vectors)
            engine = self._engines[key]
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

    def _consistency(self, q: Query, hits: list[Hit], cites: Citations, warnings: list[str]) -> list[str]:
        qt = set(tokens(q.search_text))
        sources = {h.chunk.source for h in hits[:5]}
        scored = []
        for d in self.index.discrepancies:
            overlap = len(qt & set(tokens(d.row + " " + d.table)))
            if overlap:
                scored.append((overlap + (1 if d.source in sources else 0), d))
        if not scored:
            return []
        top = max(s for s, _ in scored)
        out = []
        for _, d in sorted([x for x in scored if x[0] == top], key=lambda x: x[1].start)[:3]:
            text = self._texts.get(d.source, "")
            ref = cites.add(d.source, self._title_map.get(d.source, d.source), d.table,
                            text[d.start:d.end] if text else d.explanation, None, d.start, d.end)
            warnings.append(d.explanation)
            out.append(say(q.lang, "consistency_no", explanation=explain(d, q.lang), formula=d.formula) + f" [{ref}]")
        return out

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

    def _evidence(self, q: Query, hits: list[Hit], cites: Citations, limit: int) -> list[str]:
        """The best sentences of the best passages, each cited."""
        terms = set(content_terms(q)) | {str(y) for y in q.years}
        idf = self.index.bm25.idf
        candidates = []
        for rank, h in enumerate(hits[:6]):
            for start, end, sent in _sentences(h.chunk):
                st = set(tokens(sent))
                overlap = sum(idf(t) for t in terms if t in st or (len(t) >= 6 and any(x.startswith(t[:5]) for x in st)))
                overlap += sum(2.0 for i in q.identifiers if i.replace(" ", "") in sent.replace(" ", ""))
                if overlap == 0 or len(sent.strip()) < 15:
                    continue
                candidates.append((overlap - 0.15 * rank - 0.002 * max(0, len(sent) - 300), start, end, sent, h.chunk))
        candidates.sort(key=lambda c: -c[0])
        out, used, sources = [], set(), []
        for score, start, end, sent, chunk in candidates:
            if len(out) >= limit or (out and score < candidates[0][0] * 0.5):
                break
            key = re.sub(r"\W+", "", sent.lower())[:80]
            if key in used or (chunk.source, start, end) in cites._keys:
                continue  # already quoted above
            used.add(key)
            start, end, sent = _extend_list(chunk, start, end, sent)
            ref = cites.add(chunk.source, chunk.title, chunk.section, sent, chunk.page, start, end)
            out.append(f"{_clean(sent)} [{ref}]")
            sources.append(chunk.source)
        # a second document that also answers (earlier decisions, other periods) is worth showing
        other = next((c for c in candidates if c[4].source not in sources and c[0] >= candidates[0][0] * 0.6), None)
        if other and len(out) < limit + 1:
            score, start, end, sent, chunk = other
            start, end, sent = _extend_list(chunk, start, end, sent)
            ref = cites.add(chunk.source, chunk.title, chunk.section, sent, chunk.page, start, end)
            out.append(f"{_clean(sent)} [{ref}]")
        return out


def _extend_list(chunk: Chunk, start: int, end: int, sent: str) -> tuple[int, int, str]:
    """A title or a sentence ending in ':' introduces what follows: quote the list too."""
    s = sent.strip()
    if not (s.endswith(":") or (len(s) <= 60 and not s.endswith("."))):
        return start, end, sent
    rel = end - chunk.start
    rest = chunk.text[rel:rel + 700]
    stop = re.search(r"\n\s*\n\s*(?=[A-ZÅÄÖ][^\n]{60,})|\n#", rest)
    extra = rest[:stop.start()] if stop else rest
    if not extra.strip():
        return start, end, sent
    return start, end + len(extra.rstrip()), sent + extra.rstrip()


def _row_label(f: Fact) -> str:
    """`Summa Umeå kommun, 2027 (**), Vän i Umeå` for a cell; the clause for an amount in text."""
    if f.kind == "text":
        return _clean(f.label)[:120]
    column = re.sub(r"\s*\(\**\)\s*$", "", (f.column or "").strip())  # footnote marks such as "(**)"
    return ", ".join(x for x in (f.label, column, f.entity or "") if x)


def _clean(text: str) -> str:
    text = re.sub(r"</?\w+>|\*\*|\\\*", "", text)
    text = re.sub(r"\s*\n\s*", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _sentences(chunk: Chunk) -> list[tuple[int, int, str]]:
    """Sentences and lines (table rows, list items) of a chunk with absolute offsets."""
    out = []
    pos = 0
    for para in re.split(r"(\n\s*\n)", chunk.text):
        if not para.strip() or re.fullmatch(r"\n\s*\n", para):
            pos += len(para)
            continue
        lines = para.split("\n") if ("\t" in para or para.lstrip().startswith(("-", "•", "1."))) else [para]
        lpos = pos
        for line in lines:
            for piece in SENTENCE_END.split(line) if len(lines) == 1 else [line]:
                idx = chunk.text.find(piece, lpos)
                if idx >= 0 and piece.strip():
                    out.append((chunk.start + idx, chunk.start + idx + len(piece), piece))
                    lpos = idx + len(piece)
        pos += len(para)
    return out


def _fuzzy_known(term: str, vocab: set[str]) -> bool:
    """A typo ("Pingstkyrkn"), a compound of known words ("budgettabell") or a part of a known
    compound ("drift" in "driftkostnad") is not unknown."""
    if len(term) < 5:
        return False
    if any(term in v for v in vocab if len(v) > len(term)):
        return True
    for i in range(4, len(term) - 3):
        head, tail = term[:i], term[i:]
        if (head in vocab or head.rstrip("s") in vocab) and (tail in vocab or any(v.startswith(tail) for v in vocab
                                                                                  if len(tail) >= 5)):
            return True
    pool = [v for v in vocab if v[:2] == term[:2] and abs(len(v) - len(term)) <= 3]
    return bool(pool) and process.extractOne(term, pool, score_cutoff=84) is not None


# words that say what is measured or computed, not what about ("betalar", "sammanlagt")
MEASURE = re.compile("|".join(r.pattern for r in (SUM_WORDS, DIFF_WORDS, SHARE_WORDS)) +
                     r"|\b(betal\w*|få|får|fick|bidr\w*|kost\w*|uppg\w*|ge|ger|gav|lämna\w*|avsat\w*|"
                     r"beräkn\w*|värd\w*|räkna\w*|pay|paid|get|cost)\b", re.I)
MAX_NAMED_DOCUMENTS = 3
COMMON_SAMPLE = 40
ITEM_NUMBER_Q = re.compile(r"\b(ärendenummer|vilket ärende|vilken punkt|dagordning\w*)", re.I)
DOC_GENERIC = {"kommun", "md", "txt", "pdf", "docx", "html", "och", "for", "med"}
NAME_WORD = re.compile(r"\w*(nämnd|styrelse|förbund|utskott|fullmäktige)(en|ens|s|et|ets|er|erna|ernas)?", re.I)
NOT_NAMES = {"kommun", "kommunen", "kommuns", "sverige", "riket"}


def named_terms(text: str) -> list[tuple[str, str]]:
    """Proper names (capitalised, not first in the question, not an abbreviation) and bodies
    ("äldrenämndens") in a question, with their stems."""
    out = []
    for i, m in enumerate(re.finditer(r"[\wÅÄÖåäö][\w\-ÅÄÖåäö]*", text)):
        w = m.group(0)
        proper = i > 0 and w[0].isupper() and not w.split("-")[0].isupper() and len(w) >= 4 and not text[:m.start()].rstrip().endswith((".", "?", "!"))
        if (proper or NAME_WORD.fullmatch(w)) and w.lower() not in NOT_NAMES:
            stem = tokens(w.split("-")[0])
            if stem:
                out.append((w, stem[0]))
    return out


def _compound_only(term: str, vocab: set[str]) -> bool:
    """Known only as a compound of known words, never as itself or inside a longer word."""
    return len(term) >= 5 and not any(term in v for v in vocab if len(v) > len(term)) and any(
        (term[:i] in vocab or term[:i].rstrip("s") in vocab) and term[i:] in vocab for i in range(4, len(term) - 3))


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
