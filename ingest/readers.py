"""Readers that turn one council document file into a :class:`RawDocument`.

Why markdown-like output: every format is reduced to text where headings are
``#``-prefixed lines, paragraphs are separated by blank lines and table rows are
TAB-joined cells, so one downstream structure parser serves all formats and its
character offsets always point into ``RawDocument.text``.  For a bad file only
:class:`DocumentReadError` is raised, with a Swedish reason fit for end users.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import stat
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

import docx
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader, PdfWriter
from pypdf.errors import DependencyError

from .frontmatter import split_front_matter
from .pdf import read_pdf

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
_FORMATS = {s: {"markdown": "md", "htm": "html"}.get(s[1:], s[1:]) for s in SUPPORTED_SUFFIXES}


@dataclass(frozen=True)
class PageSpan:
    page: int  # 1-based page number
    start: int  # char offset in RawDocument.text (inclusive)
    end: int  # char offset (exclusive)


@dataclass
class RawDocument:
    source: str  # the document's identity (its path under an ingest root; the file name by default)
    path: str  # absolute path
    fmt: str  # "txt" | "md" | "html" | "pdf" | "docx"
    text: str  # full text, "\n" newlines
    pages: list[PageSpan] = field(default_factory=list)
    title: str | None = None
    report: dict = field(default_factory=dict)  # what reading did (PDF: pages, OCR, tables, warnings)
    headings: tuple[int, ...] = ()  # offsets of lines the layout sets as headings (PDF: bold lines of their own)
    fields: dict[str, str] = field(default_factory=dict)  # a markdown or text file's front matter (ingest.frontmatter)

    def page_at(self, offset: int) -> int | None:
        """Page containing ``offset``; the "\\n\\n" between pages counts as the preceding page."""
        if not self.pages or offset < 0 or offset >= len(self.text):
            return None
        i = bisect_right([p.start for p in self.pages], offset) - 1
        return self.pages[i].page if i >= 0 else None


class DocumentReadError(Exception):
    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self):  # stay picklable (multiprocessing ingest)
        return (type(self), (self.source, self.reason))


def _short(exc: BaseException, limit: int = 160) -> str:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


def _norm_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str:
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))  # Notepad "Unicode"
    for enc in ("utf-16", "utf-8-sig", "cp1252") if utf16 else ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _ws(s: str) -> str:
    return re.sub(r"\s+", " ", s)


_DROP = ["script", "style", "nav", "header", "footer", "noscript", "template", "head", "iframe"]
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_BLOCKS = {"p", "div", "section", "article", "main", "body", "html", "ul", "ol", "dl", "dt",
           "dd", "blockquote", "figure", "figcaption", "address", "aside", "form", "fieldset",
           "center", "details", "summary", "caption", "li", "tr", "td", "th", "table", "pre"}
_BLOCK_OR_HEADING = sorted(_BLOCKS | set(_HEADINGS))
_TEXT_NODES = (NavigableString, CData)  # compared by exact type: Comment/Doctype are subclasses


def _inline(node: Tag) -> str:
    """Text of an element; "\\n" only for <br>, block boundaries become spaces."""
    parts: list[str] = []
    for d in node.descendants:
        if isinstance(d, Tag):
            parts.append("\n" if d.name == "br" else " " if d.name in _BLOCK_OR_HEADING else "")
        elif type(d) in _TEXT_NODES:
            parts.append(_ws(str(d)))
    return "".join(parts)


def _html_table(table: Tag) -> str:
    rows = []
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue  # nested table: its text is already part of the outer cell
        cells = [_ws(_inline(c)).strip() for c in tr.find_all(["td", "th"], recursive=False)]
        if any(cells):
            rows.append("\t".join(cells))
    return "\n".join(rows)


def _html_blocks(node: Tag, out: list[str]) -> None:
    buf: list[str] = []

    def flush() -> None:
        lines = (re.sub(r" +", " ", ln).strip() for ln in "".join(buf).split("\n"))
        buf.clear()
        if text := "\n".join(ln for ln in lines if ln):
            out.append(text)

    for child in node.children:
        if not isinstance(child, Tag):
            buf.append(_ws(str(child)) if type(child) in _TEXT_NODES else "")
            continue
        name = child.name
        if name in _HEADINGS:
            flush()
            if text := _ws(_inline(child)).strip():
                out.append("#" * _HEADINGS[name] + " " + text)
        elif name == "li":
            flush()
            sub: list[str] = []
            _html_blocks(child, sub)
            if sub:
                out.extend(["- " + sub[0], *sub[1:]])
        elif name == "table":
            flush()
            if table := _html_table(child):
                out.append(table)
        elif name == "br":
            buf.append("\n")
        elif name in _BLOCKS or child.find(_BLOCK_OR_HEADING) is not None:
            flush()
            _html_blocks(child, out)
        else:
            buf.append(_inline(child))
    flush()


def _read_html(data: bytes, source: str) -> tuple[str, list[PageSpan], str | None]:
    try:  # strict UTF-8 success is strong evidence; otherwise let bs4 sniff <meta charset>
        markup: str | bytes = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        markup = data
    soup = BeautifulSoup(markup, "html.parser")
    title = _ws(soup.title.get_text()).strip() if soup.title else ""
    if not title and (h1 := soup.find("h1")) is not None:
        title = _ws(_inline(h1)).strip()
    for tag in soup.find_all(_DROP):
        tag.decompose()
    blocks: list[str] = []
    _html_blocks(soup, blocks)
    return "\n\n".join(blocks), [], title or None


_HEADING_RE = re.compile(r"^(?:heading|rubrik)\s*(\d)$", re.IGNORECASE)


def _heading_level(paragraph: Paragraph) -> int | None:
    """0 for Title/Rubrik, N for Heading N/Rubrik N (Swedish Word), else None."""
    style = paragraph.style
    for name in (style.name, style.style_id) if style is not None else ():
        name = (name or "").strip()
        if name.lower() in ("title", "rubrik"):
            return 0
        if m := _HEADING_RE.match(name):
            return min(max(int(m.group(1)), 1), 6)
    return None


def _docx_table(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells, prev = [], None
        for cell in row.cells:
            if cell._tc is not prev:  # python-docx repeats a horizontally merged cell
                cells.append(_ws(cell.text).strip())
            prev = cell._tc
        if any(cells):
            rows.append("\t".join(cells))
    return "\n".join(rows)


def _read_docx(data: bytes, source: str) -> tuple[str, list[PageSpan], str | None]:
    doc = docx.Document(io.BytesIO(data))
    blocks: list[str] = []
    headings: list[str] = []  # Title / Heading 1 texts, for the title fallback

    def walk(parent) -> None:
        for el in parent.iterchildren():
            if el.tag == qn("w:p"):
                p = Paragraph(el, doc._body)
                if not (text := p.text.strip()):
                    continue
                if (level := _heading_level(p)) is None:
                    blocks.append(text)
                    continue
                blocks.append("#" * max(level, 1) + " " + _ws(text))
                if level <= 1:
                    headings.append(_ws(text))
            elif el.tag == qn("w:tbl"):
                if table := _docx_table(Table(el, doc._body)):
                    blocks.append(table)
            elif el.tag == qn("w:sdt"):  # content control wrapping paragraphs/tables
                for content in el.iterchildren(qn("w:sdtContent")):
                    walk(content)

    walk(doc.element.body)
    title = (doc.core_properties.title or "").strip() or (headings[0] if headings else None)
    return "\n\n".join(blocks), [], title


def _read_pdf(data: bytes, source: str) -> tuple[str, list[PageSpan], str | None, dict, tuple[int, ...]]:
    """Layout-aware PDF reading (ingest.pdf); pypdf only checks encryption first."""
    def fail(reason: str) -> DocumentReadError:
        return DocumentReadError(source, f"kunde inte läsa PDF: {reason}")

    if b"%PDF-" not in data[:1024]:
        raise fail("filen är ingen PDF (saknar %PDF-huvud)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            if not reader.decrypt(""):
                raise DocumentReadError(source, "krypterad PDF (lösenordsskyddad)")
            out = io.BytesIO()  # readable without a password: hand pdfium/pdfplumber a decrypted copy
            writer = PdfWriter(clone_from=reader)
            writer.write(out)
            data = out.getvalue()
    except DocumentReadError:
        raise
    except DependencyError:
        raise fail("AES-krypterad, paketet 'cryptography' behövs") from None
    except Exception as exc:
        raise fail(_short(exc)) from None
    try:
        result = read_pdf(data, source)
    except Exception as exc:
        raise fail(_short(exc)) from None
    report = result.report.to_dict()
    if not result.text.strip():
        hint = "; ".join(result.report.warnings)
        raise DocumentReadError(source, "PDF saknar textlager (skannad bild?) – ingen text att indexera"
                                + (f" ({hint})" if hint else ""))
    spans = [PageSpan(page, start, end) for page, start, end in result.spans]
    title = result.title
    if title and title.lower() == "untitled":  # reportlab's default, not a real title
        title = None
    return result.text, spans, title, report, result.headings


def _read_text(data: bytes, source: str) -> tuple[str, list[PageSpan], str | None]:
    return _decode(data), [], None


_READERS = {"txt": _read_text, "md": _read_text, "html": _read_html, "docx": _read_docx}


def read_bytes(path: str | Path, max_bytes: int | None = None, source: str | None = None) -> bytes:
    """A regular file's bytes, its type and size checked before anything is read: a FIFO, a
    device (/dev/zero) or a file that grows past the limit while read is refused, never waited on."""
    source = source or Path(path).name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        reason = "filen finns inte" if exc.errno == errno.ENOENT else f"kunde inte läsa filen: {exc.strerror}"
        raise DocumentReadError(source, reason) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise DocumentReadError(source, "sökvägen är en mapp, inte en fil")
        if not stat.S_ISREG(st.st_mode):
            raise DocumentReadError(source, "inte en vanlig fil (enhet, FIFO eller uttag)")
        if max_bytes is not None and st.st_size > max_bytes:
            raise DocumentReadError(source, f"filen är för stor ({st.st_size / 1048576:.1f} MB, "
                                            f"gräns {max_bytes / 1048576:.1f} MB)")
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(max_bytes + 1) if max_bytes is not None else f.read()
    except OSError as exc:
        raise DocumentReadError(source, f"kunde inte läsa filen: {exc.strerror or _short(exc)}") from None
    finally:
        os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:
        raise DocumentReadError(source, f"filen är för stor (över {max_bytes / 1048576:.1f} MB)")
    return data


def read_document(path: str | Path, max_bytes: int | None = None, source: str | None = None,
                  data: bytes | None = None) -> RawDocument:
    """Read one file into a RawDocument; any problem becomes a DocumentReadError. `source` is the
    document's identity (default: the file name); `data`, when given, is the file's content
    already read (so a file is read once for its hash and its text)."""
    p = Path(path)
    source = source or p.name
    if (suffix := p.suffix.lower()) not in _FORMATS:
        shown = p.suffix or "(utan filändelse)"
        raise DocumentReadError(source, f"filtypen {shown} stöds inte (stöds: .txt, .md, .html, .pdf, .docx)")
    fmt = _FORMATS[suffix]
    if data is None:
        data = read_bytes(p, max_bytes, source)
    if not data.strip():
        raise DocumentReadError(source, "filen är tom")

    report: dict = {}
    headings: tuple[int, ...] = ()
    try:
        if fmt == "pdf":
            text, pages, title, report, headings = _read_pdf(data, source)
        else:
            text, pages, title = _READERS[fmt](data, source)
    except DocumentReadError:
        raise
    except Exception as exc:
        bad_zip = type(exc).__name__ in ("PackageNotFoundError", "BadZipFile")
        reason = "filen är inte ett giltigt Word-dokument (trasig zip)" if bad_zip else _short(exc)
        raise DocumentReadError(source, f"kunde inte läsa {fmt.upper()}: {reason}") from None
    normal = _norm_newlines(text)
    fields: dict[str, str] = {}
    if fmt in ("md", "txt") and (front := split_front_matter(normal)):
        normal, fields = normal[front.end:], front.fields  # metadata, not the document's first passage
        title = title or next((fields[k] for k in ("title", "titel") if k in fields), None)
    if not normal.strip():
        raise DocumentReadError(source, "filen är tom")
    return RawDocument(source=source, path=os.path.realpath(p), fmt=fmt, text=normal, pages=pages, title=title,
                       report=report, headings=headings if normal == text else (), fields=fields)
