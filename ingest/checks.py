"""Check the arithmetic printed in each table.

A row whose parts should add up to its last column (årsbudget + uppräkning + tillskott +
omfördelning = ny budget), a difference column (budget − utfall = differens) and total rows
("Summa", "Total") are recomputed; what does not match is reported as a Discrepancy. A
relation is only enforced when most rows of the table obey it, so a table that simply has
no such structure is never flagged.
"""
from __future__ import annotations

import re
from collections import Counter
from itertools import combinations

from .model import Discrepancy, Fact, Table, TableRow
from .numbers import format_number


def signed_sum(values: list[float]) -> str:
    """`494,5 + 4,2 − 4` rather than `494,5 + 4,2 + −4`."""
    text = format_number(values[0])
    for v in values[1:]:
        text += f" − {format_number(-v)}" if v < 0 else f" + {format_number(v)}"
    return text


def _tolerance(values: list[float]) -> float:
    decimals = any(abs(v - round(v)) > 1e-9 for v in values)
    return (0.051 if decimals else 0.5) * max(1, len(values) - 1) if decimals else 1.0


def _row_sum_ok(v: list[float]) -> bool:
    return abs(sum(v[:-1]) - v[-1]) <= _tolerance(v)


def _row_prefix_ok(v: list[float]) -> bool:
    return abs(v[0] + v[1] - v[2]) <= _tolerance(v[:3])


def _row_diff_ok(v: list[float]) -> bool:
    return abs(abs(v[0] - v[1]) - abs(v[2])) <= _tolerance(v[:3])


RELATIONS = (("sum", _row_sum_ok), ("prefix", _row_prefix_ok), ("diff", _row_diff_ok))


def check_table(table: Table, unit: str | None = None) -> list[Discrepancy]:
    """Row relations first (the one most rows obey), then total rows. `unit`: the table's unit as
    its facts read it (printed in the caption or inferred), so a discrepancy is stated in it."""
    out: list[Discrepancy] = []
    full = [r for r in table.rows if len(r.values) >= 3 and all(v is not None for v in r.values)]
    unit = unit or table.unit
    if full and unit != "%":  # shares in a row do not add up
        width = Counter(len(r.values) for r in full).most_common(1)[0][0]
        rows = [r for r in full if len(r.values) == width]
        support = [(sum(ok(r.values) for r in rows) / len(rows), name, ok) for name, ok in RELATIONS]
        share, name, ok = max(support, key=lambda s: s[0])
        if len(rows) >= 3 and share >= 0.6:
            for r in rows:
                if not ok(r.values):
                    out.append(_row_discrepancy(table, r, name, unit))
    out.extend(_check_totals(table, unit))
    return out


def _row_discrepancy(table: Table, r: TableRow, relation: str, unit: str | None) -> Discrepancy:
    v = r.values
    if relation == "sum":
        computed, formula, printed, col = sum(v[:-1]), signed_sum(v[:-1]), v[-1], -1
    elif relation == "prefix":
        computed, formula, printed, col = v[0] + v[1], signed_sum(v[:2]), v[2], 2
    else:
        computed, formula, printed, col = v[0] - v[1], f"{format_number(v[0])} − {format_number(v[1])}", v[2], 2
    label = table.columns[col] if table.columns and len(table.columns) >= len(v) else ""
    return _discrepancy(table, r, printed, computed, formula, label, unit)


def _check_totals(table: Table, unit: str | None) -> list[Discrepancy]:
    """A total row must equal the rows above it (since the previous total), or follow from it."""
    out = []
    width = max((len(r.values) for r in table.rows), default=0)
    for col in range(width):
        label = table.columns[col] if col < len(table.columns) else ""
        if "%" in label or "andel" in label.lower() or unit == "%":
            continue  # shares do not add up to their total row
        parts: list[float] = []
        totals: list[float] = []
        matched = failed = 0
        pending: list[tuple[TableRow, float, float, str]] = []
        for r in table.rows:
            v = r.values[col] if col < len(r.values) else None
            if v is None:
                continue
            if r.uncertain:  # a guessed split proves nothing either way
                parts, totals = [], []
                continue
            if not r.is_total:
                parts.append(v)
                continue
            candidates = []
            if parts:
                candidates.append((sum(parts), " + ".join(format_number(p) for p in parts)))
            if totals and parts:
                candidates.append((totals[-1] + sum(parts), f"{format_number(totals[-1])} + " +
                                   " + ".join(format_number(p) for p in parts)))
                candidates.append((totals[-1] - sum(parts), f"{format_number(totals[-1])} − " +
                                   " − ".join(format_number(p) for p in parts)))
            for size in range(2, min(4, len(totals)) + 1):
                for combo in combinations(totals[-6:], size):
                    candidates.append((sum(combo), " + ".join(format_number(t) for t in combo)))
            if len(totals) >= 2:
                candidates.append((totals[-1] - totals[-2], f"{format_number(totals[-1])} − {format_number(totals[-2])}"))
                candidates.append((totals[-2] - totals[-1], f"{format_number(totals[-2])} − {format_number(totals[-1])}"))
            tol = _tolerance([v, *parts]) * (3 if any(abs(p - round(p)) > 1e-9 for p in parts) else 1)
            if any(abs(c - v) <= tol for c, _ in candidates):
                matched += 1
            elif candidates:
                failed += 1
                pending.append((r, v, candidates[0][0], candidates[0][1]))
            totals.append(v)
            parts = []
        explicit = [p for p in pending if re.match(r"(summa|total)", p[0].label, re.I)]
        if matched == 0:
            pending = explicit  # without a matching total, only rows that call themselves a sum are checked
        if pending:
            for r, printed, computed, formula in pending:
                out.append(_discrepancy(table, r, printed, computed, formula, label, unit))
    return out


def _discrepancy(table: Table, row: TableRow, printed: float, computed: float, formula: str,
                 column: str, unit: str | None) -> Discrepancy:
    u = f" {unit}" if unit else ""
    where = f"raden {row.label}" + (f", kolumnen {column}" if column else "")
    explanation = (f"Summeringen stämmer inte på {where}: {formula} = {format_number(computed)}{u}, "
                   f"men tabellen anger {format_number(printed)}{u}.")
    return Discrepancy(table.source, table.table_id, table.caption or " > ".join(table.section_path),
                       row.label, printed, computed, f"{formula} = {format_number(computed)}", explanation,
                       unit, row.start, row.end)


def cross_check_prose(facts: list[Fact], tables: list[Table]) -> list[Discrepancy]:
    """An amount stated in the text that nearly, but not exactly, equals a table row about the
    same thing (a shared word, a compatible year) is most likely a typo in one of them."""
    from ingest.numbers import MONEY_UNITS, to_unit

    def words(text: str) -> set[str]:  # first five letters: "budgeten" and "budget" are one word
        return {w.lower()[:5] for w in re.findall(r"[A-Za-zÅÄÖåäö]{5,}", text)}

    def rounded(value: float, like: float) -> float:
        """A table value rounded as the text rounds (1 982 tkr is "1,98 mkr")."""
        text = f"{like}"
        decimals = len(text.split(".")[1].rstrip("0")) if "." in text else 0
        return round(value, decimals)

    by_id = {t.table_id: t for t in tables}
    table_facts = [f for f in facts if f.kind == "table" and f.unit in MONEY_UNITS and not f.uncertain]
    out = []
    for p in (f for f in facts if f.kind == "text" and f.unit in MONEY_UNITS and not f.superseded_by):
        pw = words(p.label)
        same_value = any(abs(to_unit(abs(t.value), t.unit, p.unit) - abs(p.value)) < 1e-6 for t in table_facts)
        if same_value:
            continue
        for t in table_facts:
            value = rounded(to_unit(abs(t.value), t.unit, p.unit), abs(p.value))
            if not value or not (0 < abs(value - abs(p.value)) / value <= 0.015):
                continue
            if p.year and t.year and p.year != t.year:
                continue
            # the row itself is named in the clause, or the column is and the sentence names the row
            row_named = bool(pw & words(t.label))
            column_named = bool(pw & words(t.column or "")) and bool(words(p.quote) & words(t.label))
            if not (row_named or column_named):
                continue
            table = by_id.get(t.table_id)
            u = f" {p.unit}"
            out.append(Discrepancy(
                p.source, t.table_id or "", table.caption if table else t.caption, t.label, abs(p.value), value,
                f"text {format_number(abs(p.value))}{u} ≠ tabell {format_number(value)}{u}",
                f"Texten anger {format_number(abs(p.value))}{u} ({p.label}), men tabellen anger "
                f"{format_number(value)}{u} på raden {t.label}" + (f", kolumnen {t.column}" if t.column else "") + ".",
                p.unit, p.start, p.end))
            break
    return out
