"""English question words matched to the Swedish words of the retrieved passages, by meaning.

An English question about Swedish documents shares few words with them: "renovated" is
"renoverade", "contract" is "kontraktet". A glossary only knows the words someone wrote into it.
The multilingual embedder already loaded (e5) places a word and its translation close together,
so each English content word is matched to the nearest word of the passages retrieved for the
question, when it is clearly nearest (similar enough and ahead of the runner-up) and spelt alike:
single words are embedded without context, and meaning alone also pairs words that are not
translations. The word features of the ranker then see the Swedish word. A word the passages do not have is left as it
is (nothing is invented), and a Swedish question is not touched.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz
from wordfreq import zipf_frequency

from index.text import fold

from .query import AnalyzedQuery
from .words import content_words

MIN_SIMILARITY = 0.905   # e5's cosines of single words crowd in 0.80–0.92; a translation stands at the top
MIN_LEAD = 0.015         # … and clearly ahead of the second-nearest word
MIN_SPELLING = 50        # … and spelt alike (0–100): meaning alone also pairs words that are no translations
MAX_WORDS = 160          # passage words embedded per question (the best passages' words first)


def cognate(english: str, swedish: str) -> bool:
    """The two words are spelt alike: "renovated"/"renoverade", "contract"/"kontraktet"."""
    return fuzz.ratio(fold(english.lower()), fold(swedish.lower())) >= MIN_SPELLING


def english_words(q: AnalyzedQuery) -> list[str]:
    """The question's content words that are English, not Swedish (and not names)."""
    return [t for t in q.terms if t.islower() and t.isalpha() and len(t) >= 4
            and zipf_frequency(t, "en") > max(2.5, zipf_frequency(t, "sv") + 1.0)]


def bridge(q: AnalyzedQuery, passages: Sequence[str], vectors: Callable[[list[str]], np.ndarray]) -> AnalyzedQuery:
    """`q` with its English words replaced by the passages' Swedish words that mean the same.
    `vectors` embeds single words, one row each (`CouncilIndex.word_vectors`, which keeps them)."""
    if q.lang != "en":
        return q
    asked = english_words(q)
    if not asked:
        return q
    # a capitalised word may be a name ("Berg", "Holm"): not a translation
    swedish = (w for text in passages for w in content_words(text)
               if len(w) >= 4 and w.isalpha() and w.islower() and zipf_frequency(w, "sv") > zipf_frequency(w, "en"))
    seen: dict[str, None] = {}
    for w in swedish:  # the best passages' words first, until MAX_WORDS
        seen.setdefault(w)
        if len(seen) >= MAX_WORDS:
            break
    pool = [w for w in seen if w not in asked]
    if len(pool) < 2:
        return q
    a, b = vectors(asked), vectors(pool)
    sims = a @ b.T
    matched: dict[str, str] = {}
    for i, word in enumerate(asked):
        order = np.argsort(-sims[i])[:2]
        best, second = float(sims[i, order[0]]), float(sims[i, order[1]])
        if best >= MIN_SIMILARITY and best - second >= MIN_LEAD and cognate(word, pool[order[0]]):
            matched[word] = pool[order[0]]
    if not matched:
        return q
    terms = tuple(dict.fromkeys(matched.get(t, t) for t in q.terms))
    return dataclasses.replace(q, terms=terms)
