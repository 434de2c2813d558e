"""BM25 over chunks with Snowball Swedish stemming and diacritic folding (bm25s)."""
from __future__ import annotations

import bm25s
import numpy as np

from .text import tokens


class BM25Index:
    def __init__(self, ids: list[str], texts: list[str]) -> None:
        self.ids = list(ids)
        self.corpus_tokens = [tokens(t) or ["_empty_"] for t in texts]
        self.vocabulary = {tok for doc in self.corpus_tokens for tok in doc}
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if self.ids:
            self._bm25.index(self.corpus_tokens, show_progress=False)

    def search(self, query: str, k: int = 30, query_tokens: list[str] | None = None) -> list[tuple[str, float]]:
        q = [t for t in (query_tokens or tokens(query)) if t in self.vocabulary]
        if not q or not self.ids:
            return []
        scores = self._bm25.get_scores(q)
        top = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
