"""Test doubles shared by tests: an embedder that is fast and deterministic."""
from __future__ import annotations

import hashlib

import numpy as np

from index.text import tokens


class HashEmbedder:
    """Bag of stemmed words hashed into 64 dimensions: passages that share words are close. For
    tests of everything but the model (the UI, the API plumbing)."""

    name = "test/hash-64"
    dim = 64

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in tokens(text):
            v[int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little") % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._one(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._one(text)
