"""Ingest on tiny fixtures: incremental manifest, broken files named, removal, live reload."""

import pytest

from assistant.settings import Settings
from index.store import CouncilIndex

BUDGET = """# Kultur- och fritidsnämnden

## Budget 2027

Tabellen visar budgeten i tkr.

\t2026\t2027
Bibliotek\t1 200\t1 300
Simhall\t800\t900
<b>Summa</b>\t<b>2 000</b>\t<b>2 200</b>
"""


@pytest.fixture()
def index(tmp_path):
    return CouncilIndex(Settings(data_dir=tmp_path / "store", corpus_dir=tmp_path, embedding_backend="hashing"))


def test_incremental_ingest_and_broken_files(tmp_path, index):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "budget kultur å.md").write_text(BUDGET, encoding="utf-8")
    (docs / "trasig.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    report = index.ingest_paths([docs], sync_dir=docs)
    name = f"{tmp_path.name}/docs/budget kultur å.md"  # the path under the ingest root
    assert report.added == [name]
    broken = f"{tmp_path.name}/docs/trasig.pdf"
    assert broken in report.errors and broken in report.errors[broken]
    assert {f.value for f in index.facts if f.label == "Simhall"} == {800, 900}

    again = index.ingest_paths([docs], sync_dir=docs)
    assert again.unchanged == [name] and not again.added

    (docs / "budget kultur å.md").write_text(BUDGET.replace("900", "950").replace("2 200", "2 250"), encoding="utf-8")
    changed = index.ingest_paths([docs], sync_dir=docs)
    assert changed.updated == [name]
    assert {f.value for f in index.facts if f.label == "Simhall"} == {800, 950}

    (docs / "budget kultur å.md").unlink()
    removed = index.ingest_paths([docs], sync_dir=docs)
    assert removed.removed == [name]
    assert not index.chunks and not index.facts


def test_other_process_changes_are_seen(tmp_path):
    settings = Settings(data_dir=tmp_path / "store", corpus_dir=tmp_path, embedding_backend="hashing")
    reader = CouncilIndex(settings)
    writer = CouncilIndex(settings)
    f = tmp_path / "a.md"
    f.write_text(BUDGET, encoding="utf-8")
    writer.ingest_paths([f])
    assert not reader.chunks
    assert reader.refresh() and reader.chunks


def test_unsupported_and_missing(tmp_path, index):
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    report = index.ingest_paths([tmp_path / "x.xlsx", tmp_path / "saknas.md"])
    errors = " ".join(report.errors.values())
    assert "x.xlsx" in errors and ".xlsx stöds inte" in errors and "saknas.md" in errors


def test_discrepancy_in_fixture(tmp_path, index):
    f = tmp_path / "fel.md"
    f.write_text(BUDGET.replace("<b>2 000</b>", "<b>2 100</b>"), encoding="utf-8")
    index.ingest_paths([f])
    assert [(d.row, d.printed, d.computed) for d in index.discrepancies] == [("Summa", 2100, 2000)]


def test_a_discrepancy_is_stated_in_the_unit_its_table_prints(tmp_path, index):
    f = tmp_path / "fel.md"
    f.write_text(BUDGET.replace("## Budget 2027", "## Budget 2027, tkr").replace("<b>2 000</b>", "<b>2 100</b>"),
                 encoding="utf-8")
    index.ingest_paths([f])
    [d] = index.discrepancies
    assert d.unit == "tkr" and "2 000 tkr" in d.explanation
