"""Protocol roles: who chaired, kept the minutes, checked them, presented an item, or declared
a conflict of interest (jäv).

A protocol states its roles in a few fixed layouts, all read here from the whole document
(the front page and the signature block are rarely among the passages a question retrieves):

- the role, then the name: "Protokolljusterare  Anna Ek (C)", "Ordförande Bo Lind (S) finner …";
- the name, then the role: "Eva Berg, nämndsekreterare", "Olle Holm föredragande";
- a signature block, names on one line and their roles under them, in columns:
  "Anna Ek (S)    Bo Lind (L)" / "Ordförande    Vice ordförande";
- jäv: a sentence naming a member together with "jäv".

`read_roles` proposes, for each document that states a role the question asks about, one
candidate naming those roles and persons, each line cited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import query as T
from .candidates import Candidate, Rendered
from .compose import Citations
from .query import AnalyzedQuery
from .statements import MONTHS, Value

ROLE_WORDS = (r"förste vice ordförande|andre vice ordförande|vice ordförande|ordförande|kommunsekreterare|"
              r"nämndsekreterare|sekreterare|protokollförare|protokolljusterare|justerare|föredragande|"
              r"kontaktperson|handläggare")
# a person's name: two to four capitalised words, one space apart (columns are two or more spaces apart)
NAME = r"[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?(?: [A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?){1,3}"
PARTY = r"(?: ?\((?:[A-ZÅÄÖ]{1,3}|[A-ZÅÄÖ][a-zåäö]{1,3})\))?"
# role words in any case; names only capitalised (so no re.I on the whole pattern)
ROLE_FIRST = re.compile(rf"^[ \t]*((?i:{ROLE_WORDS}))[ \t]*:?[ \t]+({NAME}{PARTY})", re.M)
# "Eva Berg, nämndsekreterare", "Olle Holm föredragande" (one space: wider gaps separate columns)
NAME_FIRST = re.compile(rf"^[ \t]*({NAME}{PARTY})(?:, ?| )((?i:{ROLE_WORDS}))[ \t]*$", re.M)
JAV = re.compile(rf"({NAME}{PARTY})[^.\n]{{0,120}}?\bjäv\b|\bjäv\b[^.\n]{{0,60}}?({NAME}{PARTY})")
COLUMNS = re.compile(r"\S(?:.*?\S)?(?=\s{2,}|\s*$)")

# what a question asks, by the role words of Swedish council practice (and their English names)
ASKED = [
    ("vice ordförande", re.compile(r"\bvice ?(ordförande|chair\w*)\b", re.I)),
    ("ordförande", re.compile(r"(?<!vice )\b(ordförande|chair(man|person)?|ordf)\b", re.I)),
    ("sekreterare", re.compile(r"sekreterare|protokollför|secretary", re.I)),
    ("justerare", re.compile(r"juster\w*|adjust\w*|checked the minutes", re.I)),
    ("föredragande", re.compile(r"föredrag\w*|present(ed|er|s)\b", re.I)),
    ("kontaktperson", re.compile(r"kontaktperson\w*|contact person", re.I)),
    ("handläggare", re.compile(r"handläggare", re.I)),
    ("jäv", re.compile(r"\bjäv\w*|conflict of interest|deltog inte i (beslutet|handläggningen)|"
                       r"deltar (inte|ej) i (beslutet|handläggningen)", re.I)),
]
MAX_NAMED = 6   # persons named in one candidate


@dataclass(frozen=True)
class Role:
    role: str      # as printed ("Protokolljusterare", "nämndsekreterare", "jäv")
    name: str      # "Anna Ek (C)"
    start: int     # the line or sentence it is stated in
    end: int

    @property
    def family(self) -> str:
        r = self.role.lower()
        if r == "jäv":
            return "jäv"
        if "vice ordförande" in r:
            return "vice ordförande"
        if r.endswith("sekreterare") or r == "protokollförare":
            return "sekreterare"
        if r.endswith("justerare"):
            return "justerare"
        return r


def asked_roles(question: str) -> list[str]:
    return [family for family, pattern in ASKED if pattern.search(question)]


@lru_cache(maxsize=64)
def read_document_roles(text: str) -> tuple[Role, ...]:
    """Every role a document states, in order."""
    out: list[Role] = []
    for m in ROLE_FIRST.finditer(text):
        out.append(Role(m.group(1), m.group(2).strip(), m.start(1), _line_end(text, m.end())))
    for m in NAME_FIRST.finditer(text):
        out.append(Role(m.group(2), m.group(1).strip(), m.start(1), m.end()))
    out.extend(_signature_blocks(text))
    for m in JAV.finditer(text):
        name = (m.group(1) or m.group(2)).strip()
        if not re.match(ROLE_WORDS, name, re.I):
            start = text.rfind("\n", 0, m.start()) + 1
            out.append(Role("jäv", name, start, _line_end(text, m.end())))
    return tuple(sorted(set(out), key=lambda r: r.start))


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _signature_blocks(text: str) -> list[Role]:
    """Names on one line, their roles on the next, column by column."""
    out = []
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]*", text) if m.group(0).strip()]
    for (a, names_line), (b, roles_line) in zip(lines, lines[1:]):
        roles = [c.group(0) for c in COLUMNS.finditer(roles_line.strip())]
        if not roles or not all(re.fullmatch(ROLE_WORDS, r.strip(), re.I) for r in roles):
            continue
        names = [c.group(0) for c in COLUMNS.finditer(names_line.strip())]
        if len(names) != len(roles) or not all(re.fullmatch(NAME + PARTY, n.strip()) for n in names):
            continue
        out.extend(Role(r.strip(), n.strip(), a, b + len(roles_line)) for n, r in zip(names, roles))
    return out


def read_roles(q: AnalyzedQuery, docs: list[dict], texts: dict[str, str], ranks: dict[str, int]) -> list[Candidate]:
    """For each document that states a role the question asks about, the persons in those roles."""
    wanted = asked_roles(q.text)
    if not wanted:
        return []
    out = []
    for doc in docs:
        text = texts.get(doc["source"], "")
        found = [r for r in read_document_roles(text) if r.family in wanted]
        if not found:
            continue
        named: dict[tuple[str, str], Role] = {}
        for r in found:
            named.setdefault((r.family, _bare(r.name)), r)
        roles = list(named.values())[:MAX_NAMED]
        meta = doc.get("metadata") or {}
        evidence = "; ".join(f"{r.role[:1].upper() + r.role[1:]}: {r.name}" for r in roles)
        values = []
        for r in roles:
            at = evidence.find(r.name)
            values.append(Value(T.PERSON, r.name, None, None, at))
        context = " > ".join(x for x in (doc.get("title") or "", meta.get("body") or "", _long_date(meta.get("date")))
                             if x)
        first = roles[0]

        def render(cites: Citations, roles=roles, doc=doc, text=text) -> Rendered:
            parts = []
            for r in roles:
                n = cites.add(doc["source"], doc.get("title") or doc["source"], "", text[r.start:r.end], None,
                              r.start, r.end)
                parts.append(f"{r.role[:1].upper() + r.role[1:]}: {r.name} [{n}]")
            return Rendered("; ".join(parts) + ".")

        out.append(Candidate(reader="roles", source=doc["source"], start=first.start, end=first.end,
                             evidence=evidence, context=context, rank=ranks.get(doc["source"], 99),
                             passage=" ".join(text[r.start:r.end] for r in roles)[:3000], values=tuple(values),
                             confidence=1.0, title=doc.get("title") or "", section="", render=render))
    return out


def _bare(name: str) -> str:
    return re.sub(r"\s*\([^)]*\)$", "", name).strip().lower()


def _long_date(iso: str | None) -> str:
    """A document's date also as written in prose ("9 september 2024"), so a question's date finds it."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", iso or "")
    if not m:
        return iso or ""
    month = MONTHS.split("|")[int(m.group(2)) - 1]
    return f"{int(m.group(3))} {month} {m.group(1)} ({iso})"
