"""Every table of the sample corpus, as parsed, against a reviewed snapshot.

The snapshot (tests/golden/tables.json) records what the parser reads. The budget, survey and
budget-vs-utfall tables were checked by hand against the documents (and have explicit
assertions in test_tables.py); the 2017 financial statements, whose PDF columns are badly
scrambled, are recorded as parsed, with their rows marked uncertain. Regenerate deliberately
after a parser change (python tests/test_table_snapshot.py --update) and review the diff.
"""
import json
import sys
from pathlib import Path

import pytest

from ingest.pipeline import parse_document
from ingest.readers import read_document

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "golden" / "tables.json"


def parse_all() -> dict:
    out = {}
    for p in sorted((ROOT / "data" / "corpus").iterdir()):
        d = parse_document(read_document(p))
        out[d.source] = {
            "tables": [{"caption": t.caption[:80], "columns": t.columns, "unit": t.unit, "entity": t.entity,
                        "rows": [[r.label, r.values, r.uncertain] for r in t.rows]} for t in d.tables],
            "facts": len(d.facts),
            "discrepancies": sorted(x.explanation for x in d.discrepancies),
        }
    return json.loads(json.dumps(out, ensure_ascii=False))


@pytest.fixture(scope="module")
def parsed():
    return parse_all()


@pytest.mark.parametrize("source", sorted(json.loads(SNAPSHOT.read_text(encoding="utf-8"))))
def test_tables_match_snapshot(parsed, source):
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))[source]
    got = parsed[source]
    assert len(got["tables"]) == len(expected["tables"])
    for i, (g, e) in enumerate(zip(got["tables"], expected["tables"])):
        assert g == e, f"{source} table {i + 1} ({e['caption']!r}) changed"
    assert got["discrepancies"] == expected["discrepancies"]
    assert got["facts"] == expected["facts"]


if __name__ == "__main__" and "--update" in sys.argv:
    SNAPSHOT.write_text(json.dumps(parse_all(), ensure_ascii=False, indent=1), encoding="utf-8")
