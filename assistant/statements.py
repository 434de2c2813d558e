"""What a sentence states: its sentences, repaired across line breaks, and the typed values in them.

Pure functions over text. A passage from a PDF breaks lines mid-sentence and hyphenates words
("verksam-" / "het"); a sentence here runs to its real end, so the value on the next line
stays with it. Table rows and list items stay lines of their own.

Values are typed as a reader of a council document would type them: an amount has a money
unit (kr, tkr, mnkr, miljoner kronor, euro, €), a percent has % or "procent", a date is
written as a date, a vote result pairs ja with nej, a person is a capitalised first and last
name, an identifier mixes digits with letters or slashes (KS-2026/00467, 195/26, § 76).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.lexicon import name_like
from ingest import numbers
from index.text import STOPWORDS

from . import query as T

# a period after these ends an abbreviation, not a sentence
ABBREVIATIONS = re.compile(r"(?:^|[\s(])(?:t\.ex|bl\.a|d\.v\.s|dvs|m\.m|m\.fl|o\.d|s\.k|jfr|ca|kl|nr|resp|st|tel|inkl|"
                           r"exkl|enl|ang|fr\.o\.m|t\.o\.m|p\.g\.a|f\.d|milj|sid|kap|ff|e\.d|[a-zåäö])\.$", re.I)
BULLET = re.compile(r"^\s*(?:[^\w\s(\"”'§]\s*(?=\w)|\d{1,2}[.)]\s+|[a-z][.)]\s+|att\s)")
TABLE_LINE = re.compile(r"\t|\s\|\s|\S {3,}\S")

# a number as printed: never the digits that begin a code of letters and digits ("9F3A61BC…", a
# signature's transaction id)
_NUM_END = r"(?![\d])(?![A-Za-z]+\d)"
NUM = (rf"(?<![\w.,])[-−–]?\d{{1,3}}(?:[ \u00a0\u202f\u2009]\d{{3}})+(?:[,.]\d+)?{_NUM_END}|"
       rf"(?<![\w.,])[-−–]?\d+(?:[,.]\d+)?{_NUM_END}")
MONEY_UNIT = (r"(miljarder kronor|miljoner kronor|miljoner euro|miljarder euro|tusen kronor|tusen euro|mdkr|mnkr|mkr|"
              r"msek|tkr|kronor|kr|sek|euro|eur|€|m€|milj\.? ?(?:kr|euro|€)?|miljoner|miljarder)")
MONEY = re.compile(rf"({NUM})\s*{MONEY_UNIT}(?![\wåäö])", re.I)
MONEY_PREFIX = re.compile(rf"(?:€|EUR|SEK)\s*({NUM})", re.I)
PERCENT = re.compile(rf"({NUM})\s*(%|procent(?:enheter)?)", re.I)
COUNT = re.compile(rf"({NUM})\s+([a-zåäöéA-ZÅÄÖ][\wåäö-]+)")
WRITTEN = {"en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8, "nio": 9,
           "tio": 10, "elva": 11, "tolv": 12, "tretton": 13, "fjorton": 14, "femton": 15, "sexton": 16, "sjutton": 17,
           "arton": 18, "nitton": 19, "tjugo": 20, "trettio": 30, "fyrtio": 40, "femtio": 50, "sextio": 60,
           "sjuttio": 70, "åttio": 80, "nittio": 90, "hundra": 100}
_LONGEST_FIRST = sorted(WRITTEN, key=len, reverse=True)  # so that "femton" is not read as "fem"
_WORDS = "|".join(_LONGEST_FIRST)
VOTE_NUM = r"(\d+|" + _WORDS + r")"
# a count or a share in words: "elva förskolor", "Tre procent"; "en"/"ett" are the articles, not counts
WRITTEN_PERCENT = re.compile(rf"(?<![\wåäö-])({_WORDS})\s+procent(?:enheter)?(?![\wåäö])", re.I)
WRITTEN_COUNT = re.compile(rf"(?<![\wåäö-])({'|'.join(w for w in _LONGEST_FIRST if WRITTEN[w] > 1)})"
                           r"\s+([a-zåäö][a-zåäö-]{2,})", re.I)
# a length of time: "10 år", "ett 5-årigt avtal", "tre månader", "inom två veckor"
DURATION = re.compile(rf"(?<![\w,.])(\d+(?:[,.]\d+)?|{_WORDS})[\s-]*"
                      r"(år|års|årig[a-z]*|månad(?:er|ers)?|veck(?:a|or|ors)|dag(?:ar|ars)?|timm(?:e|ar))(?![\wåäö])",
                      re.I)
# a span of clock time is a length of time: "kl. 09.30–11.15", "14:00 - 16:30"
TIME_SPAN = re.compile(r"(?<![\d.,:])([01]?\d|2[0-3])[.:]([0-5]\d)\s*[-–—]\s*([01]?\d|2[0-3])[.:]([0-5]\d)"
                       r"(?![\d.,:]?\d)"
                       rf"(?!\s*(?:%|procent|{MONEY_UNIT})(?![\wåäö]))", re.I)
VOTE = re.compile(rf"\b{VOTE_NUM}\s+(?:ja|ja-röster|jaröster)\b.{{0,40}}?\b{VOTE_NUM}\s+(?:nej|nej-röst\w*|nejröst\w*)|"
                  rf"\b{VOTE_NUM}\s+(?:ja|ja-röster)\s+mot\s+{VOTE_NUM}\b|"
                  rf"\b{VOTE_NUM}\s+röster\s+mot\s+{VOTE_NUM}\b|\b{VOTE_NUM}\s+(?:st(?:ycken)?\s+)?avst(?:od|år)\b", re.I)
MONTHS = "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
DATE = re.compile(rf"\b(?:(?:19|20)\d\d-\d\d-\d\d|\d{{1,2}}\s+(?:{MONTHS})(?:\s+(?:19|20)\d\d)?|"
                  rf"\d{{1,2}}\.\d{{1,2}}\.(?:19|20)\d\d|(?:{MONTHS})\s+(?:19|20)\d\d)\b", re.I)
PERSON = re.compile(r"(?<![\wåäö])([A-ZÅÄÖ][a-zåäöéü]{1,20}(?:-[A-ZÅÄÖ][a-zåäöéü]+)?\s+"
                    r"(?:[A-ZÅÄÖ]\.\s+)?[A-ZÅÄÖ][a-zåäöéü]{1,25}(?:-[A-ZÅÄÖ][a-zåäöéü]+)?)(?![\wåäö])")
PARTY = re.compile(r"\((S|M|SD|V|C|KD|L|MP|D|SFP|Sfp|SAP)\)|\b(Socialdemokrat\w*|Moderat\w*|Sverigedemokrat\w*|"
                   r"Vänsterpartiet|Centerpartiet|Kristdemokrat\w*|Liberal\w*|Miljöpartiet|Demokraterna)\b")
IDENT = re.compile(r"\b[A-ZÅÄÖ]{2,8}[-/ ]?\d{2,4}[-/]\d{1,6}(?:[-/.]\d+)*\b|\b\d{1,4}/\d{2}\b|§\s*\d{1,4}|"
                   r"\b[A-ZÅÄÖ]{2,8}/\d{1,5}/[\d./]+\b|\(\d{3,6}\)|\b\d{4,6}\b(?=\s+[A-ZÅÄÖ][a-zåäö])")
# a company or an association by its legal form: "Byggbolaget Norr AB", "JM AB", "Kommuninvest ek. för.",
# "Stiftelsen Gamla Hem"
COMPANY = re.compile(r"(?<![\wåäö])((?:[A-ZÅÄÖ][\wåäöé&.-]*\s+){1,4}(?:AB|Ab|HB|KB|Oy|Oyj|ASA|GmbH|Ltd|ek\. ?för\.?)"
                     r"(?:\s*\(publ\))?|(?:Stiftelsen|Föreningen|Bostadsrättsföreningen)(?:\s+[A-ZÅÄÖ][\wåäöé&-]*){1,3})"
                     r"(?![\wåäö])")
PLACE = re.compile(r"\b(sammanträdesplats|mötesplats|plats och tid|plats:|lokal(en)?|sal(en)?|stadshuset|kommunhuset|"
                   r"rådhuset|digitalt|\w+(gatan|vägen|esplanaden|torget|platsen)\s*\d+)\b", re.I)
DECISION = re.compile(r"\b(beslutar|beslutade|beslöt|föreslår|föreslås|föreslog|yrkar|yrkade|bifall\w*|avslå\w*|"
                      r"återremitt\w*|bordl\w*|godkänn\w*|fastställ\w*|uppdra\w*|anta\w*)\b", re.I)

YEAR_LIKE = re.compile(r"^(19|20)\d\d$")


@dataclass(frozen=True)
class Value:
    kind: str            # amount | percent | count | duration | date | person | party | identifier | vote | place
    text: str            # as printed
    number: float | None
    unit: str | None
    start: int           # offset in the sentence's display text


@dataclass(frozen=True)
class Sentence:
    start: int           # absolute offsets in the document
    end: int
    text: str            # repaired: one line, hyphenation joined


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Sentences and lines with absolute offsets (see `_split`; a new list each call)."""
    return list(_split(text, offset))


@lru_cache(maxsize=2_000)  # a passage retrieved again is not split again
def _split(text: str, offset: int) -> tuple[Sentence, ...]:
    """Sentences and lines (table rows, list items) with absolute offsets; a sentence broken over
    lines (PDF) is joined, also across the blank lines some PDF-to-text tools put between every
    line, and a word hyphenated at a line end is rejoined."""
    out: list[Sentence] = []
    groups: list[list[tuple[int, str]]] = []
    blank = False
    for m in re.finditer(r"^[^\n]*$", text, re.M):  # one match per line (an empty one only for an empty line)
        line = m.group(0)
        if not line.strip():
            blank = bool(groups)
            continue
        prev = groups[-1][-1][1].rstrip() if groups else ""
        standalone = bool(TABLE_LINE.search(line.strip()) or line.lstrip().startswith("#"))
        starts_item = bool(BULLET.match(line))
        if starts_item and re.match(r"\s*att\s", line) and groups and not re.search(r"[.!?:;]$", prev) \
                and not re.match(r"\s*att\s", groups[-1][0][1]):
            starts_item = False  # "… samverkar för / att skapa …": a line break, not an att-sats
        lower_next = bool(re.match(r"\s*[a-zåäö(,;]", line))
        open_prev = not re.search(r"[.!?:;]$", prev)
        # without a blank line between them, a lower-case line goes on the sentence before it, and so does any
        # line after a wrapped line of prose (long, ending in a word: "… ansökte den 16 september" / "2019 om …");
        # a short line without a full stop is a heading or a label and stands alone
        continues = lower_next and open_prev if blank else (lower_next or (open_prev and _wraps(prev)))
        if continues and not lower_next and KEY_VALUE.match(line) and KEY_VALUE.match(groups[-1][0][1]):
            continues = False  # a form's rows, one per line ("Status: Pågående", "Beräknad driftkostnad? 200 tkr")
        in_item = bool(groups) and bool(BULLET.match(groups[-1][0][1]))
        if groups and continues and not standalone and not starts_item and not (in_item and not lower_next) \
                and not TABLE_LINE.search(prev.strip()) and not prev.lstrip().startswith("#"):
            groups[-1].append((m.start(), line))
        else:
            groups.append([(m.start(), line)])
        blank = False
    for group in groups:
        joined, spans = _join(group)
        for s, e in _sentence_bounds(joined):
            piece = joined[s:e].strip()
            if len(piece) < 2:
                continue
            lead = len(joined[s:e]) - len(joined[s:e].lstrip())
            a = spans[s + lead] if s + lead < len(spans) else spans[-1]
            b = spans[min(e, len(spans)) - 1] + 1
            out.append(Sentence(offset + a, offset + b, piece))
    return tuple(out)


KEY_VALUE = re.compile(r"\s*[A-ZÅÄÖ][^:?\n]{1,120}[:?] \S")  # "Status: Pågående", "Beräknad driftkostnad? 200 tkr"
WRAPPED = 50   # a line of prose at least this long that ends in a word was wrapped, not ended


def _wraps(line: str) -> bool:
    return len(line) >= WRAPPED and bool(re.search(r"[\w,]$", line)) and not re.search(r"\d$", line)


def _join(group: list[tuple[int, str]]) -> tuple[str, list[int]]:
    """One line from several, and for each character its offset in the original text."""
    text, spans = "", []
    for pos, line in group:
        body = line.rstrip()
        if text:
            if re.search(r"[a-zåäö]-$", text) and re.match(r"\s*[a-zåäö]", body):
                text, spans = text[:-1], spans[:-1]  # "verksam-" + "het" → "verksamhet"
                lead = len(body) - len(body.lstrip())
                body, pos = body.lstrip(), pos + lead
            else:
                text += " "
                spans.append(spans[-1] + 1)
                lead = len(body) - len(body.lstrip())
                body, pos = body.lstrip(), pos + lead
        text += body
        spans.extend(range(pos, pos + len(body)))
    return text, spans


SHORT_ANSWER = 60  # characters after a "?" that, without a full stop of their own, answer it


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for m in re.finditer(r"[.!?](?=\s+[\"”(]?[A-ZÅÄÖ0-9§])", text):
        if ABBREVIATIONS.search(text[max(start, m.start() - 12):m.end()]):
            continue
        if m.group(0) == "?" and len(text) - m.end() <= SHORT_ANSWER and not re.search(r"[.!?]", text[m.end():]):
            continue  # a question answered on its own line (a form's row: "Beräknad driftkostnad? 200 tkr per år")
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    return bounds


def parse_number(text: str) -> float | None:
    """A number as printed ("1 234,5", "−3"), or None."""
    try:
        return numbers.parse_number(text.replace("−", "-").replace("–", "-"))
    except Exception:  # noqa: BLE001
        return None


def _money_unit(unit: str) -> str:
    u = unit.lower().replace(".", "").strip()
    if u in ("miljoner kronor", "mnkr", "mkr", "msek", "milj kr", "miljoner", "milj"):
        return "mnkr"
    if u in ("miljarder kronor", "mdkr", "miljarder"):
        return "mdkr"
    if u in ("tusen kronor", "tkr"):
        return "tkr"
    if u in ("miljoner euro", "m€", "milj euro", "milj €"):
        return "miljoner euro"
    if u in ("euro", "eur", "€"):
        return "euro"
    if u in ("tusen euro",):
        return "tusen euro"
    return "kr"


def values(sentence: str, table_unit: str | None = None) -> list[Value]:
    """Every typed value a sentence states, in order (a new list: callers may add to it)."""
    return list(_values(sentence, table_unit))


# contact lines: "Tfn 0322-61 60 00", "Tel. 033-35 70 00", "Fax: 08-123 45"; a postcode before a town in
# capitals ("441 81 ALINGSÅS", "50180 BORÅS")
CONTACT = re.compile(r"\b(?:tfn|tel|telefon|fax|mobil|mobiltelefon|växel|vxl|phone)\.?:?\s*\+?\d[\d ()-]{4,}\d|"
                     r"\b\d{3} ?\d{2}(?= +(?!(?:SEK|EUR|USD|TKR|MKR|MNKR|KR)\b)[A-ZÅÄÖ]{3,}\b(?![a-zåäö]))", re.I)


@lru_cache(maxsize=20_000)  # the sentences of the passages asked about most: typed once
def _values(sentence: str, table_unit: str | None) -> tuple[Value, ...]:
    out: list[Value] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    def add(kind: str, m: re.Match, number: float | None, unit: str | None, span: tuple[int, int] | None = None) -> None:
        a, b = span or m.span()
        if free(a, b):
            out.append(Value(kind, sentence[a:b], number, unit, a))
            taken.append((a, b))

    for m in VOTE.finditer(sentence):
        add(T.VOTE, m, None, None)
    for m in DATE.finditer(sentence):
        add(T.DATE, m, None, None)
    for m in TIME_SPAN.finditer(sentence):
        h1, m1, h2, m2 = (int(g) for g in m.group(1, 2, 3, 4))
        if (h2, m2) > (h1, m1):
            add(T.DURATION, m, float(60 * (h2 - h1) + m2 - m1), "minuter")
    for m in IDENT.finditer(sentence):
        if not YEAR_LIKE.match(m.group(0).strip("()")):
            add(T.IDENTIFIER, m, None, None)
    for m in PERCENT.finditer(sentence):
        add(T.PERCENT, m, parse_number(m.group(1)), "%")
    for m in WRITTEN_PERCENT.finditer(sentence):
        add(T.PERCENT, m, float(WRITTEN[m.group(1).lower()]), "%")
    for m in MONEY.finditer(sentence):
        add(T.AMOUNT, m, parse_number(m.group(1)), _money_unit(m.group(2)))
    for m in MONEY_PREFIX.finditer(sentence):
        add(T.AMOUNT, m, parse_number(m.group(1)), "euro" if "€" in m.group(0) or "EUR" in m.group(0).upper() else "kr")
    for m in DURATION.finditer(sentence):
        amount = m.group(1).lower()
        unit = m.group(2).lower()
        unit = "år" if unit.startswith("år") else {"mån": "månader", "vec": "veckor", "dag": "dagar"}.get(unit[:3], "timmar")
        add(T.DURATION, m, WRITTEN[amount] if amount in WRITTEN else parse_number(amount), unit)
    for m in PARTY.finditer(sentence):
        add(T.PARTY, m, None, None)
    for m in COMPANY.finditer(sentence):
        add(T.ORG, m, None, None)
    for m in PERSON.finditer(sentence):
        if name_like(m.group(1).split()[-1]) and not re.match(rf"(?:{MONTHS})\b", m.group(1).split()[-1], re.I):
            add(T.PERSON, m, None, None)
    if PLACE.search(sentence):
        m = PLACE.search(sentence)
        add(T.PLACE, m, None, None)
    for m in CONTACT.finditer(sentence):  # a letterhead's phone number or postcode is no figure
        if free(*m.span()):
            taken.append(m.span())
    for m in re.finditer(NUM, sentence):
        raw = m.group(0)
        if not free(*m.span()) or YEAR_LIKE.match(raw.strip()):
            continue
        if raw.lstrip().startswith(("-", "−", "–")) and BULLET.match(sentence[:m.end()]):
            continue  # "- 3,5 tjänster": a list bullet, not a minus sign
        n = parse_number(raw)
        if n is None:
            continue
        if table_unit:
            add(T.AMOUNT, m, n, table_unit)
        else:
            add(T.COUNT, m, n, None)
    for m in WRITTEN_COUNT.finditer(sentence):
        if m.group(2).lower() not in STOPWORDS:  # "sex och samlevnad" counts nothing
            add(T.COUNT, m, float(WRITTEN[m.group(1).lower()]), None, m.span(1))
    out.sort(key=lambda v: v.start)
    return tuple(out)


def noun_after(text: str, v: Value) -> str:
    """The word printed right after a value in `text`, when it names what the value counts
    ("elva remissvar" → "remissvar", "2,0 cykelplatser/radhus" → "cykelplatser/radhus"); '' when the value is not
    printed there (a figure read from a table) or a function word follows ("från 29 till 72")."""
    if v.start < 0 or text[v.start:v.start + len(v.text)] != v.text:
        return ""
    after = text[v.start + len(v.text):].split(maxsplit=1)
    word = after[0].strip(".,;:()”\"").lower() if after else ""
    if word in STOPWORDS or not re.fullmatch(r"[a-zåäöé]{3,}(?:/[a-zåäöé]+)?", word):
        return ""
    return word


def has_decision(sentence: str) -> bool:
    return bool(DECISION.search(sentence))


@dataclass(frozen=True)
class Tally:
    """A vote's result as counted: "Med 9 ja-röster mot 2 nej-röster … 3 stycken avstod"."""
    yes: int
    no: int
    abstain: int | None     # None: the text does not say
    start: int              # where the ja/nej count stands (in the text given)
    end: int                # offset just after the last count read


TALLY = re.compile(rf"\b{VOTE_NUM}\s+(?:ja|ja-röst\w*|jaröst\w*)\b(?:\s*\([^)]{{0,60}}\))?\s+mot\s+{VOTE_NUM}\s+"
                   r"(?:nej|nej-röst\w*|nejröst\w*)\b", re.I)
ABSTAINED = re.compile(rf"\b{VOTE_NUM}\s+(?:st(?:ycken)?\s+|ledam\w+\s+)?(?:avstod|avstår|avstått)\b|"
                       rf"\b{VOTE_NUM}\s+(?:avstående|nedlagda)\b", re.I)
TALLY_REACH = 300   # how far after the ja/nej count its abstentions are stated


def _count(word: str) -> int:
    return WRITTEN[word.lower()] if word.lower() in WRITTEN else int(word)


def tally(text: str) -> Tally | None:
    """The first vote result counted in `text`, with the abstentions stated right after it
    (before the next result)."""
    m = TALLY.search(text)
    if not m:
        return None
    nxt = TALLY.search(text, m.end())
    reach = text[m.end():min(m.end() + TALLY_REACH, nxt.start() if nxt else len(text))]
    a = ABSTAINED.search(reach)
    if a:
        return Tally(_count(m.group(1)), _count(m.group(2)), _count(a.group(1) or a.group(2)), m.start(),
                     m.end() + a.end())
    return Tally(_count(m.group(1)), _count(m.group(2)), None, m.start(), m.end())
