"""The layout-aware PDF reader on small generated PDFs (reportlab): furniture, joins, tables,
garbled and scanned pages."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ingest import ocr
from ingest.numbers import find_amounts
from ingest.pdf import OcrLimits, read_pdf
from ingest.pipeline import parse_document
from ingest.readers import read_document

W, H = A4
LEFT, RIGHT = 72, 520


def _pdf(pages) -> bytes:
    """pages: a list of callables drawing on a reportlab canvas, one per page."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for draw in pages:
        c.setFont("Helvetica", 11)
        draw(c)
        c.showPage()
    c.save()
    return buf.getvalue()


def _lines(c, lines, y=700, x=LEFT, size=11, step=14):
    c.setFont("Helvetica", size)
    for line in lines:
        c.drawString(x, y, line)
        y -= step
    return y


def _furniture(c, n, total):
    c.setFont("Helvetica", 9)
    c.drawString(LEFT, H - 40, "Exempelby kommun   Kommunstyrelsen   Protokoll 2026-03-10")
    c.drawString(LEFT, 40, f"Justerandes sign                                   SID {n} ({total})")


def _row(c, y, label, values, xs=(300, 360, 420, 480)):
    c.drawString(LEFT, y, label)
    for x, v in zip(xs, values):
        c.drawRightString(x, y, v)


def _raw(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_document(path)


def test_running_header_and_footer_removed_page_numbers_kept(tmp_path):
    body = ["Kommunstyrelsen behandlade ärendet om budgeten för nästa år och beslutade enligt",
            "förvaltningens förslag utan ändringar efter en kort diskussion i sammanträdet."]
    pages = [lambda c, n=n: (_furniture(c, n, 3), _lines(c, [f"§ {n} Budget"], y=740, size=14),
                             _lines(c, body, y=715)) for n in (1, 2, 3)]
    raw = _raw(tmp_path, "p.pdf", _pdf(pages))
    assert "SID" not in raw.text and "Justerandes sign" not in raw.text
    assert raw.text.count("Protokoll 2026-03-10") == 1  # kept once: it names the body and date
    assert [p.page for p in raw.pages] == [1, 2, 3]
    assert raw.page_at(raw.text.index("§ 3 Budget")) == 3
    assert raw.report["furniture_lines"] >= 5


def test_hyphenated_line_end_joined_real_hyphen_kept(tmp_path):
    lines = ["Nämnden redovisar ett överskott för perioden som beror på att delar av den planerade verksam-",
             "heten inte har startat ännu, och att Demokrati- och Medborgarservice har haft färre uppdrag än",
             "väntat under våren. Arbetet med IT-säkerheten fortsätter under hösten enligt den plan som",
             "nämnden beslutat om tidigare under året."]
    raw = _raw(tmp_path, "h.pdf", _pdf([lambda c: _lines(c, lines)]))
    assert "verksamheten inte har startat" in raw.text
    assert "Demokrati- och Medborgarservice" in raw.text
    # one paragraph is one line: no sentence is cut by a line break
    assert "\n" not in raw.text.strip()


def test_sentence_continues_over_page_break(tmp_path):
    first = ["Förvaltningen föreslår att nämnden godkänner rapporten och att den skickas vidare till",
             "kommunstyrelsen för kännedom tillsammans med de bilagor som hör till ärendet och som"]
    pages = [lambda c: (_furniture(c, 1, 2), _lines(c, first, y=80 + 14)),
             lambda c: (_furniture(c, 2, 2), _lines(c, ["redovisades på sammanträdet i mars."], y=760))]
    raw = _raw(tmp_path, "s.pdf", _pdf(pages))
    assert "ärendet och som redovisades på sammanträdet i mars." in raw.text
    assert raw.page_at(raw.text.index("redovisades")) == 2


def _table_doc(header_font: str = "Helvetica") -> bytes:
    def page1(c):
        _furniture(c, 1, 2)
        y = _lines(c, ["Tabell 1 Resultat per verksamhet (mnkr)"], y=260, size=12)
        c.setFont(header_font, 9)
        c.drawString(300 - 40, y - 10, "Period")
        c.drawString(420 - 40, y - 10, "Helår")
        for x, name in zip((300, 360, 420, 480), ("Utfall", "Budget", "Prognos", "Budget")):
            c.drawRightString(x, y - 22, name)
        c.setFont("Helvetica", 9)
        y -= 44
        _row(c, y, "Intäkter", ["373,6", "375,7", "1 513,3", "1 506,8"])
        _row(c, y - 17, "Kostnader", ["- 360,5", "- 382,1", "-1 550,7", "-1 549,1"])
        _row(c, y - 34, "Digital infrastruktur,", ["7,7", "-7,5", "0,2", "-7,8"])
        c.drawString(LEFT, y - 44, "Demokrati- och")
        c.drawString(LEFT, y - 54, "Medborgarservice")
        _row(c, y - 71, "Lokaler", ["12,0", "11,0", "44,0", "45,0"])

    def page2(c):
        _furniture(c, 2, 2)
        c.setFont("Helvetica", 9)
        _row(c, 780, "Övrigt", ["1,0", "2,0", "3,0", "4,0"])
        _row(c, 763, "Totalt", ["394,3", "0,1", "9,9", "8,8"])
        _lines(c, ["Kommentar: intäkterna är något lägre än budget för perioden."], y=700)
    return _pdf([page1, page2])


@pytest.mark.parametrize("header_font", ["Helvetica", "Helvetica-Bold"])
def test_table_two_row_header_wrapped_label_continued_on_next_page(tmp_path, header_font):
    raw = _raw(tmp_path, "t.pdf", _table_doc(header_font))
    doc = parse_document(raw)
    assert len(doc.tables) == 1, [t.columns for t in doc.tables]
    table = doc.tables[0]
    assert table.columns == ["Period Utfall", "Period Budget", "Helår Prognos", "Helår Budget"]
    labels = [r.label for r in table.rows]
    assert labels == ["Intäkter", "Kostnader", "Digital infrastruktur, Demokrati- och Medborgarservice",
                      "Lokaler", "Övrigt", "Totalt"]
    kost = table.rows[1]
    assert kost.values == [-360.5, -382.1, -1550.7, -1549.1]  # "- 360,5": a minus inside a number cell
    assert table.rows[-1].is_total
    fact = next(f for f in doc.facts if f.label == "Intäkter" and f.column == "Helår Prognos")
    assert fact.value == 1513.3 and fact.unit == "mnkr"
    assert next(f for f in doc.facts if f.label == "Övrigt").page == 2


def test_list_dash_is_not_a_minus(tmp_path):
    lines = ["Förslaget innebär följande:", "- 3,5 tjänster för socialsekreterare", "- 2 tjänster för administration"]
    raw = _raw(tmp_path, "l.pdf", _pdf([lambda c: _lines(c, lines)]))
    assert "\n- 3,5 tjänster" in raw.text
    values = [a.value for a in find_amounts(raw.text)]
    assert 3.5 in values and -3.5 not in values
    doc = parse_document(raw)
    assert not doc.tables


GARBLED = ["Teinisia eireitörens förskag till protokojjet om saakoaaunstäaaor och aedleaaar",
           "i förvaltningsorgan saat stadens ståndpunkt i de ärenden soa behandlas vid stäaaan",
           "saakoaaunstäaaorna hålls i noveaber och staden kan utse en representant saat ersäaare",
           "oa önskas, enligt tdigare beslut av stadsstyrelsen och saakoaauners förbundsordning."]
CLEAN = ["Stadsstyrelsen beslutar att utse representanter till samkommunstämmorna enligt",
         "förvaltningschefens beredning och att ersättare utses vid nästa sammanträde."]


def test_garbled_page_detected_and_flagged_without_ocr(tmp_path):
    data = _pdf([lambda c: _lines(c, CLEAN), lambda c: _lines(c, GARBLED)])
    result = read_pdf(data, "g.pdf", OcrLimits(enabled=False))
    assert result.report.garbled_pages == (2,)
    assert result.report.ocr_pages == ()
    assert any("förvanskat" in w for w in result.report.warnings)


def test_dropped_ligature_letters_restored(tmp_path):
    lines = ["Fullmäktge har tdigare beslutat om ersätare och om den omfatande trafkplanen för",
             "staden, och efer beslutet ska nämnden rapportera fortlöpande till fullmäktge om läget."]
    raw = _raw(tmp_path, "lig.pdf", _pdf([lambda c: _lines(c, lines)]))
    assert "Fullmäktige har tidigare beslutat om ersättare och om den omfattande" in raw.text
    assert "efter beslutet" in raw.text
    assert raw.report["ligature_pages"] == [1]


def _scan_page(text_lines: list[str]):
    """A page that is only an image of text (a scan)."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    import reportlab

    font = ImageFont.truetype(os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf"), 34)
    image = Image.new("L", (1654, 800), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(text_lines):
        draw.text((150, 120 + i * 60), line, font=font, fill=0)

    def draw_page(c):
        c.drawImage(ImageReader(image), 0, H - 800 * 72 / 200, width=W, height=800 * 72 / 200)
    return draw_page


SCAN = ["Ansökan om bidrag för ungdomsarbete", "Föreningen ansöker om 7 282 euro i bidrag", "för verksamheten under hösten."]


@pytest.mark.skipif(not ocr.available(), reason="tesseract-ocr-swe is not installed (.ci/run installs it)")
def test_scanned_page_read_by_ocr(tmp_path):
    data = _pdf([lambda c: _lines(c, CLEAN), _scan_page(SCAN)])
    raw = _raw(tmp_path, "scan.pdf", data)
    assert raw.report["ocr_pages"] == [2]
    assert "Föreningen ansöker om 7 282 euro" in raw.text
    assert raw.page_at(raw.text.index("Föreningen")) == 2
    doc = parse_document(raw)
    assert any(c.meta.get("ocr") for c in doc.chunks if c.page == 2)
    assert not any(c.meta.get("ocr") for c in doc.chunks if c.page == 1)


def test_scanned_page_without_tesseract_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda lang="swe": False)
    data = _pdf([lambda c: _lines(c, CLEAN), _scan_page(SCAN)])
    raw = _raw(tmp_path, "scan2.pdf", data)
    assert raw.report["skipped_pages"] == [2] and raw.report["ocr_pages"] == []
    assert any("apt-get install tesseract-ocr tesseract-ocr-swe" in w for w in raw.report["warnings"])
    assert "samkommunstämmorna" in raw.text  # the page with text still ingests


def test_ocr_page_limit_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda lang="swe": True)
    data = _pdf([_scan_page(SCAN), _scan_page(SCAN), lambda c: _lines(c, CLEAN)])
    calls = []
    monkeypatch.setattr(ocr, "run_tesseract", lambda image, lang="swe", timeout=60: calls.append(1) or "")
    result = read_pdf(data, "many.pdf", OcrLimits(max_pages=1))
    assert len(calls) == 1
    assert any("OCR-gränsen" in w for w in result.report.warnings)


def test_form_in_two_columns_read_row_by_row(tmp_path):
    def page(c):
        c.setFont("Helvetica-Bold", 11)  # the form's heading, in bold over its two columns
        c.drawString(LEFT, 730, "Projekt (3) - Hafreborg")
        c.drawString(230, 730, "Projektbeskrivning")
        c.setFont("Helvetica", 11)
        rows = [(["Investeringsutgift"], ["2027 1 000 tkr. Projektets totala kalkylerade", "utgifter uppgår till 5 000 tkr."]),
                (["Status"], ["Pågående"]),
                (["Vilken driftseffekt, exkl.", "kapitalkostnader, får", "projektet?"], ["100 tkr årligen för service och underhåll."])]
        y = 700
        for keys, values in rows:
            for i in range(max(len(keys), len(values))):
                if i < len(keys):
                    c.drawString(LEFT, y - 13 * i, keys[i])
                if i < len(values):
                    c.drawString(230, y - 13 * i, values[i])
            y -= 13 * max(len(keys), len(values)) + 8
    raw = _raw(tmp_path, "form.pdf", _pdf([page]))
    assert "Status: Pågående" in raw.text
    assert "Vilken driftseffekt, exkl. kapitalkostnader, får projektet? 100 tkr årligen" in raw.text
    doc = parse_document(raw)
    assert any(f.value == 5000 and f.unit == "tkr" for f in doc.facts)
    assert {tuple(c.section_path) for c in doc.chunks} == {("Projekt (3) - Hafreborg Projektbeskrivning",)}


def test_a_bold_line_of_its_own_is_a_heading_and_a_finnish_paragraph_is_named_as_one(tmp_path):
    """Headings set in bold at the body's size (a Word export) open sections; "196 § …" (the
    Finland-Swedish order) opens a paragraph named "§ 196 …"; a bold word inside running text
    does not."""
    def page(c):
        y = _lines(c, ["196 § Upptagande av långfristiga lån för staden"])
        c.setFont("Helvetica-Bold", 11)
        c.drawString(LEFT, y - 4, "Lån för investeringar 2022")  # the paragraph's title: no text of its own
        c.drawString(LEFT, y - 28, "Stadsdirektörens förslag")
        y -= 14
        y = _lines(c, ["Stadsstyrelsen beslutar att uppta ett lån på 6 miljoner euro med fast ränta.",
                       "Låneofferterna finns tillgängliga på mötet."], y=y - 42)
        c.setFont("Helvetica-Bold", 11)
        c.drawString(LEFT, y - 14, "Stadsstyrelsens beslut")
        _lines(c, ["Förslaget godkändes utan ändringar av stadsstyrelsen."], y=y - 42)

    raw = _raw(tmp_path, "lista.pdf", _pdf([page]))
    paths = [c.section_path for c in parse_document(raw).chunks]
    assert ["§ 196 Upptagande av långfristiga lån för staden", "Stadsdirektörens förslag"] in paths
    assert ["§ 196 Upptagande av långfristiga lån för staden", "Stadsstyrelsens beslut"] in paths
    assert len(raw.headings) == 3
    title = next(c for c in parse_document(raw).chunks if c.section_path == ["§ 196 Upptagande av långfristiga lån för staden"])
    assert title.text.strip() == "Lån för investeringar 2022"  # a bold line with a heading right under it stays text


def test_a_table_with_stacked_column_headings_is_read_by_its_columns(tmp_path):
    """Headings printed as centred words on several short lines over a row of numbers are read
    column by column (a word broken without a hyphen rejoined), so the row's numbers are facts
    under their headings; the section heading above stays a heading, and running text above
    numbers is no table heading."""
    def page(c):
        y = _lines(c, ["2.2.1 Personalvolym"])
        c.setFont("Helvetica", 8)
        stacks = {300: ["Aktuell", "period (ack", "sedan", "årets början)"],
                  360: ["Motsvaran", "de period", "föregående", "år"],
                  420: ["Prognos", "2026"], 480: ["Utfall", "2025"]}
        for x, words in stacks.items():
            for i, w in enumerate(words):
                c.drawCentredString(x - 12, y - 14 - 6 * i, w)
        c.setFont("Helvetica", 11)
        _row(c, y - 50, "Antal årsarbetare", ["197,7", "188,7", "750", "733,8"])
        y = _lines(c, ["Personalvolymen är högre än jämförbar period föregående år, men inom ramen för planeringen."],
                   y=y - 80)
        _row(c, y - 10, "Summa personal", ["12", "14", "15", "16"])
    raw = _raw(tmp_path, "stacked.pdf", _pdf([page]))
    assert "\tAktuell period (ack sedan årets början)\tMotsvarande period föregående år\tPrognos 2026\tUtfall 2025" \
        in raw.text
    assert "Antal årsarbetare\t197,7\t188,7\t750\t733,8" in raw.text
    assert "Personalvolymen är högre" in raw.text and "2.2.1 Personalvolym" in raw.text
    doc = parse_document(raw)
    rows = {f.column: f.value for f in doc.facts if "årsarbetare" in f.label}
    assert rows.get("Motsvarande period föregående år") == 188.7 and rows.get("Prognos 2026") == 750
