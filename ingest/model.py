"""Typed data objects passed between the ingest stages and into the index.

Every object keeps character offsets into the original document text so an answer can
always point at the exact passage it quotes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Section:
    """A run of the document under one heading path, e.g. ["Ekonomi", "Budget för perioden 2026–2028"]."""
    path: list[str]
    start: int
    end: int
    heading_start: int  # where the heading line itself starts (== start for the preamble)
    entity: str | None = None  # the party / body the section is about, when known

    @property
    def title(self) -> str:
        return self.path[-1] if self.path else ""


@dataclass
class Block:
    """A paragraph or a table inside a section."""
    kind: str  # "text" | "table"
    start: int
    end: int
    text: str


@dataclass
class TableRow:
    label: str
    cells: list[str]             # the raw value cells (label excluded)
    values: list[float | None]   # parsed numbers per cell, None for text cells
    start: int
    end: int
    text: str
    is_total: bool = False
    uncertain: bool = False      # the split of a column-less row was a guess
    group: str = ""              # a group heading inside the table ("Nya satsningar 2026")


@dataclass
class Table:
    table_id: str                # "<source>#t<n>"
    source: str
    section_path: list[str]
    caption: str                 # the text that introduces the table (question, heading, title line)
    columns: list[str]           # labels of the value columns
    unit: str | None             # unit that applies to the whole table (tkr, mnkr, kr, %)
    rows: list[TableRow]
    start: int
    end: int
    entity: str | None = None
    years: list[int | None] = field(default_factory=list)  # the year each column refers to
    context: str = ""            # the sentence or heading just above the table


@dataclass
class Fact:
    """One number the documents state: a table cell or an amount in a sentence."""
    source: str
    section: str
    entity: str | None
    label: str            # row label, or the phrase the amount belongs to
    column: str | None    # column label (often a year)
    year: int | None
    value: float
    unit: str | None      # kr, tkr, mnkr, mdkr, %, st, or None when unknown
    start: int
    end: int
    quote: str            # the row or sentence, as printed
    kind: str = "table"   # "table" | "text"
    table_id: str | None = None
    caption: str = ""
    is_total: bool = False
    uncertain: bool = False
    page: int | None = None
    fact_id: str = ""
    group: str = ""           # a group heading inside the table ("Nya satsningar 2026")
    superseded_by: str = ""   # a later correction of the decision this amount stands in

    def to_dict(self) -> dict:
        return asdict(self)

    def descriptor(self, title: str = "") -> str:
        """What the number is, in words (matched against the question's words)."""
        if self.kind == "text":
            return f"{title} — {self.label}" if title else self.label
        parts = [title, self.caption, self.group, self.label, self.entity or ""]  # per row: cells share it
        return " — ".join(p for p in dict.fromkeys(parts) if p)


@dataclass
class Chunk:
    """What gets embedded and indexed: a slice of a section with its context."""
    chunk_id: str
    source: str
    title: str
    section_path: list[str]
    text: str            # the passage as printed
    start: int
    end: int
    kind: str = "text"   # "text" | "table" | "mixed"
    page: int | None = None
    entity: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def section(self) -> str:
        return " > ".join(self.section_path)

    def index_text(self) -> str:
        """Text for embedding and BM25: title and section path give a table row its context."""
        head = " > ".join(p for p in [self.title, *self.section_path] if p)
        extra = f" ({self.entity})" if self.entity and self.entity not in head else ""
        return f"{head}{extra}\n{self.text}"


@dataclass
class Discrepancy:
    """A sum or difference in a table that does not add up as printed."""
    source: str
    table_id: str
    table: str
    row: str
    printed: float
    computed: float
    formula: str
    explanation: str
    unit: str | None
    start: int
    end: int


@dataclass
class ParsedDocument:
    source: str
    title: str
    fmt: str
    text: str
    sections: list[Section]
    chunks: list[Chunk]
    tables: list[Table]
    facts: list[Fact]
    discrepancies: list[Discrepancy]
    structure: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)  # ingest report: pages, OCR, tables, facts, warnings
