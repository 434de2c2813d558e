"""Documents added while the server runs: PDF (with pages), DOCX, and a broken file."""
import time

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.settings import Settings
from tiny import ingest_via_api

reportlab = pytest.importorskip("reportlab")


def make_pdf(path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawString(72, 800, "Kultur- och fritidsnämnden")
    c.drawString(72, 780, "Sammanträde 2026-03-02")
    c.showPage()
    c.drawString(72, 800, "Isbanan vid Gammliavallen")
    c.drawString(72, 780, "Driftkostnaden för isbanan uppgår till 845 tkr för 2026.")
    c.showPage()
    c.save()


def make_docx(path):
    import docx

    d = docx.Document()
    d.add_heading("Tekniska nämnden", level=1)
    d.add_heading("Snöröjning", level=2)
    d.add_paragraph("Budgeten för snöröjning i Holmsund uppgår till 2 300 tkr för 2026.")
    d.save(path)


EDITOR = {"X-API-Key": "editor-key-for-live-test"}


@pytest.fixture()
def client(tmp_path):
    (tmp_path / "nya handlingar").mkdir()
    settings = Settings(data_dir=tmp_path / "store", ingest_roots=[str(tmp_path / "nya handlingar")],
                        api_keys={"editor": {"key": EDITOR["X-API-Key"], "role": "editor"}}, anonymous_read=True)
    with TestClient(create_app(settings, with_ui=False)) as c:
        yield c


def test_pdf_docx_and_broken_file_while_serving(client, tmp_path):
    folder = tmp_path / "nya handlingar"
    make_pdf(folder / "KFN protokoll 2026.pdf")
    make_docx(folder / "Tekniska nämnden – snöröjning.docx")
    (folder / "trasig.pdf").write_bytes(b"%PDF-1.7\n%garbage without objects")
    assert client.post("/api/ask", json={"question": "Vad kostar driften av isbanan 2026?"}).json()["abstained"]

    start = time.perf_counter()
    report = ingest_via_api(client, [str(folder)], EDITOR)
    assert sorted(report["added"]) == ["nya handlingar/KFN protokoll 2026.pdf",
                                       "nya handlingar/Tekniska nämnden – snöröjning.docx"]
    assert "trasig.pdf" in report["errors"]["nya handlingar/trasig.pdf"]

    body = client.post("/api/ask", json={"question": "Vad kostar driften av isbanan 2026?"}).json()
    assert time.perf_counter() - start < 60
    assert not body["abstained"]
    assert any(f["value"] == 845 and f["unit"] == "tkr" for f in body["figures"])
    cite = next(c for c in body["citations"] if c["source"] == "nya handlingar/KFN protokoll 2026.pdf")
    assert cite["page"] == 2

    body = client.post("/api/ask", json={"question": "Hur stor är budgeten för snöröjning i Holmsund?"}).json()
    assert any(f["value"] == 2300 for f in body["figures"])
    assert body["citations"][0]["source"] == "nya handlingar/Tekniska nämnden – snöröjning.docx"

    doc = client.get("/api/documents/nya handlingar/KFN protokoll 2026.pdf").json()
    assert doc["report"]["pages"] == 2 and doc["report"]["ocr_pages"] == [] and doc["report"]["facts"] >= 1
    assert "ingest_report" not in doc["structure"]
    assert report["files"]["nya handlingar/KFN protokoll 2026.pdf"]["pages"] == 2

    assert client.delete("/api/documents/nya handlingar/KFN protokoll 2026.pdf", headers=EDITOR).status_code == 200
    gone = client.post("/api/ask", json={"question": "Vad kostar driften av isbanan 2026?"}).json()
    assert gone["abstained"]
