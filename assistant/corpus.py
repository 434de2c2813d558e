"""What the answering stages read about the index, as one snapshot per index state.

The index changes when documents are ingested or removed; every derived view (the documents'
texts and metadata, the figure engine, each fact's passage, the words a caller may see) is built
for one generation and swapped as a whole, so a question is answered from one consistent state
even while another thread ingests.
"""
from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from index.store import CouncilIndex
from index.text import fold, tokens
from ingest.model import Chunk, Fact

from .figures import FigureEngine
from .ranker import Evidence
from .schemas import Filters

MAX_FILTER_ENGINES = 16  # figure engines kept for filtered questions (bounded)
MAX_VIEWS = 8            # vocabularies and evidence kept for restricted access levels (bounded)


@dataclass
class Corpus:
    generation: int
    index: CouncilIndex
    docs: list[dict]
    texts: dict[str, str]
    titles: dict[str, str]
    meta: dict[str, dict]
    facts_by_source: dict[str, list[Fact]]
    engine: FigureEngine
    # derived on first use, bounded; a lock keeps two threads from building the same twice
    _fact_chunks: dict[str, Chunk] | None = None
    _engines: dict[frozenset[str], FigureEngine] = field(default_factory=dict)
    _views: dict[frozenset[str] | None, tuple[frozenset[str], Evidence]] = field(default_factory=dict)
    _doc_words: dict[str, frozenset[str]] = field(default_factory=dict)
    _roles: dict[str, frozenset[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, index: CouncilIndex) -> "Corpus":
        by_source = defaultdict(list)
        for f in index.facts:
            by_source[f.source].append(f)
        docs = [d for d in (index.document(x["source"]) for x in index.documents()) if d]
        titles = {d["source"]: d["title"] for d in docs}
        return cls(generation=index._loaded_generation, index=index, docs=docs,
                   texts={d["source"]: index.document_text(d["source"]) or "" for d in docs}, titles=titles,
                   meta={d["source"]: d.get("metadata") or {} for d in docs},
                   facts_by_source={s: sorted(v, key=lambda f: f.start) for s, v in by_source.items()},
                   engine=FigureEngine(index.facts, index.discrepancies, titles, index.fact_vectors))

    # -- what a caller may see ------------------------------------------------------------
    def view(self, visible: set[str] | None) -> tuple[frozenset[str], Evidence]:
        """The words and the ranker's evidence of the documents a caller may read (None: all).
        A caller who may not read a document learns nothing from its words: a name found only
        there is unknown to them, exactly as if the document did not exist."""
        key = None if visible is None else frozenset(visible)
        got = self._views.get(key)
        if got is not None:
            return got
        with self._lock:
            if key is None:
                bm = self.index.bm25
                vocab = frozenset(bm.vocabulary)
            else:
                vocab = frozenset().union(*(self._words(s) for s in key)) if key else frozenset()
            orgs = {s: tuple(m.get("organisations") or ()) for s, m in self.meta.items() if key is None or s in key}
            evidence = Evidence(self.index.bm25.idf, lambda s: self.texts.get(s, ""), vocab.__contains__, orgs)
            if len(self._views) >= MAX_VIEWS:
                self._views.clear()
            self._views[key] = (vocab, evidence)
            return vocab, evidence

    def _words(self, source: str) -> frozenset[str]:
        if source not in self._doc_words:
            self._doc_words[source] = frozenset(tokens(self.texts.get(source, "") + " " + self.titles.get(source, "")))
        return self._doc_words[source]

    def sources(self, filters: Filters | None, visible: set[str] | None) -> set[str] | None:
        """The documents an answer may use (None: all): those visible, then the filters."""
        if not filters:
            return visible
        docs = self.docs if visible is None else [d for d in self.docs if d["source"] in visible]
        names = {d["source"] for d in docs}
        if filters.source:
            wanted = [filters.source] if isinstance(filters.source, str) else filters.source
            # an id, or its last path components ("x.md" matches "corpus/x.md", never "corpus/ax.md")
            names &= {n for n in names for w in wanted if n == w or n.endswith("/" + w.lstrip("/"))}
        if filters.doc_type:
            names &= {d["source"] for d in docs if d["format"] == filters.doc_type.lower().lstrip(".")}
        if filters.body:
            body = re.compile(r"\b" + re.escape(filters.body) + r"\b", re.I)
            names &= {s for s in names if body.search(self.meta.get(s, {}).get("body") or "")
                      or body.search(self.texts.get(s, ""))}
        if filters.organisation:
            org = fold(filters.organisation.lower())
            names &= {s for s in names if any(fold(o.lower()).startswith(org[:max(4, len(org) - 1)])
                                              for o in self.meta.get(s, {}).get("organisations") or [])}
        if filters.date_from or filters.date_to:
            names &= {s for s in names if _within(self.meta.get(s, {}).get("date") or
                                                   doc_date(s, self.texts.get(s, "")),
                                                   filters.date_from, filters.date_to)}
        return names

    # -- protocol roles ----------------------------------------------------------------------
    def documents_stating(self, families: list[str], q, ranks: dict[str, int], limit: int,
                          sources: set[str] | None) -> list[dict]:
        """At most `limit` readable documents that state one of these roles (ordförande, justerare,
        jäv …), those of the best retrieved passages first, then those whose words cover the
        question best. Each document's roles are read once per index state, so a question costs
        a lookup per document, not a reading."""
        if not families:
            return []
        wanted = set(families)
        stating = [d for d in self.docs if (sources is None or d["source"] in sources)
                   and wanted & self._families(d["source"])]
        if len(stating) <= limit:
            return sorted(stating, key=lambda d: ranks.get(d["source"], 99))
        ev = self.view(None)[1]
        terms = list(q.word_terms)

        def cover(d: dict) -> float:
            vocab = ev.doc_vocabulary(d["source"])
            return sum(vocab.has(t) for t in terms)

        # a question naming a meeting's day asks about that meeting's protocol, retrieved or not
        days = set(q.dates)
        return sorted(stating, key=lambda d: ((d.get("metadata") or {}).get("date") not in days,
                                              ranks.get(d["source"], 99), -cover(d)))[:limit]

    def _families(self, source: str) -> frozenset[str]:
        from .roles import read_document_roles

        if source not in self._roles:
            self._roles[source] = frozenset(r.family for r in read_document_roles(self.texts.get(source, "")))
        return self._roles[source]

    # -- the figure engine's views ------------------------------------------------------------
    def engine_for(self, sources: set[str] | None) -> FigureEngine:
        """The figure engine over the documents an answer may use (bounded cache of filtered ones)."""
        if sources is None:
            return self.engine
        key = frozenset(sources)
        engine = self._engines.get(key)
        if engine is None:
            keep = [i for i, f in enumerate(self.index.facts) if f.source in sources]
            vectors = (self.index.fact_vectors[keep] if len(self.index.fact_vectors) == len(self.index.facts)
                       else None)
            engine = FigureEngine([self.index.facts[i] for i in keep],
                                  [d for d in self.index.discrepancies if d.source in sources], self.titles, vectors)
            with self._lock:
                if len(self._engines) >= MAX_FILTER_ENGINES:  # arbitrary filters must not grow it
                    self._engines.clear()
                self._engines[key] = engine
        return engine

    def fact_chunks(self) -> dict[str, Chunk]:
        """Each fact's surrounding passage, found once per index state."""
        if self._fact_chunks is None:
            by_source: dict[str, list[Chunk]] = defaultdict(list)
            for c in self.index.chunks.values():
                by_source[c.source].append(c)
            found: dict[str, Chunk] = {}
            for src, facts in self.facts_by_source.items():
                chunks = sorted(by_source.get(src, []), key=lambda c: c.start)
                starts = [c.start for c in chunks]
                for f in facts:
                    i = bisect.bisect_right(starts, f.start) - 1
                    if i >= 0:
                        found[f.fact_id] = chunks[i]
            self._fact_chunks = found
        return self._fact_chunks


def doc_date(source: str, text: str) -> str | None:
    m = re.search(r"(19|20)\d\d-\d\d-\d\d", source) or re.search(r"(19|20)\d\d-\d\d-\d\d", text[:3000])
    if m:
        return m.group(0)
    y = re.search(r"(19|20)\d\d", source)
    return f"{y.group(0)}-01-01" if y else None


def _within(date: str | None, lo: str | None, hi: str | None) -> bool:
    if date is None:
        return False
    return (not lo or date >= lo) and (not hi or date <= hi)
