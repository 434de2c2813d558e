"""A chat turn read in the light of the conversation: when a message is a follow-up, and how
it is resolved against the question before it."""
from __future__ import annotations

import re

from .analysis import analyse, content_terms
from .figures import FigureEngine

MAX_HISTORY = 6          # user messages a chat answer reads back over
CONTINUES = re.compile(r"^\s*(och|men|samt|än|and|but|what about|how about)\b", re.I)
FOLLOW_UP = re.compile(r"^(och|men|samt|and|what about|how about|vilka|vem|vad)\b", re.I)


def resolve(engine: FigureEngine, last: str, current: str) -> str:
    """`Och för Umeå Pastorat?` after a question about another party asks the same about it."""
    now, before = engine.entities_in(analyse(current)), engine.entities_in(analyse(last))
    others = [t for t in content_terms(analyse(current)) if not t.isdigit()
              and t not in engine._entity_tokens(now)]
    if now and before and set(now) != set(before) and len(others) <= 1:
        for e in before:
            m = re.search(re.escape(e), last, re.I)
            if m:
                return last[:m.start()] + now[0] + last[m.end():]
    return resolve_follow_up([last], current)


def resolve_follow_up(previous: list[str], current: str) -> str:
    """`Och 2028?` after a figure question asks the same for 2028; a short question leans on the last one."""
    if not previous:
        return current
    last = previous[-1]
    cq = analyse(current)
    content = [t for t in content_terms(cq) if not t.isdigit()]
    if cq.years and len(content) <= 1:
        years = re.findall(r"\b(?:19|20)\d\d\b", last)
        if years:
            new = re.sub(r"\b(?:19|20)\d\d\b", "\0", last, count=1)
            new = re.sub(r"\b(?:19|20)\d\d\b", "", new).replace("\0", str(cq.years[0]))
            return re.sub(r"\s+", " ", new).strip()
        return f"{last} {current}"
    if len(content) <= 3 and (FOLLOW_UP.match(current) or not cq.identifiers):
        ids = analyse(last).identifiers
        return f"{current} ({last})" if not ids else f"{current} {' '.join(ids)}"
    return current
