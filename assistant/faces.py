"""The one door the faces for other tools (OpenAI-compatible API, MCP, LlamaIndex) go through.

Every call takes the caller's visible access `levels` (None = every level) and passes it on, so
the OpenAI face, the MCP tools and the LlamaIndex components see exactly what the JSON API would
show the same caller. Also here, shared by the faces: how a key in request headers becomes a
caller, how a conversation from another tool is bounded, and how an answer is written as
Markdown with numbered sources that link to the cited passage.

TODO(access): until access levels land (`assistant/security.py`, issue 11), a caller who passes
the key check sees every level: `authorize` returns None and `_visible_sources` lets everything
through. When they land, `authorize` maps the key to its principal's levels and `_visible_sources`
and the `levels=` passed to the assistant do the filtering for every face at once.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ingest.model import Fact

from .schemas import AskResponse, ChatMessage, Citation, Filters
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


def authorize(settings: Settings, key: str | None) -> Levels:
    """The access levels a key may see; raises AccessDenied when keys are configured and this is
    not one of them (the same rule as `/api/*`)."""
    if settings.api_keys and key not in settings.api_keys:
        raise AccessDenied("Saknar eller ogiltig API-nyckel (Authorization: Bearer … eller X-API-Key).")
    return None  # TODO(access): the principal's levels


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

    def _visible_sources(self, levels: Levels) -> set[str] | None:
        """The documents a caller with these levels may see (None: all)."""
        return None  # TODO(access): documents whose level is in `levels`

    def _visible(self, source: str, levels: Levels) -> bool:
        visible = self._visible_sources(levels)
        return visible is None or source in visible

    def ask(self, question: str, *, levels: Levels = None, filters: Filters | None = None) -> AskResponse:
        return self.assistant.ask(question, filters)

    def chat(self, messages: list[ChatMessage], *, levels: Levels = None,
             filters: Filters | None = None) -> AskResponse:
        return self.assistant.chat(messages, filters)

    def search(self, query: str, *, k: int = 10, levels: Levels = None,
               filters: Filters | None = None) -> list[Passage]:
        return [Passage(h.chunk.chunk_id, h.chunk.source, h.chunk.title, h.chunk.section, h.chunk.page,
                        h.chunk.start, h.chunk.end, round(h.score, 5), h.bm25_rank, h.dense_rank, text)
                for h, text in self.assistant.search(query, k, filters)
                if self._visible(h.chunk.source, levels)]

    def documents(self, *, levels: Levels = None) -> list[dict]:
        self.index.refresh()
        return [d for d in self.index.documents() if self._visible(d["source"], levels)]

    def document(self, source: str, *, levels: Levels = None) -> dict | None:
        """A document with its structure (meeting, agenda, §§, memos, outline), or None when the
        caller may not see it or it does not exist (the two are not told apart)."""
        if not self._visible(source, levels):
            return None
        return self.index.document(source)

    def facts(self, *, levels: Levels = None, source: str | None = None, entity: str | None = None,
              label: str | None = None, year: int | None = None, limit: int = 100) -> list[Fact]:
        self.index.refresh()
        visible = (f for f in self.index.facts if self._visible(f.source, levels))
        return select_facts(visible, source=source, entity=entity, label=label, year=year, limit=limit)


def select_facts(facts: Iterable[Fact], *, source: str | None = None, entity: str | None = None,
                 label: str | None = None, year: int | None = None, limit: int = 500) -> list[Fact]:
    """Facts of a document (file name or its end), party, row label (case-insensitive parts) and year."""
    out = []
    for f in facts:
        if source and not f.source.endswith(source):
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
        section = " > ".join(p for p in parts if p)
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
