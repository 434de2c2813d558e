"""BM25 over chunks with Snowball Swedish stemming and diacritic folding (bm25s)."""
from __future__ import annotations

import bm25s
import numpy as np


from .text import tokens


class BM25Index:
    def __init__(self, ids: list[str], texts: list[str]) -> None:
        self.ids = list(ids)
        self.corpus_tokens = [tokens(t) or ["_empty_"] for t in texts]
        self.df: dict[str, int] = {}
        for doc in self.corpus_tokens:
            for tok in set(doc):
                self.df[tok] = self.df.get(tok, 0) + 1
        self.vocabulary = set(self.df)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if self.ids:
            self._bm25.index(self.corpus_tokens, show_progress=False)

    def idf(self, token: str) -> float:
        """Rarer words count more when ranking sentences (1 for common, up to ~4 for rare)."""
        n = max(1, len(self.ids))
        return 1.0 + np.log((n + 1) / (self.df.get(token, 0) + 1)) / 2.0

    def search(self, query: str, k: int = 30, query_tokens: list[str] | None = None) -> list[tuple[str, float]]:
        q = [t for t in (query_tokens or tokens(query)) if t in self.vocabulary]
        if not q or not self.ids:
            return []
        scores = self._bm25.get_scores(q)
        top = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
