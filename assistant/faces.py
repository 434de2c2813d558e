"""The one door the faces for other tools (OpenAI-compatible API, MCP, LlamaIndex) go through.

Every call takes the caller's visible access `levels` (None = every level) and passes it on, so
the OpenAI face, the MCP tools and the LlamaIndex components see exactly what the JSON API would
show the same caller. Also here, shared by the faces: how a key in request headers becomes a
caller, how a conversation from another tool is bounded, and how an answer is written as
Markdown with numbered sources that link to the cited passage.

Access (`assistant/security.py`): `authorize` maps a key to its principal (the same keys, roles
and anonymous-read rule as `/api/*`), `index.visible_sources` says which documents its
levels may read, and the `levels=` passed to the assistant filter every face at once. A face
that answers over the network also records each answer in the audit log (`Answering.record`)
and computes it in one of the app's bounded answer slots (`Answering.run`), like `/api/ask`.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import anyio

from ingest.model import Fact

from .schemas import AskResponse, ChatMessage, Citation, Filters
from .security import AccessDenied as _Refused
from .security import ANONYMOUS, KeyRing, Principal, Security, StatusError
from .service import Assistant
from .settings import Settings

Levels = frozenset[str] | None

# Bounds on a conversation another tool sends (Open WebUI and LibreChat send the whole chat every
# turn): the oldest messages are dropped or cut, never the request rejected, except when the
# question itself is longer than the JSON API accepts.
MAX_MESSAGES = 16
MAX_MESSAGE_CHARS = 4000  # an earlier message is cut to this (ChatMessage's own bound)
MAX_QUESTION_CHARS = 2000  # the question itself, as POST /api/ask
QUOTE_CHARS = 240  # of a quote shown in the sources list

SOURCES_HEADING = "**Källor**"


class AccessDenied(Exception):
    """The caller's key is missing or unknown."""


class QuestionTooLong(ValueError):
    """The last user message is longer than a question may be."""


def request_key(headers: Mapping[str, str] | None) -> str | None:
    """The API key in `X-API-Key` or `Authorization: Bearer …` (what OpenAI clients send)."""
    if not headers:
        return None
    key = headers.get("x-api-key") or headers.get("X-API-Key")
    if key:
        return key.strip()
    auth = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = auth.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


@lru_cache(maxsize=8)
def _security(keys: str, anonymous_read: bool | None) -> Security:
    return Security(KeyRing.parse(json.loads(keys)), anonymous_read)


def authorize(settings: Settings, key: str | None) -> Principal:
    """The caller a key stands for, whose `levels` are what it may see (the same keys and rules as
    `/api/*`); raises AccessDenied for a wrong key, or for no key when reading needs one."""
    security = _security(json.dumps(settings.api_keys, sort_keys=True), settings.anonymous_read)
    try:
        return security.principal_from_headers({"x-api-key": key} if key else {})
    except _Refused as exc:
        raise AccessDenied(exc.message) from None


T = TypeVar("T")


class Busy(StatusError):
    """No answer slot came free in time (503), or the answer took too long (504)."""


@dataclass(frozen=True)
class Answering:
    """What a networked face needs besides `Faces`: the app's audit log and its bounded answer
    slots (`WorkLimiter`). Both optional: in-process use (tests, LlamaIndex) has neither."""
    audit: object | None = None    # assistant.audit.AuditLog
    limiter: object | None = None  # assistant.limits.WorkLimiter

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn` in a worker thread, in one of the app's answer slots when it has them."""
        if self.limiter is None:
            return await anyio.to_thread.run_sync(fn)
        from fastapi import HTTPException

        try:
            return await self.limiter.run(fn)
        except HTTPException as exc:
            raise Busy(exc.status_code, str(exc.detail)) from None

    def record(self, principal: Principal, action: str, question: str, resp: AskResponse | None = None,
               started: float | None = None) -> None:
        """One audit row: who asked what, and what they were told (a search has no answer)."""
        if self.audit is None:
            return
        latency = None if started is None else (time.perf_counter() - started) * 1000
        if resp is None:
            self.audit.record(key_id=principal.key_id, role=principal.role, action=action, question=question,
                              latency_ms=latency)
        else:
            self.audit.record(key_id=principal.key_id, role=principal.role, action=action, question=question,
                              answer=resp.answer, citations=[c.source for c in resp.citations],
                              abstained=resp.abstained, latency_ms=latency)


# the stdio MCP server's caller when no levels are given: an AI agent sees public documents only
LOCAL_AGENT = Principal("mcp-stdio", "reader", ANONYMOUS.levels)


@dataclass(frozen=True)
class Passage:
    """One retrieved passage with its place in the document and its fused score."""
    chunk_id: str
    source: str
    title: str
    section: str
    page: int | None
    start: int
    end: int
    score: float
    bm25_rank: int | None
    dense_rank: int | None
    text: str


class Faces:
    """The assistant as the faces see it: every method takes the caller's `levels`."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.index = assistant.index

    def ask(self, question: str, *, levels: Levels = None, filters: Filters | None = None) -> AskResponse:
        with self.index.snapshot():
            return self.assistant.ask(question, filters, levels=levels)

    def chat(self, messages: list[ChatMessage], *, levels: Levels = None,
             filters: Filters | None = None) -> AskResponse:
        with self.index.snapshot():
            return self.assistant.chat(messages, filters, levels=levels)

    def search(self, query: str, *, k: int = 10, levels: Levels = None,
               filters: Filters | None = None) -> list[Passage]:
        with self.index.snapshot():
            found = self.assistant.search(query, k, filters, levels=levels)
        return [Passage(h.chunk.chunk_id, h.chunk.source, h.chunk.title, h.chunk.section, h.chunk.page,
                        h.chunk.start, h.chunk.end, round(h.score, 5), h.bm25_rank, h.dense_rank, text)
                for h, text in found]

    def documents(self, *, levels: Levels = None) -> list[dict]:
        return self.index.documents(levels)

    def document(self, source: str, *, levels: Levels = None) -> dict | None:
        """A document with its structure (meeting, agenda, §§, memos, outline), or None when the
        caller may not see it or it does not exist (the two are not told apart). `source` is its
        id or, when only one document has it, its file name."""
        return self.index.document(source, levels)

    def facts(self, *, levels: Levels = None, source: str | None = None, entity: str | None = None,
              label: str | None = None, year: int | None = None, limit: int = 100) -> list[Fact]:
        with self.index.snapshot():
            allowed, facts = self.index.visible_sources(levels), self.index.facts
        visible = (f for f in facts if allowed is None or f.source in allowed)
        return select_facts(visible, source=source, entity=entity, label=label, year=year, limit=limit)


def select_facts(facts: Iterable[Fact], *, source: str | None = None, entity: str | None = None,
                 label: str | None = None, year: int | None = None, limit: int = 500) -> list[Fact]:
    """Facts of a document (file name or its end), party, row label (case-insensitive parts) and year."""
    out = []
    for f in facts:
        if source and not (f.source == source or f.source.endswith("/" + source.lstrip("/"))):
            continue
        if entity and (not f.entity or entity.lower() not in f.entity.lower()):
            continue
        if label and label.lower() not in f.label.lower():
            continue
        if year and f.year != year:
            continue
        out.append(f)
        if len(out) >= limit:
            break
    return out


# -- conversations from other tools ---------------------------------------------------------
def bounded_conversation(messages: list[tuple[str, str]]) -> list[ChatMessage]:
    """(role, text) pairs from another tool as a conversation the assistant accepts.

    Only user and assistant turns count (system prompts are the tool's, not the user's); the
    last MAX_MESSAGES are kept; earlier messages are cut to MAX_MESSAGE_CHARS, and a previous
    answer of ours loses its sources list. The last message must be the user's question."""
    turns = [(r, t) for r, t in messages if r in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise ValueError("Sista meddelandet måste vara användarens fråga i text (role=user).")
    turns = [(r, t) for r, t in turns if t.strip()]
    question = turns[-1][1].strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(f"Frågan är {len(question)} tecken; högst {MAX_QUESTION_CHARS} tecken tillåts.")
    earlier = []
    for role, text in turns[-MAX_MESSAGES:-1]:
        if role == "assistant":
            text = text.split("\n\n" + SOURCES_HEADING, 1)[0]
        earlier.append(ChatMessage(role=role, content=text.strip()[:MAX_MESSAGE_CHARS]))
    return [*earlier, ChatMessage(role="user", content=question)]


# -- answers as Markdown with linked sources ------------------------------------------------
@dataclass(frozen=True)
class LinkedCitation:
    """A citation with a label a person can tell apart from the others, and its link."""
    id: int
    label: str
    url: str
    quote: str
    start_index: int  # where its first [n] marker stands in the rendered text
    end_index: int


@dataclass(frozen=True)
class RenderedAnswer:
    text: str
    citations: list[LinkedCitation]


def citation_labels(citations: list[Citation]) -> dict[int, str]:
    """A label per citation that a person can tell from the others in the same answer:
    `Mötesbok: KSNAU (2026-05-19) — Ekonomi > Budget för perioden 2026–2028, s. 3`. Three
    agreements in one meeting book each have "Ekonomi > Budget …", so where the last two section
    levels are shared by citations from different sections, the top level (the agreement, the §)
    comes first."""
    def label(c: Citation, parts: list[str]) -> str:
        text = c.title or c.source
        # a section named like the document (its title heading) says nothing the title does not
        section = " > ".join(p for p in parts if p and _plain(p).casefold() != _plain(text).casefold())
        if section and section != text:
            text += f" — {section}"
        return _plain(text + (f", s. {c.page}" if c.page else ""))

    paths = {c.id: [p for p in (c.section or "").split(" > ") if p] for c in citations}
    short = {c.id: label(c, paths[c.id][-2:]) for c in citations}
    out = dict(short)
    for text in set(short.values()):
        group = [c for c in citations if short[c.id] == text and len(paths[c.id]) > 2]
        heads = sorted({paths[c.id][0] for c in group})
        if len({tuple(paths[c.id]) for c in group}) < 2 or len(heads) < 2:
            continue
        distinct = dict(zip(heads, _distinct_heads(heads)))
        for c in group:
            out[c.id] = label(c, [distinct[paths[c.id][0]], *paths[c.id][-2:]])
    return out


def _distinct_heads(heads: list[str], limit: int = 60) -> list[str]:
    """Headings without the words they all begin with ("Överenskommelse om … mellan Umeå kommun
    och Vän i Umeå" → "… Vän i Umeå"), cut to `limit` characters."""
    words = [h.split() for h in heads]
    n = 0
    while all(len(w) > n + 1 for w in words) and len({w[n] for w in words}) == 1:
        n += 1
    out = []
    for w in words:
        rest = " ".join(w[n:]) if n >= 3 else " ".join(w)
        rest = rest if len(rest) <= limit else rest[:limit].rsplit(" ", 1)[0] + " …"
        out.append(("… " if n >= 3 else "") + rest)
    return out


def render_markdown(resp: AskResponse, base_url: str) -> RenderedAnswer:
    """The answer with its [n] markers, then a sources list whose entries link to the passage."""
    from .links import passage_url

    labels = citation_labels(resp.citations)
    lines = [resp.answer.strip()]
    if resp.citations:
        lines += ["", SOURCES_HEADING, ""]
        for c in resp.citations:
            quote = _plain(c.quote)
            quote = quote if len(quote) <= QUOTE_CHARS else quote[:QUOTE_CHARS - 1].rstrip() + "…"
            url = passage_url(base_url, c.source, c.start, c.end)
            lines.append(f"- [{c.id}] [{labels[c.id]}]({url}): ”{quote}”")
    text = "\n".join(lines)
    linked = []
    for c in resp.citations:
        marker = f"[{c.id}]"
        at = text.find(marker)
        linked.append(LinkedCitation(c.id, labels[c.id], passage_url(base_url, c.source, c.start, c.end),
                                     c.quote, at, at + len(marker)))
    return RenderedAnswer(text, linked)


def _plain(text: str) -> str:
    """One line without markup that would break a Markdown link or list (tags, **, brackets, tabs)."""
    text = re.sub(r"</?\w+[^>]*>|\*\*|\\\*", "", text)
    text = text.replace("[", "(").replace("]", ")").replace("\t", " · ")
    return re.sub(r"\s+", " ", text).strip()
