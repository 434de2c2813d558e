"""Named votes: who voted how in a protocol's roll call, and what the roll call adds up to.

A protocol records a roll-call vote (votering, omröstning med namnupprop) as a list, "Anna
Ek (M): Avstår" one member per line, or as a table with one column per choice ("| Per
Lind (S) | X |  |  |" under "| Ledamot | Ja-röst | Nej-röst | Avstår |"). `named_votes`
reads either into `NamedVote`s, `roll_calls` groups them (a member votes once in each), and
`read_named_votes` proposes, for a question about a vote,
the named member's own vote ("Hur röstade Per Lind?"), the members who voted one way ("Vilka
röstade nej?") and the roll call counted ("11 ja, 4 nej, 0 avstår"), which the ranker weighs
against the stated result (and the pair reader can set beside it when the question asks whether
they agree).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from . import query as T
from .candidates import Candidate, Rendered
from .compose import Citations, clean
from .i18n import say
from .query import AnalyzedQuery
from .statements import Value

CHOICES = {"ja": "ja", "nej": "nej", "avstår": "avstår", "avstod": "avstår", "avstår från att rösta": "avstår"}
MEMBER = r"([A-ZÅÄÖ][\wåäöéü.-]+(?:[ \t]+[A-ZÅÄÖ][\wåäöéü.-]+)+[ \t]*\([A-ZÅÄÖa-zåäö]{1,4}\))"
# one member per line: anchored at the line's start (a scan from every capital letter of a
# long document took a fifth of a second)
LIST_LINE = re.compile(r"^[ \t]*" + MEMBER + r"[ \t]*:[ \t]*((?i:ja|nej|avstår|avstod))\b", re.M)
# who voted one way: "vilka röstade nej", "vem röstade ja", "vilka avstod", "who voted no", "who abstained"
CHOICE_ASKED = re.compile(r"\b(?:röstade|rösta|voted|vote)\s+(?:för\s+|for\s+)?(ja|nej|yes|no)\b|"
                          r"\b(avstod|avstår|abstained)\b", re.I)
WHO = re.compile(r"^\s*(?:vilka|vem|who)\b", re.I)
CHOICES_ASKED = {**CHOICES, "yes": "ja", "no": "nej", "abstained": "avstår"}
MARK = re.compile(r"^\s*[xX✓✔]\s*$")
MIN_ROLL = 3   # a roll call names at least this many members
GAP_LINES = 3  # lines that may stand between two members of one roll call (a page header)


@dataclass(frozen=True)
class NamedVote:
    member: str   # "Per Lind (S)"
    choice: str   # "ja" | "nej" | "avstår"
    start: int    # where the member's line stands in the text read
    end: int
    continued: bool = False  # read from a table that goes on from a roll call's table on an earlier page


def _choice(header: str) -> str | None:
    h = header.lower()
    if "avst" in h:
        return "avstår"
    if re.search(r"\bnej", h):
        return "nej"
    if re.search(r"\bja\b|\bja-", h):
        return "ja"
    return None


def named_votes(text: str) -> list[NamedVote]:
    """Every member's vote read in `text`, as list lines or table rows, in order."""
    out = [NamedVote(m.group(1), CHOICES[m.group(2).lower()], m.start(), m.end()) for m in LIST_LINE.finditer(text)]
    columns: list[str | None] | None = None
    last: list[str | None] | None = None   # the latest roll-call table's columns
    continued = in_table = False
    at = 0
    for line in text.split("\n"):
        start, at = at, at + len(line) + 1
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else None
        if cells is None:
            columns, continued, in_table = None, False, False
            continue
        opens, in_table = not in_table, True
        choices = [_choice(c) for c in cells]
        if sum(c is not None for c in choices) >= 2:
            columns = last = choices  # the header: which column is which choice
            continue
        member = re.fullmatch(MEMBER, cells[0]) if cells else None
        if opens and last and member and len(cells) == len(last):
            # a table that opens with a member's row, as wide as the roll call's table before it:
            # the same roll call, gone on over a page break (the page's header and notes between)
            columns, continued = last, True
        if columns and member:
            marked = [columns[i] for i, c in enumerate(cells) if i < len(columns) and columns[i] and MARK.match(c)]
            if len(marked) == 1:
                out.append(NamedVote(member.group(1), marked[0], start, start + len(line), continued))
    return sorted(out, key=lambda v: v.start)


def roll_calls(text: str) -> list[tuple[NamedVote, ...]]:
    """The roll calls of a document: runs of members' votes with at most a few lines between two
    of them (a page header), a new roll call starting where a member votes again."""
    calls: list[list[NamedVote]] = []
    for v in named_votes(text):
        cur = calls[-1] if calls else None
        gap = text[cur[-1].end:v.start] if cur else ""
        far = len([ln for ln in gap.split("\n") if ln.strip()]) > GAP_LINES and not v.continued
        if cur is None or far or any(x.member == v.member for x in cur):
            calls.append([v])
        else:
            cur.append(v)
    return [tuple(c) for c in calls if len(c) >= MIN_ROLL]


@lru_cache(maxsize=64)
def _document_roll_calls(text: str) -> tuple[tuple[NamedVote, ...], ...]:
    return tuple(roll_calls(text))


def read_named_votes(q: AnalyzedQuery, candidates: list[Candidate], texts: dict[str, str]) -> list[Candidate]:
    """For a question about a vote: each whole roll call that a passage read holds part of,
    counted, and the vote of every member the question names."""
    if not T.ABOUT_VOTE.search(q.text) and q.legacy.intent != "consistency":
        return []
    persons = [n for n in q.names if len(n.split()) >= 2]  # "Hur röstade Per Lind?": his vote, not the count
    asked = CHOICE_ASKED.search(q.text) if WHO.search(q.text) else None
    choice = CHOICES_ASKED[(asked.group(1) or asked.group(2)).lower()] if asked else None   # "vilka röstade nej?"
    passages: dict[tuple[str, str], Candidate] = {}  # each passage read once (many sentences share one)
    for c in candidates:
        if c.reader == "sentence" and c.passage:
            passages.setdefault((c.source, c.passage), c)
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for c in passages.values():
        doc = texts.get(c.source, "")
        calls = _document_roll_calls(doc)
        at = doc.find(c.passage[:200]) if calls else -1
        if at < 0:
            continue
        for call in calls:
            if call[-1].end < at or call[0].start > at + len(c.passage) or (c.source, call[0].start) in seen:
                continue
            seen.add((c.source, call[0].start))
            counts = {k: sum(v.choice == k for v in call) for k in ("ja", "nej", "avstår")}
            counted = say(q.lang, "roll_call", ja=counts["ja"], nej=counts["nej"], avstar=counts["avstår"],
                          n=len(call))
            if choice:  # "Vilka röstade nej?": the members of that choice, in the roll call's order
                members = [v for v in call if v.choice == choice]
                if members:
                    said = say(q.lang, "members_voting", choice=say(q.lang, f"voted_{choice}"), n=len(members),
                               members=", ".join(v.member for v in members))
                    out.append(_candidate(c, said, clean(doc[call[0].start:call[-1].end]), call[0].start,
                                          call[-1].end, (Value(T.VOTE, said, None, None, 0),
                                                         *(Value(T.PERSON, v.member, None, None, 0) for v in members))))
            if not persons:
                out.append(_candidate(c, counted, clean(doc[call[0].start:call[-1].end]), call[0].start, call[-1].end,
                                      (Value(T.VOTE, counted, None, None, 0),
                                       Value(T.COUNT, str(len(call)), float(len(call)), None, 0))))
            for v in call:
                name = v.member.split("(")[0].split()
                if any(name[0] in p.split() and name[-1] in p.split() for p in persons):
                    said = say(q.lang, "member_vote", member=v.member, choice=v.choice)
                    out.append(_candidate(c, said, clean(doc[v.start:v.end]), v.start, v.end,
                                          (Value(T.VOTE, said, None, None, 0),
                                           Value(T.PERSON, v.member, None, None, 0))))
    return out[:6]


def _candidate(c: Candidate, stated: str, quote: str, start: int, end: int, values: tuple[Value, ...]) -> Candidate:
    """A statement read from the roll call, cited at the roll call (or the member's line) itself."""
    def render(cites: Citations) -> Rendered:
        n = cites.add(c.source, c.title, c.section, quote, c.page, start, end)
        return Rendered(f"{stated} [{n}]: ”{quote[:400]}{' …' if len(quote) > 400 else ''}”")

    return replace(c, reader="structure", evidence=f"{stated}: {quote}"[:2000], start=start, end=end,
                   values=values, confidence=0.8, render=render)
