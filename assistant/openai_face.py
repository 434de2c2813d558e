"""OpenAI-compatible chat completions, so Open WebUI, LibreChat and any OpenAI client can use the
assistant as a model.

- `GET /v1/models` lists one model, `radsassistenten`.
- `POST /v1/chat/completions` answers the conversation in `messages` (system and developer
  messages are the tool's, not the user's, and are ignored; `content` may be a string or a list of
  content parts, of which the text parts count). Non-streaming, or `stream: true` for an SSE
  stream of `chat.completion.chunk` deltas ending in a chunk with `finish_reason` and
  `data: [DONE]`.
- The content is the answer with `[n]` markers and a "Källor" list whose entries link to the
  cited passage in the document view (LibreChat shows no sources from custom endpoints, so the
  text itself must carry them). The same links go out as `url_citation` annotations, which Open
  WebUI turns into its sources (it reads `delta.annotations` in the stream; the non-streaming
  message carries `message.annotations`). The full structured answer (figures with formulas,
  citations with offsets) rides along as the extra field `council`.
- Errors use OpenAI's shape `{"error": {"message", "type", "param", "code"}}` with a 4xx status.
- The key, when keys are configured, comes as `Authorization: Bearer <key>` (what OpenAI clients
  send) or `X-API-Key`. Each answer is computed in one of the app's bounded answer slots (503 when
  none frees in time, 504 past the request timeout) and recorded in the audit log (action `openai`).
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from .faces import (AccessDenied, Answering, Busy, Faces, QuestionTooLong, RenderedAnswer, authorize,
                    bounded_conversation, render_markdown, request_key)
from .links import public_base
from .schemas import AskResponse
from .security import Principal
from .settings import Settings

log = logging.getLogger(__name__)

MODEL_ID = "radsassistenten"
MAX_BODY_BYTES = 1_000_000  # a long chat from Open WebUI is ~100 kB; older turns are cut anyway
STREAM_PIECE_CHARS = 160


class ContentPart(BaseModel):
    """A part of a message's content; text parts are read, others (images, files) are not."""
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls …: accepted, not used
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content or [] if p.type == "text" and p.text)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    # temperature, top_p, max_tokens, user …: accepted and ignored (the answer is extractive)
    model_config = ConfigDict(extra="allow")
    model: str = Field(..., min_length=1, max_length=200)
    messages: list[Message] = Field(..., min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice is answered.")


class OpenAIError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        if self.status == 503:
            headers = {"Retry-After": "5"}
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def _busy(exc: Busy) -> OpenAIError:
    code = "server_busy" if exc.status == 503 else "timeout"
    return OpenAIError(exc.status, exc.message, code=code, kind="server_error")


def openai_router(faces: Faces, settings: Settings, answering: Answering | None = None) -> APIRouter:
    """`answering`: the app's audit log and answer slots (none in a bare test app)."""
    router = APIRouter(prefix="/v1", tags=["OpenAI-kompatibelt"])
    created = int(time.time())
    model = {"id": MODEL_ID, "object": "model", "created": created, "owned_by": "radsassistenten"}
    answering = answering or Answering()

    def caller(request: Request) -> Principal:
        try:
            return authorize(settings, request_key(request.headers))
        except AccessDenied as exc:
            raise OpenAIError(401, str(exc), code="invalid_api_key") from None

    @router.get("/models")
    def models(request: Request):
        try:
            caller(request)
        except OpenAIError as exc:
            return exc.response()
        return {"object": "list", "data": [model]}

    @router.get("/models/{model_id}")
    def get_model(model_id: str, request: Request):
        try:
            caller(request)
            if model_id != MODEL_ID:
                raise OpenAIError(404, f"Modellen '{model_id}' finns inte; använd '{MODEL_ID}'.",
                                  code="model_not_found", param="model")
        except OpenAIError as exc:
            return exc.response()
        return model

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        try:
            principal = caller(request)
            req = _parse(await _read_body(request))
            if req.model != MODEL_ID:
                raise OpenAIError(404, f"Modellen '{req.model}' finns inte; använd '{MODEL_ID}'.",
                                  code="model_not_found", param="model")
            try:
                messages = bounded_conversation([(m.role, m.text()) for m in req.messages])
            except QuestionTooLong as exc:
                raise OpenAIError(400, str(exc), code="string_above_max_length", param="messages") from None
            except ValueError as exc:
                raise OpenAIError(400, str(exc), code="invalid_messages", param="messages") from None
        except OpenAIError as exc:
            return exc.response()
        base = public_base(settings, str(request.base_url))
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"

        def answer() -> AskResponse:  # in a worker thread: the audit row is written off the event loop
            started = time.perf_counter()
            resp = faces.chat(messages, levels=principal.levels)
            answering.record(principal, "openai", messages[-1].content, resp, started)
            return resp

        if req.stream:
            return StreamingResponse(_stream(completion_id, lambda: answering.run(answer), base),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            resp = await answering.run(answer)
        except Busy as exc:
            return _busy(exc).response()
        except Exception:
            log.exception("chat completion failed")
            return OpenAIError(500, "Internt fel när svaret skulle tas fram.", kind="server_error").response()
        rendered = render_markdown(resp, base)
        return {"id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": MODEL_ID,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": rendered.text, "refusal": None,
                                         "annotations": _annotations(rendered)}}],
                "council": resp.model_dump()}

    return router


async def _read_body(request: Request) -> bytes:
    """The body, refusing (413) more than MAX_BODY_BYTES without reading past it."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise OpenAIError(413, f"Begäran är större än {MAX_BODY_BYTES} byte.", code="request_too_large")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_BODY_BYTES:
            raise OpenAIError(413, f"Begäran är större än {MAX_BODY_BYTES} byte.", code="request_too_large")
    return bytes(body)


def _parse(body: bytes) -> ChatCompletionRequest:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OpenAIError(400, f"Ogiltig JSON: {exc}", code="invalid_json") from None
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first.get("loc", ())) or None
        raise OpenAIError(400, f"Ogiltig begäran: {param}: {first.get('msg')}", param=param,
                          code="invalid_value") from None


def _annotations(rendered: RenderedAnswer) -> list[dict]:
    return [{"type": "url_citation", "url_citation": {"url": c.url, "title": f"[{c.id}] {c.label}",
                                                       "start_index": c.start_index, "end_index": c.end_index}}
            for c in rendered.citations]


def _pieces(text: str) -> list[str]:
    """The text in stream-sized pieces cut after a line or a space (never inside a word or number
    group, so "1 037 065" may be split only where a reader would not notice)."""
    pieces = []
    for line in re.split(r"(?<=\n)", text):
        while len(line) > STREAM_PIECE_CHARS:
            cut = line.rfind(" ", 0, STREAM_PIECE_CHARS) + 1 or STREAM_PIECE_CHARS
            pieces.append(line[:cut])
            line = line[cut:]
        if line:
            pieces.append(line)
    return pieces


async def _stream(completion_id: str, answer, base: str) -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    # the role goes out at once, so the client shows that an answer is coming while it is found
    yield chunk({"role": "assistant", "content": ""})
    try:
        resp = await answer()
    except Busy as exc:
        yield f"data: {json.dumps(_busy(exc).body(), ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"
        return
    except Exception:
        log.exception("streamed chat completion failed")
        yield f"data: {json.dumps(OpenAIError(500, 'Internt fel när svaret skulle tas fram.', kind='server_error').body())}\n\n"
        yield "data: [DONE]\n\n"
        return
    rendered = render_markdown(resp, base)
    for piece in _pieces(rendered.text):
        yield chunk({"content": piece})
    if rendered.citations:
        yield chunk({"annotations": _annotations(rendered)})
    yield chunk({}, "stop", council=resp.model_dump())
    yield "data: [DONE]\n\n"
