"""A Swedish word list for telling real words from broken ones.

Used for two PDF problems: text layers whose glyphs map to the wrong letters ("protokojjet",
"fullmäktge") are found by their share of unknown words, and a word a table cell split over two
lines ("Avvik" / "else") is rejoined when the joined form is a word.  The list is wordfreq's
Swedish frequency list (340 000 forms, shipped inside the package, no download); Swedish
compounds that it lacks ("budgetavvikelse") count as known when both halves are words.
"""
from __future__ import annotations

import re
from functools import lru_cache

WORD = re.compile(r"[A-Za-zÅÄÖåäöÉéÜü]+")
_MIN_PART = 4  # "och" + "förändring" must not make a compound


@lru_cache(maxsize=1)
def _words() -> dict[str, float]:
    try:
        from wordfreq import get_frequency_dict
    except ImportError:  # the checks below then judge nothing unknown
        return {}
    return get_frequency_dict("sv")


def available() -> bool:
    return bool(_words())


@lru_cache(maxsize=50_000)
def is_known(word: str) -> bool:
    """A Swedish word form, or a compound of two (with an optional linking s)."""
    words = _words()
    w = word.lower()
    if not words or w in words:
        return True
    for i in range(_MIN_PART, len(w) - _MIN_PART + 1):
        head, tail = w[:i], w[i:]
        if tail in words and (head in words or (head.endswith("s") and head[:-1] in words)):
            return True
    return False


def frequency(word: str) -> float:
    return _words().get(word.lower(), 0.0)


def unknown_share(text: str, min_len: int = 3) -> tuple[float, int]:
    """Share of lower-case words (names and acronyms excluded) that are not Swedish words, and
    how many words were judged."""
    judged = [w for w in WORD.findall(text) if len(w) >= min_len and w[0].islower()]
    if not judged:
        return 0.0, 0
    unknown = sum(1 for w in judged if not is_known(w))
    return unknown / len(judged), len(judged)


def joins_to_word(left: str, right: str) -> bool:
    """Two fragments of one word split by a line break inside a cell ("Avvik" + "else",
    "digitalise" + "ring"): the joined form is a word more common than its parts."""
    if not (left[-1:].isalpha() and left[-1:].islower() and right[:1].isalpha() and right[:1].islower()):
        return False
    a = WORD.findall(left)[-1:] or [""]
    b = WORD.findall(right)[:1] or [""]
    joined = a[0] + b[0]
    if not a[0] or not b[0] or not is_known(joined):
        return False
    if not is_known(a[0]) or not is_known(b[0]):
        return True
    return frequency(joined) > min(frequency(a[0]), frequency(b[0]))


# A font that draws "ti", "tt", "ft", "fi", "fl" as one ligature glyph with no text mapping
# loses one letter of the pair: "fullmäktge", "omfatande", "trafkleder", "efer".
_LIGATURE_LOST = "itfl"


@lru_cache(maxsize=50_000)
def ligature_repair(word: str) -> str | None:
    """The word with the letter a dropped ligature lost put back, when exactly that makes a
    Swedish word (the most frequent one if several do); None when the word needs no repair."""
    words = _words()
    w = word.lower()
    if not words or len(w) < 3 or ("t" not in w and "f" not in w):
        return None
    known_as_is = w in words
    if known_as_is and words[w] >= 2.5e-6:  # "efer" is in the list, rarely; "at" (English) is not rare
        return None
    best, best_freq = None, 0.0
    for i in range(1, len(w) + 1):
        left, right = w[i - 1:i], w[i:i + 1]
        for ch in _LIGATURE_LOST:
            pair = left + ch if left in "tf" else ch + right if right in "tf" else ""
            if not pair or pair not in ("ti", "tt", "ft", "fi", "fl", "ff", "tf"):
                continue
            cand = w[:i] + ch + w[i:]
            freq = words.get(cand, 0.0)
            if freq > best_freq:
                best, best_freq = cand, freq
    if best is None or (known_as_is and best_freq < 1000 * words[w]):
        return None
    if not known_as_is and is_known(w):  # a compound of two words needs no letter
        return None
    return _same_case(word, best)


def _same_case(original: str, repaired: str) -> str:
    return repaired.capitalize() if original[:1].isupper() else repaired


def repair_ligatures(text: str) -> tuple[str, set[str]]:
    """Every word of the text repaired as above; returns the text and the distinct words fixed."""
    fixed: set[str] = set()

    def sub(m: re.Match) -> str:
        rep = ligature_repair(m.group(0))
        if rep is None:
            return m.group(0)
        fixed.add(m.group(0).lower())
        return rep

    return WORD.sub(sub, text), fixed


@lru_cache(maxsize=50_000)
def name_like(word: str, part: int = -1) -> bool:
    """A proper name: simplemma gives it a capitalised lemma (Nilsson, Göteborg) or does not know
    it (Frostdahl); a common noun (Stadshuset → stadshus, "Varje kommun") is no name. `part`: which
    part of a hyphenated word is judged."""
    import simplemma

    w = word.split("-")[part].lower()
    return simplemma.lemmatize(w, lang="sv")[:1].isupper() or not simplemma.is_known(w, lang="sv")
