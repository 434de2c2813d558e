"""Golden outlines: meetings, agendas, paragraphs and decisions, in several layouts."""
from pathlib import Path

import pytest

from ingest.pipeline import parse_document
from ingest.readers import read_document

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"


def structure(path):
    return parse_document(read_document(path)).structure


@pytest.fixture(scope="module")
def ksnau():
    return structure(CORPUS / "2026-05-19_KSNAU_motesbok.md")


def test_meeting_book_agenda(ksnau):
    assert ksnau["meeting"] == {"date": "2026-05-19", "place": "Kommunstyrelsens sammanträdesrum",
                                "body": "Kommunstyrelsens näringslivs- och arbetsutskott"}
    items = {i["number"]: i for i in ksnau["agenda"]}
    assert sorted(items) == [f"{n}/26" for n in range(189, 199)]
    assert items["193/26"]["title"].startswith("Upphandling: Dnr 26157 Pistmaskin")
    assert items["193/26"]["group"] == "Beslutsärenden" and items["193/26"]["page"] == 162
    assert [i["number"] for i in ksnau["agenda"] if i["group"] == "Information"] == ["197/26", "198/26"]


def test_tjansteskrivelser(ksnau):
    by_dnr = {}
    for m in ksnau["tjansteskrivelser"]:
        by_dnr.setdefault(m.get("diarienummer"), []).append(m)
    inera = next(m for m in by_dnr["KS-2026/00467"] if m["title"].startswith("Ombud"))
    assert inera["date"] == "2026-05-05"
    assert inera["att_satser"][0].startswith("att ge fullmakt till Teresa Hansson")
    rattelse = next(m for m in by_dnr["KS-2025/00667"] if m["title"].startswith("Rättelse"))
    assert len(rattelse["att_satser"]) == 4 and "1 687 050" in rattelse["att_satser"][1]


def test_paragraph_76(ksnau):
    par = next(p for p in ksnau["paragraphs"] if p["paragraph"] == "§ 76")
    assert par["date"] == "2026-04-14" and par["diarienummer"] == "KS-2025/00667"
    assert len(par["beslut"]) == 5 and par["beslut"][2].startswith("3. att ingå")
    assert par["reservationer"] == [{"name": "Anders Ågren", "party": "M"}, {"name": "Lena Andersson", "party": "M"},
                                    {"name": "Lars Forsgren", "party": "SD"}]
    proposers = {p["name"] for y in par["yrkanden"] for p in y["who"]}
    assert {"Hans Lindberg", "Lars Forsgren", "Åsa Bäckström", "Maria Lindvall"} <= proposers
    assert ksnau["corrections"][0]["corrects"] == "§ 76" and ksnau["corrections"][0]["date"] == "2026-04-14"
    assert par["body"] == "Kommunstyrelsen"
    assert len(par["propositionsordning"]) == 4 and par["propositionsordning"][1].startswith("Avslag mot bifall")


def test_corrected_amounts_are_marked():
    doc = parse_document(read_document(CORPUS / "2026-05-19_KSNAU_motesbok.md"))
    wrong = [f for f in doc.facts if f.kind == "text" and f.value == 2703968 and "hela perioden" in f.quote]
    assert wrong and all(f.superseded_by.startswith("Rättelse av kommunstyrelsens beslut") for f in wrong)


def test_pdf_text_kallelse():
    st = structure(CORPUS / "2017-02-24_Samordningsforbundet_styrelse_kallelse.txt")
    assert st["meeting"]["date"] == "2017-02-24" and st["meeting"]["time"] == "08.15–12.00"
    assert st["meeting"]["place"] == "Ungdomstorget, Sveagatan 8, Umeå"
    titles = {i["number"]: i["title"] for i in st["agenda"]}
    assert titles["17"] == "SUS stödjare" and titles["15"].startswith("Nomineringar")


def _protocol_checks(st):
    assert st["meeting"]["body"] == "Kommunfullmäktige" and st["meeting"]["date"] == "2025-11-24"
    p12, p13 = st["paragraphs"]
    assert p12["paragraph"] == "§ 12" and p12["title"].startswith("Budget 2026")
    assert p12["diarienummer"].replace("-", " ") == "KS 2025/0123"
    assert p12["beslut"] == ["att fastställa budget 2026 enligt kommunstyrelsens förslag,",
                             "att skattesatsen för 2026 ska vara 22,35 kronor."]
    assert [y["who"][0]["name"] for y in p12["yrkanden"]] == ["Anna Andersson", "Bo Berg"]
    assert p12["reservationer"] == [{"name": "Bo Berg", "party": "M"}, {"name": "Cecilia Ek", "party": "KD"}]
    assert p13["beslut"] == ["att välja Dan Ström till revisor."] and p13["date"] == "2025-11-24"


def test_other_municipality_plain_protocol():
    """A Word-made protocol: `§ 12 Title` lines, `Dnr KS 2025/0123`, `Namn (S): yrkande`."""
    _protocol_checks(structure(FIXTURES / "protokoll_exempelby.txt"))


def test_same_protocol_as_docx(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("PROTOKOLL", style="Title")
    lines = (FIXTURES / "protokoll_exempelby.txt").read_text(encoding="utf-8").split("\n")[1:]
    for line in lines:
        if line.startswith("§"):
            d.add_heading(line, level=1)
        elif line in ("Beslut", "Yrkanden", "Reservationer"):
            d.add_heading(line, level=2)
        elif line.strip():
            d.add_paragraph(line)
    path = tmp_path / "Protokoll KF 2025-11-24.docx"
    d.save(path)
    _protocol_checks(structure(path))


def test_agreements_with_parties_and_periods(ksnau):
    ags = {a["parties"][1]["name"]: a for a in ksnau["agreements"]}
    assert sorted(ags) == ["Pingstkyrkan i Umeå", "Umeå Pastorat", "Vän i Umeå"]
    pastorat = ags["Umeå Pastorat"]["parties"][1]
    assert pastorat == {"name": "Umeå Pastorat", "org_nr": "252003-8890", "contact": "Kristina Högdahl"}
    assert all(a["period"] == "1 maj 2026 – 31 december 2028" for a in ags.values())


@pytest.mark.parametrize("name, headings", [
    ("2026_IFN_verksamhetsplan_och_budget.txt", ["Förord", "Budget"]),
    ("2022_IOP_Van_i_Umea_forslag.md", ["Integration och inkludering Umeå", "Ekonomi", "Bilaga 1"]),
    ("2017-02-24_Samordningsforbundet_styrelse_kallelse.txt", ["1.6 Ekonomiskt utfall", "1.6.1 Ekonomisk sammanfattning"]),
])
def test_section_outlines(name, headings):
    outline = [p for o in structure(CORPUS / name)["outline"] for p in o["path"]]
    for h in headings:
        assert h in outline, h


def test_a_numbered_list_is_not_a_run_of_headings():
    """The documents listed under "Handlingar" are items of a list: the headings after them
    ("Omröstning") stay under the paragraph, and every item stays in the text."""
    from ingest.structure import split_sections

    text = ("§ 45 Ärendenummer SFF-2025-00571\nYttrande över anmärkning\n\nHandlingar\n"
            "    1.   Granskning av nämnden – verksamhetsåret 2025\n    2.   Protokollsutdrag SFN 2025-02-26 § 27\n"
            "    3.   Yrkande S, V och MP, protokollsbilaga 1\n    4.   Yrkande M, L och KD, protokollsbilaga 2\n\n"
            "Omröstning\nMed fem ja-röster mot sex nej-röster beslutar nämnden att bifalla yrkande M, L, KD.\n\n"
            "2. Ekonomi\nNämndens ekonomi är i balans och prognosen pekar på ett litet överskott.\n")
    sections = split_sections(text, "pdf")
    paths = [s.path for s in sections]
    assert ["§ 45 Ärendenummer SFF-2025-00571", "Omröstning"] in paths
    assert not any("Yrkande M, L och KD" in p[0] for p in paths if p)
    assert paths[-1] == ["2. Ekonomi"]  # a numbered heading that introduces text is still one
    listing = next(s for s in sections if s.path and s.path[-1] == "Handlingar")
    assert "2.   Protokollsutdrag" in text[listing.start:listing.end]
