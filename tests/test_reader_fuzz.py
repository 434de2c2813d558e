"""A bounded fuzz of the file readers: broken PDF, DOCX, HTML and text (a valid file with bytes
flipped, cut, or inserted) gives a document or a DocumentReadError with a reason, never another
exception, and never takes long."""
from __future__ import annotations

import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.pipeline import parse_document
from ingest.readers import DocumentReadError, read_document

SLOWEST_S = 5.0


def _pdf() -> bytes:
    canvas = pytest.importorskip("reportlab.pdfgen.canvas")
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 800, "Kultur- och fritidsnämnden 2026-03-02")
    c.drawString(72, 780, "Driftkostnaden för isbanan uppgår till 845 tkr för 2026.")
    c.showPage()
    c.drawString(72, 800, "Bibliotek\t1 200\t1 300")
    c.save()
    return buf.getvalue()


def _docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Tekniska nämnden", level=1)
    d.add_paragraph("Budgeten för snöröjning uppgår till 2 300 tkr för 2026.")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text, t.cell(1, 0).text, t.cell(1, 1).text = "Post", "2026", "Salt", "120"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


SEEDS = {
    "pdf": _pdf,
    "docx": _docx,
    "html": lambda: ("<html><head><title>Budget</title></head><body><h1>Budget 2026</h1><p>Simhall 800 tkr."
                     "</p><table><tr><td>Bibliotek</td><td>1 200</td></tr></table></body></html>").encode(),
    "txt": lambda: "PROTOKOLL\n§ 12 Budget 2026\nBeslut\natt fastställa budget 2026,\nSumma\t2 000\n".encode("cp1252"),
}


@st.composite
def broken(draw, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            data = data[:at] + data[at + draw(st.integers(1, 4096)):]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            data[at:at + draw(st.integers(1, 512))] = b"\x00" * draw(st.integers(1, 512))
    return bytes(data)


@pytest.mark.parametrize("fmt", list(SEEDS))
def test_broken_files_fail_clearly(fmt, tmp_path):
    seed = SEEDS[fmt]()
    path = tmp_path / f"trasig.{fmt}"
    outcomes = {"read": 0, "refused": 0}

    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=broken(seed))
    def run(data):
        started = time.perf_counter()
        try:
            raw = read_document(path, data=data, source=f"fuzz/{path.name}")
            parse_document(raw)
            outcomes["read"] += 1
        except DocumentReadError as exc:
            assert exc.reason and path.name in str(exc)
            outcomes["refused"] += 1
        assert time.perf_counter() - started < SLOWEST_S

    run()
    print(fmt, outcomes)
    assert outcomes["read"] + outcomes["refused"] >= 20
