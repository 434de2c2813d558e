"""Stage between reading and ranking: which candidates may answer at all.

A name, or a word that is not everyday Swedish, that none of the documents a caller may read
has (in any inflection, as a compound of known words, or spelt nearly so) means nothing can be
about it: the answer is "not in the documents", naming it. Evidence from a document that never
names the body or organisation the question asks about cannot answer either.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Set

from rapidfuzz import process

from index.text import stem, tokens

from .analysis import dates_in, years_in
from .candidates import Candidate
from .query import AnalyzedQuery
from .ranker import Evidence
from .words import compound_parts, everyday, lemma



def admit(q: AnalyzedQuery, candidates: list[Candidate], vocab: Set[str], ev: Evidence,
          meta: dict[str, dict]) -> tuple[list[Candidate], list[str]]:
    """The candidates that may answer, and what the question names that the evidence lacks."""
    strangers = unknown_names(q, vocab) or unknown_words(q, vocab)
    if strangers:
        return [], strangers
    kept, missing = admissible(q, candidates, ev, meta)
    if kept and q.years and not any(set(q.years) & years_near(c, meta.get(c.source, {})) for c in kept):
        # the question is about a year that none of the evidence it could be answered from is about:
        # a budget for 2031 is not in a document that plans 2028–2030. (Only a gate: dropping the
        # candidates without the year lost right answers whose year is in a table's header.)
        return [], [*missing, *(str(y) for y in _as_written(q))]
    if kept and q.dates:
        # a question that names a day (a meeting's) is answered from documents that name that day
        asked, titles = set(q.dates), {c.source: c.title for c in kept}
        naming = {s for s, title in titles.items()
                  if asked & (ev.dates(s) | set(dates_in(f"{title} {meta.get(s, {}).get('date') or ''}")))}
        if not naming:
            return [], [*missing, *q.dates]
        kept = [c for c in kept if c.source in naming]
    return kept, missing


def years_near(c: Candidate, meta: dict) -> frozenset[int]:
    """The years named where the candidate's evidence is: its sentence, passage, section,
    document title, file name and meeting date."""
    return years_in(" ".join((c.evidence, c.context, c.passage, c.title, c.section, c.source,
                              str(meta.get("date") or ""))))


def _as_written(q: AnalyzedQuery) -> list[int]:
    written = [y for y in q.years if str(y) in q.text]
    return written or list(q.years)


def near(term: str, vocab: Set[str]) -> str | None:
    """The document word spelt nearly as `term` (same first two letters, length within 2)."""
    pool = [v for v in _by_prefix(vocab).get(term[:2], ()) if abs(len(v) - len(term)) <= 2]
    best = process.extractOne(term, pool, score_cutoff=84) if pool else None
    return best[0] if best else None


_PREFIXES: dict[int, tuple[Set[str], dict[str, list[str]]]] = {}
_PREFIX_LOCK = threading.Lock()
PREFIX_VIEWS = 8   # vocabularies (one per index state and access level) whose prefix index is kept


def _by_prefix(vocab: Set[str]) -> dict[str, list[str]]:
    """The vocabulary's words by their first two letters, built once per vocabulary (a scan of
    every word for every unknown term made a long garbage question cost a tenth of a second)."""
    hit = _PREFIXES.get(id(vocab))
    if hit is not None and hit[0] is vocab:
        return hit[1]
    index: dict[str, list[str]] = {}
    for v in vocab:
        index.setdefault(v[:2], []).append(v)
    with _PREFIX_LOCK:  # request threads share it
        while len(_PREFIXES) >= PREFIX_VIEWS:
            _PREFIXES.pop(next(iter(_PREFIXES)))
        _PREFIXES[id(vocab)] = (vocab, index)
    return index


def unknown_names(q: AnalyzedQuery, vocab: Set[str]) -> list[str]:
    """Names in the question that no readable document mentions, nor anything spelt nearly so."""
    out = []
    for name in (*q.names, *q.organisations):
        for part in re.split(r"[\s-]+", name):
            t = tokens(part)
            if not t or len(part) < 4 or t[0] in vocab:
                continue
            if near(t[0], vocab) is None:
                out.append(name)
                break
    return list(dict.fromkeys(out))


def unknown_words(q: AnalyzedQuery, vocab: Set[str]) -> list[str]:
    """The Swedish content words of six letters or more, not everyday ones, that no readable
    document has, in any inflection, as a compound of known words, or spelt nearly so
    ("surdegsbröd", "isbanan" once the only document about the ice rink is gone), when the
    question has no other such word that the documents do know. The words that
    ask for the answer type ("vilket diarienummer", "hur stor andel") are not judged: a document
    states a diarienummer without the word."""
    if q.lang != "sv":
        return []  # English words are judged by meaning, not letters
    out, known = [], 0
    for term in q.terms:
        if term.lower() in q.asks:
            continue  # the word that names what kind of answer is wanted ("ärendenummer") is not its topic
        if len(term) < 6 or any(ch.isdigit() for ch in term) or everyday(term):
            continue  # an everyday word ("betalar", "beslutade") says how, not what, is asked
        forms = {tokens(term)[0] if tokens(term) else term, stem(lemma(term))}
        parts = compound_parts(term)
        if forms & vocab or (parts and all(stem(p) in vocab for p in parts)):
            known += 1
            continue
        if any(len(f) >= 4 and any(f in v for v in vocab) for f in forms):
            known += 1
            continue  # a part of a compound the documents use ("driften" in "driftkostnaden")
        if near(next(iter(forms)), vocab) is None:
            out.append(term)
        else:
            known += 1
    # a question whose other specific words the documents know uses its own words for something
    # they say otherwise ("sluttid", "deltagarlistan", "mötestid"): retrieval by meaning and the
    # ranker judge it. Only a question with nothing specific the documents know is off their topic.
    return out if not known else []


def admissible(q: AnalyzedQuery, candidates: list[Candidate], ev: Evidence,
               meta: dict[str, dict]) -> tuple[list[Candidate], list[str]]:
    """Only evidence from documents of the bodies and organisations the question names."""
    if not q.bodies and not q.organisations:
        return candidates, []
    kept, missing = [], []
    for c in candidates:
        gone = ev.missing_names(q, c, meta.get(c.source, {}))
        if gone:
            missing.extend(x for x in gone if x not in missing)
        else:
            kept.append(c)
    return kept, missing
