"""The figures engine: answer amount questions from parsed facts, never from memory.

A question is matched against every fact (row label, column, caption, entity, year) with
support from the passages retrieval found; then the asked operation is applied — a single
value, a sum over years, parties or a group of rows, a difference, or a share — and the
result carries its formula and every row it used.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, NamedTuple

import numpy as np
from rapidfuzz import fuzz

from index.text import STOPWORDS, norm_text, tokens
from ingest.model import Discrepancy, Fact
from ingest.checks import signed_sum
from ingest.numbers import MONEY_UNITS, format_amount, format_number, to_unit

from .analysis import LOWER, SUM_WORDS, Query
from .i18n import say
from .words import content_words, vocabulary

GENERIC = {"hur", "mycket", "stor", "stort", "vad", "belopp", "uppgar", "for", "far", "fran", "enlig"}
COST_ROW = re.compile(r"kostnad|utgift|expense|cost", re.I)   # a row that states a cost …
CHANGE_ROW = re.compile(r"avvik|förändr|diff|skillnad|ökning|minskning|variance|change", re.I)  # … not a change in one
BODY = re.compile(r"([A-ZÅÄÖ][\w]*-?(?: och [\w-]+)?(?:nämnd|styrelse|förbund|utskott|fullmäktige)\w*)")
PLURAL_PARTIES = re.compile(r"\b(parter\w*|samtliga|(?:alla|de) (?:två|tre|fyra|fem)|alla parter|all parties|"
                            r"(?:all|the) (?:two|three|four|five))\b", re.I)
SUM_ROW = re.compile(r"(summa|totalt?|total)\b", re.I)  # a table row that already names a sum
# a change a sentence states by its verb ("ökade med", "höjs till"), beside CHANGE_ROW's nouns of a row label
CHANGE_WORDS = re.compile(r"\b(ök|minsk|sänk|höj(?!d)|förändr|increas|decreas)\w*", re.I)
# names listed in the question ("Åsele, Lycksele och Storuman"): the rows a sum is over
LISTED = re.compile(r"\b[A-ZÅÄÖ][\wåäöé-]+(?:\s*,\s*[A-ZÅÄÖ][\wåäöé-]+)*"
                    r"\s+(?:och|samt|and)\s+[A-ZÅÄÖ][\wåäöé-]+")
ALL_YEARS = re.compile(r"\b(hela perioden|alla år|under perioden|whole period|entire period)\b", re.I)


@dataclass
class Figure:
    label: str
    value: float
    unit: str | None
    formula: str | None
    facts: list[Fact]


@dataclass
class FigureResult:
    figures: list[Figure]
    sentence: str              # the answer text, with {c:<fact_id>} placeholders for citations
    facts: list[Fact]          # every row used, in citation order
    warnings: list[Discrepancy] = field(default_factory=list)
    corrected: list[Fact] = field(default_factory=list)  # earlier statements a correction replaced
    score: float = 0.0         # the engine's match score of its best row (words, support, meaning)


MONEY_Q = re.compile(r"hur mycket|kost|betal|budget|belopp|kronor|\bkr\b|tkr|mnkr|finansier|bidr|insats|"
                     r"avsatt|nettokostnad|how much|pay", re.I)


@lru_cache(maxsize=20_000)
def _tok(text: str) -> frozenset[str]:
    # hyphenated words count by their parts only ("IOP-avtalet" → iop, avtal)
    return frozenset(t for t in tokens(text or "") if t not in GENERIC and not t.isdigit() and "-" not in t)


def _partial(q: str, f: str) -> bool:
    """An inflection or compound of the same word ("årsbudget" ~ "budget", "volontärinsatserna")."""
    return len(q) >= 5 and len(f) >= 5 and (f.startswith(q[:5]) or q.startswith(f[:5]) or f.endswith(q)
                                            or q.endswith(f))


def _match_sets(qtoks: set[str], ftoks: frozenset[str], weight: dict[str, float],
                partials: dict[str, frozenset[str]]) -> float:
    """Weighted share of the question's words found in a descriptor. An inflection or compound
    ("årsbudget" answers "budget") counts 0.6 of the rarer word; `partials` holds each question
    word's partial matches, looked up once per question."""
    hits = 0.0
    for q in qtoks:
        if q in ftoks:
            hits += weight.get(q, 1.0)
            continue
        p = partials.get(q)
        if p and ftoks:
            inter = p & ftoks
            if inter:
                hits += 0.6 * min(weight.get(q, 1.0), max(weight.get(f, 1.0) for f in inter))
    return hits


EMPTY: frozenset[str] = frozenset()
MAX_SCORED = 1500  # facts scored in full per question (the rest are clearly worse by words and meaning)
ACTOR = re.compile(r"\b(bidr|finansier|betal|satsa|insats|ger\b|gav\b|får\b|fick\b)\w*\W+(?:\w+\W+){0,3}?kommun\w*|"
                   r"\bkommun\w*\W+(?:\w+\W+){0,2}?(bidr|finansier|betal|satsa|insats|ekonomisk)\w*", re.I)


class _Scoring(NamedTuple):
    """What scoring a fact needs to know about the question, computed once per question."""
    qtoks: set[str]
    row_tokens: frozenset[str]      # the question's words minus those naming a party
    entities: list[str]
    entity_norms: list[str]
    years: set[int]
    support: dict[str, float]
    named: set[str]
    partials: dict[str, frozenset[str]]
    money: bool
    share_words: bool
    share_words_sv: bool
    count_words: bool
    actor: frozenset[str]           # "Umeå kommun bidrog …": the payer an amount must name


@lru_cache(maxsize=4096)
def _norm_name(name: str) -> str:
    return norm_text(name)


class FigureEngine:
    def __init__(self, facts: list[Fact], discrepancies: list[Discrepancy], titles: dict[str, str] | None = None,
                 vectors=None) -> None:
        self.facts = facts
        self.vectors = vectors if vectors is not None and len(vectors) == len(facts) else None
        self.discrepancies = discrepancies
        self.entities = sorted({f.entity for f in facts if f.entity}, key=len, reverse=True)
        # Words that name a document's own body ("individ- och familjenämndens") select the
        # document, not a row in it.
        self.body_tokens = {src: frozenset(_tok(" ".join(BODY.findall(t)))) for src, t in (titles or {}).items()}
        self.title_tokens = {src: _tok(t) for src, t in (titles or {}).items()}
        df: dict[str, int] = {}
        for f in facts:
            for t in _tok(f"{f.label} {f.column or ''} {f.caption}"):
                df[t] = df.get(t, 0) + 1
        n = max(1, len(facts))
        self.weight = {t: 1.0 + math.log(n / (1 + c)) / 2.5 for t, c in df.items()}
        # each fact's words per field, computed once (an archive repeats the same labels), and an
        # inverted index of the row fields so a question only scores the facts that share a word
        cache: dict[str, frozenset[str]] = {}

        def tk(text: str) -> frozenset[str]:
            v = cache.get(text)
            if v is None:
                v = cache[text] = frozenset(t for t in tokens(text or "") if t not in GENERIC and not t.isdigit()
                                            and "-" not in t)
            return v

        self._fields: list[tuple[frozenset[str], ...]] = []
        postings: dict[str, list[int]] = {}
        vocab: set[str] = set()
        for i, f in enumerate(facts):
            label = tk(f"{f.label} {f.group}")
            col = tk(f.column or "")
            cap = tk(f.caption) if f.kind == "table" else EMPTY
            quote = tk(f.quote) if f.kind == "text" else EMPTY
            ctx = tk(" ".join([f.section, f.entity or "", f.source.replace("_", " ")])) | \
                self.title_tokens.get(f.source, EMPTY)
            own = self.body_tokens.get(f.source, EMPTY) | (tk(f.entity) if f.entity else EMPTY)
            self._fields.append((label, col, cap, quote, ctx, own))
            for t in label | col | cap | quote:
                postings.setdefault(t, []).append(i)
            vocab |= ctx
        vocab |= postings.keys()
        self._postings = {t: np.asarray(ix, dtype=np.int64) for t, ix in postings.items()}
        self._years = np.asarray([f.year or 0 for f in facts], dtype=np.int64)
        self._vocab = vocab
        # bounded (a stream of unseen words must not grow it) and thread-safe
        self._partial_words = lru_cache(maxsize=20_000)(
            lambda q: frozenset(f for f in self._vocab if f != q and _partial(q, f)))
        self._entities_memo: dict[tuple[str, str], list[str]] = {}
        self._superseded = [(f, norm_text(f.quote)) for f in facts if f.superseded_by]
        self._entity_words = [(e, [w for w in re.findall(r"\w+", norm_text(e)) if len(w) >= 3])
                              for e in self.entities]
        self._names: dict[int, str] = {}
        self._about: dict[tuple[int, bool], frozenset[str]] = {}  # one entry per fact (and with/without passage)

    def _partials_of(self, qtoks: set[str]) -> dict[str, frozenset[str]]:
        return {q: self._partial_words(q) for q in qtoks}

    # -- matching ---------------------------------------------------------------------
    def entities_in(self, q: Query) -> list[str]:
        """Parties named in the question, tolerating typos and missing diacritics."""
        key = (q.text, q.search_text)
        found = self._entities_memo.get(key)  # read once: another thread may replace the memo meanwhile
        if found is None:
            found = self._entities_in(q)
            self._entities_memo = {key: found}  # the last question's (asked several times)
        return list(found)

    def _entities_in(self, q: Query) -> list[str]:
        qwords = re.findall(r"\w+", norm_text(q.text + " " + q.search_text))
        found = []
        for e, ewords in self._entity_words:
            if ewords and all(any(w == x or (len(w) >= 5 and fuzz.ratio(w, x) >= 80) or
                                  x.startswith(w if len(w) < 5 else w[:5]) for x in qwords) for w in ewords):
                norm = _norm_name(e)
                if not any(norm in _norm_name(f) for f in found):
                    found.append(e)
        return found

    def named_documents(self, qtoks: set[str]) -> set[str]:
        """Documents whose own body the question names ("individ- och familjenämndens …")."""
        return {src for src, body in self.body_tokens.items() if body and body <= qtoks}

    def score(self, i: int, c: "_Scoring") -> float:
        f = self.facts[i]
        if c.years and f.year is not None and f.year not in c.years:
            return -1.0  # a figure for another year never answers
        if f.unit == "%" and c.money and not c.share_words:
            return -1.0  # "hur mycket" asks for an amount, not a share
        entity_bonus = 0.0
        if c.entities:
            names = self._names.get(i)
            if names is None:
                names = self._names[i] = norm_text(" ".join([f.entity or "", f.caption, f.column or "", f.quote,
                                                             f.source.replace("_", " ")]))
            if f.entity and f.entity in c.entities:
                entity_bonus = 4.0
            elif any(e in names for e in c.entity_norms):
                entity_bonus = 2.5
            elif f.entity:
                return -1.0  # another party's figure never answers
            else:
                entity_bonus = -4.0
        w, partials = self.weight, c.partials
        label, col, cap, quote, ctx, own = self._fields[i]
        # words naming the party or body select the document, not the row
        row_q = c.row_tokens - own
        label_hits = _match_sets(row_q, label, w, partials)
        col_hits = _match_sets(row_q, col, w, partials)
        cap_hits = _match_sets(row_q, cap, w, partials) if f.kind == "table" else 0.0
        sent_hits = _match_sets(row_q, quote, w, partials) if f.kind == "text" else 0.0
        if label_hits + col_hits + sent_hits + cap_hits == 0:
            return -1.0
        ctx_hits = _match_sets(c.qtoks, ctx, w, partials)
        if f.kind == "table":
            s = 3.0 * label_hits + 1.5 * col_hits + 1.5 * cap_hits + 0.5 * ctx_hits
        else:
            s = 2.0 * label_hits + 0.4 * sent_hits + 0.5 * ctx_hits - 3.0  # rows carry more structure
        s += entity_bonus
        if c.actor and f.unit in MONEY_UNITS and not c.actor & (label | col | cap | quote):
            s -= 2.5  # the kommun's contribution, not the whole budget it is part of
        if f.superseded_by:
            s -= 8.0
        if c.named and f.source not in c.named:
            s -= 4.0
        if c.years:
            if f.year in c.years:
                s += 2.5
            elif any(str(y) in f.quote or str(y) in f.caption for y in c.years):
                s += 1
            else:
                s -= 3.0
        if f.unit is None and c.money:
            s -= 4.0
        if f.unit == "%" and c.share_words_sv:
            s += 1.5
        if f.unit == "st" and c.count_words:
            s += 1.5
        if f.is_total and label_hits < 1:
            s += 1.0
        if f.uncertain or (f.kind == "table" and f.label[:1].isdigit()):
            s -= 4.0  # a guessed split, or a label starting with a stray number from one
        s += c.support.get(f.source + f"#{f.start}", 0.0)
        return s

    @staticmethod
    @lru_cache(maxsize=1024)
    def _entity_tokens_cached(entities: tuple[str, ...]) -> frozenset[str]:
        return frozenset(t for e in entities for t in _tok(e))

    def _entity_tokens(self, entities: list[str]) -> frozenset[str]:
        return self._entity_tokens_cached(tuple(entities))

    def ranked(self, q: Query, support: dict[str, float]) -> list[tuple[float, Fact]]:
        qtoks = set(_tok(q.base_text))
        entities = self.entities_in(q)
        meaning = self._meaning(q)
        partials = self._partials_of(qtoks)
        text = q.search_text
        c = _Scoring(qtoks, frozenset(qtoks - self._entity_tokens(entities)), entities,
                     [_norm_name(e) for e in entities], set(q.years), support, self.named_documents(qtoks),
                     partials, bool(MONEY_Q.search(text)),
                     bool(re.search(r"procent|andel|%|percent|share", text, re.I)),
                     bool(re.search(r"procent|andel|%", text, re.I)),
                     bool(re.search(r"hur många|antal", text, re.I)),
                     frozenset({"kommun"}) if ACTOR.search(q.base_text) else EMPTY)
        # a fact sharing no word with the question in its row scores nothing; in a large archive only
        # the most promising (by words, year and meaning) are scored in full
        pre = np.zeros(len(self.facts), dtype=np.float32)
        for t in qtoks:
            wt = self.weight.get(t, 1.0)
            if t in self._postings:
                pre[self._postings[t]] += wt
            for v in partials[t]:
                if v in self._postings:
                    pre[self._postings[v]] += 0.6 * min(wt, self.weight.get(v, 1.0))
        candidates = np.flatnonzero(pre)
        if q.years:
            years = self._years[candidates]
            candidates = candidates[(years == 0) | np.isin(years, list(c.years))]
        if len(candidates) > MAX_SCORED:
            promise = 3.0 * pre[candidates] + meaning[candidates]
            candidates = np.sort(candidates[np.argpartition(-promise, MAX_SCORED)[:MAX_SCORED]])
        scored = []
        for i in candidates.tolist():
            s = self.score(i, c)
            if s > 0:
                scored.append((s + float(meaning[i]), self.facts[i]))
        return sorted(scored, key=lambda x: -x[0])

    def _meaning(self, q: Query):
        """How close each fact's passage is to the question by embedding (z-scored bonus):
        it finds "1,1 mkr i form av volontärinsatser" for "vad är volontärinsatserna värda"."""
        if self.vectors is None or q.vector is None or not len(self.facts):
            return np.zeros(len(self.facts), dtype=np.float32)
        sims = self.vectors @ q.vector
        z = (sims - sims.mean()) / (sims.std() + 1e-9)
        return 2.0 * z.clip(-2.0, 3.0)

    # -- operations -------------------------------------------------------------------
    def answers_focus(self, f: Fact, q: Query, focus: list[str],
                      context: Callable[[Fact], str] | None = None) -> bool:
        """The fact is about what the question is about: its rarest word (e.g. "snöröjning",
        "lokalhyra") stands in the fact, its table, section, document title or passage; and a
        question for a year is answered by a figure for that year."""
        if q.years and f.year is None and not any(str(y) in f.quote or str(y) in f.caption for y in q.years):
            return False
        if not focus:
            return True
        text = self.about(f, context)
        # exact or inflected ("volontärinsatserna" ~ "volontärinsatser"), not just a compound's head
        return any(t in text or any(len(x) >= 5 and (x.startswith(t[:6]) or t.startswith(x[:6])) for x in text)
                   for t in focus)

    def about(self, f: Fact, context: Callable[[Fact], str] | None = None) -> frozenset[str]:
        """The words a fact is about: its own, its table's and section's, its document's; a table
        row also its passage's (`context`). Read once per fact."""
        key = (id(f), context is not None)
        got = self._about.get(key)
        if got is None:
            # a sentence speaks for itself; a table row also through its table and section
            around = context(f) if context and f.kind == "table" else ""
            got = _tok(" ".join([f.descriptor(), f.quote, f.section, f.column or "", around,
                                 f.source.replace("_", " ")])) | self.title_tokens.get(f.source, frozenset())
            self._about[key] = got
        return got

    def answer(self, q: Query, support: dict[str, float], focus: list[str] | None = None,
               context: Callable[[Fact], str] | None = None) -> FigureResult | None:
        ranked = self.ranked(q, support)
        ranked = [x for x in ranked if self.answers_focus(x[1], q, focus or [], context)]
        if not ranked or ranked[0][0] < 4.0:
            return None
        best = ranked[0][1]
        if q.operation in ("sum", "share"):
            # a computation needs rows, and rows carry their columns and years
            tables = [x for x in ranked if x[1].kind == "table" and not (q.operation == "share" and x[1].unit == "%")]
            if tables and tables[0][0] >= 4.0:
                best = tables[0][1]
        elif q.operation in ("diff", "growth"):
            table_best = next((x for x in ranked if x[1].kind == "table"), None)
            if table_best and table_best[0] >= 0.6 * ranked[0][0]:
                best = table_best[1]
        if q.operation == "share":
            res = self._share(q, best)
        elif q.operation in ("diff", "growth"):
            res = self._diff(q, best, ranked) or self._across_documents(q, best, ranked)
        elif q.operation == "sum":
            res = self._sum(q, best, ranked)
        else:
            res = self._ambiguous(q, best, ranked)
        if res is None and self._states_asked(q, best):
            res = self._value(best, q)
        if res is None:
            return None
        res.warnings = self._warnings(res.facts)
        res.corrected = self._corrected(res.facts)
        res.score = ranked[0][0]
        return res

    @staticmethod
    def _states_asked(q: Query, f: Fact) -> bool:
        """Whether one printed value is itself what a computation question asks for: a total for a
        sum, a change for a difference, a percentage for a share. Any other single value (one year
        of a sum, one side of a difference) is no answer to it; other readers may compute it."""
        if not q.operation:
            return True
        said = f"{f.label} {f.column or ''} {f.quote if f.kind == 'text' else ''}"
        if q.operation == "sum":
            return f.is_total or bool(SUM_ROW.search(said) or SUM_WORDS.search(said))
        if q.operation == "share":
            return f.unit == "%"
        return bool(CHANGE_ROW.search(said) or CHANGE_WORDS.search(said))

    def _ambiguous(self, q: Query, best: Fact, ranked: list[tuple[float, Fact]]) -> FigureResult | None:
        """The same row exists for several parties and the question names none: show each and ask."""
        if best.kind != "table" or not best.entity or self.entities_in(q):
            return None
        key = (norm_text(best.label), best.year, norm_text(best.column or ""))
        top = ranked[0][0]
        same: dict[str, Fact] = {}
        for sc, g in ranked:
            if sc < 0.85 * top:
                break
            if g.kind == "table" and g.entity and (norm_text(g.label), g.year, norm_text(g.column or "")) == key:
                same.setdefault(g.entity, g)
        if len(same) < 2:
            return None
        facts = list(same.values())
        figs = [Figure(_label(g), g.value, g.unit, None, [g]) for g in facts]
        listing = "; ".join(f"{g.entity}: {format_amount(g.value, g.unit)} {{c:{g.fact_id}}}" for g in facts)
        if q.lang == "en":
            sentence = f"{best.label} differs by party — {listing}. Which party do you mean?"
        else:
            sentence = (f"{best.label}{', ' + str(best.year) if best.year else ''} finns för flera parter — "
                        f"{listing}. Vilken part avser du?")
        return FigureResult(figs, sentence, facts)

    def _same_row(self, f: Fact) -> list[Fact]:
        return [g for g in self.facts if g.table_id == f.table_id and g.start == f.start and g.kind == "table"]

    def _value(self, f: Fact, q: Query) -> FigureResult:
        label = _label(f)
        if f.kind == "text":  # the document's own words state it
            return FigureResult([Figure(label, f.value, f.unit, None, [f])], f"{f.label.rstrip('.:; ')} {{c:{f.fact_id}}}.", [f])
        if f.value < 0 and COST_ROW.search(f.label) and not CHANGE_ROW.search(f.label):
            # a result statement prints costs with a minus sign: the cost asked for is its size
            cost = -f.value
            fig = Figure(label, cost, f.unit, f"−({format_number(f.value)})", [f])
            sentence = say(q.lang, "cost_as_printed", label=label, value=format_amount(cost, f.unit),
                           printed=format_amount(f.value, f.unit), ref=f"{{c:{f.fact_id}}}")
            return FigureResult([fig], sentence, [f])
        sentence = f"{label}: {format_amount(f.value, f.unit)} {{c:{f.fact_id}}}."
        return FigureResult([Figure(label, f.value, f.unit, None, [f])], sentence, [f])

    def _sum(self, q: Query, best: Fact, ranked: list[tuple[float, Fact]]) -> FigureResult | None:
        parts: list[Fact] = []
        what = ""
        parties = PLURAL_PARTIES.search(q.search_text) or len(self.entities_in(q)) >= 2
        if best.kind == "table" and (len(set(q.years)) >= 2 or ALL_YEARS.search(q.search_text)):
            # the same amount for each year (one row's year columns, or one table per year), and with
            # "alla tre parter" for each party too
            keys = {_series_key(best)}
            if parties and best.entity:
                keys |= {(k[0], g.entity, k[2], k[3]) for k in list(keys) for _, g in ranked
                         if g.entity and _series_key(g)[0] == k[0] and g.source == best.source}
            series: dict[tuple, Fact] = {}
            for g in self.facts:
                if g.source == best.source and g.kind == "table" and g.year and (not q.years or g.year in q.years) \
                        and not g.superseded_by and _series_key(g) in keys:
                    series.setdefault((g.entity, g.year), g)
            parts = [series[k] for k in sorted(series, key=lambda k: (k[0] or "", k[1]))]
            years = sorted({g.year for g in parts})
            names = sorted({g.entity for g in parts if g.entity})
            what = (f"{best.label}" + (f", {', '.join(names)}" if len(names) > 1 else
                                       f", {names[0]}" if names else "") + (f", {years[0]}–{years[-1]}" if years else ""))
        elif best.kind == "table" and parties:
            key = (norm_text(best.label), best.year, norm_text(best.column or ""))
            by_entity: dict[str, Fact] = {}
            for _, g in ranked:
                if g.kind == "table" and g.entity and (norm_text(g.label), g.year, norm_text(g.column or "")) == key:
                    by_entity.setdefault(g.entity, g)
            parts = list(by_entity.values())
            what = f"{best.label}{', ' + str(best.year) if best.year else ''}, " + ", ".join(g.entity for g in parts)
        elif best.kind == "table" and (named := self._listed_rows(q, best)):
            parts = named
            what = ", ".join(g.label for g in parts) + (f", {best.year}" if best.year else "")
        elif best.kind == "table":
            group = [g for g in self.facts if g.table_id == best.table_id and g.caption == best.caption
                     and g.column == best.column and not g.is_total]
            parts = group
            what = f"{best.caption.split(' — ')[-1] or best.label}"
        if len(parts) < 2:
            return None
        total = sum(g.value for g in parts)
        unit = best.unit
        formula = signed_sum([g.value for g in parts])
        # a row that is itself a sum ("Summa Umeå kommun") is not called "Summa för Summa …"
        named = bool(SUM_ROW.match(what))
        fig = Figure(what if named else f"Summa: {what}", total, unit, formula, parts)
        cites = "".join(f"{{c:{g.fact_id}}}" for g in parts)
        head = what if named else (f"Total for {what}" if q.lang == "en" else f"Summa för {what}")
        sentence = f"{head}: {format_amount(total, unit)} ({formula} = {format_amount(total, unit)}) {cites}."
        return FigureResult([fig], sentence, parts)

    def _listed_rows(self, q: Query, best: Fact) -> list[Fact]:
        """For a sum over the names a question lists ("Hur mycket bidrog Åsele, Lycksele och Storuman
        tillsammans?"): the row of each name in the best row's table and column, when every
        name has exactly one (else none: a sum missing a listed name would be wrong)."""
        m = LISTED.search(q.text)
        if not m:
            return []
        names = [n.lower() for n in re.split(r"\s*,\s*|\s+(?:och|samt|and)\s+", m.group(0))]
        column = [g for g in self.facts if g.table_id == best.table_id and g.column == best.column
                  and g.kind == "table" and not g.is_total and not g.superseded_by]
        rows = []
        for name in names:  # the name in any inflection ("Storuman" in "Storumans kommun")
            found = [g for g in column if vocabulary(g.label).has(name) == 1.0]
            if len(found) != 1 or found[0] in rows:
                return []
            rows.append(found[0])
        return rows if len(rows) >= 2 else []

    def _diff(self, q: Query, best: Fact, ranked: list[tuple[float, Fact]]) -> FigureResult | None:
        years = sorted(set(q.years))
        if len(years) >= 2:
            y1, y2 = years[0], years[-1]
            top = ranked[0][0]
            first = next((f for sc, f in ranked if f.year == y1 and f.kind == "table" and sc >= 0.5 * top), None)
            first = first or next((f for _, f in ranked if f.year == y1), None)
            if first is None:
                return None
            key = (norm_text(first.label), first.entity)
            second = next((f for _, f in ranked if f.year == y2 and (norm_text(f.label), f.entity) == key
                           and f.unit == first.unit), None)
            second = second or next((f for _, f in ranked if f.year == y2 and f.unit == first.unit), None)
            if second is None:
                return None
            a, b = first, second
        elif best.kind == "text":
            return self._from_to(q, best)
        elif rows := self._named_rows(q, best):
            b, a = rows  # "hur mycket högre är M än K": the first named less the second
            if LOWER.search(q.text):
                a, b = b, a  # "hur mycket lägre är K än M": the gap is the second less the first
        else:
            row = self._same_row(best)
            qtoks = set(_tok(q.search_text))
            partials = self._partials_of(qtoks)
            named = [g for g in row if g.column and _match_sets(qtoks, _tok(g.column), {}, partials) > 0]
            if len(named) < 2:
                return None
            # "skillnaden mellan budget och utfall": in the order the question names them
            named.sort(key=lambda g: min((q.search_text.lower().find(w) for w in _words(g.column) if
                                          q.search_text.lower().find(w) >= 0), default=999))
            b, a = named[0], named[1]
        change = b.value - a.value
        unit = a.unit or b.unit
        formula = f"{format_number(b.value)} − {format_number(a.value)}"
        if a.year and b.year and a.year != b.year:
            label = f"Förändring {a.year} → {b.year}: " + ", ".join(x for x in (a.label, a.entity) if x)
        else:
            label = f"Skillnad {_label(a, short=True)} → {_label(b, short=True)}"
        fig = Figure(label, change, unit, formula, [b, a])  # cited in the formula's order
        if q.operation == "growth" and a.value:
            growth = change / a.value * 100
            formula = f"({format_number(b.value)} − {format_number(a.value)}) / {format_number(a.value)} × 100"
            fig = Figure(f"Ökning i procent {_label(a, short=True)} → {_label(b, short=True)}", round(growth, 2),
                         "%", formula, [b, a])
            cites = f"{{c:{b.fact_id}}}{{c:{a.fact_id}}}"
            return FigureResult([fig], say(q.lang, "growth", what=_label(a, short=True, year=False),
                                           pct=format_number(growth, 2), formula=formula, cites=cites), [b, a])
        cites = f"{{c:{a.fact_id}}}{{c:{b.fact_id}}}"
        pct = f", {format_number(change / a.value * 100, 1)} %" if a.value and unit != "%" else ""
        if q.lang == "en":
            sentence = (f"The difference is {format_amount(change, unit)} ({formula} = {format_amount(change, unit)}"
                        f"{pct}) {cites}.")
        else:
            verb = "ökar med" if change > 0 else ("minskar med" if change < 0 else "är oförändrad:")
            span = f" från {a.year} till {b.year}" if a.year and b.year and a.year != b.year else ""
            what = ", ".join(x for x in (a.label, a.entity) if x) if span else _label(a, short=True, year=False)
            cols = [re.sub(r"\s*\(\**\)\s*$", "", c or "") for c in (a.column, b.column)]
            if span and all(cols) and not all(re.fullmatch(r"(19|20)\d\d", c) for c in cols):
                span += f" ({cols[0]} → {cols[1]})"
            sentence = (f"{what}{span} {verb} {format_amount(abs(change), unit)} "
                        f"({formula} = {format_amount(change, unit)}{pct}) {cites}.")
        return FigureResult([fig], sentence, [a, b])

    def _named_rows(self, q: Query, best: Fact) -> list[Fact]:
        """Two rows of the best fact's table that the question names by their labels, in one column
        ("Hur mycket högre är högsta nivå för grad M än för grad K?"), in the question's
        order; the column is the one the question names (all its words, numbers too), else the
        best fact's. No pair when the question names fewer or more rows than two."""
        if best.kind != "table" or not best.table_id:
            return []
        table = [g for g in self.facts if g.table_id == best.table_id and g.kind == "table" and not g.superseded_by]
        at: dict[str, int] = {}
        for label in {g.label for g in table}:
            if (i := _named_at(q.text, label)) is not None:
                at[label] = i
        if len(at) != 2:
            return []
        asked = vocabulary(q.text)
        named_columns = {g.column for g in table if g.column and all(
            re.search(rf"(?<!\d){w}(?!\d)", q.text) if w.isdigit() else asked.has(w) == 1.0
            for w in re.findall(r"[^\W_]+", g.column))}
        column = next(iter(named_columns)) if len(named_columns) == 1 else best.column
        rows = sorted((g for g in table if g.label in at and g.column == column), key=lambda g: at[g.label])
        return rows if len(rows) == 2 and rows[0].label != rows[1].label and rows[0].unit == rows[1].unit else []

    def _from_to(self, q: Query, best: Fact) -> FigureResult | None:
        """"… kommer att öka från 1 905 till 2 293 medarbetare": the change one sentence states."""
        pair = [f for f in self.facts if f.source == best.source and f.kind == "text" and f.quote == best.quote
                and f.unit == best.unit]
        pair.sort(key=lambda f: f.start)
        for a, b in zip(pair, pair[1:]):
            between = a.quote[a.quote.find(a.label[:20]):] if a.label[:20] in a.quote else ""
            if re.search(r"\bfrån\s+[\d\s,.]+\w*\s+till\s", between) or re.search(r"\bfrån\b", a.label):
                change = b.value - a.value
                formula = f"{format_number(b.value)} − {format_number(a.value)}"
                fig = Figure(f"Förändring: {_label(a, short=True)}", change, b.unit, formula, [b, a])
                cites = f"{{c:{a.fact_id}}}"
                sentence = say(q.lang, "from_to", frm=format_amount(a.value, a.unit), to=format_amount(b.value, b.unit),
                               formula=formula, change=format_amount(change, b.unit), cites=cites)
                return FigureResult([fig], sentence, [a, b])
        return None

    def _across_documents(self, q: Query, best: Fact, ranked: list[tuple[float, Fact]]) -> FigureResult | None:
        """"Hur har finansieringen förändrats mellan perioderna?" with no years named: the same
        kind of amount in another document (an earlier agreement, last year's budget), side by side.
        A table row is shown for every year it has; one value on each side also gets its difference."""
        top = ranked[0][0]
        money = best.unit in MONEY_UNITS
        fits = [f for sc, f in ranked if sc >= 0.6 * top and f.source != best.source and not f.superseded_by
                and (f.unit == best.unit or (money and f.unit in MONEY_UNITS))]
        other = next((f for f in fits if f.kind == "table"), None) or next(iter(fits), None)
        if other is None:
            return None
        sides = []
        for f in sorted([best, other], key=lambda f: (f.year or _doc_year(f.source) or 0)):
            row = {}
            if f.kind == "table" and f.year:
                key = _series_key(f)
                for g in self.facts:
                    if g.source == f.source and g.kind == "table" and g.year and _series_key(g) == key:
                        row.setdefault(g.year, g)
            sides.append([row[y] for y in sorted(row)] or [f])
        figs = [Figure(_label(g), g.value, g.unit, None, [g]) for side in sides for g in side]
        listing = "; ".join(
            f"{_label(side[0], year=False)}: " + ", ".join(
                (f"{g.year}: " if len(side) > 1 else "") + f"{format_amount(g.value, g.unit)} {{c:{g.fact_id}}}"
                for g in side) for side in sides)
        facts = [g for side in sides for g in side]
        if all(len(side) == 1 for side in sides):
            a, b = sides[0][0], sides[1][0]
            va = to_unit(a.value, a.unit, b.unit) if money else a.value
            formula = f"{format_number(b.value)} − {format_number(va)}"
            ya, yb = a.year or _doc_year(a.source), b.year or _doc_year(b.source)
            figs.append(Figure(f"Förändring {ya} → {yb}" if ya and yb else "Skillnad", b.value - va, b.unit,
                               formula, [b, a]))
            sentence = say(q.lang, "across_documents_change", listing=listing, formula=formula,
                           change=format_amount(b.value - va, b.unit))
        else:
            sentence = say(q.lang, "across_documents", listing=listing)
        return FigureResult(figs, sentence, facts)

    def _share(self, q: Query, best: Fact) -> FigureResult | None:
        if best.unit == "%":
            return None  # the documents state the share; report it as a value
        if best.kind != "table":
            return None
        column = [g for g in self.facts if g.table_id == best.table_id and g.column == best.column
                  and g.kind == "table"]
        totals = [g for g in column if g.is_total and re.match(r"(summa|total)\b", g.label, re.I)
                  and not re.search(r"kommun|\w+ \w+", g.label.lower().replace("summa ", "x"))]
        denom = next((g for g in totals if g.start != best.start), None)
        if denom is None or not denom.value:
            return None
        share = best.value / denom.value * 100
        formula = f"{format_number(best.value)} / {format_number(denom.value)} × 100"
        fig = Figure(f"Andel: {best.label} av {denom.label}{', ' + str(best.year) if best.year else ''}",
                     round(share, 1), "%", formula, [best, denom])
        cites = f"{{c:{best.fact_id}}}{{c:{denom.fact_id}}}"
        sentence = (f"{best.label} utgör {format_number(share, 1)} % av {denom.label}"
                    f"{' ' + str(best.year) if best.year else ''} ({formula} = {format_number(share, 1)} %) {cites}.")
        if q.lang == "en":
            sentence = (f"{best.label} is {format_number(share, 1)} % of {denom.label} ({formula}) {cites}.")
        return FigureResult([fig], sentence, [best, denom])

    def _corrected(self, used: list[Fact]) -> list[Fact]:
        """Superseded statements about the same party (e.g. a decision's att-sats a Rättelse fixed)."""
        parties = {norm_text(f.entity) for f in used if f.entity and f.unit in MONEY_UNITS}
        if not parties:  # only an amount of money can have been replaced by a corrected amount
            return []
        return [f for f, quote in self._superseded if any(p in quote for p in parties)][:2]

    def _warnings(self, used: list[Fact]) -> list[Discrepancy]:
        spans = {(f.source, f.start) for f in used}
        return [d for d in self.discrepancies if (d.source, d.start) in spans]


def _series_key(f: Fact) -> tuple:
    """The same amount for another year: same row label, party and column bar the year."""
    return (norm_text(f.label), f.entity, re.sub(r"[\W\d_]+", "", norm_text(f.column or "")), f.unit)


def _doc_year(source: str) -> int | None:
    m = re.match(r"((?:19|20)\d\d)", source.rsplit("/", 1)[-1])  # the file name, not its folder
    return int(m.group(1)) if m else None


def _named_at(text: str, label: str) -> int | None:
    """Where a question names a row label: every content word of the label in any inflection, by
    the project's word matcher ("Norrvikens" for "Norrviken"), and every number it prints; at its
    first number, else its first word. A label of one to three letters ("K", "IFO") only as
    printed, and not as the question's first word."""
    label = label.strip()
    if not label or len(label) > 60:
        return None
    if len(label) <= 3:
        m = re.search(r"(?<![\w-])" + re.escape(label) + r"(?![\w-])", text)
        return m.start() if m and m.start() > 0 else None
    named, numbers = content_words(label), re.findall(r"\d+(?:[.,]\d+)?", label)
    asked = vocabulary(text)
    if not named or any(asked.has(w) < 1.0 for w in named):
        return None
    if numbers:  # "nivå 5" and "nivå 3" are told apart, and ordered, by their numbers
        found = [re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d]|[.,]\d)", text) for n in numbers]
        return None if None in found else found[0].start()
    first = vocabulary(named[0])
    return next((m.start() for m in re.finditer(r"\w+", text) if first.has(m.group(0)) == 1.0), None)


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäö]{4,}", text) if w.lower() not in STOPWORDS]


def _label(f: Fact, year: bool = True, short: bool = False) -> str:
    """`Summa Umeå kommun, 2027, Pingstkyrkan i Umeå`: row, column/year and party."""
    if f.kind == "text":
        base = re.sub(r"\s+", " ", f.quote)
        base = base if len(base) <= 120 else base[:117] + "…"
        return base if not short else (f"{f.year}" if f.year else base[:40])
    parts = [f.label]
    col = (f.column or "").strip()
    if col and (year or not re.fullmatch(r"(19|20)\d\d\D{0,8}", col)):
        parts.append(re.sub(r"\s*\(\**\)?\s*$", "", col) or col)
    elif year and f.year:
        parts.append(str(f.year))
    if f.entity and not short:
        parts.append(f.entity)
    return ", ".join(p for p in parts if p)
