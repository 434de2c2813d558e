"""Mounts the browser face on the JSON API's FastAPI app: the Gradio chat at `/`, the document
view at `/dokument/{source}` and the feedback list for staff at `/api/feedback`."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Query, Request
from fastapi.params import Depends
from fastapi.responses import HTMLResponse

from ..service import Assistant
from ..settings import Settings
from .access import Access
from .app import build_ui
from .docview import document_page, esc
from .feedback import FeedbackStore
from .theme import APP_CSS, SwedishPage, theme

def ui_secret(data_dir: Path) -> str:
    """A stable key for the browser-stored conversations (Gradio makes a new one per start,
    which would make every saved chat unreadable after a restart). Not a credential: it only
    keeps localStorage from being plain text."""
    path = data_dir / ".ui-secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return value


def mount_ui(app: FastAPI, assistant: Assistant, settings: Settings, staff: Sequence[Depends] = (),
             readers: Sequence[Depends] = (), access: Access | None = None,
             auth_dependency: Callable[[Any], str | None] | None = None) -> FastAPI:
    """`staff` guards the feedback list; `readers` guards the document view; `access` says what
    each caller may read (levels for the assistant, visible documents); `auth_dependency` is
    Gradio's hook for a signed-in user (a user id, or None for a 401)."""
    index = assistant.index
    access = access or Access()
    feedback = FeedbackStore(settings.data_dir / "feedback.sqlite3")
    app.state.feedback = feedback

    @app.get("/dokument/{source:path}", response_class=HTMLResponse, dependencies=list(readers),
             summary="Dokumentvy: texten med det citerade stycket markerat, struktur och inläsningsrapport")
    def document_view(request: Request, source: str, start: int | None = Query(None, ge=0),
                      end: int | None = Query(None, ge=0), offset: int | None = Query(None, ge=0)) -> HTMLResponse:
        # by its id, or its file name when only one document the caller may read has it
        doc = index.document(source, access.levels_of(request))
        if not doc or not access.may_read(request, doc["source"]):  # not visible = never ingested
            return HTMLResponse(_not_found(source), status_code=404)
        source = doc["source"]
        checks = [d for d in index.discrepancies if d.source == source]
        return HTMLResponse(document_page(doc, index.document_text(source) or "", checks, start, end, offset))

    @app.get("/api/feedback", dependencies=list(staff), summary="Omdömen (tumme upp/ner) med frågan, för personal")
    def feedback_list(limit: int = Query(500, ge=1, le=5000), vote: str | None = Query(None, pattern="^(up|down)$")
                      ) -> list[dict]:
        return feedback.list(limit, vote)

    ui = build_ui(assistant, feedback, access=access, secret=ui_secret(settings.data_dir))
    app = gr.mount_gradio_app(app, ui, path="/", theme=theme(), css=APP_CSS, footer_links=[], run_history=False,
                              show_error=False, ssr_mode=False, auth_dependency=auth_dependency)
    app.add_middleware(SwedishPage)
    return app


def _not_found(source: str) -> str:
    return (f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Dokumentet finns inte</title></head>'
            f'<body><main><h1>Dokumentet finns inte</h1><p>{esc(source)} finns inte i indexet.</p>'
            '<p><a href="/">Till chatten</a></p></main></body></html>')
