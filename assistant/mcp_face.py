"""MCP server for AI agents (the `mcp` SDK 2.x, `MCPServer`).

Tools, each with typed inputs and a structured output: `search` (ranked passages), `ask` (the
cited answer with figures and formulas), `facts` (parsed table cells and stated amounts),
`documents` (what is ingested) and `document_outline` (meeting, agenda, §§ with decisions and
reservations, tjänsteskrivelser, sections with pages). Every citation, passage and fact carries
a link to the passage in the document view.

Two transports:
- stdio: `council mcp` (for Claude Desktop-style clients that start the server themselves). That
  process reads the store on the local disk directly; what it shows the agent is set by the
  operator with `--levels` (default: public documents only, since an agent passes what it reads
  on to its model).
- streamable HTTP at `/mcp` in the same FastAPI process as the API (`mount_mcp`), stateless (no
  session to lose on restart). When keys are configured it needs `Authorization: Bearer <key>`
  or `X-API-Key`, like `/api/*`, and each tool call is answered with what that key may see.

`ask` and `search` are computed in the app's bounded answer slots and written to the audit log
(actions `mcp-ask`, `mcp-search`), as the JSON API's are.
"""
from __future__ import annotations

import bisect
import time
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlparse

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse
from starlette.routing import Route

from .faces import (LOCAL_AGENT, AccessDenied, Answering, Busy, Faces, authorize, citation_labels, render_markdown,
                    request_key)
from .links import passage_url, public_base
from .schemas import Filters
from .security import Principal
from .settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


# -- structured outputs ---------------------------------------------------------------------
class CitationOut(BaseModel):
    id: int
    label: str = Field(description="Document, section and page, as a person would name the source.")
    source: str
    title: str
    section: str
    page: int | None
    start: int
    end: int
    quote: str
    url: str = Field(description="The document view, scrolled to the highlighted passage.")


class FigureRowOut(BaseModel):
    label: str
    value: float
    unit: str | None
    citation: int


class FigureOut(BaseModel):
    label: str
    value: float
    unit: str | None
    formula: str | None = Field(None, description="How a computed figure was computed from the cited rows.")
    citations: list[int]
    rows: list[FigureRowOut]


class AnswerOut(BaseModel):
    answer: str = Field(description="The answer with [n] markers for its citations.")
    abstained: bool = Field(description="True when the documents do not answer the question.")
    question: str | None = Field(None, description="The question answered.")
    figures: list[FigureOut]
    citations: list[CitationOut]
    warnings: list[str]
    markdown: str = Field(description="The answer followed by a 'Källor' list of links, ready to show a person.")


class PassageOut(BaseModel):
    chunk_id: str
    source: str
    title: str
    section: str
    page: int | None
    start: int
    end: int
    score: float = Field(description="Reciprocal-rank fusion of BM25 and dense ranks.")
    bm25_rank: int | None
    dense_rank: int | None
    text: str
    url: str


class SearchOut(BaseModel):
    passages: list[PassageOut]


class FactOut(BaseModel):
    source: str
    section: str
    entity: str | None = Field(description="The party or body the number concerns.")
    label: str = Field(description="Row label, or the phrase an amount in text belongs to.")
    column: str | None
    year: int | None
    value: float
    unit: str | None
    kind: str = Field(description="table (a cell) or text (an amount stated in a sentence).")
    quote: str
    page: int | None
    start: int
    end: int
    superseded_by: str = Field("", description="A later correction of the decision this amount stands in.")
    url: str


class FactsOut(BaseModel):
    facts: list[FactOut]
    truncated: bool = Field(description="More facts matched than the limit.")


class DocumentOut(BaseModel):
    source: str
    title: str
    format: str
    chunks: int
    facts: int
    ingested_at: str | None
    url: str


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class SectionOut(BaseModel):
    path: list[str]
    start: int
    end: int
    page: int | None
    entity: str | None = None
    url: str


class OutlineOut(BaseModel):
    """What ingest recovered of the document's structure; the parts a document lacks are empty."""
    model_config = ConfigDict(extra="allow")
    source: str
    title: str
    url: str
    meeting: dict[str, Any] = Field(default_factory=dict, description="body, date, time, place")
    agenda: list[dict[str, Any]] = Field(default_factory=list, description="number (ärendenummer), title, page, group")
    paragraphs: list[dict[str, Any]] = Field(
        default_factory=list, description="§ with date, diarienummer, title, beslut, yrkanden, reservationer")
    tjansteskrivelser: list[dict[str, Any]] = Field(default_factory=list,
                                                    description="title, date, diarienummer, att-satser")
    corrections: list[dict[str, Any]] = Field(default_factory=list, description="which § a Rättelse corrects")
    agreements: list[dict[str, Any]] = Field(default_factory=list, description="parties and period")
    sections: list[SectionOut] = Field(default_factory=list)


# -- the server -----------------------------------------------------------------------------
def build_mcp(faces: Faces, settings: Settings, *, local: bool, local_caller: Principal = LOCAL_AGENT,
              answering: Answering | None = None) -> MCPServer:
    """The MCP server over `faces`. `local` (stdio): the caller is `local_caller` (public documents
    unless the operator says otherwise); otherwise each call's caller comes from the key in its
    HTTP headers. `answering`: the audit log and answer slots to use."""
    answering = answering or Answering()
    mcp = MCPServer("radsassistenten", title="Rådsassistenten", version="0.1.0",
                    instructions="Svar med källhänvisningar ur kommunala sammanträdeshandlingar (protokoll, "
                                 "möteshandlingar, budgetar). Använd `ask` för en fråga, `search` för att hitta "
                                 "avsnitt, `facts` för tabellrader och belopp, `documents` och `document_outline` "
                                 "för vad som finns. Återge siffror och [n]-hänvisningar som de står.")

    def caller(ctx: Context) -> Principal:
        if local:
            return local_caller
        try:
            return authorize(settings, request_key(ctx.headers))
        except AccessDenied as exc:  # the HTTP gate refuses first; this guards any other transport
            raise ToolError(str(exc)) from None

    def levels(ctx: Context):
        return caller(ctx).levels

    async def answered(fn):
        try:
            return await answering.run(fn)
        except Busy as exc:
            raise ToolError(exc.message) from None

    def base(ctx: Context) -> str:
        request = getattr(ctx.request_context, "request", None) if not local else None
        return public_base(settings, str(request.base_url) if getattr(request, "base_url", None) else None)

    @mcp.tool(title="Fråga")
    async def ask(question: Annotated[str, Field(min_length=1, max_length=2000, description="Frågan, på svenska eller engelska.")],
            ctx: Context,
            source: Annotated[str | None, Field(description="Bara detta dokument (filnamn).")] = None,
            body: Annotated[str | None, Field(max_length=100, description="Bara dokument som nämner detta organ (KS, IFN …).")] = None,
            date_from: Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")] = None,
            date_to: Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")] = None,
            ) -> AnswerOut:
        """Answer a question about the council documents: a short answer with [n] citations,
        figures (computed ones with their formula and the rows used), or an abstention."""
        filters = Filters(source=source, body=body, date_from=date_from, date_to=date_to) \
            if any((source, body, date_from, date_to)) else None
        who = caller(ctx)

        def work():
            started = time.perf_counter()
            resp = faces.ask(question, levels=who.levels, filters=filters)
            answering.record(who, "mcp-ask", question, resp, started)
            return resp

        resp = await answered(work)
        url_base = base(ctx)
        labels = citation_labels(resp.citations)
        cites = [CitationOut(id=c.id, label=labels[c.id], source=c.source, title=c.title, section=c.section,
                             page=c.page, start=c.start, end=c.end, quote=c.quote,
                             url=passage_url(url_base, c.source, c.start, c.end)) for c in resp.citations]
        figures = [FigureOut(label=f.label, value=f.value, unit=f.unit, formula=f.formula, citations=f.citations,
                             rows=[FigureRowOut(**r.model_dump()) for r in f.rows]) for f in resp.figures]
        return AnswerOut(answer=resp.answer, abstained=resp.abstained, question=resp.question, figures=figures,
                         citations=cites, warnings=resp.warnings, markdown=render_markdown(resp, url_base).text)

    @mcp.tool(title="Sök avsnitt")
    async def search(query: Annotated[str, Field(min_length=1, max_length=2000)], ctx: Context,
               k: Annotated[int, Field(ge=1, le=50, description="Antal avsnitt.")] = 8,
               source: Annotated[str | None, Field(description="Bara detta dokument (filnamn).")] = None,
               ) -> SearchOut:
        """Find passages by words and meaning (BM25 with Swedish stemming fused with dense vectors)."""
        filters = Filters(source=source) if source else None
        url_base = base(ctx)
        who = caller(ctx)

        def work():
            answering.record(who, "mcp-search", query)
            return faces.search(query, k=k, levels=who.levels, filters=filters)

        return SearchOut(passages=[PassageOut(**p.__dict__, url=passage_url(url_base, p.source, p.start, p.end))
                                   for p in await answered(work)])

    @mcp.tool(title="Siffror")
    def facts(ctx: Context,
              source: Annotated[str | None, Field(description="Dokumentets filnamn (eller dess slut).")] = None,
              entity: Annotated[str | None, Field(description="Part eller organ, t.ex. 'Pastorat'.")] = None,
              label: Annotated[str | None, Field(description="Del av radens etikett, t.ex. 'Lokaler'.")] = None,
              year: Annotated[int | None, Field(ge=1900, le=2100)] = None,
              limit: Annotated[int, Field(ge=1, le=500)] = 50) -> FactsOut:
        """The numbers the documents state (table cells and amounts in text), filtered."""
        found = faces.facts(levels=levels(ctx), source=source, entity=entity, label=label, year=year,
                            limit=limit + 1)
        url_base = base(ctx)
        return FactsOut(truncated=len(found) > limit, facts=[
            FactOut(source=f.source, section=f.section, entity=f.entity, label=f.label, column=f.column,
                    year=f.year, value=f.value, unit=f.unit, kind=f.kind, quote=f.quote, page=f.page,
                    start=f.start, end=f.end, superseded_by=f.superseded_by,
                    url=passage_url(url_base, f.source, f.start, f.end)) for f in found[:limit]])

    @mcp.tool(title="Dokument")
    def documents(ctx: Context) -> DocumentsOut:
        """The ingested documents."""
        url_base = base(ctx)
        return DocumentsOut(documents=[DocumentOut(**{k: d.get(k) for k in DocumentOut.model_fields if k != "url"},
                                                   url=passage_url(url_base, d["source"]))
                                       for d in faces.documents(levels=levels(ctx))])

    @mcp.tool(title="Dokumentets struktur")
    def document_outline(source: Annotated[str, Field(min_length=1, max_length=300, description="Filnamn.")],
                         ctx: Context) -> OutlineOut:
        """A document's structure: meeting, agenda items, §§ with decisions, yrkanden and
        reservations, tjänsteskrivelser, corrections, agreements, and its sections with pages."""
        doc = faces.document(source, levels=levels(ctx))
        if not doc:
            raise ToolError(f"Dokumentet {source} finns inte i indexet.")
        st = dict(doc.get("structure") or {})
        url_base = base(ctx)
        sections = _sections(faces, doc["source"], st.pop("outline", []), url_base)
        st.pop("title", None)
        return OutlineOut(source=doc["source"], title=doc["title"], url=passage_url(url_base, doc["source"]),
                          sections=sections, **st)

    return mcp


def _sections(faces: Faces, source: str, outline: list[dict], url_base: str) -> list[SectionOut]:
    """Each heading's span (to the next heading) with the page it starts on."""
    chunks = sorted((c for c in faces.index.chunks.values() if c.source == source), key=lambda c: c.start)
    starts = [c.start for c in chunks]
    text_len = max((c.end for c in chunks), default=0)
    out = []
    for i, s in enumerate(outline):
        end = outline[i + 1]["start"] if i + 1 < len(outline) else text_len
        at = bisect.bisect_right(starts, s["start"]) - 1
        page = chunks[at].page if at >= 0 else (chunks[0].page if chunks else None)
        out.append(SectionOut(path=s["path"], start=s["start"], end=max(end, s["start"]), page=page,
                              entity=s.get("entity"), url=passage_url(url_base, source, s["start"], max(end, s["start"]))))
    return out


# -- streamable HTTP inside the FastAPI app --------------------------------------------------
def _transport_security(settings: Settings) -> TransportSecuritySettings | None:
    """DNS-rebinding protection: loopback hosts, and the public URL's host when one is set."""
    hosts = [f"{h}:*" for h in ("127.0.0.1", "localhost", "[::1]")]
    origins = [f"http://{h}" for h in hosts]
    if settings.public_url:
        u = urlparse(settings.public_url)
        hosts += [u.netloc, f"{u.hostname}:*"]
        origins += [f"{u.scheme}://{u.netloc}"]
    if settings.host not in LOOPBACK and not settings.public_url:
        return None  # bound to a public address without a known name: nothing to compare Host with
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=origins)


class _Endpoint:
    """`/mcp`: refuses a caller without a valid key, then hands the request to the SDK's app of
    the current app run (made anew at each startup: a session manager runs only once)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = None

    async def __call__(self, scope, receive, send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            authorize(self.settings, request_key(headers))
        except AccessDenied as exc:
            await JSONResponse({"error": str(exc)}, status_code=401,
                               headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        if self.app is None:
            await JSONResponse({"error": "MCP-servern har inte startat."}, status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def mount_mcp(app, faces: Faces, settings: Settings, path: str = "/mcp") -> MCPServer:
    """Serve the MCP tools over streamable HTTP at `path` and run its session manager with the
    app's lifespan (the SDK needs its task group running before the first request)."""
    mcp = build_mcp(faces, settings, local=False,
                    answering=Answering(getattr(app.state, "audit", None), getattr(app.state, "limiter", None)))
    endpoint = _Endpoint(settings)
    app.router.routes.append(Route(path, endpoint=endpoint, methods=["GET", "POST", "DELETE"]))
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        endpoint.app = mcp.streamable_http_app(streamable_http_path=path, stateless_http=True,
                                               transport_security=_transport_security(settings),
                                               host=settings.host)
        async with mcp.session_manager.run():
            async with previous(a) as state:
                yield state
        endpoint.app = None

    app.router.lifespan_context = lifespan
    return mcp
