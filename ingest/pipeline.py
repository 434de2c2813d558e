"""From a RawDocument to sections, chunks, tables, facts and checks (pure, no I/O)."""
from __future__ import annotations

import hashlib
import re

from .metadata import extract_metadata
from .checks import check_table, cross_check_prose
from .meeting import extract_structure
from .facts import infer_table_unit, table_facts, text_facts
from .model import Block, Chunk, ParsedDocument, Section, Table
from .numbers import UNIT_ALTERNATIVES
from .readers import RawDocument
from .structure import document_title, split_sections
from .tables import find_blocks, parse_table

MAX_CHUNK_CHARS = 900
MIN_CHUNK_CHARS = 200


def _chunk_id(source: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{source}:{start}:{end}".encode()).hexdigest()[:16]


def _pieces(block: Block, table: Table | None) -> list[tuple[int, int, str, str]]:
    """A block as (start, end, kind, context) pieces no longer than a chunk; tables split by rows."""
    if block.end - block.start <= MAX_CHUNK_CHARS:
        return [(block.start, block.end, block.kind, "")]
    if block.kind == "table" and table and table.rows:
        header = " | ".join(c for c in table.columns if c)
        context = " — ".join(x for x in (table.caption, header) if x)
        pieces, start = [], block.start
        for i, row in enumerate(table.rows):
            nxt = table.rows[i + 1].start if i + 1 < len(table.rows) else block.end
            if nxt - start > MAX_CHUNK_CHARS and row.end > start:
                pieces.append((start, row.end, "table", context))
                start = nxt
        if start < block.end:
            pieces.append((start, block.end, "table", context))
        return pieces
    # long prose: cut at paragraph or line boundaries
    pieces, start, text = [], block.start, block.text
    while start < block.end:
        limit = min(block.end, start + MAX_CHUNK_CHARS)
        cut = limit
        if limit < block.end:
            window = text[start - block.start:limit - block.start]
            for sep in ("\n\n", "\n", ". "):
                pos = window.rfind(sep)
                if pos > MAX_CHUNK_CHARS // 3:
                    cut = start + pos + len(sep)
                    break
        pieces.append((start, cut, block.kind, ""))
        start = cut
    return pieces


def parse_document(raw: RawDocument) -> ParsedDocument:
    text = raw.text
    title = raw.title or document_title(text, raw.source.rsplit("/", 1)[-1])
    sections = split_sections(text, raw.fmt, raw.headings)
    chunks: list[Chunk] = []
    tables: list[Table] = []
    facts = []
    for sec in sections:
        if not text[sec.start:sec.end].strip():
            continue
        section_name = " > ".join(sec.path)
        blocks = find_blocks(text, sec.start, sec.end, delimited_only=False)
        block_tables: dict[int, Table] = {}
        for b in _paragraphs(blocks, text):
            if b.kind == "table":
                before = text[max(sec.heading_start, b.start - 600):b.start]
                t = parse_table(b, raw.source, len(tables) + 1, sec.path, sec.entity, before)
                if t:
                    tables.append(t)
                    block_tables[b.start] = t
                    facts.extend(table_facts(t, text, section_name))
            else:
                facts.extend(text_facts(b, raw.source, section_name, sec.entity))
        chunks.extend(_section_chunks(raw, title, sec, blocks, block_tables))
    for f in facts:
        f.page = raw.page_at(f.start)
        f.fact_id = hashlib.sha1(f"{f.source}:{f.start}:{f.end}:{f.column}:{f.value}".encode()).hexdigest()[:16]
    discrepancies = [d for t in tables for d in check_table(t, infer_table_unit(t, text))] + cross_check_prose(facts, tables)
    structure = extract_structure(text, sections, title)
    _mark_corrected(structure, sections, facts, len(text))
    structure["outline"] = [{"path": s.path, "start": s.heading_start, "entity": s.entity} for s in sections if s.path]
    structure["metadata"] = extract_metadata(text, raw.source, title, raw.fields).to_dict()
    report = {**raw.report, "tables": len(tables), "facts": len(facts), "chunks": len(chunks)}
    if raw.report:
        report["tables_found"] = raw.report.get("tables", 0)  # tables the layout reader found
    ocr_pages = set(raw.report.get("ocr_pages", ()))
    for c in chunks:  # a passage read by OCR may carry OCR errors: say so where it is cited
        if c.page in ocr_pages:
            c.meta["ocr"] = True
    return ParsedDocument(raw.source, title, raw.fmt, text, sections, chunks, tables, facts, discrepancies, structure,
                          report)


# a paragraph that ends a sentence, or a line of a list that ends in its value ("Hyra 1 200 €")
SENTENCE_ENDS = re.compile(rf"(?:[.!?:;\d%€]|\b(?:{UNIT_ALTERNATIVES}))\s*$", re.I)
CONTINUES = re.compile(r"\s*[a-zåäöé]")         # … and one that starts in the middle of one
# a line that ends in a word no sentence ends in (a preposition, an article, a conjunction) goes on
# even when the next begins with a number ("… en avvikelse på" / "2,1% vilket …")
OPEN_WORD = re.compile(r"\b(?:på|till|av|med|för|om|i|vid|från|under|över|mot|per|inom|och|eller|samt|"
                       r"en|ett|den|det|de|som|att|än)\s*$", re.I)


def _paragraphs(blocks: list[Block], text: str) -> list[Block]:
    """The blocks with a paragraph that a blank line cuts mid-sentence joined again (PDF text often
    has one between every two lines: "… Grannkommunen hade en" / "avvikelse på
    4,2%"), so that a stated amount is read in its whole sentence. Passages keep their blocks."""
    out: list[Block] = []
    for b in blocks:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind == b.kind == "text" and not SENTENCE_ENDS.search(prev.text)
                and (CONTINUES.match(b.text) or (OPEN_WORD.search(prev.text) and b.text.lstrip()[:1].isdigit()))
                and text[prev.end:b.start].count("\n") <= 3):
            out[-1] = Block("text", prev.start, b.end, text[prev.start:b.end])
        else:
            out.append(b)
    return out


def _section_chunks(raw: RawDocument, title: str, sec: Section, blocks: list[Block],
                    block_tables: dict[int, Table]) -> list[Chunk]:
    out: list[Chunk] = []
    cur_start = cur_end = None
    kinds: set[str] = set()
    context = ""

    def flush():
        nonlocal cur_start, cur_end, kinds, context
        if cur_start is not None and raw.text[cur_start:cur_end].strip():
            kind = kinds.pop() if len(kinds) == 1 else "mixed"
            out.append(Chunk(_chunk_id(raw.source, cur_start, cur_end), raw.source, title, sec.path,
                             raw.text[cur_start:cur_end], cur_start, cur_end, kind,
                             raw.page_at(cur_start), sec.entity, {"context": context} if context else {}))
        cur_start = cur_end = None
        kinds, context = set(), ""

    for b in blocks:
        for start, end, kind, ctx in _pieces(b, block_tables.get(b.start)):
            if cur_start is not None and (end - cur_start > MAX_CHUNK_CHARS or ctx) and cur_end - cur_start >= MIN_CHUNK_CHARS:
                flush()
            if cur_start is None:
                cur_start = start
            cur_end = end
            kinds.add(kind)
            context = ctx or context
            if ctx:
                flush()
    flush()
    return out


def _mark_corrected(structure: dict, sections: list[Section], facts: list, text_len: int) -> None:
    """Amounts in a decision that a later Rättelse corrects are marked, so answers use the correction."""
    for corr in structure.get("corrections", []):
        target = corr["corrects"].replace(" ", "")
        memo = next((m for m in structure.get("tjansteskrivelser", []) if "rättelse" in m.get("title", "").lower()
                     and target in m["title"].replace(" ", "")), None)
        label = memo["title"] if memo else f"Rättelse av {corr['corrects']}"
        for i, sec in enumerate(sections):
            if len(sec.path) == 1 and sec.path[0].replace(" ", "") == target:
                end = next((s.heading_start for s in sections[i + 1:] if len(s.path) == 1), text_len)
                for f in facts:
                    if f.kind == "text" and sec.start <= f.start < end:
                        f.superseded_by = label
