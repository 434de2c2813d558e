"""Stage 4 of the pipeline: one ranker scores every candidate on the same features and abstains
below one calibrated threshold.

The weights are not set by hand: `eval/fit_ranker.py` fits a logistic regression on the
candidates the readers propose for the golden questions (a candidate is positive when it
alone answers its question), picks the abstention threshold on the same training folds,
and writes `assistant/ranker.json`. Leave-one-document-out scores come from fitting without
the held-out document's questions.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from index.text import STOPWORDS, fold, stem, words

from . import query as T
from .analysis import dates_in
from .candidates import Candidate, asked_values
from .query import AnalyzedQuery
from .statements import Value, noun_after
from .words import Vocabulary, compound_parts, vocabulary

MODEL_PATH = Path(__file__).with_name("ranker.json")
READERS = ("sentence", "figure", "structure", "check", "pair", "arithmetic", "roles")

FEATURES = ("overlap", "ctx_overlap", "doc_cover", "max_missing", "unknown", "rank", "dense", "bm25",
            "type_match", "type_near",
            "names_doc", "names_local", "org_agree", "year", "year_doc", "numbers_local", "english", "confidence", "length", "match_x_type",
            "counts_asked",
            *(f"reader_{r}" for r in READERS))


# what the answerability model sees of the best candidate, of the runner-up, of the best candidate
# of another document, and of the next few candidates
ANSWER_FEATURES = ("top", "margin", "unknown", "max_missing", "doc_cover", "names_doc", "names_local", "org_agree",
                   "type_match", "year", "year_doc", "numbers_local", "english",
                   "overlap", "ctx_overlap", "reader_sentence", "lead_over_other_docs", "restated")
RESTATING = 5   # the candidates after the best that may state its value again


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    features: tuple[float, ...]
    score: float             # the candidate model's logit: higher is a better answer (not a probability)


class Evidence:
    """What the ranker may look up about the index: word rarity and each document's words."""

    def __init__(self, idf, doc_text, known, organisations: dict[str, tuple[str, ...]] | None = None) -> None:
        self.idf = idf                  # stem -> idf (1 common … ~4 rare)
        self._doc_text = doc_text       # source -> full text
        self._known = known             # stem -> bool: the word occurs somewhere in the index
        self._vocab: dict[str, Vocabulary] = {}
        self._mentions: dict[tuple[str, str], bool] = {}
        # each document's organisations (its issuer first), from its metadata
        self.organisations = {s: tuple(fold(o.lower()) for o in orgs) for s, orgs in (organisations or {}).items()}
        self.issuers = {orgs[0] for orgs in self.organisations.values() if orgs}

    def missing_names(self, q: AnalyzedQuery, c: Candidate, meta: dict) -> list[str]:
        """The bodies and organisations the question names that the candidate's document never
        names (neither in its text nor in its metadata): evidence from a document about another
        body or municipality cannot answer the question."""
        if not q.bodies and not q.organisations:
            return []
        near = self.doc_vocabulary(c.source)
        own = vocabulary(" ".join([meta.get("body") or "", *(meta.get("organisations") or [])[:1]]))
        # a name matches as a word, never as parts of a compound ("äldre" + "nämnd" is no äldrenämnd)
        missing = [b for b in q.bodies if near.has(b) < 1.0 and own.has(b) < 1.0 and not self.names_body(c.source, b)]
        forms = {org: {org} | ({org[:-1]} if org.endswith("s") and len(org) > 4 else set()) for org in q.organisations}
        for org in q.organisations:
            if not any(near.has(f) == 1.0 or own.has(f) == 1.0 for f in forms[org]):
                missing.append(org)
        issuer = vocabulary((meta.get("organisations") or [""])[0])
        if q.bodies and q.organisations and issuer.forms:
            # a body and a municipality named together ask for that municipality's body ("Eslövs
            # kommunstyrelse", "kommunfullmäktige i Borås stad"): a document another one issued
            # that only mentions it cannot answer
            if not any(issuer.has(f) == 1.0 for org in q.organisations for f in forms[org]):
                missing.extend(o for o in q.organisations if o not in missing)
        return missing

    def names_body(self, source: str, body: str) -> bool:
        """Whether the document names a body in its other Swedish form: "utbildningsnämnden" as
        "nämnden för (grundskole)utbildning", "miljönämnden" as "nämnden för miljö"."""
        key = (source, "body:" + body)
        if key not in self._mentions:
            parts = compound_parts(body)
            found = False
            if len(parts) == 2 and len(parts[0]) >= 4:
                topic, head = parts
                topic = re.escape(topic[:-1]) + "s?" if topic.endswith("s") else re.escape(topic)
                form = rf"\b{re.escape(head[:5])}\w*\s+for\s+(?:\w+\s+){{0,3}}?{topic}"
                found = re.search(form, fold(self._doc_text(source).lower())) is not None
            self._mentions[key] = found
        return self._mentions[key]

    def named_organisations(self, q: AnalyzedQuery) -> set[str]:
        """Issuers of some document that the question names ("Göteborgs", "i Simrishamn")."""
        named = set()
        for w in words(q.text):
            fw = fold(w.lower())
            for org in self.issuers:
                if len(fw) >= 4 and (fw == org or (fw.startswith(org) and len(fw) - len(org) <= 2)):
                    named.add(org)
        return named

    def doc_vocabulary(self, source: str) -> Vocabulary:
        if source not in self._vocab:
            self._vocab[source] = Vocabulary(self._doc_text(source) + " " + source.replace("_", " "))
        return self._vocab[source]

    def mentions(self, source: str, token: str) -> bool:
        """Whether the document prints `token` (a year, a number) as a word of its own."""
        key = (source, token)
        if key not in self._mentions:
            self._mentions[key] = re.search(r"(?<![\d])" + re.escape(token) + r"(?![\d])",
                                            self._doc_text(source) + " " + source) is not None
        return self._mentions[key]

    def dates(self, source: str) -> frozenset[str]:
        """The days the document names (ISO), read once."""
        key = (source, "dates")
        if key not in self._mentions:
            self._mentions[key] = frozenset(dates_in(self._doc_text(source) + " " + source))
        return self._mentions[key]

    def known(self, word: str) -> bool:
        return self._known(stem(word))




SCORE_SCALE = 10.0   # the best candidate's score, scaled, is a feature of the answerability model (the
                     # order model has no intercept: scores of best candidates lie around 20–35, where a
                     # squashed logit is 1.0 for all of them and tells nothing)
MARGIN_CAP = 8.0     # … and so is its lead over the runner-up, capped


@dataclass(frozen=True)
class _Asked:
    """What `features` needs of the question, worked out once per question, not per candidate."""
    terms: tuple[str, ...]
    weights: tuple[float, ...]
    total: float
    unknown: float
    names: tuple[tuple[str, ...], ...]
    organisations: frozenset[str]
    years: tuple[str, ...]
    numbers: tuple[re.Pattern, ...]
    counted: str             # what a count question counts ("hur många anbud" → "anbud"), or ""

    @staticmethod
    def of(q: AnalyzedQuery, ev: Evidence) -> "_Asked":
        terms = list(q.word_terms)
        if q.lang == "en":  # English words the index has never seen cannot be judged by their letters
            known = [t for t in terms if ev.known(t)]
            unknown = 0.0 if known else 1.0
            terms = known
        else:
            unknown = sum(1 for t in terms if not ev.known(t)) / max(1, len(terms))
        weights = tuple(ev.idf(stem(t)) for t in terms)
        numbers = [n for n in re.findall(r"\d+(?:[.,/]\d+)*", q.text) if not re.fullmatch(r"(19|20)\d\d", n)]
        return _Asked(tuple(terms), weights, sum(weights) or 1.0, unknown,
                      tuple(tuple(_name_parts(n)) for n in q.names), frozenset(ev.named_organisations(q)),
                      tuple(str(y) for y in q.years),
                      tuple(re.compile(r"(?<![\d])" + re.escape(n) + r"(?![\d])") for n in numbers),
                      _counted_noun(q))


def features(q: AnalyzedQuery, c: Candidate, ev: Evidence, asked: _Asked | None = None) -> tuple[float, ...]:
    a = asked or _Asked.of(q, ev)
    terms, weights, total = a.terms, a.weights, a.total
    local, ctx, doc = vocabulary(c.evidence), vocabulary(c.context), ev.doc_vocabulary(c.source)
    hit_local = [local.has(t) for t in terms]
    hit_ctx = [max(h, ctx.has(t)) for h, t in zip(hit_local, terms)]
    hit_doc = [max(h, doc.has(t)) for h, t in zip(hit_ctx, terms)]
    overlap = sum(w * h for w, h in zip(weights, hit_local)) / total
    ctx_overlap = sum(w * h for w, h in zip(weights, hit_ctx)) / total
    doc_cover = sum(w * h for w, h in zip(weights, hit_doc)) / total
    missing = [w for w, h in zip(weights, hit_doc) if h == 0]
    max_missing = max(missing, default=0.0) / 4.0
    typed = _typed(q, c)
    type_match = 1.0 if typed else 0.0
    type_near = _nearness(c.evidence, typed, list(terms)) if typed else 0.0
    text = c.evidence + " " + c.context
    if a.names:
        names_doc = sum(1 for parts in a.names if all(doc.has(p) for p in parts)) / len(a.names)
        names_local = sum(1 for parts in a.names if all(max(local.has(p), ctx.has(p)) for p in parts)) / len(a.names)
    else:
        names_doc = names_local = 1.0
    named = a.organisations
    org_agree = 1.0 if not named else (1.0 if named & set(ev.organisations.get(c.source, ())[:2]) else 0.0)
    year = (sum(1 for y in a.years if y in text) / len(a.years)) if a.years else 1.0
    year_doc = (sum(1 for y in a.years if ev.mentions(c.source, y)) / len(a.years)) if a.years else 1.0
    if a.numbers:
        passage = text + " " + c.passage[:3000]
        numbers_local = sum(1 for n in a.numbers if n.search(passage)) / len(a.numbers)
    else:
        numbers_local = 1.0
    length = min(1.0, len(c.evidence) / 300)
    reader = [1.0 if c.reader == r else 0.0 for r in READERS]
    dense = 1.0 / (1 + c.dense_rank / 5) if c.dense_rank is not None else 0.0
    bm25 = 1.0 / (1 + c.bm25_rank / 5) if c.bm25_rank is not None else 0.0
    # a count of what the question counts: "elva remissvar" for "hur många remissvar", not a page number
    counts_asked = 1.0 if a.counted and any(_counts(c.evidence, v, a.counted) for v in typed) else 0.0
    return (overlap, ctx_overlap, doc_cover, max_missing, a.unknown, 1.0 / (1 + c.rank), dense, bm25,
            type_match, type_near,
            names_doc, names_local, org_agree, year, year_doc, numbers_local, 1.0 if q.lang == "en" else 0.0,
            c.confidence, length, overlap * type_match, counts_asked, *reader)


COUNTED = re.compile(rf"\b(?:{T.COUNT_WORDS})\s+(?:av\s+|of\s+)?(?:de\s+|the\s+)?([a-zåäöé]{{3,}})", re.I)


def _counted_noun(q: AnalyzedQuery) -> str:
    """The noun a count question counts ("hur många anbud kom in" → "anbud")."""
    if q.answer_type != T.COUNT:
        return ""
    m = COUNTED.search(q.text)
    return m.group(1).lower() if m and m.group(1).lower() not in STOPWORDS else ""


def _counts(text: str, v: Value, noun: str) -> bool:
    """Whether a value printed in `text` is followed by the noun (in any inflection or compound)."""
    after = noun_after(text, v)
    return bool(after) and vocabulary(after).has(noun) > 0


def _name_parts(name: str) -> list[str]:
    return [p for p in re.split(r"[\s-]+", name) if len(p) >= 2]


def _typed(q: AnalyzedQuery, c: Candidate) -> list:
    kind = q.answer_type
    if kind == T.PASSAGE:
        return [c] if len(c.evidence) >= 40 else []
    return asked_values(q, c)


def _nearness(text: str, typed: list, terms: list[str]) -> float:
    """How close the asked value sits to the question's words in the sentence (1 = adjacent)."""
    positions = [v.start for v in typed if hasattr(v, "start")]
    if not positions:
        return 0.5
    low = text.lower()
    spots = []
    for t in terms:
        key = t.lower()[:max(4, len(t) - 2)]
        i = low.find(key)
        if i >= 0:
            spots.append(i)
    if not spots:
        return 0.0
    gap = min(abs(p - s) for p in positions for s in spots)
    return 1.0 / (1.0 + gap / 40.0)


class Ranker:
    """Two fitted logistic models: one orders the candidates of a question, one says how likely
    the best of them answers it; below `threshold` the assistant abstains."""

    def __init__(self, weights: dict[str, float], bias: float, answer_weights: dict[str, float] | None = None,
                 answer_bias: float = 0.0, threshold: float = 0.5) -> None:
        self.weights = [weights.get(f, 0.0) for f in FEATURES]
        self.bias = bias
        self.answer_weights = [(answer_weights or {}).get(f, 0.0) for f in ANSWER_FEATURES]
        self.answer_bias = answer_bias
        self.threshold = threshold

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "Ranker":
        if not path.exists():  # before the first fit: a neutral model that trusts word overlap and type
            return cls({"overlap": 3.0, "type_match": 1.5, "doc_cover": 2.0, "max_missing": -3.0, "dense": 1.0,
                        "confidence": 1.0}, -4.0, {"top": 4.0, "unknown": -4.0}, -2.0, 0.5)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["weights"], data["bias"], data.get("answer_weights"), data.get("answer_bias", 0.0),
                   data["threshold"])

    def to_dict(self) -> dict:
        return {"weights": dict(zip(FEATURES, self.weights)), "bias": self.bias,
                "answer_weights": dict(zip(ANSWER_FEATURES, self.answer_weights)), "answer_bias": self.answer_bias,
                "threshold": self.threshold}

    def score(self, x: tuple[float, ...]) -> float:
        """A logit, so that strong candidates keep their order (probabilities saturate at 1)."""
        return self.bias + sum(w * v for w, v in zip(self.weights, x))

    def rank(self, q: AnalyzedQuery, candidates: list[Candidate], ev: Evidence) -> list[Scored]:
        """Every candidate scored, best first."""
        return rank_with(self.score, q, candidates, ev)

    def answerable(self, q: AnalyzedQuery, ranked: list[Scored]) -> float:
        """The probability that the best candidate answers the question."""
        return self.answerability(answer_features(q, ranked)) if ranked else 0.0

    def answerability(self, x: tuple[float, ...]) -> float:
        """The answerability model on a ranking's `answer_features`."""
        return _sigmoid(self.answer_bias + sum(w * v for w, v in zip(self.answer_weights, x)))

    def abstains(self, q: AnalyzedQuery, ranked: list[Scored]) -> bool:
        return self.answerable(q, ranked) < self.threshold


def rank_with(score: Callable[[tuple], float], q: AnalyzedQuery, candidates: list[Candidate],
              ev: Evidence) -> list[Scored]:
    asked = _Asked.of(q, ev)
    return sorted((Scored(c, x, score(x)) for c in candidates for x in [features(q, c, ev, asked)]),
                  key=lambda s: -s.score)


def answer_features(q: AnalyzedQuery, ranked: list[Scored]) -> tuple[float, ...]:
    top = ranked[0]
    f = dict(zip(FEATURES, top.features))
    margin = min(MARGIN_CAP, top.score - ranked[1].score) if len(ranked) > 1 else MARGIN_CAP
    # the lead over the best candidate of any other document: an answer no document stands out
    # for (a question about something none of them holds) is found in several, each a little
    other = next((s for s in ranked[1:] if s.candidate.source != top.candidate.source), None)
    lead = min(MARGIN_CAP, top.score - other.score) / MARGIN_CAP if other is not None else 1.0
    # how many of the next candidates state the best one's value again (an answer the evidence
    # repeats, in a table and in its text, is surer than one a single line states)
    stated = {v.text for v in asked_values(q, top.candidate)[:1]}
    restated = (sum(1 for s in ranked[1:1 + RESTATING] if stated & {v.text for v in asked_values(q, s.candidate)})
                / RESTATING) if stated else 0.0
    named = dict(f, lead_over_other_docs=lead, restated=restated)
    return (top.score / SCORE_SCALE, margin / MARGIN_CAP, *(named[name] for name in ANSWER_FEATURES[2:]))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
