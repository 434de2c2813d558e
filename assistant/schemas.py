"""The API contract (evaluation scripts depend on it): request and response models."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

MAX_QUESTION_CHARS = 2000
MAX_MESSAGE_CHARS = 4000   # an older message is cut to this, never refused
MAX_CHAT_MESSAGES = 12     # only the latest messages are read; older ones are dropped
FORMATS = ("md", "txt", "pdf", "docx", "html")
Level = Literal["public", "internal"]


def _encodable(text: str) -> str:
    """Text must be valid Unicode: a lone surrogate (\ud800) would fail later, deep inside."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("texten innehåller ogiltiga tecken (ensamt surrogattecken)") from None
    return text


def _path_text(text: str) -> str:
    if "\x00" in text:
        raise ValueError("sökvägen innehåller ett NUL-tecken")
    return _encodable(text)


def _iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError("datum ska skrivas ÅÅÅÅ-MM-DD") from None


def _doc_type(text: str) -> str:
    fmt = text.lower().lstrip(".")
    fmt = {"markdown": "md", "htm": "html"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ValueError(f"okänd filtyp (en av {', '.join(FORMATS)})")
    return fmt


SafeText = Annotated[str, AfterValidator(_encodable)]
SafeQuery = Annotated[str, AfterValidator(_encodable)]
OptionalSafeQuery = Annotated[str | None, AfterValidator(lambda v: v if v is None else _encodable(v))]
SourceName = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_encodable)]


class Filters(BaseModel):
    source: SourceName | Annotated[list[SourceName], Field(max_length=50)] | None = Field(
        None, description="Only these documents: an id as /api/documents lists it, or its file name.")
    body: Annotated[str, Field(max_length=100), AfterValidator(_encodable)] | None = Field(
        None, description="Only documents of (or that mention) this body (KS, KSNAU, IFN …).")
    organisation: Annotated[str, Field(max_length=100), AfterValidator(_encodable)] | None = Field(
        None, description="Only documents issued by this organisation (Umeå, Göteborg …).")
    date_from: Annotated[str, AfterValidator(_iso_date)] | None = Field(
        None, description="YYYY-MM-DD: only documents dated on or after.")
    date_to: Annotated[str, AfterValidator(_iso_date)] | None = Field(
        None, description="YYYY-MM-DD: only documents dated on or before.")
    doc_type: Annotated[str, Field(max_length=10), AfterValidator(_doc_type)] | None = Field(
        None, description="File type: md, txt, pdf, docx, html.")


class AskRequest(BaseModel):
    question: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS), AfterValidator(_encodable)] = Field(
        ..., examples=["Hur mycket betalar Umeå kommun till Pingstkyrkan i Umeå 2027?"])
    filters: Filters | None = None


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: SafeText = Field(..., description=f"An earlier message is cut to {MAX_MESSAGE_CHARS} characters "
                                               f"({MAX_QUESTION_CHARS} for the user's): a long earlier answer "
                                               "never breaks the next turn.")


class ChatRequest(BaseModel):
    messages: list[ChatMessage] = Field(..., min_length=1, description=(
        f"The conversation; only the latest {MAX_CHAT_MESSAGES} messages are read. The last one is the "
        f"question: from the user, at most {MAX_QUESTION_CHARS} characters."))
    filters: Filters | None = None

    @model_validator(mode="before")
    @classmethod
    def _latest(cls, data):
        # drop what will not be read before it is validated: a long history costs nothing
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            data = {**data, "messages": data["messages"][-MAX_CHAT_MESSAGES:]}
        return data

    @model_validator(mode="after")
    def _question_last(self) -> ChatRequest:
        last = self.messages[-1]
        if last.role != "user":
            raise ValueError("sista meddelandet måste komma från användaren (role=user)")
        if not last.content.strip():
            raise ValueError("frågan är tom")
        if len(last.content) > MAX_QUESTION_CHARS:
            raise ValueError(f"frågan är för lång (högst {MAX_QUESTION_CHARS} tecken)")
        for m in self.messages[:-1]:  # earlier messages are context: cut, never refused
            m.content = m.content[:MAX_QUESTION_CHARS if m.role == "user" else MAX_MESSAGE_CHARS]
        return self


class Citation(BaseModel):
    id: int
    source: str
    title: str
    section: str
    quote: str
    page: int | None = None
    start: int
    end: int
    # optional, for readers (filled by assistant/provenance.py): where the passage sits
    paragraph: str | None = Field(None, description="The § the passage belongs to, e.g. '§ 76'.")
    table_header: list[str] | None = Field(None, description="For a quoted table row: the column labels "
                                                            "(first entry for the row-label column).")
    table_rows: list[list[str]] | None = Field(None, description="The quoted rows: label, then one cell per "
                                                                 "column of table_header.")
    label: str | None = Field(None, description="A label that tells this source apart from the answer's others "
                                                "(document, §, section, page).")


class FigureRow(BaseModel):
    """One term of a figure's formula: the row (and column) it comes from."""
    label: str
    value: float
    unit: str | None
    citation: int
    row: str | None = Field(None, description="The row label as printed.")
    column: str | None = Field(None, description="The column the value stands under (often a year).")
    year: int | None = None


class FigureOut(BaseModel):
    label: str
    value: float
    unit: str | None
    formula: str | None = None
    citations: list[int] = []
    rows: list[FigureRow] = []


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    figures: list[FigureOut] = []
    citations: list[Citation] = []
    warnings: list[str] = []
    question: str | None = Field(None, description="The question answered (after resolving a follow-up).")


class IngestRequest(BaseModel):
    paths: list[Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_path_text)]] = Field(
        ..., min_length=1, max_length=100,
        description="Files or folders under the server's ingest roots (COUNCIL_INGEST_ROOTS).")


class DocumentOut(BaseModel):
    source: str = Field(..., description="The document's id: its path under an ingest root.")
    title: str
    format: str
    chunks: int
    facts: int
    ingested_at: str
    level: Level


class ErrorOut(BaseModel):
    detail: str
    errors: list[dict] | None = None
