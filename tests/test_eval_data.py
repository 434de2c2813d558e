"""The evaluation data must be exactly supported by its documents.

Checks every question file in ``eval/`` (golden and held-out): each line parses, ids are
unique, kinds are the scorer's kinds, every ``source``/``also_source`` names a document that
exists, and every expectation of an answerable question is written in its document(s) as read by
the project's own reader (``ingest.readers.read_document``) after the scorer's normalisation
(case, whitespace, dashes). Expected numbers must be printed in a source, Swedish style; a
computed question's ``formula`` must use only operands printed in its sources and must evaluate
to the expected number. ``absent`` strings (the fact a near-miss abstention asks for) must occur in
no document at all. Questions marked ``"ocr": true`` (a PDF whose text layer garbles the name)
skip only the text check, and say why in their note.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from functools import lru_cache
from pathlib import Path

import pytest

from ingest.readers import read_document

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = [ROOT / "eval" / "golden.jsonl", ROOT / "eval" / "heldout.jsonl"]
SHARED_DOCS = ROOT.parent / "shared" / "eval" / "real" / "docs"
DOC_DIRS = [ROOT / "data" / "corpus", ROOT / "eval" / "docs", SHARED_DOCS]
KINDS = {"lookup", "figure", "computed", "decision", "agenda", "consistency", "multi_doc", "robustness", "abstain"}
FIELDS = {"id", "question", "kind", "source", "also_source", "expect_any", "expect_all", "expect_number",
          "expect_number_any", "abstain", "note", "ocr", "formula", "absent"}
MONEY = {"kr": 1, "kronor": 1, "sek": 1, "tkr": 1e3, "tusen kronor": 1e3, "mnkr": 1e6, "mkr": 1e6,
         "mknr": 1e6, "miljoner kronor": 1e6, "miljoner": 1e6, "mdkr": 1e9}


def norm(text: str) -> str:
    """The scorer's normalisation (../shared/eval/score.py), so a check here means a match there."""
    text = str(text).replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


# A number as the documents print it: thousands grouped by spaces, decimal comma (or point).
NUMBER = re.compile(r"(?<![\w,.])(-?\d{1,3}(?:[ \u00a0\u202f]\d{3})+|-?\d+)(?:[,.](\d+))?")


def numbers_in(text: str) -> set[float]:
    out = set()
    for m in NUMBER.finditer(text.replace("\u2212", "-")):
        whole = re.sub(r"[ \u00a0\u202f]", "", m.group(1))
        frac = "." + m.group(2) if m.group(2) else ""
        out.add(round(float(whole + frac), 6))
        # Table columns that extraction separates by a single space ("174 020 162 000") read as one
        # grouped number; every run of its groups may be a printed number of its own.
        groups = re.split(r"[ \u00a0\u202f]", m.group(1).lstrip("-"))
        for i in range(len(groups)):
            for j in range(i + 1, len(groups) + 1):
                if (i, j) != (0, len(groups)):
                    out.add(round(float("".join(groups[i:j]) + (frac if j == len(groups) else "")), 6))
    return out


def load(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # name the line: a bad line must be easy to find
                raise AssertionError(f"{path.name}:{n} is not JSON: {exc}") from None
    return rows


QUESTIONS = [(p.name, q) for p in QUESTION_FILES if p.exists() for q in load(p)]


def doc_path(name: str) -> Path | None:
    for d in DOC_DIRS:
        if (d / name).is_file():
            return d / name
    return None


def shared_missing(name: str) -> bool:
    """A document under ../shared is only checkable where that folder is checked out."""
    return not SHARED_DOCS.is_dir() and doc_path(name) is None


@lru_cache(maxsize=None)
def doc_text(name: str) -> str:
    path = doc_path(name)
    assert path is not None, f"document {name} not found in {[str(d) for d in DOC_DIRS]}"
    return norm(read_document(path).text)


@lru_cache(maxsize=None)
def doc_numbers(name: str) -> frozenset[float]:
    path = doc_path(name)
    return frozenset(numbers_in(read_document(path).text))


def all_doc_names() -> list[str]:
    return sorted({p.name for d in DOC_DIRS if d.is_dir() for p in d.iterdir() if p.is_file()
                   and p.suffix.lower() in (".txt", ".md", ".html", ".pdf", ".docx")})


def sources(q: dict) -> list[str]:
    return [q[k] for k in ("source", "also_source") if q.get(k)]


def ids(rows):
    return [f"{f}:{q.get('id')}" for f, q in rows]


def test_question_files_exist_and_are_not_trivial():
    assert (ROOT / "eval" / "golden.jsonl").exists()
    assert (ROOT / "eval" / "heldout.jsonl").exists()
    assert len([1 for f, _ in QUESTIONS if f == "heldout.jsonl"]) >= 120


def test_ids_unique_across_files():
    seen: dict[str, str] = {}
    for f, q in QUESTIONS:
        assert q.get("id"), f"{f}: question without id: {q}"
        assert q["id"] not in seen, f"id {q['id']} in {f} and {seen[q['id']]}"
        seen[q["id"]] = f


@pytest.mark.parametrize("fname,q", QUESTIONS, ids=ids(QUESTIONS))
def test_question_shape(fname, q):
    assert set(q) <= FIELDS, f"unknown fields {set(q) - FIELDS}"
    assert isinstance(q["question"], str) and q["question"].strip()
    assert q["kind"] in KINDS
    assert q.get("source"), "every question needs a source (the fold it belongs to when splitting by document)"
    if q.get("abstain"):
        assert q["kind"] == "abstain"
        assert not any(k in q for k in ("expect_any", "expect_all", "expect_number", "expect_number_any"))
    else:
        assert q["kind"] != "abstain"
        assert any(k in q for k in ("expect_any", "expect_all", "expect_number", "expect_number_any")), \
            "an answerable question must expect something"
    for key in ("expect_any", "expect_all"):
        if key in q:
            assert isinstance(q[key], list) and q[key] and all(isinstance(s, str) and s.strip() for s in q[key])
    for w in q.get("expect_number_any") or ([q["expect_number"]] if "expect_number" in q else []):
        assert isinstance(w.get("value"), (int, float)) and isinstance(w.get("unit"), str)
    if fname == "heldout.jsonl":
        assert q.get("note"), "held-out questions cite their evidence (page/section and text) in the note"
        if q["kind"] == "computed":
            assert q.get("formula"), "a held-out computed question states its formula over cited figures"


@pytest.mark.parametrize("fname,q", QUESTIONS, ids=ids(QUESTIONS))
def test_sources_exist(fname, q):
    for name in sources(q):
        if shared_missing(name):
            pytest.skip("../shared is not checked out here")
        assert doc_path(name) is not None, f"{name} is not in data/corpus, eval/docs or ../shared/eval/real/docs"


ANSWERABLE = [(f, q) for f, q in QUESTIONS if not q.get("abstain")]


@pytest.mark.parametrize("fname,q", ANSWERABLE, ids=ids(ANSWERABLE))
def test_expected_text_is_in_the_sources(fname, q):
    names = sources(q)
    if any(shared_missing(n) for n in names):
        pytest.skip("../shared is not checked out here")
    if q.get("ocr"):
        pytest.skip("text layer garbles this name (see the note)")
    text = " \n ".join(doc_text(n) for n in names)
    computed = evaluate(q["formula"])[0] if q.get("formula") else None

    def supported(s: str) -> bool:
        # Written in the document, or (consistency questions) the result of the cited formula.
        if norm(s) in text:
            return True
        return computed is not None and any(abs(v - computed) <= max(abs(computed) * 0.005, 0.051)
                                            for v in numbers_in(s))

    for s in q.get("expect_all", []):
        assert supported(s), f"expect_all {s!r} is not written in {names}"
    if "expect_any" in q:
        assert any(supported(s) for s in q["expect_any"]), f"none of {q['expect_any']} is written in {names}"


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate(formula: str) -> tuple[float, list[float]]:
    """Evaluate '1 687 050 + 2 603 541' or '(6,4 - 5,1) / 5,1 * 100'; return value and operands."""
    operands: list[float] = []

    def number(m):
        value = float(re.sub(r"\s", "", m.group(1)) + ("." + m.group(2) if m.group(2) else ""))
        operands.append(value)
        return repr(value)

    expr = re.sub(r"(\d{1,3}(?:[ \u00a0]\d{3})+|\d+)(?:,(\d+))?", number, formula)

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        raise ValueError(f"unsupported formula part in {formula!r}")

    return ev(ast.parse(expr, mode="eval")), operands


NUMERIC = [(f, q) for f, q in ANSWERABLE if "expect_number" in q or "expect_number_any" in q]
# Constant multipliers a formula may use that no document needs to print (percent, average).
FORMULA_CONSTANTS = {100.0, 2.0, 3.0, 12.0}


@pytest.mark.parametrize("fname,q", NUMERIC, ids=ids(NUMERIC))
def test_expected_numbers_are_printed_or_computed_from_printed_operands(fname, q):
    names = sources(q)
    if any(shared_missing(n) for n in names):
        pytest.skip("../shared is not checked out here")
    printed = set().union(*(doc_numbers(n) for n in names))
    wanted = q.get("expect_number_any") or [q["expect_number"]]
    if q.get("formula"):
        value, operands = evaluate(q["formula"])
        for op in operands:
            assert round(op, 6) in printed or op in FORMULA_CONSTANTS, \
                f"operand {op} of {q['formula']!r} is not printed in {names}"
        assert any(abs(value - w["value"]) <= max(abs(w["value"]) * 0.005, 0.051) for w in wanted), \
            f"{q['formula']} = {value}, expected {wanted}"
    elif q["kind"] == "computed":
        pytest.skip("older computed question without a formula (golden); its operands are in the note")
    else:
        def renderings(w):
            unit = w["unit"].casefold()
            yield round(w["value"], 6)
            if unit in MONEY:  # the same amount printed in another money unit
                for scale in (1, 1e3, 1e6, 1e9):
                    yield round(w["value"] * MONEY[unit] / scale, 6)
        assert any(v in printed for w in wanted for v in renderings(w)), f"{wanted} is not printed in {names}"


ABSENT = [(f, q) for f, q in QUESTIONS if q.get("absent")]


@pytest.mark.parametrize("fname,q", ABSENT, ids=ids(ABSENT))
def test_near_miss_fact_is_absent_from_every_document(fname, q):
    texts = {n: doc_text(n) for n in all_doc_names()}
    for s in q["absent"]:
        hits = [n for n, t in texts.items() if norm(s) in t]
        assert not hits, f"{s!r} (asked for by an abstention) is written in {hits}"


def test_formula_evaluator_can_fail():
    value, operands = evaluate("1 687 050 + 2 603 541")
    assert value == 4290591 and operands == [1687050, 2603541]
    assert evaluate("(6,4 - 5,1) / 5,1 * 100")[0] == pytest.approx(25.49, abs=0.01)
    with pytest.raises(ValueError):
        evaluate("__import__('os')")


def test_number_reader_reads_swedish_style():
    assert {1037065.0, 6.4, 53.92, 2.0} <= numbers_in("1 037 065 kr, 6,4 mnkr, 53,92 %, 2")
    assert {174020.0, 162000.0} <= numbers_in("174 020 162 000")  # two table columns, one space apart
    assert 7.0 not in numbers_in("1 037 065")
