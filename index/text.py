"""Swedish text normalisation shared by BM25, sentence ranking and fact matching.

Words are lower-cased, stemmed with Snowball Swedish and then folded (å→a, ä→a, ö→o) so
"Umea" finds "Umeå" and "budgeten" finds "budget".
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

WORD = re.compile(r"[0-9]+(?:[/,.-][0-9]+)*|[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_stemmer = Stemmer.Stemmer("swedish")

STOPWORDS = set("""
och i att det som en på är av för med till den har de inte om ett han men var jag sig från vi så kan
man när år säger hon under också efter eller nu sin där vid mot ska skulle kommer ut får finns vara
hade alla andra mycket än här då sedan över bara in blir upp även vad få två vill ha många hur mer
går sverige kronor gör någon eftersom blev dessa denna detta dess deras vilka vilken vilket vem
hos ur ni du min mitt mina oss dem dig mig sitt sina samt enligt blev bli varit vilket igen
the a an of to in for on at by is are was were be how much what who which when where does did do
will would can could with from and or it its this that these those as per into about than
""".split())


VOWELS = set("aeiouyåäöé")


_FOLD = str.maketrans("åäöÅÄÖéÉèÈüÜáÁ", "aaoAAOeEeEuUaA")


def fold(text: str) -> str:
    """Remove diacritics: Umeå → Umea (keeps the letters, drops the marks)."""
    quick = text.translate(_FOLD)  # in C; each other non-ASCII character is decomposed once, then cached
    if quick.isascii():
        return quick
    for ch in set(quick):
        if not ch.isascii() and ord(ch) not in _FOLD:
            _FOLD[ord(ch)] = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return quick.translate(_FOLD)


STOPWORDS |= {fold(w) for w in STOPWORDS}  # "fran", "far" typed without å/ä/ö are still stopwords


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    # fold first, so "Umea" and "Umeå" stem alike (Snowball treats a trailing "a" as a suffix)
    return _stemmer.stemWord(fold(word.lower()))


def words(text: str) -> list[str]:
    return WORD.findall(text.replace("\u00ad", ""))


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    out: list[str] = []
    for w in words(text):
        out.extend(_word_tokens(w, keep_stopwords))
    return out


@lru_cache(maxsize=100_000)
def _word_tokens(w: str, keep_stopwords: bool) -> tuple[str, ...]:
    if w[0].isupper() and len(w) > 4 and w.endswith("s") and w[-2].lower() in VOWELS:
        w = w[:-1]  # genitive of a name: "Umeås" → "Umeå"
    lw = w.lower()
    if not keep_stopwords and (lw in STOPWORDS or fold(lw) in STOPWORDS):
        return ()
    out = [stem(lw) if not lw[0].isdigit() else lw]
    if "-" in lw and not lw[0].isdigit():  # "individ- och familjenämnden", "IOP-avtalet"
        out.extend(stem(p) for p in lw.split("-") if p and p not in STOPWORDS)
    return tuple(out)


def norm_text(text: str) -> str:
    """Folded, lower-cased, single-spaced: for fuzzy matching of names."""
    return re.sub(r"\s+", " ", fold(text.lower())).strip()
