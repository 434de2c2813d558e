"""One word-matching helper for the whole answering path.

A question word matches a document word when they share a lemma (simplemma, Swedish:
"isbanan" ~ "isbana", "reserverade" ~ "reserverad"), a Snowball stem ("kostnaden" ~
"kostnader"), or when one is a compound part of the other ("drift" in "driftkostnad",
"budgettabell" = "budget" + "tabell"). Compound parts are accepted only when the part is a
real Swedish word of some length (the `wordfreq` Swedish list), so "is" never matches
"kris". Everything is folded (å→a) so "Umea" finds "Umeå".

These are the only rules for "is this the same word" in `assistant/`; nothing here knows a
question or a document.
"""
from __future__ import annotations

from functools import lru_cache

import simplemma
from wordfreq import zipf_frequency

from index.text import STOPWORDS, fold, stem, words

MIN_PART = 4          # shortest compound part that may carry meaning on its own
COMMON_PART = 2.5     # a part must be at least this common in Swedish (Zipf scale) to count
EVERYDAY = 4.0        # Zipf frequency above which a word is an everyday word of its language
RARE_HEAD = 1.5       # a compound's head before a linking s may be this rare (the s marks the seam)


@lru_cache(maxsize=50_000)
def lemma(word: str) -> str:
    """The dictionary form, folded (`isbanan` → `isbana`, `Umeås` → `umea`)."""
    lw = word.lower()
    try:
        lem = simplemma.lemmatize(lw, lang="sv")
    except Exception:  # noqa: BLE001 - an odd token (digits, symbols): keep it as typed
        lem = lw
    return fold(lem.lower())


@lru_cache(maxsize=50_000)
def keys(word: str) -> frozenset[str]:
    """Every normalised form a word is known by: its lemma and its Snowball stem."""
    lw = word.lower()
    return frozenset({lemma(lw), stem(lw), fold(lw)})


@lru_cache(maxsize=50_000)
def is_word(part: str) -> bool:
    """A real Swedish word, common enough to be meant on its own."""
    return len(part) >= MIN_PART and zipf_frequency(part, "sv") >= COMMON_PART


def everyday(word: str, lang: str = "sv") -> bool:
    """A word too common in its language to name a topic ("betalar"; in English "committee")."""
    return zipf_frequency(word.lower(), lang) >= EVERYDAY


@lru_cache(maxsize=50_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """Head and tail of a compound (`driftkostnad` → `drift`, `kostnad`), with the linking `s`
    (`verksamhetsplan`), folded; the head may be a compound itself (`kvällsskiftsersättning` →
    `kvällsskift`, `ersättning`); () when the word is no such compound."""
    w = word.lower()
    best: tuple[str, str] | None = None
    for i in range(MIN_PART, len(w) - MIN_PART + 1):
        head, tail = w[:i], w[i:]
        heads = [head] + ([head[:-1]] if head.endswith("s") and len(head) > MIN_PART else [])
        tail_form = tail if is_word(tail) else (lemma(tail) if is_word(simplemma.lemmatize(tail, lang="sv")) else None)
        if tail_form is None or (best is not None and len(tail_form) <= len(best[1])):
            continue  # the longest tail: the head word
        h = next((h for h in heads if is_word(h)), None)
        if h is None and len(heads) > 1 and len(tail) > MIN_PART and zipf_frequency(heads[1], "sv") >= RARE_HEAD:
            h = heads[1]  # a rarer head before a linking s ("bärighets|klass", "helårs|budget")
        if h is None and len(tail) > MIN_PART:
            # the head may be a compound itself ("kvällsskift|s|ersättning"), read without its linking s;
            # only of longer parts, as a four-letter tail is often a suffix ("-ning", "-ande")
            h = next((h for h in reversed(heads) if len(_tail(h)) > MIN_PART), None)
        if h is not None:
            best = (h, tail_form)
    return (fold(best[0]), fold(best[1])) if best else ()


def _tail(word: str) -> str:
    """The last part of a compound, or "" when the word is none."""
    parts = compound_parts(word)
    return parts[1] if parts else ""


def content_words(text: str) -> list[str]:
    """The words that carry meaning: no stopwords, no bare numbers, at least three letters."""
    out = []
    for w in words(text):
        for part in w.split("-"):
            lw = part.lower()
            if len(lw) < 3 or lw.isdigit() or lw in STOPWORDS or fold(lw) in STOPWORDS:
                continue
            out.append(part)
    return out


class Vocabulary:
    """The normalised forms of a text's words, for fast "does this text mention that word"."""

    __slots__ = ("forms", "parts", "every")

    def __init__(self, text: str) -> None:
        self.forms: set[str] = set()
        self.parts: set[str] = set()
        for w in content_words(text):
            self.forms |= keys(w)
            for part in compound_parts(w):
                self.parts |= keys(part)
        self.every = self.forms | self.parts

    def has(self, word: str) -> float:
        """1.0 for the same word (lemma or stem), 0.6 for a compound-part match, else 0."""
        k = keys(word)
        if k & self.forms:
            return 1.0
        if k & self.parts:
            return 0.6  # "isbana" in a text about "isbanan"; "drift" in "driftkostnad"
        parts = compound_parts(word)
        if parts and all(keys(p) & self.every for p in parts):
            return 0.6  # "budgettabell" when the text has "budget" and "tabell"
        return 0.0


@lru_cache(maxsize=5_000)  # a candidate's evidence and context, shared by the ranker and the combining readers
def vocabulary(text: str) -> Vocabulary:
    """The (cached) `Vocabulary` of a text."""
    return Vocabulary(text)
