"""Query analysis: what is asked (intent, operation), about what (identifiers, years, terms).

English questions are recognised and their key words mapped to the Swedish the documents
use, so "How much will Umeå municipality pay Umeå Pastorat in 2028?" searches like the
Swedish question would; the answer is then written in English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.text import STOPWORDS, fold, tokens, words

YEAR = re.compile(r"\b(19[5-9]\d|20[0-9]\d)\b")
ARENDE = re.compile(r"\b(\d{1,4}/\d{2})\b")
PARAGRAF = re.compile(r"§\s*(\d{1,4})")
DNR = re.compile(r"\b([A-ZÅÄÖ]{2,6})[- ]?(\d{4})[/-](\d{2,5})\b", re.I)

EN_SV = {
    "municipality": "kommun", "municipal": "kommun", "council": "kommunstyrelsen", "pay": "betalar",
    "pays": "betalar", "paid": "betalar", "budget": "budget", "cost": "kostnad", "costs": "kostnader",
    "total": "totalt", "year": "år", "agreement": "avtal", "decision": "beslut", "decided": "beslutade",
    "meeting": "sammanträde stämma möte", "agenda": "dagordning", "item": "ärende", "share": "andel", "increase": "ökning",
    "difference": "skillnad", "reservation": "reservation", "reserved": "reserverade", "who": "vem",
    "funding": "finansiering", "contribution": "insats", "staff": "personal",
    "salary": "lön", 
    "board": "styrelse", "committee": "nämnd", "social": "social", "welfare": "socialtjänst", "grant": "bidrag",
    "association": "förening", "net": "netto",
    "corrected": "rättelse", "correction": "rättelse", "proposal": "förslag", "proposed": "föreslår",
    "will": "", "much": "", "how": "", "many": "antal", "sum": "summa", "period": "perioden",
    "individual": "individ", "family": "familj", "families": "familjer", "annual": "års", "general": "",
    
    "date": "datum", "place": "plats", "where": "var", "when": "när", "held": "hålls", 
    "paragraph": "paragraf", "minutes": "protokoll", "procurement": "upphandling",
    "growth": "ökning",
    "children": "barn", "youth": "ungdomar", "elderly": "äldre", "disability": "funktionshinder",
    "school": "skola", "housing": "boende", "executive": "kommunstyrelsen",
    "assembly": "kommunfullmäktige", "report": "rapport", "goal": "mål", "goals": "mål", "plan": "plan",
}
SV_ABBREVIATIONS = {"mkt": "mycket", "ca": "cirka", "kr": "kronor", "st": "stycken", "resp": "respektive"}
EN_MARKERS = {"how", "what", "who", "which", "when", "where", "does", "did", "will", "the", "much",
              "many", "is", "are", "was", "were", "municipality", "pay", "in", "of", "to", "for", "a", "an",
              "on", "with", "do", "can", "you", "there", "and", "this", "that", "has", "have", "its"}
SHARED_WORDS = {"budget", "total", "social", "plan", "period", "agenda", "paragraf", "rent", "net"}
SV_MARKERS = {"vad", "hur", "vilken", "vilket", "vilka", "vem", "nar", "och", "som", "det", "den", "till",
              "mycket", "fran", "ar", "har", "av", "pa", "med", "om", "i", "kostar", "far", "ska", "var"}

SUM_WORDS = re.compile(r"\b(totalt?|sammanlag\w*|sammantaget|summan|tillsammans|hela perioden|alla (?:två|tre|fyra|fem)|"
                       r"samtliga|i alla|de tre|sum|in total|altogether|combined)\b", re.I)
DIFF_WORDS = re.compile(r"\b(öka|minska|ökar|ökade|ökning|minskar|minskade|minskning|skillnad\w*|förändr\w*|jämfört|"
                        r"differens|mellan .* och|från \d{4} till \d{4}|increase|difference|change)\b", re.I)
# one amount taken from another: "minus", "efter avdrag för", "om man drar av/bort/ifrån"
SUBTRACT_WORDS = re.compile(r"\b(minus|avdrag\w*|dra[rg]? (?:av|ifrån|bort)|subtract\w*|deduct\w*)\b", re.I)
# a comparative asks how far apart two values are ("hur mycket högre är … än …", "fler … än"), as does
# a change by an amount ("sänks", "höjningen", "ökningen")
COMPARATIVE = re.compile(r"\b(?:hur\s+(?:mycket|många)\s+\w+\s+)?(\w+are|mer|mindre|fler|färre|större|högre|lägre|"
                         r"längre|kortare|dyrare|billigare)\b[^?]*?\bän\b|\b(?:more|less|fewer|higher|lower|larger|"
                         r"smaller)\b[^?]*\bthan\b", re.I)
LOWER = re.compile(r"\b(mindre|färre|lägre|kortare|billigare|less|fewer|lower|smaller)\b", re.I)
CHANGE_BY = re.compile(r"\b(differens\w*|skillnad\w*|sänk\w*|höj(?!d)\w*|ökning\w*|minskning\w*|difference|gap)\b",
                       re.I)
SHARE_WORDS = re.compile(r"\b(andel|hur stor del|procent|share|percentage|proportion)\b", re.I)
AMOUNT_WORDS = re.compile(r"\b(hur mycket|hur stor|hur många|hur hög\w*|belopp|kostar|kostnad|budget\w*|uppgår|"
                          r"summa|värd\w*|bidr\w*|finansier\w*|insats|betala\w*|how much|how many|"
                          r"andel|procent|antal|skillnad|ökar|ökade|nettokostnad)\b", re.I)
DECISION_WORDS = re.compile(r"\b(beslut\w*|yrkand\w*|yrkade|reserv\w*|rätta\w*|rättelse|att-sats\w*|"
                            r"proposition\w*|särskilt uttalande|bifall|avslag|återremi\w*)\b", re.I)
AGENDA_WORDS = re.compile(r"\b(dagordning\w*|ärendenummer|ärende\w*|föredragningslist\w*|möte\w*|"
                          r"sammanträde\w*|agenda)\b", re.I)
CHECK_WORDS = re.compile(r"\b(stämmer|summer\w*|räknefel|felräkn\w*|går ihop|korrekt summ\w*|adderar)\b", re.I)


@dataclass
class Query:
    text: str                 # as asked
    search_text: str          # what retrieval searches (English mapped to Swedish)
    lang: str                 # "sv" | "en"
    tokens: list[str]
    years: list[int]
    arenden: list[str] = field(default_factory=list)    # "193/26"
    paragrafer: list[str] = field(default_factory=list)  # "76"
    diarienummer: list[str] = field(default_factory=list)
    operation: str | None = None  # "sum" | "diff" | "share" | None
    wants_amount: bool = False
    intent: str = "lookup"        # lookup | figure | decision | agenda | consistency
    base_text: str = ""           # the question in Swedish, abbreviations not expanded
    vector: object = None         # the question's embedding, computed once per question
    dates: list[str] = field(default_factory=list)  # ISO dates named in the question

    @property
    def identifiers(self) -> list[str]:
        return [*self.arenden, *(f"§ {p}" for p in self.paragrafer), *self.diarienummer]


def detect_language(text: str) -> str:
    raw = words(text)
    ws = [w.lower() for w in raw]
    if not ws:
        return "sv"
    en = sum(w in EN_MARKERS or (w in EN_SV and w not in SHARED_WORDS) for w in ws)
    # Swedish function words, also typed without å, ä and ö ("vad kostar lokaler for umea"), and
    # lower-case words with å, ä or ö (a name such as "Vän i Umeå" says nothing about the language)
    sv = sum(w in SV_MARKERS for w in ws) + sum(1 for w in raw if not w[0].isupper() and re.search(r"[åäö]", w))
    return "en" if en >= 2 and en > sv and en / len(ws) >= 0.2 else "sv"


def to_swedish(text: str) -> str:
    out = []
    for w in re.findall(r"[\w\-/§]+|\S", text):
        mapped = EN_SV.get(w.lower())
        if mapped is None:
            out.append(w)
        elif mapped:
            out.append(mapped)
    return " ".join(out)


ABBREVIATIONS = {
    "KF": "kommunfullmäktige", "KS": "kommunstyrelsen",
    "IFN": "individ- och familjenämnden", "IOP": "idéburet offentligt partnerskap",
    "SAM": "systematiskt arbetsmiljöarbete", "LSS": "lagen om stöd och service", "SKR": "Sveriges Kommuner och Regioner",
}


def expand_abbreviations(text: str) -> str:
    """`IFN` also searches `individ- och familjenämnden`, and the long form also the short one."""
    extra = []
    for short, long in ABBREVIATIONS.items():
        if re.search(r"\b" + short + r"\b", text):
            extra.append(long)
        elif re.search(re.escape(long.split()[0][:12]), text, re.I) and long.lower()[:12] in text.lower():
            extra.append(short)
    return text + (" " + " ".join(extra) if extra else "")


MONTHS = {m: i + 1 for i, m in enumerate(["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                                           "september", "oktober", "november", "december"])}
SV_DATE = re.compile(r"\b(\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+((?:19|20)\d\d)\b", re.I)
ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
# a day listed before another that carries the year ("den 2 mars och den 7 oktober 2025")
_DAY = r"\d{1,2}\s+(?:" + "|".join(MONTHS) + r")"
_AND = r"\s*(?:,|och|samt|eller|respektive|and|or)\s*(?:den\s+)?"
SV_DATE_LISTED = re.compile(r"\b(\d{1,2})\s+(" + "|".join(MONTHS) + r")(?=(?:" + _AND + _DAY + r")*" + _AND + _DAY
                            + r"\s+((?:19|20)\d\d)\b)", re.I)


DOT_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.((?:19|20)\d\d)\b")


PERIOD_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:\s*[-–]\s*((?:19|20)\d\d))?(?!\d)")


def years_in(text: str) -> frozenset[int]:
    """The years a text names, a period ("2026–2028") as each of its years; also inside a date
    or a case number ("2026-04-08", "KS-2025/00123")."""
    out: set[int] = set()
    for m in PERIOD_YEAR.finditer(text):
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        out.update(range(a, b + 1) if 0 <= b - a <= 10 else (a, b))
    return frozenset(out)


def dates_in(text: str) -> list[str]:
    """ISO dates written as `2026-05-19`, `19 maj 2026` or `19.5.2026`, and a day listed before one
    with the year (`2 mars och 7 oktober 2025`)."""
    out = ["-".join(m.groups()) for m in ISO_DATE.finditer(text)]
    out += [f"{int(m.group(3)):04d}-{MONTHS[m.group(2).lower()]:02d}-{int(m.group(1)):02d}"
            for written in (SV_DATE, SV_DATE_LISTED) for m in written.finditer(text)]
    out += [f"{int(m.group(3)):04d}-{int(m.group(2)):02d}-{int(m.group(1)):02d}" for m in DOT_DATE.finditer(text)
            if 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(1)) <= 31]
    return list(dict.fromkeys(out))


def analyse(question: str) -> Query:
    text = re.sub(r"\s+", " ", question).strip()
    lang = detect_language(text)
    base = to_swedish(text) if lang == "en" else " ".join(SV_ABBREVIATIONS.get(w.lower(), w) for w in text.split())
    search = expand_abbreviations(base)
    years = [int(y) for y in YEAR.findall(search)]
    period = re.search(r"\b((?:19|20)\d\d)\s*[-–]\s*((?:19|20)\d\d)\b", search)
    if period:
        a, b = int(period.group(1)), int(period.group(2))
        if 0 < b - a <= 10:
            years = sorted(set(years) | set(range(a, b + 1)))
    arenden = ARENDE.findall(search)
    paragrafer = PARAGRAF.findall(search)
    dnr = [f"{m.group(1).upper()}-{m.group(2)}/{m.group(3)}" for m in DNR.finditer(search)]
    q = Query(text, search, lang, tokens(search), years, arenden, paragrafer, dnr, base_text=base,
              dates=dates_in(base))
    if SHARE_WORDS.search(search) and DIFF_WORDS.search(search) and len(set(years)) >= 2:
        q.operation = "growth"  # "med hur många procent ökar …"
    elif SHARE_WORDS.search(search):
        q.operation = "share"
    elif SUBTRACT_WORDS.search(search) or COMPARATIVE.search(text) or COMPARATIVE.search(search) or \
            CHANGE_BY.search(search) or DIFF_WORDS.search(search) and (
            len(set(years)) >= 2 or re.search(r"\böka\b|ökar|ökade|\bminska\b|skillnad|differens|förändr|jämför|"
                                              r"increase|difference", search, re.I)):
        q.operation = "diff"
    elif SUM_WORDS.search(search):
        q.operation = "sum"
    q.wants_amount = bool(AMOUNT_WORDS.search(search)) or q.operation is not None
    if CHECK_WORDS.search(search):
        q.intent = "consistency"
    elif DECISION_WORDS.search(search) or q.paragrafer:
        q.intent = "decision"
    elif q.wants_amount:
        q.intent = "figure"
    elif AGENDA_WORDS.search(search) or q.arenden:
        q.intent = "agenda"
    return q


def content_terms(q: Query) -> list[str]:
    """Stems that carry the question's meaning (for abstention and sentence ranking)."""
    generic = {"kommun", "kommunen", "kommuns", "fråg", "dokument", "år", "ar"}
    out = []
    for w in words(q.base_text or q.search_text):
        for part in w.lower().split("-"):  # "SUS-stödjare", "IOP-perioderna": the parts carry the meaning
            if part in STOPWORDS or fold(part) in STOPWORDS or part.isdigit() or len(part) < 3:
                continue
            s = tokens(part)
            if s and s[0] not in generic:
                out.append(s[0])
    return list(dict.fromkeys(out))
