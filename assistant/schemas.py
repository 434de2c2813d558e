"""The API contract (evaluation scripts depend on it): request and response models."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Filters(BaseModel):
    source: str | list[str] | None = Field(None, description="Only these documents (file names).")
    body: str | None = Field(None, description="Only documents of (or that mention) this body (KS, KSNAU, IFN …).")
    organisation: str | None = Field(None, description="Only documents issued by this organisation (Umeå, Göteborg …).")
    date_from: str | None = Field(None, description="YYYY-MM-DD: only documents dated on or after.")
    date_to: str | None = Field(None, description="YYYY-MM-DD: only documents dated on or before.")
    doc_type: str | None = Field(None, description="File type: md, txt, pdf, docx, html.")


class AskRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=2000, examples=["Hur mycket betalar Umeå kommun till "
                                                                        "Pingstkyrkan i Umeå 2027?"])
    filters: Filters | None = None


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=4000)


class ChatRequest(BaseModel):
    messages: list[ChatMessage] = Field(..., min_length=1)
    filters: Filters | None = None


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
    paths: list[str] = Field(..., min_length=1, description="Files or folders on the server's disk.")
