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
