"""The assistant, as a pipeline: analyse → retrieve → read → admit → rank → compose.

`ask` reads as the pipeline. Readers (the sentence reader in `candidates`, and the structure,
figure and check engines in `readers`) propose `Candidate`s with evidence spans; `admission`
keeps those that may answer; one fitted `Ranker` orders them and abstains below its threshold;
`compose` writes the answer with numbered citations. Everything is read from one `Corpus`
snapshot of the index. The default answer is extractive and deterministic.
"""
from __future__ import annotations

from index.store import CouncilIndex

from .admission import admit, near
from .analysis import Query, analyse, content_terms, detect_language
from .bridge import bridge
from .candidates import Candidate, passage_kinds, read_sentences, typed_passages
from .combine import read_agreement, read_arithmetic, read_pairs, read_tallies
from .roles import asked_roles, read_roles
from .votes import read_named_votes
from .compose import Citations, clean, compose
from .conversation import CONTINUES, MAX_HISTORY, resolve
from .corpus import Corpus
from .i18n import say
from .provenance import Provenance
from .query import AnalyzedQuery, analyze
from .ranker import FEATURES, Evidence, Ranker, Scored
from .readers import EngineReaders
from .retrieval import Hit, retrieve
from .schemas import AskResponse, ChatMessage, Filters
from .words import everyday

SENTENCE_PASSAGES = 10   # passages whose sentences are read as candidates
POOL = 40                # passages retrieved, among which the typed ones below the first ten are found
WARM_PASSAGES = 2_000    # passages whose sentences the warm-up types (bounded by the sentence caches)
ROLE_DOCUMENTS = 8       # documents whose protocol roles become candidates (see Corpus.documents_stating)


class Assistant:
    def __init__(self, index: CouncilIndex) -> None:
        self.index = index
        self._corpus: Corpus | None = None
        self.ranker = Ranker.load()
        self._provenance = Provenance(index)

    # -- state ------------------------------------------------------------------------
    def _sync(self) -> Corpus:
        """The snapshot of the index's current state (rebuilt, then swapped, after a change)."""
        self.index.refresh()
        corpus = self._corpus
        if corpus is None or corpus.generation != self.index._loaded_generation:
            corpus = Corpus.build(self.index)
            self._corpus = corpus
        return corpus

    def warm(self) -> None:
        """Build what the first questions would otherwise pay for, the costliest per question first:
        the lemmatiser's dictionary and the word lists (one question), each document's word forms,
        what each fact is about, and the typed sentences of the passages."""
        corpus = self._sync()
        self.ask("Hur mycket kostar verksamheten 2027?")
        everyday("the", "en")  # the English word list, read on first use
        ev = corpus.view(None)[1]
        for source in list(corpus.texts):
            ev.doc_vocabulary(source)
        EngineReaders(corpus).warm()
        # every passage's sentences typed once (the caches hold about this many), as a question reads them
        chunks = list(self.index.chunks.values())[:WARM_PASSAGES]
        for c in chunks:
            passage_kinds(c.text)
        read_sentences(analyze("Vad står det?"), [Hit(c, 0.0) for c in chunks], limit=len(chunks))

    @property
    def corpus(self) -> Corpus:
        return self._sync()

    # -- public -----------------------------------------------------------------------
    def ask(self, question: str, filters: Filters | None = None, reply_lang: str | None = None, *,
            levels: frozenset[str] | None = None) -> AskResponse:
        """`levels`: the access levels the caller may read (None: all, for in-process operator use)."""
        # every answer's citations say where they sit (section, §, page, table header): one place
        return self._provenance.annotate(self._answer(question, filters, reply_lang, levels))

    def _answer(self, question: str, filters: Filters | None = None, reply_lang: str | None = None,
                levels: frozenset[str] | None = None) -> AskResponse:
        """analyse → retrieve → read → admit → rank → compose, all on one snapshot of the index."""
        corpus = self._sync()
        if not self.index.chunks:
            return AskResponse(answer=say(reply_lang or detect_language(question), "no_documents"), abstained=True,
                               question=question)
        visible = self.index.visible_sources(levels)
        vocab, ev = corpus.view(visible)
        q, hits, candidates = self._read(corpus, visible, question, filters, reply_lang)
        admissible, missing = admit(q, candidates, vocab, ev, corpus.meta)
        if not admissible and missing:  # about a name, word, body or organisation no evidence has
            return AskResponse(answer=say(q.lang, "abstain_partial", missing=", ".join(missing)), abstained=True,
                               question=question)
        ranked = self.ranker.rank(q, admissible, ev)
        if self.ranker.abstains(q, ranked):
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
        return self._read(self._sync(), self.index.visible_sources(levels), question, filters, reply_lang)

    def _read(self, corpus: Corpus, visible: set[str] | None, question: str, filters: Filters | None,
              reply_lang: str | None) -> tuple[AnalyzedQuery, list[Hit], list[Candidate]]:
        legacy = analyse(question)
        if reply_lang:  # a follow-up in English about a Swedish question is answered in English
            legacy.lang = reply_lang
        self._correct_spelling(legacy, corpus.view(visible)[0])
        legacy.vector = self.index.query_vector(legacy.search_text)
        q = analyze(question, legacy)
        sources = corpus.sources(filters, visible)
        pool = retrieve(self.index, legacy, k=max(POOL, self.index.settings.top_k), sources=sources)
        hits = pool[:max(self.index.settings.top_k, SENTENCE_PASSAGES)]
        typed = typed_passages(q, pool, SENTENCE_PASSAGES)
        candidates = [*EngineReaders(corpus).read(q, hits, sources), *read_sentences(q, pool, SENTENCE_PASSAGES, typed)]
        q = bridge(q, [h.chunk.text for h in pool[:SENTENCE_PASSAGES]], self.index.word_vectors)  # English words, in Swedish
        first: dict[str, int] = {}
        for i, h in enumerate(hits):
            first.setdefault(h.chunk.source, i)
        stating = corpus.documents_stating(asked_roles(q.text), q, first, ROLE_DOCUMENTS, sources)
        candidates += read_roles(q, stating, corpus.texts, first)
        candidates += read_named_votes(q, candidates, corpus.texts)                    # a roll call, counted
        candidates += [*read_pairs(q, candidates), *read_agreement(q, candidates),      # answers of two statements
                       *read_arithmetic(q, candidates), *read_tallies(q, candidates)]  # … computed, or a vote's counts
        return q, hits, candidates

    def admit(self, q: AnalyzedQuery, candidates: list[Candidate],
              levels: frozenset[str] | None = None) -> tuple[list[Candidate], list[str]]:
        """The candidates that may answer, judged only by the documents the caller may read."""
        corpus = self._sync()
        vocab, ev = corpus.view(self.index.visible_sources(levels))
        return admit(q, candidates, vocab, ev, corpus.meta)

    def evidence(self, levels: frozenset[str] | None = None) -> Evidence:
        return self._sync().view(self.index.visible_sources(levels))[1]

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

    def chat(self, messages: list[ChatMessage], filters: Filters | None = None, *,
             levels: frozenset[str] | None = None) -> AskResponse:
        """The last user message, read in the light of the conversation. A message is a follow-up
        when it says so ("Och 2028?", "What about …") or when, asked alone, nothing answers it
        ("Vilka reserverade sig?"); then it is resolved against the resolved question before it.
        A question that is answerable on its own is never mixed with earlier ones."""
        corpus = self._sync()
        users = [m.content for m in messages if m.role == "user"][-MAX_HISTORY:]
        question = users[0]
        for current in users[1:]:
            if CONTINUES.match(current) or not self._answerable_alone(current, filters, levels):
                question = resolve(corpus.engine, question, current)
            else:
                question = current
        return self.ask(question, filters, reply_lang=detect_language(users[-1]), levels=levels)

    def _answerable_alone(self, question: str, filters: Filters | None, levels: frozenset[str] | None = None) -> bool:
        q, _, candidates = self.read(question, filters, levels=levels)
        return not self.ranker.abstains(q, self.ranker.rank(q, candidates, self.evidence(levels)))

    def search(self, query: str, k: int = 10, filters: Filters | None = None, *,
               levels: frozenset[str] | None = None) -> list[tuple[Hit, str]]:
        corpus = self._sync()
        q = analyse(query)
        sources = corpus.sources(filters, self.index.visible_sources(levels))
        return [(h, h.chunk.text) for h in retrieve(self.index, q, k=k, sources=sources)]

    # -- steps ------------------------------------------------------------------------
    @staticmethod
    def _correct_spelling(q: Query, vocab) -> None:
        """Words the documents do not have but nearly do ("Pingstkyrkn", "komunen") are searched
        as the documents spell them, in addition to how they were typed."""
        fixes = [best for t in content_terms(q) if t not in vocab and len(t) >= 5 and (best := near(t, vocab))]
        if fixes:
            extra = " " + " ".join(fixes)
            q.tokens = q.tokens + fixes
            q.search_text += extra
            q.base_text += extra
