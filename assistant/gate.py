"""ASGI middleware in front of everything the app serves.

- `BodyLimit`: a request body larger than allowed is refused with 413 before it is parsed,
  from its Content-Length when it has one, else as soon as the bytes received pass the limit.
- `AccessGate`: the Gradio UI and its `/gradio_api/*` routes get the same check as the API
  (a key header or the login cookie; anonymous only when anonymous reading is allowed). The
  JSON API, the docs and the login page do their own checks through FastAPI dependencies.
  Gradio's file upload route is closed: the UI takes no files (uploads go to `/api/upload`).
"""
from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .security import AccessDenied, Security

# paths whose routes check access themselves (FastAPI dependencies); anything else reaches the
# Gradio app mounted at "/", so these are matched exactly or as whole path prefixes
SELF_CHECKED_PREFIXES = ("/api/", "/v1/", "/mcp/")
SELF_CHECKED = {"/mcp", "/healthz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/login", "/logout"}
CLOSED = ("/gradio_api/upload", "/upload")


async def _send_json(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, default_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope["path"] == "/api/upload" else self.default_bytes
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                await _send_json(send, 400, "Ogiltig Content-Length.")
                return
            if too_big:
                await _send_json(send, 413, f"Begäran är för stor (högst {limit // 1024} kB).",
                                 [(b"connection", b"close")])
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"Begäran är för stor (högst {limit // 1024} kB).")
            return message

        await self.app(scope, limited, send)


class AccessGate:
    def __init__(self, app: ASGIApp, security: Security) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in SELF_CHECKED or path.startswith(SELF_CHECKED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if path.startswith(CLOSED):
            await _send_json(send, 403, "Uppladdning sker via /api/upload (rollen editor).")
            return
        headers = Headers(scope=scope)
        try:
            self.security.principal_from_headers(headers)
        except AccessDenied as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            if scope.get("method") == "GET" and "text/html" in headers.get("accept", ""):
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", b"/login"), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
            await _send_json(send, exc.status, exc.message, [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)
