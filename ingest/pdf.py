"""Read a PDF the way a person reads it: page text without furniture, tables with columns,
scanned and garbled pages through OCR, and a report of what was done.

Stages (each page): words (pdfplumber; Tesseract for scanned or garbled pages) → lines →
running headers/footers removed (found by repetition across pages) → tables by the positions
of their numbers → paragraphs of the remaining lines.  Pages are then joined: a sentence, a
vote list or a table that runs over a page break continues without a paragraph break, and
each page's offsets are kept for citations.
"""
from __future__ import annotations

import io
import logging
import re
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field

from . import lexicon, ocr
from .pdf_layout import (SENTENCE_END, PageLayout, PdfLine, TextBlock, Word, find_furniture, group_lines,
                         join_lines, paragraphs, right_edge)
from .pdf_grid import render_grid, render_stacked, split_regions
from .pdf_tables import PageTable, find_tables

log = logging.getLogger(__name__)

SCANNED_MAX_CHARS = 200     # a page with less text than this under a large image is a scan
SCANNED_MIN_IMAGE = 0.3     # share of the page an image must cover
GARBLED_PAGE_SHARE = 0.18   # share of unknown lower-case words over a whole page
BOLD_FACE = re.compile(r"bold|black|heavy|semibold|demi", re.I)   # font names of a heading's weight
HEADING_MAX = 150   # characters: a longer bold line is emphasis, not a heading
GARBLED_PARA_SHARE = 0.45   # … or over one paragraph-sized window of it
GARBLED_MIN_WORDS = 12
LIGATURE_MIN_WORDS = 3      # distinct words repaired before a page's font counts as dropping ligatures


@dataclass(frozen=True)
class OcrLimits:
    """Bounds on OCR per file: pages and wall-clock seconds (the rest is reported skipped)."""
    max_pages: int = 40
    seconds: float = 180.0
    enabled: bool = True


@dataclass(frozen=True)
class PdfReport:
    pages: int
    text_pages: int
    ocr_pages: tuple[int, ...] = ()
    skipped_pages: tuple[int, ...] = ()       # scanned pages left unread (no OCR, limit, failure)
    garbled_pages: tuple[int, ...] = ()       # text layer with broken glyphs (re-read by OCR when possible)
    ligature_pages: tuple[int, ...] = ()      # letters lost in dropped ligatures put back ("fullmäktge")
    tables: int = 0
    furniture_lines: int = 0
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class PdfText:
    text: str
    spans: tuple[tuple[int, int, int], ...]  # (page, start, end) into text
    title: str | None
    report: PdfReport
    headings: tuple[int, ...] = ()   # offsets of the lines set as headings (a bold line of their own)


@dataclass
class _Page:
    number: int
    width: float
    height: float
    probe_text: str = ""
    image_cover: float = 0.0
    words: list[Word] = field(default_factory=list)
    source: str = "text"  # "text" | "ocr" | "skipped"
    ligatures: bool = False  # the text layer drops ligature letters: repair its words


def _probe(doc, pages: list[_Page]) -> None:
    """Fast first look with pdfium: each page's text and how much of it an image covers."""
    import pypdfium2.raw as pdfium_c

    for pg in pages:
        page = doc[pg.number - 1]
        try:
            pg.probe_text = page.get_textpage().get_text_range()
            area = 0.0
            for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
                left, bottom, right, top = obj.get_bounds() if hasattr(obj, "get_bounds") else obj.get_pos()
                area += max(0.0, right - left) * max(0.0, top - bottom)
            pg.image_cover = min(1.0, area / max(1.0, pg.width * pg.height))
        except Exception as exc:  # a page pdfium cannot read is read by pdfplumber below
            log.debug("probe failed on page %d: %s", pg.number, exc)


def looks_scanned(text: str, image_cover: float) -> bool:
    return image_cover >= SCANNED_MIN_IMAGE and len(re.sub(r"\s", "", text)) < SCANNED_MAX_CHARS


def garbled_share(text: str) -> float:
    """The worst unknown-word share of the page, or of a paragraph-sized window of it (a page
    can be mostly fine with one paragraph in a broken font); 0 when there is too little text."""
    share, judged = lexicon.unknown_share(text)
    worst = share if judged >= GARBLED_MIN_WORDS * 2 else 0.0
    words = text.split()
    for i in range(0, max(1, len(words) - 20), 20):
        s, n = lexicon.unknown_share(" ".join(words[i:i + 40]))
        if n >= GARBLED_MIN_WORDS and s >= GARBLED_PARA_SHARE:
            worst = max(worst, s * GARBLED_PAGE_SHARE / GARBLED_PARA_SHARE)
    return worst


def _plumber_words(page) -> list[Word]:
    out = []
    for w in page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False, extra_attrs=["fontname"]):
        out.append(Word(w["text"], float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]),
                        BOLD_FACE.search(w.get("fontname") or "") is not None))
    return out


def _merge_ocr(text_words: list[Word], ocr_words: list[Word]) -> list[Word]:
    """A scan with a stamped text header: keep the real text, add OCR words where it has none."""
    def overlaps(a: Word, b: Word) -> bool:
        return a.x0 < b.x1 and b.x0 < a.x1 and a.top < b.bottom and b.top < a.bottom
    return text_words + [w for w in ocr_words if not any(overlaps(w, t) for t in text_words)]


def read_pdf(data: bytes, source: str, limits: OcrLimits = OcrLimits()) -> PdfText:
    import pdfplumber
    import pypdfium2 as pdfium

    started = time.monotonic()
    warnings: list[str] = []
    doc = pdfium.PdfDocument(data)
    try:
        pages = [_Page(i + 1, *doc[i].get_size()) for i in range(len(doc))]
        _probe(doc, pages)
        title = (doc.get_metadata_dict().get("Title") or "").strip() or None
        scanned = [p.number for p in pages if looks_scanned(p.probe_text, p.image_cover)]
        lexicon_ok = lexicon.available()
        if not lexicon_ok:
            warnings.append("ordlistan (wordfreq) saknas: förvanskade textlager upptäcks inte")
        shares = {}
        for p in pages:
            if lexicon_ok and p.number not in scanned:
                repaired, fixed = lexicon.repair_ligatures(p.probe_text)
                p.ligatures = len(fixed) >= LIGATURE_MIN_WORDS
                shares[p.number] = garbled_share(repaired if p.ligatures else p.probe_text)
        garbled = [n for n, s in shares.items() if s >= GARBLED_PAGE_SHARE]
        ocr_ok = limits.enabled and ocr.available()
        wanted = (scanned + garbled)[:limits.max_pages] if ocr_ok else []
        over_limit = (scanned + garbled)[limits.max_pages:] if ocr_ok else []
        futures: dict[int, Future] = {}
        pool = ocr.OcrPool() if wanted else None
        try:
            for n in wanted:
                futures[n] = pool.submit(ocr.render_page(doc[n - 1]), timeout=limits.seconds)
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                for pg, page in zip(pages, pdf.pages):
                    try:
                        pg.words = _plumber_words(page)
                    except Exception as exc:  # one broken page must not lose the rest
                        warnings.append(f"sida {pg.number} kunde inte läsas: {_short(exc)}")
                    page.close()
                ocr_pages = _collect(futures, pages, scanned, shares, started, limits, pdf, warnings)
        finally:
            if pool:
                pool.close()
    finally:
        doc.close()

    skipped = [n for n in scanned if n not in ocr_pages]
    if skipped and not ocr_ok:
        warnings.append(f"{len(skipped)} skannade sidor utan textlager lästes inte ({_pages(skipped)}): "
                        + (ocr.ENABLE_HINT if limits.enabled else "OCR är avstängd"))
    elif over_limit:
        warnings.append(f"OCR-gränsen ({limits.max_pages} sidor per fil) nåddes: sidorna {_pages(over_limit)} "
                        "lästes utan OCR")
    flagged = [n for n in garbled if n not in ocr_pages]
    if flagged:
        warnings.append(f"textlagret ser förvanskat ut på sidorna {_pages(flagged)} (många okända ord) och "
                        "lästes som det är" + ("" if ocr_ok else f"; {ocr.ENABLE_HINT}"))
    for pg in pages:
        if pg.number in skipped:
            pg.source = "skipped"
        if pg.ligatures and pg.source == "text":
            pg.words = [Word(lexicon.repair_ligatures(w.text)[0], w.x0, w.x1, w.top, w.bottom, w.bold) for w in pg.words]
    ligature_pages = [p.number for p in pages if p.ligatures and p.source == "text"]
    if ligature_pages:
        warnings.append(f"typsnittet tappar bokstäver i ligaturer (ti, tt, ft) på {len(ligature_pages)} sidor; "
                        "orden lagades mot en svensk ordlista")
    text, spans, n_tables, n_furniture, headings = _assemble(pages)
    report = PdfReport(pages=len(pages), text_pages=sum(1 for p in pages if p.source == "text" and p.words),
                       ocr_pages=tuple(sorted(ocr_pages)), skipped_pages=tuple(skipped),
                       garbled_pages=tuple(garbled), ligature_pages=tuple(ligature_pages), tables=n_tables, furniture_lines=n_furniture,
                       warnings=tuple(warnings))
    return PdfText(text, tuple(spans), title, report, tuple(headings))


def _collect(futures: dict[int, Future], pages: list[_Page], scanned: list[int], shares: dict[int, float],
             started: float, limits: OcrLimits, pdf, warnings: list[str]) -> set[int]:
    """Wait for the OCR jobs (within the file's time budget); keep the better of OCR and text layer."""
    done: set[int] = set()
    for n, fut in futures.items():
        pg = pages[n - 1]
        try:
            words = fut.result(timeout=max(0.1, limits.seconds - (time.monotonic() - started)))
        except FutureTimeout:
            fut.cancel()
            warnings.append(f"sida {n}: OCR hann inte klart inom {limits.seconds:.0f} s")
            words = None
        except Exception as exc:
            warnings.append(f"sida {n}: OCR misslyckades ({_short(exc)})")
            words = None
        if words is not None and n in scanned:
            pg.words, pg.source = _merge_ocr(pg.words, words), "ocr"
            done.add(n)
            continue
        if words is not None:
            merged = _prefer_text_layer(words, pg.words)
            if garbled_share(" ".join(w.text for w in merged)) < shares.get(n, 1.0):
                pg.words, pg.source = merged, "ocr"
                done.add(n)
    return done


def _trusted(word: str) -> bool:
    """A text-layer word that a garbled font did not break: a Swedish word, or no letters at
    all (numbers, dates, "§"), which OCR reads worse ("§" as "&" or "8")."""
    letters = lexicon.WORD.findall(word)
    return not letters or all(lexicon.is_known(w) and lexicon.frequency(w) > 1e-6 for w in letters)


def _prefer_text_layer(ocr_words: list[Word], text_words: list[Word]) -> list[Word]:
    """OCR words of a garbled page, each replaced by the text-layer word at the same place when
    that word is trustworthy."""
    out = []
    for w in ocr_words:
        best, best_overlap = None, 0.0
        for t in text_words:
            if t.top >= w.bottom or w.top >= t.bottom:
                continue
            overlap = min(w.x1, t.x1) - max(w.x0, t.x0)
            if overlap > best_overlap:
                best, best_overlap = t, overlap
        width = max(w.x1 - w.x0, 1e-6)
        if best is not None and best_overlap > 0.6 * width and best_overlap > 0.6 * (best.x1 - best.x0) \
                and _trusted(best.text):
            out.append(Word(best.text, w.x0, w.x1, w.top, w.bottom, best.bold))
        else:
            out.append(w)
    return out


def _pages(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def _short(exc: BaseException) -> str:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg[:160]


# -- assembling the text ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Item:
    kind: str  # "text" | "table"
    block: TextBlock | PageTable


def _page_items(lines: list[PdfLine], width: float) -> list[_Item]:
    tables = find_tables(lines)
    items: list[_Item] = []
    edge = right_edge(lines, width)
    pos = 0
    for t in tables:
        items.extend(_text_items(lines[pos:t.first_line], edge))
        items.append(_Item("table", t))
        pos = t.last_line + 1
    items.extend(_text_items(lines[pos:], edge))
    return items


def _text_items(lines: list[PdfLine], edge: float) -> list[_Item]:
    """Running text as paragraphs; a region in columns (a form, a text table) row by row."""
    items: list[_Item] = []
    for kind, run in split_regions(lines):
        if kind in ("grid", "stacked"):
            rows = render_grid(run) if kind == "grid" else render_stacked(run)
            items.append(_Item("text", TextBlock(tuple(rows), run[0].x0, run[0].height, run[0].top,
                                                 run[-1].bottom, False)))
        else:
            items.extend(_Item("text", b) for b in paragraphs(run, edge))
    return items


def _continues_table(prev: PageTable, nxt: PageTable) -> bool:
    if len(prev.columns) != len(nxt.columns):
        return False
    return all(abs((a.x0 + a.x1) / 2 - (b.x0 + b.x1) / 2) < 12 for a, b in zip(prev.columns, nxt.columns))


def _continues_text(prev: TextBlock, nxt: TextBlock) -> str | None:
    """How the first paragraph of a page continues the last one of the page before, if it does:
    " " for a sentence cut by the page break, "\\n" for a list (votes) that goes on."""
    last, first = prev.lines[-1], nxt.lines[0]
    if SENTENCE_END.search(last) or abs(prev.size - nxt.size) > 0.15 * prev.size:
        return None
    if first[:1].islower() or last.endswith((",", "-")):
        return " "
    if abs(prev.x0 - nxt.x0) < 2 and not prev.last_full and len(prev.lines) > 1:
        return "\n"  # a list of short lines (a roll-call vote) that goes on after the page break
    return None


def _heading(block: TextBlock) -> bool:
    """A paragraph that is one short bold line, not a sentence: a heading in any house style."""
    line = block.lines[0]
    return (block.bold and len(block.lines) == 1 and 3 <= len(line) <= HEADING_MAX
            and not re.search(r"[.;,]$", line) and re.search(r"[A-Za-zÅÄÖåäö]{3}", line) is not None)


def _assemble(pages: list[_Page]) -> tuple[str, list[tuple[int, int, int]], int, int, list[int]]:
    layouts = [PageLayout(p.number, p.width, p.height, tuple(group_lines(p.words))) for p in pages]
    furniture = find_furniture(layouts)
    buf: list[str] = []
    length = 0
    spans: list[tuple[int, int, int]] = []
    n_tables = 0
    headings: list[int] = []
    last_item: _Item | None = None

    def add(sep: str, text: str) -> int:
        """Append text after sep; returns where the text starts."""
        nonlocal length
        if not buf:
            buf.append(text)
            length = len(text)
            return 0
        if sep == " ":  # a sentence cut by the page break: join (and un-hyphenate) in place
            joined = join_lines(buf[-1], text)
            length += len(joined) - len(buf[-1])
            buf[-1] = joined
        else:
            buf.append(sep + text)
            length += len(sep) + len(text)
        return length - len(text)

    for layout in layouts:
        body = [ln for i, ln in enumerate(layout.lines) if (layout.number, i) not in furniture]
        page_start = None
        for k, item in enumerate(_page_items(body, layout.width)):
            sep = "\n\n"
            if item.kind == "table":
                table: PageTable = item.block
                cont = k == 0 and last_item is not None and last_item.kind == "table" \
                    and _continues_table(last_item.block, table)
                repeated = cont and table.header[1:] == last_item.block.header[1:]
                text = table.tsv(with_header=not (cont and (repeated or not any(table.header[1:]))))
                if cont:
                    sep = "\n"  # the rows go on in the same table block
                else:
                    n_tables += 1
            else:
                block: TextBlock = item.block
                text = "\n".join(block.lines)
                if k == 0 and last_item is not None and last_item.kind == "text":
                    sep = _continues_text(last_item.block, block) or sep
            start = add(sep, text)
            if item.kind == "text" and sep != " " and _heading(item.block):
                headings.append(start)
            page_start = start if page_start is None else page_start
            last_item = item
        if page_start is None:
            last_item = None  # an empty page breaks any continuation
            page_start = length
        spans.append((layout.number, page_start, length))
    return "".join(buf), spans, n_tables, len(furniture), headings
