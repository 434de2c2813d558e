"""Golden facts and checks for the tables of the sample corpus."""
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ingest.pipeline import parse_document
from ingest.readers import read_document

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


@pytest.fixture(scope="module")
def docs():
    return {p.name: parse_document(read_document(p)) for p in CORPUS.iterdir()}


def facts(doc, label, entity=None, year=None, column=None):
    return [f for f in doc.facts if f.kind == "table" and f.label == label
            and (entity is None or f.entity == entity) and (year is None or f.year == year)
            and (column is None or (f.column or "").startswith(column))]


def test_iop_budgets_belong_to_their_parties(docs):
    doc = docs["2026-05-19_KSNAU_motesbok.md"]
    for entity, expected in [("Vän i Umeå", [1687050, 2603541, 2703968]),
                             ("Umeå Pastorat", [672000, 1037065, 1077067]),
                             ("Pingstkyrkan i Umeå", [672000, 1037065, 1077067])]:
        got = [f.value for f in sorted(facts(doc, "Summa Umeå kommun", entity), key=lambda f: f.year)]
        assert got == expected, entity
        assert all(f.unit == "kr" for f in facts(doc, "Summa Umeå kommun", entity))
    assert [f.value for f in facts(doc, "Lokaler", "Umeå Pastorat", 2026)] == [130000]
    assert [f.value for f in facts(doc, "Lokaler", "Pingstkyrkan i Umeå", 2026)] == [67000]
    assert [f.value for f in facts(doc, "Egenfinansiering", "Vän i Umeå", 2026)] == [382950]


def test_survey_table_keeps_its_question(docs):
    doc = docs["2026-05-19_KSNAU_motesbok.md"]
    ja = [f for f in facts(doc, "Ja", column="Antal") if "arbetsmiljöpolicy" in f.caption]
    assert [f.value for f in ja] == [17]
    assert [f.unit for f in ja] == ["st"]


def test_ifn_budget_table_columns_and_units(docs):
    doc = docs["2026_IFN_verksamhetsplan_och_budget.txt"]
    summa = {f.column: f.value for f in facts(doc, "Summa nämnd")}
    assert summa["Årsbudget 2025"] == 1774.8
    assert summa["Budget från KF 2026"] == 1872.2
    assert all(f.unit == "mnkr" for f in facts(doc, "Summa nämnd"))
    assert [f.value for f in facts(doc, "Individ och familjeomsorg", column="Budget från KF")] == [524.5]


def test_ifn_new_investments_group(docs):
    doc = docs["2026_IFN_verksamhetsplan_och_budget.txt"]
    group = [f for f in doc.facts if "Nya satsningar 2026" in f.caption]
    assert sorted((f.label.strip(), f.value) for f in group) == [
        ("Arbetsskor", 1.0), ("Kompetenscentrum", 0.5), ("Ramtid Hemtjänst", 2.0)]


def test_ifn_discrepancies_are_found(docs):
    found = {(d.row, d.printed, round(d.computed, 1)) for d in docs["2026_IFN_verksamhetsplan_och_budget.txt"].discrepancies}
    assert found == {("Individ och familjeomsorg", 524.5, 525.5), ("Gemensamma kostnader", 100.7, 99.7)}


def test_pdf_rows_split_by_arithmetic(docs):
    doc = docs["2017-02-24_Samordningsforbundet_styrelse_kallelse.txt"]
    row = {f.column: f.value for f in facts(doc, "Steget Vidare 2")}
    assert row == {"Budget 2016": 2070, "Utfall 2016": 1767, "Differens": 303}
    row = {f.column: f.value for f in facts(doc, "Ungdomstorget 3")}
    assert row == {"Budget 2016": 2880, "Utfall 2016": 2559, "Differens": 321}
    assert all(not f.uncertain for f in facts(doc, "Ungdomstorget 3"))


def test_2022_iop_table_columns(docs):
    doc = docs["2022_IOP_Van_i_Umea_forslag.md"]
    summa = [f for f in facts(doc, "Summa") if "Umeå kommun" in (f.column or "")]
    assert sorted((f.year, f.value, f.unit) for f in summa) == [(2022, 1982, "tkr"), (2023, 2624, "tkr")]


def test_prose_amounts(docs):
    doc = docs["2026_IFN_verksamhetsplan_och_budget.txt"]
    text = [(f.value, f.unit) for f in doc.facts if f.kind == "text"]
    assert (1126, "tkr") in text and (3.98, "mnkr") in text and (3.95, "%") in text and (2404, "st") in text


def test_a_stated_amount_is_read_in_its_whole_sentence_across_blank_lines():
    # PDF text with a blank line between its lines: the sentence goes on after the blank line when the
    # line before ends mid-sentence and the next begins in lower case, or with a number after a
    # preposition; a list of values does not
    from ingest.readers import RawDocument
    text = ("Kommunens resultat\n\nFör kulturnämnden uppgår avvikelsen under 2025 till 2,1% vilket "
            "motsvarar 3 mnkr. Grannkommunen hade en \n\navvikelse på 4,2% under 2025.\n\n"
            "För fritidsnämnden uppvisas en avvikelse på\n\n1,7% vilket motsvarar 2 mnkr.\n\n"
            "2021 var det 3,1 % som slutade och \n\n2022 2,8 %.\n\n"
            "Resor och hyror betalas med 1 200,00 €\n\nstädning med 300,00 €\n")
    doc = parse_document(RawDocument("k.txt", "/tmp/k.txt", "txt", text))
    by_value = {f.value: f for f in doc.facts if f.kind == "text"}
    assert by_value[4.2].label.startswith("Grannkommunen hade en") and "Grannkommunen" in by_value[4.2].quote
    assert "fritidsnämnden" in by_value[1.7].label
    assert (by_value[3.1].year, by_value[2.8].year) == (2021, 2022)   # each its own year
    assert by_value[300].label == "städning med 300,00 €"   # a list line's value keeps its own label
    assert 2025 not in by_value   # "under 2025 till 2,1%": a year, not a share


def test_chunks_keep_offsets(docs):
    for doc in docs.values():
        for c in doc.chunks:
            assert doc.text[c.start:c.end] == c.text


def _swedish(n: int) -> str:
    return f"{n:,}".replace(",", " ")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1_000, 999_999), st.integers(1_000, 999_999)), min_size=2, max_size=8))
def test_a_table_laid_out_in_columns_is_read_by_its_gaps(rows):
    """`pdftotext -layout` writes a table as text with wide gaps between the cells: "A   25 250   30 700"
    is two numbers (not 25, 250, 30 and 700, nor 25 250 30 and 700) however the digits group."""
    from ingest.tables import find_blocks, parse_table

    lines = [f"{chr(65 + i)}{' ' * 8}{_swedish(a)}{' ' * 5}{_swedish(b)}" for i, (a, b) in enumerate(rows)]
    text = "Lönegrupp lägsta lön högsta lön\n\n```\n" + "\n".join(lines) + "\n```\n"
    blocks = [b for b in find_blocks(text, 0, len(text), False) if b.kind == "table"]
    table = parse_table(blocks[0], "doc.txt", 1, ["Löner"], None, "")
    assert [(r.label, r.values) for r in table.rows] == [(chr(65 + i), [float(a), float(b)])
                                                         for i, (a, b) in enumerate(rows)]
    assert not any("```" in c for c in table.columns)  # a code fence is no column header


def test_digits_that_group_two_ways_are_read_at_the_size_of_their_columns():
    """In text from a PDF the cells of a row are apart by one space, as are the digit groups of one
    number: "245 310" in a column of millions is 245 310, not 245 in one column and 310 in the next,
    and "183 040 171 000" is 183 040 and 171 000, not 183 and 40 171 000."""
    from ingest.tables import find_blocks, parse_table

    text = ("Belopp i kr 2024 2023\n"
            "Hyresintäkter 7 315 840 6 200 000\n"
            "Avgifter från förening A 245 310\n"
            "Avgifter från staden 1 894 120 1 730 000\n"
            "Avgifter från förening B 183 040 171 000\n"
            "Arrendeintäkter 4 208 600 3 950 000\n")
    table = parse_table(find_blocks(text, 0, len(text), False)[0], "doc.txt", 1, ["Intäkter"], None, "")
    got = {r.label: r.values for r in table.rows}
    assert got["Avgifter från förening A"] == [245310.0]
    assert got["Avgifter från förening B"] == [183040.0, 171000.0]
    assert got["Hyresintäkter"] == [7315840.0, 6200000.0]


def test_a_balance_sheet_note_takes_its_dates_as_columns():
    """A note of annual accounts heads its two columns with closing dates ("2031-12-31 2030-12-31") or
    years on a line of their own, under the note's title: the dates are the columns, and each value
    gets its year, not the words of the title."""
    from ingest.tables import find_blocks, parse_table

    for header, years in [("2024-12-31 2023-12-31", [2024, 2023]), ("2024 2023", [2024, 2023])]:
        text = (f"Not 4. Erhållna bidrag\n\n{header}\n\nBidrag från regionen\n\n5 120 400 4 980 000\n"
                "Bidrag från staden\n\n\n2 310 750 2 200 000\nSumma\n\n7 431 150 7 180 000\n")
        blocks = [b for b in find_blocks(text, 0, len(text), False) if b.kind == "table"]
        table = parse_table(blocks[0], "doc.txt", 1, ["Noter"], None, "")
        assert table.columns == header.split()
        assert table.years == years
        assert {r.label: r.values for r in table.rows}["Bidrag från staden"] == [2310750.0, 2200000.0]


def test_column_labels_that_start_with_a_number_follow_the_row_labels_heading():
    """"Lönegrupp 10 percentil 90 percentil": the row labels' heading, then one label per column,
    each opening with a number. The numbers name the columns; they are no values."""
    from ingest.tables import find_blocks, parse_table

    text = ("Lönegrupp 10 percentil 90 percentil\n\n```\nA            21 150     27 300\n\n"
            "B            22 400     29 850\nC            24 000     31 600\n```\n")
    blocks = [b for b in find_blocks(text, 0, len(text), False) if b.kind == "table"]
    table = parse_table(blocks[0], "doc.txt", 1, ["Löner"], None, "")
    assert table.columns == ["10 percentil", "90 percentil"]
    assert {r.label: r.values for r in table.rows}["B"] == [22400.0, 29850.0]
