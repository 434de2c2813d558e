"""Stage 1 of the pipeline: what is asked, as one frozen `AnalyzedQuery`.

The expected answer type comes from the question word and the noun it governs, the way a
reader of Swedish (or English) understands it: "hur mycket" asks for an amount, "hur många"
for a count, "hur stor andel" for a percent, "när" for a date, "vem" for a person, "hur
utföll omröstningen" for a vote result. These patterns are the grammar of questions, not
words taken from any evaluation question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import simplemma

from ingest.lexicon import name_like

from .analysis import Query, analyse
from .words import content_words, everyday

# answer types a candidate can state
AMOUNT, PERCENT, COUNT, DATE, PERSON, PARTY, IDENTIFIER, VOTE, PLACE, DECISION, PASSAGE, DURATION, ORG = (
    "amount", "percent", "count", "date", "person", "party", "identifier", "vote", "place", "decision", "passage",
    "duration", "organisation")
NUMERIC_TYPES = {AMOUNT, PERCENT, COUNT}

# a question about a vote; it asks for the result unless it asks for a share or a count of it
ABOUT_VOTE = re.compile(r"\b(omröstning\w*|votering\w*|röstade|röster|röstsiffr\w*|hur (gick|utföll) (röstning|omröstning)\w*|"
                        r"how did .* vote|vote\w*)\b", re.I)
# the percent word in its inflections and compounds ("procenten", "procentenheter", "procentuellt",
# "procentsatsen", "procentandelen"), not every word that begins like it (a percentile is a value, no share)
PERCENT_WORD = r"procent(?:en|enhet\w*|uell\w*|sats\w*|andel\w*)?|percent(?:ages?)?"
# the words asking for a count ("hur många anbud", "antalet deltagare")
COUNT_WORDS = r"hur många|antal(?:et)?|how many|number of"
_TYPE_PATTERNS: list[tuple[str, re.Pattern]] = [
    (PERCENT, re.compile(rf"\b(hur (stor|hög) (andel|{PERCENT_WORD})|hur många procent|vilken andel|hur stor del|"
                         rf"{PERCENT_WORD}|what (share|proportion)|how many percent)\b", re.I)),
    (IDENTIFIER, re.compile(r"\b(vilket|vilka|what|which) (\w+ )?(\w*nummer|dnr|"
                            r"paragraf\w*|organisationsnummer|org\.?nr|case number|reference number|"
                            r"number)\b|\b(ärendenummer|diarienummer)\b", re.I)),
    (DURATION, re.compile(r"\b(hur länge|hur lång tid|hur lång \w*period\w*|hur många (år|månader|veckor|dagar|timmar)|"
                          r"how long|"
                          r"how many (years|months|weeks|days|hours))\b", re.I)),
    (COUNT, re.compile(rf"\b({COUNT_WORDS})\b", re.I)),
    (VOTE, ABOUT_VOTE),
    (AMOUNT, re.compile(r"\b(hur mycket|vilket belopp|vilka belopp|vad kostar|vad kostade|hur stor (är|var|blir|blev) "
                        r"(\w+ )?(kostnad\w*|budget\w*|summa\w*|insats\w*|intäkt\w*|resultat\w*|bidrag\w*|"
                        r"skuld\w*|ram\w*|belopp\w*|anslag\w*|underskott\w*|överskott\w*|investering\w*|hyr\w*)|"
                        r"hur stora|hur höga?|vilket resultat|vilken \w*prognos|till vilket belopp|"
                        r"how much|what amount|what (was|is) the (cost|budget|result))\b", re.I)),
    (DATE, re.compile(r"^\s*(när|on what date|when)\b|\b(vilket datum|vilka datum|vilken dag|vilka dagar|"
                      r"vilken tidpunkt|vilket år|senast när|what date|which date|what dates|which dates|"
                      r"what year)\b", re.I)),
    (PLACE, re.compile(r"^\s*(var|where)\b|\b(vilken lokal|vilken plats|vilken adress|where)\b", re.I)),
    (PARTY, re.compile(r"\b(vilket parti|vilka partier|which part(y|ies))\b", re.I)),
    # a company or an association asked for by its kind ("vilket bolag", "vilken leverantör")
    (ORG, re.compile(r"\b(vilket|vilka|vilken) (bolag|företag|förening\w*|leverantör\w*|entreprenör\w*|"
                     r"anbudsgivare\w*|aktör\w*)\b|\b(which|what) (company|companies|firm|supplier|"
                     r"contractor|association)\b", re.I)),
    (PERSON, re.compile(r"\b(vilken person|vilka personer|vilka ledamöter|vilken ledamot|vem som|who)\b|"
                        r"^\s*(vem|who)\b|^\s*vilka\b(?=\s+(?:(?:två|tre|fyra|fem)\s+)?(?P<next>\w+))", re.I)),
    (DECISION, re.compile(r"\b(vad (beslutade|beslöt|föreslår|föreslog|föreslås|yrkade|ska)|vilket beslut|"
                          r"vilka beslut|beslutet|förslag\w*|yrkande\w*|what did .* decide|what .* propose\w*|"
                          r"decision)\b", re.I)),
]
# the Swedish nouns of a sum of money ("hyr" for hyra, hyran, hyres-)
MONEY_WORDS = ("kostnad", "budget", "belopp", "bidrag", "intäkt", "anslag", "investering", "hyr", "lön", "skuld",
               "insats", "medel")
# a money word as the head of a noun, inflected ("hyran", "bidragen", "skulden"; not "hyrestid", "hyresavtal")
_MONEY_HEAD = (r"(?:" + "|".join(MONEY_WORDS).replace("hyr", "hyr(?:a|an|ans|or)") + r")"
               r"(?:en|et|er|erna|ernas|na|s|a|or|orna|ar|arna|ens|ets)?")
# a word that names a sum of money: a money word and what follows it ("bidragen", "kostnaden"), or a
# compound it ends ("verksamhetsbidrag", "hyresskulden"; not "personalkostnadsökning", a change)
_MONEY_OBJECT = re.compile(r"\b(?:(?:" + "|".join(MONEY_WORDS) + r")\w*|\w+" + _MONEY_HEAD +
                           r"|resultat\w*|prognos\w*|cost|amount)\b", re.I)


# "vilken/vilket/vilka" and the (one or two) words it governs; a noun whose compound ends in a
# money word asks for an amount
WHICH = re.compile(r"\b(?:vilken|vilket|vilka)\s+(\w+)(?:\s+(\w+))?", re.I)
MONEY_NOUN = re.compile(_MONEY_HEAD + "$", re.I)
# a count of money is an amount ("hur många kronor", "hur många miljoner euro")
CURRENCY_COUNTED = re.compile(r"\b(?:hur många|how many)\s+(?:(?:miljoner|miljarder|tusen|millions?|billions?|"
                              r"thousands?)\s+)?(?:kronor|kr|euro|sek|mnkr|tkr|mkr|mdkr|crowns)\b", re.I)
# the time something lasts ("hyrestiden", "leveranstid"): a compound joined by s, as "sluttid" and
# "öppettid" are points of time (a bare "vilken period" is answered by dates)
TIME_NOUN = re.compile(r"\w+stid(?:en|er|erna)?", re.I)


def _verb(word: str) -> bool:
    """The word after "vilka" is a verb ("vilka talade", "vilka kom", "vilka har"): its
    dictionary form is an infinitive ("tala", "komma", "ha") or it is a past form ("anmälde");
    a plural noun ("skolor", "broar", "yttranden") is not."""
    w = word.lower()
    if w.endswith(("ade", "dde", "tte")) or w in ("var", "är", "har", "hade", "ska", "skulle", "kan", "kunde", "fick"):
        return True
    base = simplemma.lemmatize(w, lang="sv").lower()
    if base == w:
        return False  # "hus", "krav": a noun whose plural is its own form
    if base.endswith(("a", "å")):  # an infinitive ("tala", "komma"), or a noun's ("fråga": "frågor")
        return not w.endswith(("or", "orna", "an", "ans"))
    if base.endswith("e"):  # "utse" ("utsåg"), or a noun's ("yttrande": "yttranden")
        return not w.endswith(("n", "r", "na"))
    return False


def answer_type(question: str) -> str:
    """The type of value that answers the question (`passage` when no value is asked for)."""
    return _asked(question)[0]


def _asked(question: str) -> tuple[str, str]:
    """The answer type and the words of the question that ask for it ("vilket diarienummer")."""
    for kind, pattern in _TYPE_PATTERNS:
        m = pattern.search(question)
        if m and kind == PERSON and m.group("next") and not _verb(m.group("next")):
            continue  # "vilka skolor", "vilka broar": a noun says what is asked, not "who"
        if m and kind == DECISION and (noun := _which_noun(question)):
            return noun  # "vilken hyrestid gäller enligt förslaget": the noun asks, the proposal is the topic
        if m:
            if kind == COUNT and (CURRENCY_COUNTED.search(question) or _MONEY_OBJECT.search(question) and
                                  re.search(r"kronor|kr\b|euro|€", question, re.I)):
                return AMOUNT, m.group(0)  # "hur många kronor", "hur många miljoner kronor större"
            return kind, m.group(0)
    m = re.search(r"\b(hur stor|hur stort)\b", question, re.I)
    if m:
        return (AMOUNT if _MONEY_OBJECT.search(question) else COUNT), m.group(0)
    return _which_noun(question) or (PASSAGE, "")


def _which_noun(question: str) -> tuple[str, str] | None:
    """The type a noun after "vilken/vilket/vilka" asks for: a sum of money ("vilken månadshyra",
    "vilket hyresbelopp", "vilka bidrag") or a span of time ("vilken leveranstid")."""
    m = WHICH.search(question)
    if not m:
        return None
    nouns = [w for w in m.group(1, 2) if w]
    if any(MONEY_NOUN.search(w) for w in nouns):
        return AMOUNT, m.group(0)
    if any(TIME_NOUN.fullmatch(w) for w in nouns):
        return DURATION, m.group(0)
    return None


# a yes/no question whether a value agrees ("Stämmer summan …", "Does the total …"): its subject
CHECKED = re.compile(r"^\s*(?:stämmer|överensstämmer|does|do|is)\s+(?:the\s+)?(\w+)", re.I)


def _checked_subject(question: str) -> tuple[str, str] | None:
    """The type of the value a consistency question checks, read from its subject (a sum or a cost →
    amount, a share → percent, a number of … → count); what the value is compared with ("i
    protokollet och i bilagan") is its topic, not what it asks for."""
    m = CHECKED.search(question)
    if not m:
        return None
    word = m.group(1)
    if _MONEY_OBJECT.fullmatch(word) or re.fullmatch(r"summ\w*|total\w*|sum", word, re.I):
        return AMOUNT, m.group(0)
    if re.fullmatch(rf"andel\w*|{PERCENT_WORD}|share", word, re.I):
        return PERCENT, m.group(0)
    if re.fullmatch(r"antal\w*|number", word, re.I):
        return COUNT, m.group(0)
    return None


# a body named in a question: "äldrenämndens", "kommunstyrelsen", "stadsfastighetsnämnden", "KF"
# (the body noun ends the word: "styrelsemöte" is a meeting, not a body)
BODY = re.compile(r"\b([a-zåäö-]*(?:nämnd|styrelse|utskott|fullmäktige|direktion)"
                  r"(?:en|ens|er|erna|ernas|n|ns|s|et|ets|e|es)?)\b", re.I)
ORGANISATION = re.compile(r"\b([A-ZÅÄÖ][a-zåäöé]+)\s+(?:kommuns?|stads?|Stads?|läns? landsting)\b|\bRegion\s+([A-ZÅÄÖ][a-zåäöé]+)")
# a municipality's own body in the genitive: "Eslövs kommunstyrelse", "Lunds valnämnd"
OWN_BODY = re.compile(r"\b([A-ZÅÄÖ][a-zåäöé]+?)s\s+(?:kommun|stads|region)?(?:styrelse|fullmäktige)(?:n|ns|s)?\b|"
                      r"\b([A-ZÅÄÖ][a-zåäöé]+?)s\s+[a-zåäö-]*nämnd(?:en|ens|s)?\b")
NAME = re.compile(r"(?<![\w-])([A-ZÅÄÖ][a-zåäöéü]+(?:[ -][A-ZÅÄÖ][a-zåäöéü]+)*)")


@dataclass(frozen=True)
class AnalyzedQuery:
    text: str                         # as asked
    lang: str                         # "sv" | "en"
    answer_type: str                  # amount, percent, count, duration, date, person, party, organisation, identifier, vote, place, decision, passage
    operation: str | None             # sum | diff | share | growth | None
    terms: tuple[str, ...]            # content words (Swedish), as typed
    names: tuple[str, ...]            # capitalised names in the question ("Maria Nilsson", "Göteborg")
    bodies: tuple[str, ...]           # bodies named ("äldrenämndens", "kommunstyrelsen")
    organisations: tuple[str, ...]    # organisations named as such ("Simrishamns kommun" → "Simrishamns")
    years: tuple[int, ...]
    dates: tuple[str, ...]
    identifiers: tuple[str, ...]
    asks: tuple[str, ...]             # the words that ask for the answer type ("vilket", "diarienummer"): not its topic
    legacy: Query                     # the older analysis, read by the structure and figure readers

    @property
    def numeric(self) -> bool:
        return self.answer_type in NUMERIC_TYPES

    @property
    def word_terms(self) -> tuple[str, ...]:
        """The content words without the numbers ("2026", "3") among them."""
        return tuple(t for t in self.terms if not t.isdigit())


GENERIC_BODIES = {"nämnd", "nämnden", "nämndens", "nämnder", "nämnderna", "nämndernas", "styrelse", "styrelsen", "styrelsens",
                  "utskott", "utskottet", "utskottets", "fullmäktige", "direktionen"}


def analyze(question: str, legacy: Query | None = None) -> AnalyzedQuery:
    q = legacy or analyse(question)
    text = q.text
    swedish = q.base_text or q.search_text
    kind, asking = _asked(text)
    if q.intent == "consistency" and (subject := _checked_subject(text)):
        kind, asking = subject
    elif kind == PASSAGE and q.operation:  # "totalt", "skillnaden": a computed number
        kind = PERCENT if q.operation in ("share", "growth") else (AMOUNT if _MONEY_OBJECT.search(swedish) else COUNT)
    names, lang = [], q.lang
    for m in NAME.finditer(text):
        before = text[:m.start()].rstrip()
        if m.start() == 0 or before.endswith((".", "?", "!", ":", "\"", "”")):
            continue  # the first word of a sentence is capitalised anyway
        parts = re.split(r"[ -]", m.group(1))
        if lang == "en" and all(everyday(part, "en") for part in parts):
            continue  # "the Cultural Affairs Committee": an English title of a body in capitals, not a name
        names.append(m.group(1))
    bodies = tuple(dict.fromkeys(m.group(1) for m in BODY.finditer(swedish)
                                 if m.group(1).lower() not in GENERIC_BODIES))
    orgs = tuple(dict.fromkeys([*(o for m in ORGANISATION.finditer(text) if name_like(o := m.group(1) or m.group(2))),
                                *(name for m in OWN_BODY.finditer(text) if name_like(name := m.group(1) or m.group(2)))]))
    return AnalyzedQuery(text=text, lang=q.lang, answer_type=kind, operation=q.operation,
                         terms=tuple(dict.fromkeys(content_words(swedish))), names=tuple(dict.fromkeys(names)),
                         bodies=bodies, organisations=orgs,
                         years=tuple(q.years), dates=tuple(q.dates), identifiers=tuple(q.identifiers),
                         asks=tuple(w.lower() for w in re.findall(r"\w+", asking)), legacy=q)
