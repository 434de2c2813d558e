"""FastAPI JSON API and the Gradio chat, served from one process.

Access is decided in `security.py`: reads see only the access levels of the caller's key,
writes need the editor (ingest, upload, remove) or admin role (reindex), always. The Gradio
UI sits behind the same check (`gate.py`), not beside it.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as Path_
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from threadpoolctl import threadpool_limits

from index.embeddings import Embedder
from index.files import UPLOAD_ROOT, FileTarget, PathRejected, check_upload_id
from index.jobs import Job, JobQueue, QueueFull
from index.store import CouncilIndex, IngestReport

from .audit import AuditLog
from .faces import Answering, Faces, select_facts
from .gate import AccessGate, BodyLimit
from .limits import WorkLimiter
from .mcp_face import mount_mcp
from .openai_face import openai_router
from .schemas import (AskRequest, AskResponse, ChatRequest, DocumentOut, ErrorOut, IngestRequest,
                      Level, OptionalSafeQuery, SafeQuery)
from .security import (SESSION_COOKIE, SESSION_SECONDS, AccessDenied, KeyRing, Principal, Security, get_principal,
                       require_role)
from .service import Assistant
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 413: {"model": ErrorOut},
          422: {"model": ErrorOut}}
NOT_FOUND = {404: {"model": ErrorOut}}



def serve_app() -> FastAPI:
    """The app of one worker process of `council serve --workers N` (uvicorn's factory)."""
    serving_process()
    return create_app(get_settings())


def serving_process() -> None:
    """Process-wide settings of a serving process.

    A Chroma server is spoken to over HTTP: its client would log every request at INFO.
    numpy's OpenBLAS runs each matrix product on a thread per core. A question's products are small
    (its vector against a few thousand fact vectors) and come from several request threads at once,
    where those BLAS threads only fight each other for the cores: with one thread each, 20 clients
    got 66 answers/s instead of 41 (p95 0.57 s instead of 0.82 s)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    threadpool_limits(limits=1, user_api="blas")


def create_app(settings: Settings | None = None, with_ui: bool = True, embedder: Embedder | None = None,
               index: CouncilIndex | None = None) -> FastAPI:
    """`embedder` replaces the configured model (tests pass a fast fake one)."""
    settings = settings or get_settings()
    index = index or CouncilIndex(settings, embedder=embedder)
    assistant = Assistant(index)
    security = Security(KeyRing.parse(settings.api_keys), settings.anonymous_read, settings.session_secret)
    app = FastAPI(title="Rådsassistenten", version="0.1.0",
                  description="Frågor och svar över kommunala sammanträdeshandlingar, med källhänvisningar "
                              "och beräknade budgetsiffror. Läsning: API-nyckel (X-API-Key eller "
                              "Authorization: Bearer) eller anonymt när det är tillåtet; skrivning kräver "
                              "rollen editor eller admin.")
    audit = AuditLog(settings.audit_path, settings.audit_retention_days, settings.audit_max_rows, settings.audit)
    app.state.index = index
    app.state.assistant = assistant
    app.state.security = security
    app.state.settings = settings
    app.state.audit = audit
    limiter = WorkLimiter(settings.answer_slots, settings.request_timeout_s, settings.queue_wait_s)
    app.state.limiter = limiter
    busy = {503: {"model": ErrorOut}, 504: {"model": ErrorOut}}
    jobs = JobQueue(max_pending=settings.max_pending_jobs, journal=settings.data_dir / "jobs.sqlite3")
    app.state.jobs = jobs
    if settings.reconcile_on_start:
        index.reconcile(full=True)  # a previous run killed mid-write leaves nothing behind
    if settings.warm_on_start:
        def warm() -> None:
            try:
                with index.snapshot():
                    assistant.warm()
            except Exception:  # a cold cache is slower, never wrong
                log.exception("warm-up failed")
        threading.Thread(target=warm, name="warm-up", daemon=True).start()

    def pinned(fn):
        """Run `fn` on one consistent index state (a write meanwhile does not mix states)."""
        def run():
            with index.snapshot():
                return fn()
        return run

    def submit(kind: str, principal: Principal, work, wait: float) -> Job:
        try:
            job = jobs.submit(kind, principal.key_id, work)
        except QueueFull:
            raise HTTPException(503, "För många skrivjobb i kö; försök igen senare.", headers={"Retry-After": "30"})
        if wait > 0:
            jobs.wait(job, wait)
        return job

    def job_response(job: Job) -> JSONResponse:
        """200 with the report when the job finished while the caller waited, else 202 to follow it."""
        return JSONResponse(job.to_dict(), status_code=200 if job.state in ("done", "failed") else 202)

    def job_report(kind: str, principal: Principal, what: str, run) -> callable:
        def work(progress) -> dict:
            report = run(progress).to_dict()
            changed(principal, kind, what, report)
            return report
        return work

    def answered(principal: Principal, action: str, question: str, resp: AskResponse, started: float) -> AskResponse:
        audit.record(key_id=principal.key_id, role=principal.role, action=action, question=question,
                     answer=resp.answer, citations=[c.source for c in resp.citations], abstained=resp.abstained,
                     latency_ms=(time.perf_counter() - started) * 1000)
        return resp

    def changed(principal: Principal, action: str, what: str, result: dict | None = None, status: int = 200) -> None:
        audit.record(key_id=principal.key_id, role=principal.role, action=action, question=what,
                     answer=None if result is None else json.dumps(result, ensure_ascii=False), status=status)
    reader = Depends(get_principal)
    editor = Depends(require_role("editor"))
    admin = Depends(require_role("admin"))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg")}
                  for e in exc.errors()]
        message = "Ogiltig begäran: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(status_code=422, content={"detail": _printable(message)[:2000], "errors": errors[:20]})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(UnicodeError)
    async def _unicode(request: Request, exc: UnicodeError):
        return JSONResponse(status_code=422, content={"detail": "Ogiltig begäran: texten innehåller ogiltiga tecken."})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # logged in full; the caller learns nothing internal
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"detail": "Internt fel; händelsen är loggad."})

    @app.get("/healthz")
    def healthz(principal: Principal = reader) -> dict:
        docs = index.documents(principal.levels)
        return {"status": "ok", "documents": len(docs), "chunks": sum(d["chunks"] for d in docs)}

    @app.post("/api/ask", response_model=AskResponse, responses={**ERRORS, **busy})
    async def ask(req: AskRequest, principal: Principal = reader) -> AskResponse:
        started = time.perf_counter()  # the audit row is written in the worker thread, off the event loop
        return await limiter.run(pinned(lambda: answered(principal, "ask", req.question, assistant.ask(
            req.question, req.filters, levels=principal.levels), started)))

    @app.post("/api/chat", response_model=AskResponse, responses={**ERRORS, **busy})
    async def chat(req: ChatRequest, principal: Principal = reader) -> AskResponse:
        started = time.perf_counter()
        return await limiter.run(pinned(lambda: answered(principal, "chat", req.messages[-1].content, assistant.chat(
            req.messages, req.filters, levels=principal.levels), started)))

    @app.get("/api/documents", response_model=list[DocumentOut], responses=ERRORS)
    def documents(principal: Principal = reader, limit: int = Query(1000, ge=1, le=10000),
                  offset: int = Query(0, ge=0, le=10_000_000)) -> list[dict]:
        return index.documents(principal.levels)[offset:offset + limit]

    @app.get("/api/documents/{source:path}", responses={**ERRORS, **NOT_FOUND})
    def document(source: SafeQuery, principal: Principal = reader) -> dict:
        doc = index.document(source, principal.levels)
        if not doc:
            raise HTTPException(status_code=404, detail="Dokumentet finns inte i indexet "
                                                        "(ange id:t som /api/documents listar).")
        return doc

    @app.delete("/api/documents/{source:path}", responses={**ERRORS, **NOT_FOUND, **busy,
                                                           202: {"description": "Queued behind a long write."}})
    def remove(source: SafeQuery, principal: Principal = editor) -> JSONResponse:
        doc = index.document(source, principal.levels)  # a key removes only what it may read
        if not doc:
            raise HTTPException(status_code=404, detail="Dokumentet finns inte i indexet.")
        source = doc["source"]  # its id, also when it was named by its file name

        def work(progress) -> dict:
            result = {"removed": source if index.remove(source) else None}
            changed(principal, "remove", source, result)
            return result

        job = submit("remove", principal, work, settings.request_timeout_s)
        if job.state == "done":
            if not job.result["removed"]:
                raise HTTPException(status_code=404, detail="Dokumentet finns inte i indexet.")
            return JSONResponse(job.result)
        return job_response(job)  # still queued behind a long write (or failed): follow the job

    done_in_time = {200: {"description": "The job finished within `wait` seconds."}}

    @app.post("/api/ingest", status_code=202, responses={**ERRORS, **busy, **done_in_time})
    def ingest(req: IngestRequest, principal: Principal = editor,
               wait: float = Query(0, ge=0, le=60, description="Seconds to wait for the job to finish.")):
        """Starts an ingest job (one writer at a time); `GET /api/jobs/{id}` follows it."""
        # an editor writes only under the roots and only documents of levels their key may read
        return job_response(submit("ingest", principal, job_report(
            "ingest", principal, "\n".join(req.paths), lambda progress: index.ingest_paths(
                req.paths, confined=True, allowed_levels=principal.levels, on_progress=progress)), wait))

    @app.post("/api/upload", status_code=202, responses={**ERRORS, **busy, **done_in_time})
    def upload(file: UploadFile = File(..., description="The document: .txt, .md, .html, .pdf or .docx"),
               level: Level = Form("public", description="Who may read it: public or internal."),
               doc_id: str | None = Form(None, alias="id", max_length=200,
                                         description="Its id under uploads/ (default: the file name)."),
               wait: float = Query(0, ge=0, le=60, description="Seconds to wait for the job to finish."),
               principal: Principal = editor):
        """Stores the file and starts its ingest job; a file that cannot be read is not kept."""
        if level not in principal.levels:
            raise HTTPException(403, f"Nyckeln {principal.key_id} får inte skriva dokument på nivån {level}.")
        try:
            name = check_upload_id(doc_id or file.filename or "")
        except PathRejected as exc:
            raise HTTPException(422, f"Ogiltig uppladdning: {exc}") from None
        max_bytes = int(settings.max_file_mb * 1024 * 1024)
        data = file.file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise HTTPException(413, f"Filen är större än {settings.max_file_mb:g} MB (COUNCIL_MAX_FILE_MB).")
        if not data.strip():
            raise HTTPException(422, "Ogiltig uppladdning: filen är tom.")
        target = settings.data_dir / UPLOAD_ROOT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".upload-{os.urandom(6).hex()}-{target.name}")  # keeps its file type
        staged.write_bytes(data)
        source = f"{UPLOAD_ROOT}/{name}"

        def run(progress) -> IngestReport:
            report = index.ingest_targets([FileTarget(staged, source, level, UPLOAD_ROOT)], IngestReport(),
                                          on_progress=progress)
            if report.errors:
                staged.unlink(missing_ok=True)  # the file and the index keep their last good version
            else:
                os.replace(staged, target)
            return report

        job = submit("upload", principal, job_report("upload", principal, f"{source} ({level})", run), wait)
        report = job.result or {}
        if job.state == "done" and report.get("errors") and not (report.get("added") or report.get("updated")):
            raise HTTPException(422, "; ".join(report["errors"].values()))
        return job_response(job)

    @app.post("/api/reindex", status_code=202, responses={**ERRORS, **busy, **done_in_time})
    def reindex(principal: Principal = admin, wait: float = Query(0, ge=0, le=60)):
        """Rebuilds the vector index from SQLite (after changing the embedding model)."""
        def work(progress) -> dict:
            result = {"chunks": index.rebuild_vectors()}
            changed(principal, "reindex", None, result)
            return result

        return job_response(submit("reindex", principal, work, wait))

    @app.get("/api/jobs/{job_id}", responses={**ERRORS, **NOT_FOUND})
    def job_status(job_id: str = Path_(..., max_length=64), principal: Principal = editor) -> dict:
        job: Job | None = jobs.get(job_id)
        if job is None or (job.owner != principal.key_id and not principal.has_role("admin")):
            raise HTTPException(404, "Jobbet finns inte (eller tillhör en annan nyckel).")
        return job.to_dict()

    @app.get("/api/search", responses={**ERRORS, **busy})
    async def search(q: SafeQuery = Query(..., min_length=1, max_length=2000), k: int = Query(10, ge=1, le=50),
                     principal: Principal = reader) -> list[dict]:
        def work():
            audit.record(key_id=principal.key_id, role=principal.role, action="search", question=q)
            return assistant.search(q, k, levels=principal.levels)

        found = await limiter.run(pinned(work))
        return [{"chunk_id": h.chunk.chunk_id, "source": h.chunk.source, "title": h.chunk.title,
                 "section": h.chunk.section, "page": h.chunk.page, "start": h.chunk.start, "end": h.chunk.end,
                 "score": round(h.score, 5), "bm25_rank": h.bm25_rank, "dense_rank": h.dense_rank, "text": text}
                for h, text in found]

    @app.get("/api/facts", responses=ERRORS)
    def facts(source: OptionalSafeQuery = Query(None, max_length=300),
              entity: OptionalSafeQuery = Query(None, max_length=300),
              label: OptionalSafeQuery = Query(None, max_length=300), year: int | None = Query(None, ge=1000, le=9999),
              limit: int = Query(500, ge=1, le=10000), principal: Principal = reader) -> list[dict]:
        with index.snapshot():
            visible = index.visible_sources(principal.levels)
            facts = index.facts
        readable = (f for f in facts if visible is None or f.source in visible)
        return [f.to_dict() for f in select_facts(readable, source=source, entity=entity, label=label, year=year,
                                                  limit=limit)]

    @app.get("/api/checks", responses=ERRORS)
    def checks(principal: Principal = reader) -> list[dict]:
        with index.snapshot():
            visible = index.visible_sources(principal.levels)
            return [asdict(d) for d in index.discrepancies if visible is None or d.source in visible]

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form() -> str:
        return LOGIN_PAGE.format(message="")

    @app.post("/login", include_in_schema=False)
    def login(key: str = Form(..., max_length=500)):
        principal = security.keys.lookup(key) if security.keys else None
        if principal is None:
            return HTMLResponse(LOGIN_PAGE.format(message="<p>Fel nyckel.</p>"), status_code=401)
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(SESSION_COOKIE, security.session_token(principal), max_age=SESSION_SECONDS,
                        httponly=True, samesite="strict")
        return resp

    @app.get("/logout", include_in_schema=False)
    def logout():
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    # faces for other tools: OpenAI-compatible /v1 and MCP at /mcp (before the UI takes "/")
    faces = app.state.faces = Faces(assistant)  # each face maps a request's key to its levels (faces.authorize)
    app.include_router(openai_router(faces, settings, Answering(audit, limiter)))
    mount_mcp(app, faces, settings)

    if with_ui:
        from .ui.mount import mount_ui

        from .ui.access import Access

        def ui_levels(request) -> frozenset[str]:
            headers = {k.lower(): v for k, v in dict(getattr(request, "headers", None) or {}).items()}
            try:
                return security.principal_from_headers(headers).levels
            except AccessDenied:
                return frozenset()  # the gate refuses such requests; one that slips through sees nothing

        def ui_record(request, question: str, resp: AskResponse, latency_ms: float) -> None:
            headers = {k.lower(): v for k, v in dict(getattr(request, "headers", None) or {}).items()}
            try:
                principal = security.principal_from_headers(headers)
            except AccessDenied:
                return
            audit.record(key_id=principal.key_id, role=principal.role, action="ui", question=question,
                         answer=resp.answer, citations=[c.source for c in resp.citations], abstained=resp.abstained,
                         latency_ms=latency_ms)

        def ui_upload_levels(request) -> frozenset[str]:
            headers = {k.lower(): v for k, v in dict(getattr(request, "headers", None) or {}).items()}
            try:
                principal = security.principal_from_headers(headers)
            except AccessDenied:
                return frozenset()
            return principal.levels if principal.has_role("editor") else frozenset()

        access = Access(levels_of=ui_levels, visible=index.visible_sources, record=ui_record,
                        upload_levels=ui_upload_levels)
        app = mount_ui(app, assistant, settings, staff=[editor], readers=[reader], access=access)
    app.add_middleware(AccessGate, security=security)
    app.add_middleware(BodyLimit, default_bytes=settings.max_body_kb * 1024,
                       upload_bytes=int((settings.max_file_mb + 1) * 1024 * 1024))
    return app


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


LOGIN_PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Rådsassistenten – logga in</title>
</head><body style="font-family:sans-serif;max-width:30em;margin:4em auto">
<h1>Rådsassistenten</h1>{message}<form method="post" action="/login">
<label>API-nyckel <input type="password" name="key" autocomplete="current-password" required></label>
<button type="submit">Logga in</button></form></body></html>"""
