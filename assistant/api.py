"""FastAPI JSON API and the Gradio chat, served from one process."""
from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from index.embeddings import Embedder
from index.store import CouncilIndex

from .faces import Faces, select_facts
from .mcp_face import mount_mcp
from .openai_face import openai_router
from .schemas import AskRequest, AskResponse, ChatRequest, IngestRequest
from .service import Assistant
from .settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, with_ui: bool = True, embedder: Embedder | None = None) -> FastAPI:
    """`embedder` replaces the configured model (tests pass a fast fake one)."""
    settings = settings or get_settings()
    index = CouncilIndex(settings, embedder=embedder)
    assistant = Assistant(index)
    app = FastAPI(title="Rådsassistenten", version="0.1.0",
                  description="Frågor och svar över kommunala sammanträdeshandlingar, med källhänvisningar "
                              "och beräknade budgetsiffror.")
    app.state.index = index
    app.state.assistant = assistant

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg")}
                  for e in exc.errors()]
        message = "Ogiltig begäran: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(status_code=422, content={"detail": message, "errors": errors})

    def require_key(x_api_key: str | None = Header(None)) -> None:
        if settings.api_keys and x_api_key not in settings.api_keys:
            raise HTTPException(status_code=401, detail="Saknar eller ogiltig X-API-Key.")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "documents": len(index.documents()), "chunks": len(index.chunks)}

    @app.post("/api/ask", response_model=AskResponse, dependencies=[Depends(require_key)])
    def ask(req: AskRequest) -> AskResponse:
        return assistant.ask(req.question, req.filters)

    @app.post("/api/chat", response_model=AskResponse, dependencies=[Depends(require_key)])
    def chat(req: ChatRequest) -> AskResponse:
        if req.messages[-1].role != "user":
            raise HTTPException(status_code=422, detail="Sista meddelandet måste komma från användaren (role=user).")
        return assistant.chat(req.messages, req.filters)

    @app.get("/api/documents", dependencies=[Depends(require_key)])
    def documents() -> list[dict]:
        index.refresh()
        return index.documents()

    @app.get("/api/documents/{source}", dependencies=[Depends(require_key)])
    def document(source: str) -> dict:
        doc = index.document(source)
        if not doc:
            raise HTTPException(status_code=404, detail=f"Dokumentet {source} finns inte i indexet.")
        return doc

    @app.delete("/api/documents/{source}", dependencies=[Depends(require_key)])
    def remove(source: str) -> dict:
        if not index.remove(source):
            raise HTTPException(status_code=404, detail=f"Dokumentet {source} finns inte i indexet.")
        return {"removed": source}

    @app.post("/api/ingest", dependencies=[Depends(require_key)])
    def ingest(req: IngestRequest) -> dict:
        report = index.ingest_paths([Path(p) for p in req.paths])
        return report.to_dict()

    @app.get("/api/search", dependencies=[Depends(require_key)])
    def search(q: str = Query(..., min_length=1, max_length=2000), k: int = Query(10, ge=1, le=50)) -> list[dict]:
        return [{"chunk_id": h.chunk.chunk_id, "source": h.chunk.source, "title": h.chunk.title,
                 "section": h.chunk.section, "page": h.chunk.page, "start": h.chunk.start, "end": h.chunk.end,
                 "score": round(h.score, 5), "bm25_rank": h.bm25_rank, "dense_rank": h.dense_rank, "text": text}
                for h, text in assistant.search(q, k)]

    @app.get("/api/facts", dependencies=[Depends(require_key)])
    def facts(source: str | None = None, entity: str | None = None, label: str | None = None,
              year: int | None = None, limit: int = Query(500, ge=1, le=10000)) -> list[dict]:
        index.refresh()
        return [f.to_dict() for f in select_facts(index.facts, source=source, entity=entity, label=label, year=year,
                                                  limit=limit)]

    @app.get("/api/checks", dependencies=[Depends(require_key)])
    def checks() -> list[dict]:
        index.refresh()
        return [asdict(d) for d in index.discrepancies]

    # faces for other tools: OpenAI-compatible /v1 and MCP at /mcp (before the UI takes "/")
    faces = app.state.faces = Faces(assistant)
    app.include_router(openai_router(faces, settings))
    mount_mcp(app, faces, settings)

    if with_ui:
        from .ui.mount import mount_ui

        app = mount_ui(app, assistant, settings, staff=[Depends(require_key)])
    return app
