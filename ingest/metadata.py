"""Document metadata: which organisation, body, date and kind of document this is.

Derived from the document itself (letterhead, headings, the first pages, signatures), its file
name and its front matter when it has one (`ingest.frontmatter`: what the document declares about
itself is trusted first), the way a registrator would read a document's front page. Pure: text in, a frozen
`DocumentMetadata` out. The organisation is the public body that issued the document: a
kommun, stad, region, förbund or bolag ("Göteborgs Stad" → Göteborg, "Simrishamns kommun" →
Simrishamn). Filters use it, and the answering ranker checks that evidence comes from the
organisation a question names.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass

from .lexicon import name_like

LETTERHEAD = 1500     # the top of the first page, where the letterhead stands
HEAD = 6000          # the front matter where letterhead, body and date are printed
MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december"]

# an organisation is named as "<Name> kommun", "<Name>s stad", "Region <Name>", "<Name> förbund" …
ORG = re.compile(r"\b([A-ZÅÄÖ][a-zåäöé]+(?:-[A-ZÅÄÖ][a-zåäöé]+)?)\s+(kommun|stad|Stad|landsting|församling|pastorat)\b"
                 r"|\b(Region|Samordningsförbundet|Kommunalförbundet|Räddningstjänstförbundet)\s+"
                 r"([A-ZÅÄÖ][a-zåäöé]+(?:[- ][A-ZÅÄÖ][a-zåäöé]+)?)")
# a letterhead in capitals: "LERUMS KOMMUN", "BORÅS STAD", "REGION SKÅNE"
ORG_CAPS = re.compile(r"\b([A-ZÅÄÖ]{3,}(?:-[A-ZÅÄÖ]{3,})?)\s+(KOMMUN|STAD)\b|\b(REGION)\s+([A-ZÅÄÖ]{3,})\b")
# front matter keys (Swedish and English) that name the issuing organisation, the date and the kind
ORG_KEYS = ("organisation", "organization", "kommun", "municipality", "region", "myndighet", "org")
DATE_KEYS = ("datum", "date", "mötesdatum", "sammanträdesdatum", "meeting_date")
KIND_KEYS = ("typ", "type", "dokumenttyp", "document_type", "kind")
BODY = re.compile(r"\b([Nn]ämnden för [A-ZÅÄÖa-zåäö]+(?: och [a-zåäö]+)?|(?:[A-ZÅÄÖa-zåäö]+-? och )?(?:[A-ZÅÄÖa-zåäö-]+)?(?:nämnden|nämnd|styrelsen|styrelse|fullmäktige|"
                  r"utskottet|utskott|revisionen|direktionen)s?)\b")
GENERIC_BODY = {"nämnden", "nämnd", "styrelsen", "styrelse", "utskottet", "utskott", "revisionen", "direktionen"}
# a body's abbreviation in a file name or title, by how Swedish councils form them: KF, KS, a nämnd
# ending in N (BUN, MBN, SBN), and an utskott ending in AU (KSAU, KSNAU)
BODY_ABBREV = re.compile(r"(?<![A-Za-zÅÄÖåäö])(K[FS](?:N?AU)?|[A-ZÅÄÖ]{1,4}N(?:AU)?)(?![A-Za-zÅÄÖåäö])")
KINDS = [  # (kind, words that say it on a front page or in a file name) — standard Swedish document kinds
    ("protokollsutdrag", r"protokollsutdrag|utdrag ur protokoll"),
    ("protokoll", r"protokoll"),
    ("kallelse", r"kallelse"),
    ("föredragningslista", r"föredragningslista|dagordning"),
    ("mötesbok", r"mötesbok"),
    ("tjänsteskrivelse", r"tjänsteskrivelse|tjänsteutlåtande"),
    ("delårsrapport", r"delårsrapport|delårsbokslut"),
    ("årsredovisning", r"årsredovisning|årsbokslut"),
    ("verksamhetsplan", r"verksamhetsplan"),
    ("budget", r"budgetskrivelse|budget|investeringsäskande|investeringsbudget"),
    ("revisionsberättelse", r"revisionsberättelse|revisionsredogörelse"),
    ("avtal", r"överenskommelse|avtal|iop"),
    ("rapport", r"rapport|uppföljning"),
]
ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.((?:19|20)\d\d)\b")
WRITTEN = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTHS) + r") ((?:19|20)\d\d)\b", re.I)
YEAR = re.compile(r"\b((?:19|20)\d\d)\b")


@dataclass(frozen=True)
class DocumentMetadata:
    organisation: str | None     # "Göteborg", "Umeå", "Simrishamn", "Samordningsförbundet Umeå"
    body: str | None             # "Stadsfastighetsnämnden", "Kommunstyrelsen", "KSNAU"
    date: str | None             # ISO date of the meeting or document
    year: int | None
    kind: str | None             # protokoll, kallelse, budget, … (see KINDS)
    organisations: tuple[str, ...] = ()   # every organisation the front matter names, most named first

    def to_dict(self) -> dict:
        return asdict(self)


def _fold(text: str) -> str:
    return text.lower().translate(str.maketrans("åäöé", "aaoe"))


def _named_orgs(text: str) -> list[re.Match]:
    """Every "<Name> kommun"-like mention, in capitals or not, in the order written."""
    return sorted([*ORG.finditer(text), *ORG_CAPS.finditer(text)], key=lambda m: m.start())


def _org_name(m: re.Match) -> str | None:
    if m.group(1):
        name, kind = m.group(1), m.group(2).lower()
        if name.isupper():
            name = "-".join(part.capitalize() for part in name.split("-"))
        if kind in ("kommun", "stad") and name.endswith("s") and len(name) > 4 and name[-2] not in "aeiouyåäö":
            name = name[:-1]  # "Simrishamns kommun", "Göteborgs Stad": the genitive
        return name if name_like(name, 0) else None
    prefix, name = m.group(3), m.group(4)
    if prefix.isupper():
        prefix, name = prefix.capitalize(), name.capitalize()
    return name if prefix == "Region" else f"{prefix} {name}"


def _declared_org(fields: dict[str, str]) -> str | None:
    """The organisation a front matter declares ("lerum", "Region Skåne" → Skåne)."""
    value = next((fields[k] for k in ORG_KEYS if fields.get(k)), "")
    value = re.sub(r"^(?:region)\s+|\s+(?:kommun|stad)$", "", value.strip(), flags=re.I)
    if not value or len(value) > 60 or not re.fullmatch(r"[\w .-]+", value):
        return None
    return " ".join(w.capitalize() if w.islower() else w for w in re.split(r"\s+", value.replace("_", " ")))


def extract_metadata(text: str, source: str, title: str = "", fields: dict[str, str] | None = None
                     ) -> DocumentMetadata:
    fields = fields or {}
    head = text[:HEAD]
    orgs = Counter()
    for m in _named_orgs(head):  # in the order named: of equal counts, the one named first leads
        if name := _org_name(m):
            orgs[name] += 2 if m.start() < LETTERHEAD else 1  # the letterhead counts more
    for m in _named_orgs(text[HEAD:HEAD * 8]):
        if name := _org_name(m):
            orgs[name] += 0.25
    if declared := _declared_org(fields):
        # the document's own metadata outweighs what its text mentions; spelt as the text spells it
        same = [o for o in orgs if _fold(o) == _fold(declared)]
        orgs[same[0] if same else declared] += 10
    stem = re.sub(r"\.\w+$", "", source.rsplit("/", 1)[-1])
    for word in re.split(r"[_\W]+", stem):
        for org in list(orgs):
            if len(word) >= 4 and (_fold(org).startswith(_fold(word)) or _fold(word) in _fold(org).split()):
                orgs[org] += 3  # the file name names it
    organisations = tuple(o for o, _ in orgs.most_common(5))
    bodies = Counter()
    letterhead = None   # the body the letterhead names is the document's, however often its text names another
    for m in BODY.finditer(head):
        b, generic = m.group(1)[0].upper() + m.group(1)[1:], m.group(1).lower() in GENERIC_BODY
        bodies[b] += 0.3 if generic else 1.0
        if letterhead is None and not generic and m.end() <= LETTERHEAD:
            letterhead = b
    body = letterhead or (bodies.most_common(1)[0][0] if bodies else None)
    abbrev = BODY_ABBREV.search(stem) or BODY_ABBREV.search(title)
    if abbrev:
        body = abbrev.group(1)
    declared_date = next((fields[k] for k in DATE_KEYS if fields.get(k)), "")
    date = _date(declared_date) or _date(stem) or _date(title) or _date(head)
    year = int(date[:4]) if date else _year(stem) or _year(title)
    declared_kind = next((fields[k] for k in KIND_KEYS if fields.get(k)), "").lower()
    front = f"{stem} {title} {head[:LETTERHEAD]}".lower().replace("_", " ")
    kind = next((k for k, pattern in KINDS if re.search(pattern, declared_kind)), None) \
        or next((k for k, pattern in KINDS if re.search(pattern, front)), None)
    return DocumentMetadata(organisation=organisations[0] if organisations else None, body=body, date=date,
                            year=year, kind=kind, organisations=organisations)


def _date(text: str) -> str | None:
    found = []
    for m in ISO.finditer(text):
        found.append((m.start(), f"{m.group(1)}-{m.group(2)}-{m.group(3)}"))
    for m in DOTTED.finditer(text):
        found.append((m.start(), f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"))
    for m in WRITTEN.finditer(text):
        found.append((m.start(), f"{m.group(3)}-{MONTHS.index(m.group(2).lower()) + 1:02d}-{int(m.group(1)):02d}"))
    valid = [(pos, d) for pos, d in found if 1 <= int(d[5:7]) <= 12 and 1 <= int(d[8:10]) <= 31]
    return min(valid)[1] if valid else None


def _year(text: str) -> int | None:
    m = YEAR.search(text)
    return int(m.group(1)) if m else None
