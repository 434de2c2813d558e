"""Tests for ingest.readers; all fixtures are generated in tmp_path."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from ingest.readers import (
    SUPPORTED_SUFFIXES,
    DocumentReadError,
    PageSpan,
    RawDocument,
    read_document,
)


def _error(path: Path, **kwargs) -> DocumentReadError:
    with pytest.raises(DocumentReadError) as info:
        read_document(path, **kwargs)
    err = info.value
    assert path.name in str(err)
    assert err.source == path.name
    assert str(err) == f"{err.source}: {err.reason}"
    return err


# ------------------------------------------------------------------ txt / md
def test_md_bom_and_crlf_normalised_offsets_exact(tmp_path: Path) -> None:
    raw = "# Kommunstyrelsen\r\n\r\n  § 76 Budget 2027\r\nRad två\rRad tre   \r\n"
    path = tmp_path / "2026-05-19_KSNAU_motesbok.md"
    path.write_bytes(b"\xef\xbb\xbf" + raw.encode("utf-8"))

    doc = read_document(path)

    expected = "# Kommunstyrelsen\n\n  § 76 Budget 2027\nRad två\nRad tre   \n"
    assert doc.text == expected  # BOM gone, newlines normalised, nothing stripped
    assert doc.fmt == "md" and doc.source == path.name
    assert doc.path == str(path.resolve())
    assert doc.pages == [] and doc.page_at(0) is None and doc.title is None
    start = doc.text.index("§ 76")
    assert doc.text[start:start + len("§ 76 Budget 2027")] == "§ 76 Budget 2027"


def test_markdown_suffix_is_md(tmp_path: Path) -> None:
    path = tmp_path / "anteckning.MARKDOWN"
    path.write_text("text", encoding="utf-8")
    assert read_document(path).fmt == "md"


def test_cp1252_txt_fallback(tmp_path: Path) -> None:
    path = tmp_path / "kallelse styrelse.txt"
    path.write_bytes("Sammanträde i Umeå – ärende €12\r\n".encode("cp1252"))

    doc = read_document(str(path))

    assert doc.fmt == "txt"
    assert doc.text == "Sammanträde i Umeå – ärende €12\n"


def test_latin1_last_resort(tmp_path: Path) -> None:
    path = tmp_path / "udda.txt"
    path.write_bytes(b"a\x81b\xe5")  # 0x81 is undefined in cp1252
    assert read_document(path).text == "a\x81bå"


# ---------------------------------------------------------------------- HTML
HTML = """<!DOCTYPE html>
<html><head><title> Protokoll   KF </title><style>p {color: red}</style></head>
<body>
<header><p>Sidhuvud som ska bort</p></header>
<nav><ul><li>Meny</li></ul></nav>
<h1>Kommunfullmäktige</h1>
<p>Första   stycket med <b>fet</b>
text.</p>
<div>Ett div-block<br>andra raden</div>
<h2>§ 12 Budget</h2>
<ul><li>Punkt ett</li><li>Punkt <i>två</i></li></ul>
<table>
  <thead><tr><th>Verksamhet</th><th>Budget 2027</th></tr></thead>
  <tbody><tr><td>Skola</td><td>1&nbsp;200</td></tr>
  <tr><td>Omsorg</td><td>950</td></tr></tbody>
</table>
<p>Efter tabellen.</p>
<script>var x = "<p>skript</p>";</script>
<footer>Sidfot</footer>
</body></html>"""


def test_html_headings_paragraphs_and_table_as_tsv(tmp_path: Path) -> None:
    path = tmp_path / "protokoll.html"
    path.write_text(HTML, encoding="utf-8")

    doc = read_document(path)

    assert doc.fmt == "html"
    assert doc.title == "Protokoll KF"
    assert doc.text == (
        "# Kommunfullmäktige\n\n"
        "Första stycket med fet text.\n\n"
        "Ett div-block\nandra raden\n\n"
        "## § 12 Budget\n\n"
        "- Punkt ett\n\n"
        "- Punkt två\n\n"
        "Verksamhet\tBudget 2027\nSkola\t1 200\nOmsorg\t950\n\n"
        "Efter tabellen."
    )
    for dropped in ("Sidhuvud", "Meny", "skript", "Sidfot", "color"):
        assert dropped not in doc.text


def test_html_title_falls_back_to_h1_and_htm_suffix(tmp_path: Path) -> None:
    path = tmp_path / "sida.htm"
    path.write_text("<h1>Budget <em>2027</em></h1><p>x</p>", encoding="utf-8")
    doc = read_document(path)
    assert doc.fmt == "html" and doc.title == "Budget 2027"
    assert doc.text == "# Budget 2027\n\nx"


def test_html_with_only_scripts_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "tom sida.html"
    path.write_text("<html><script>var a=1;</script><nav>Meny</nav></html>", encoding="utf-8")
    assert _error(path).reason == "filen är tom"


# ---------------------------------------------------------------------- DOCX
def test_docx_heading_paragraph_table_in_order_swedish_name(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("Protokoll kommunstyrelsen", level=0)  # style "Title"
    document.add_heading("§ 76 Investeringsbudget", level=1)
    document.add_paragraph("Kommunstyrelsen föreslår fullmäktige besluta:")
    document.add_paragraph("")  # empty paragraphs are skipped
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Sammanslagen rubrik"
    table.cell(0, 2).text = "Belopp"
    for r, (a, b, c) in enumerate([("Skola", "Drift", "1 200"), ("Väg", "0", "0")], start=1):
        table.cell(r, 0).text, table.cell(r, 1).text, table.cell(r, 2).text = a, b, c
    document.add_heading("Underrubrik", level=2)
    document.add_paragraph("Efter tabellen.")
    path = tmp_path / "Protokoll KS §76 – Umeå.docx"
    document.save(str(path))

    doc = read_document(path)

    assert doc.source == "Protokoll KS §76 – Umeå.docx"
    assert doc.fmt == "docx"
    assert doc.title == "Protokoll kommunstyrelsen"
    assert doc.text == (
        "# Protokoll kommunstyrelsen\n\n"
        "# § 76 Investeringsbudget\n\n"
        "Kommunstyrelsen föreslår fullmäktige besluta:\n\n"
        "Sammanslagen rubrik\tBelopp\n"
        "Skola\tDrift\t1 200\n"
        "Väg\t0\t0\n\n"  # equal adjacent values are NOT merged cells
        "## Underrubrik\n\n"
        "Efter tabellen."
    )


def test_docx_core_title_and_swedish_style_names(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    document.core_properties.title = "Verksamhetsplan IFN"
    rubrik2 = document.styles.add_style("Rubrik 2", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Mål och budget", style=rubrik2)
    document.add_paragraph("Brödtext.")
    path = tmp_path / "plan.docx"
    document.save(str(path))

    doc = read_document(path)
    assert doc.title == "Verksamhetsplan IFN"
    assert doc.text == "## Mål och budget\n\nBrödtext."


def test_corrupt_docx(tmp_path: Path) -> None:
    path = tmp_path / "trasig fil.docx"
    path.write_bytes(b"PK\x03\x04 inte alls en zip" * 10)
    assert _error(path).reason.startswith("kunde inte läsa DOCX: ")


# ----------------------------------------------------------------------- PDF
def _pdf(path: Path, pages: list[str], **canvas_kwargs) -> Path:
    pytest.importorskip("reportlab")
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), **canvas_kwargs)
    c.setTitle("Kommunfullmäktiges protokoll")
    for text in pages:
        if text:
            c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return path


def test_two_page_pdf_page_spans_and_page_at(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "KF protokoll 2026.pdf",
                ["Sida ett: upprop och val av justerare",
                 "Fullmäktige beslutar att bifalla motionen om cykelvägar"])

    doc = read_document(path)

    assert doc.fmt == "pdf" and doc.title == "Kommunfullmäktiges protokoll"
    assert [s.page for s in doc.pages] == [1, 2]
    first, second = doc.pages
    assert isinstance(first, PageSpan)
    assert first.start == 0 and second.start == first.end + 2
    assert second.end == len(doc.text)
    assert doc.text[first.end:second.start] == "\n\n"
    assert "upprop" in doc.text[first.start:first.end]
    phrase = "bifalla motionen om cykelvägar"
    offset = doc.text.index(phrase)
    assert first.end <= offset < second.end
    assert doc.page_at(offset + 5) == 2
    assert doc.page_at(doc.text.index("upprop")) == 1
    assert doc.page_at(first.end) == 1  # separator belongs to preceding page
    assert doc.page_at(len(doc.text)) is None and doc.page_at(-1) is None


def test_encrypted_pdf_with_user_password(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "hemlig bilaga.pdf", ["Sekretess"], encrypt="hemligt")
    assert _error(path).reason == "krypterad PDF (lösenordsskyddad)"


def test_encrypted_pdf_with_empty_user_password_is_read(tmp_path: Path) -> None:
    pytest.importorskip("reportlab")
    from reportlab.lib.pdfencrypt import StandardEncryption

    enc = StandardEncryption("", ownerPassword="ägare", canPrint=0)
    path = _pdf(tmp_path / "skyddad.pdf", ["Offentlig handling"], encrypt=enc)
    assert "Offentlig handling" in read_document(path).text


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "trasig årsredovisning.pdf"
    path.write_bytes(os.urandom(2048))
    assert _error(path).reason.startswith("kunde inte läsa PDF: ")


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "skannad.pdf", [""])
    assert _error(path).reason == "PDF saknar textlager (skannad bild?) – ingen text att indexera"


# -------------------------------------------------------------- any format
def test_empty_txt(tmp_path: Path) -> None:
    path = tmp_path / "tom fil.txt"
    path.write_bytes(b"")
    assert _error(path).reason == "filen är tom"
    path.write_bytes(b"  \r\n\t\n")
    assert _error(path).reason == "filen är tom"


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    path.write_bytes(b"PK\x03\x04")
    err = _error(path)
    assert err.reason == "filtypen .xlsx stöds inte (stöds: .txt, .md, .html, .pdf, .docx)"
    assert ".xlsx" not in SUPPORTED_SUFFIXES


def test_missing_file(tmp_path: Path) -> None:
    err = _error(tmp_path / "finns inte – Skellefteå.pdf")
    assert err.reason == "filen finns inte"


def test_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "stor fil.txt"
    path.write_bytes(b"x" * (3 * 1024 * 1024 // 2))  # 1.5 MB
    err = _error(path, max_bytes=1024 * 1024)
    assert err.reason == "filen är för stor (1.5 MB, gräns 1.0 MB)"
    assert read_document(path, max_bytes=2 * 1024 * 1024).text.startswith("xxx")


def test_error_is_picklable_and_rawdocument_defaults() -> None:
    err = pickle.loads(pickle.dumps(DocumentReadError("a.pdf", "filen är tom")))
    assert (err.source, err.reason, str(err)) == ("a.pdf", "filen är tom", "a.pdf: filen är tom")
    doc = RawDocument(source="a.txt", path="/a.txt", fmt="txt", text="abc")
    assert doc.pages == [] and doc.title is None and doc.page_at(1) is None
