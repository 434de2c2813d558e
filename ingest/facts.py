"""Facts: every number the documents state, with what it is about and where it stands.

Table cells become facts with their row label, column label, year and unit; amounts in
running text ("Föreningsbidraget för 2026 uppgår till 1 126 tkr") become facts labelled by
their sentence. Units the table does not print are inferred from its numbers and the text.
"""
from __future__ import annotations

import re
from collections import Counter

from .model import Block, Fact, Table
from .numbers import find_amounts, normalise_unit
from .tables import YEAR

COUNT_NOUNS = re.compile(
    r"^\s*(personer|medarbetare|deltagare|platser|st\b|stycken|svar|chefer|tjänster|årsverken|ärenden|"
    r"anställda|elever|barn|ungdomar|familjer|besökare|medlemmar|ledare|invånare|lägenheter|bostäder|"
    r"volontärer|avtal|möten|träffar|deltagartillfällen|aktiviteter|enheter|verksamheter|"
    r"kommuner|sovplatser|anmälningar|brott|timmar|dagar|veckor|månader)\b", re.I)
# Numbers that are identifiers or dates, never amounts.
MASKS = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),                     # dates
    re.compile(r"\b[A-ZÅÄÖ]{2,5}[- ]?\d{4}[/-]\d{3,5}\b"),   # diarienummer KS-2026/00467
    re.compile(r"\b\d{1,4}/\d{2,4}\b"),                       # ärendenummer 189/26
    re.compile(r"§\s*\d+"),
    re.compile(r"\b\d{1,2}[.:]\d{2}\s*[-–]\s*\d{1,2}[.:]\d{2}\b"),  # times
    re.compile(r"\b\d{6}[-–]\d{4}\b"),                        # org.nr
    re.compile(r"\b(?:19|20)\d{2}\s*[-–]\s*(?:19|20)\d{2}\b"),  # periods 2026–2028
]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9])")
WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé]")


def column_unit(label: str) -> str | None:
    low = label.lower()
    if "%" in low or "andel" in low or "procent" in low:
        return "%"
    m = re.search(r"\b(tkr|mnkr|mkr|mdkr|kr|kronor)\b", low)
    if m:
        return normalise_unit(m.group(1))
    if re.search(r"\bantal\b", low):
        return "st"
    return None


def infer_table_unit(table: Table, document: str) -> str | None:
    """The table's unit: printed in its caption or header, else inferred from its numbers and the text."""
    if table.unit:
        return table.unit
    caption = table.caption if len(table.caption) <= 80 and not table.caption.endswith(".") else ""
    printed = " ".join([caption, *table.columns, *table.section_path[-1:]])
    m = re.search(r"\b(tkr|mnkr|mkr|mdkr|tusen kronor|miljoner kronor)\b", printed, re.I)
    if m:
        return normalise_unit(m.group(1))
    values = [v for r in table.rows for v in r.values if v is not None]
    if not values or not any(table.columns):
        return None  # without a header the numbers could be page numbers or counts
    decimals = any(abs(v - round(v)) > 1e-9 for v in values)
    big = max(abs(v) for v in values)
    if decimals and big < 1e5 and re.search(r"\b(mnkr|mkr|mknr)\b", document):
        return "mnkr"
    if not decimals and big >= 1e5:
        return "kr"
    units = Counter(a.unit for a in find_amounts(document) if a.unit in ("kr", "tkr", "mnkr"))
    return units.most_common(1)[0][0] if units else None


def table_facts(table: Table, document: str, section: str) -> list[Fact]:
    if not any(table.columns) and not table.unit and not re.search(r"\b(tkr|mnkr|mkr|kr)\b", table.caption):
        return []  # numbers without a header or unit (page references, list numbers) are not facts
    unit = infer_table_unit(table, document)
    caption_years = set(YEAR.findall(table.caption)) or set(YEAR.findall(" ".join(table.section_path[-1:])))
    default_year = int(caption_years.pop()) if len(caption_years) == 1 else None
    facts = []
    for row in table.rows:
        for i, value in enumerate(row.values):
            if value is None:
                continue
            column = table.columns[i] if i < len(table.columns) else None
            cell = row.cells[i] if i < len(row.cells) else ""
            printed = re.search(r"(%|€|\bt?kr|\bmnkr)$", cell.strip(), re.I)  # a unit printed in the cell wins
            cunit = normalise_unit(printed.group(1)) if printed else (column_unit(column or "") or unit)
            if not printed and re.match(r"antal\b", row.label.strip(), re.I):
                cunit = "st"  # "Antal Major Incidents": a count, whatever the table's money unit
            group_years = set(YEAR.findall(row.group))
            year = ((table.years[i] if i < len(table.years) else None)
                    or (int(group_years.pop()) if len(group_years) == 1 else default_year))
            facts.append(Fact(
                source=table.source, section=section, entity=table.entity, label=row.label,
                column=column, year=year, value=value, unit=cunit, start=row.start, end=row.end,
                quote=row.text, kind="table", table_id=table.table_id,
                caption=" — ".join(dict.fromkeys(x for x in (table.caption, table.context, row.group) if x)),
                is_total=row.is_total, uncertain=row.uncertain, group=row.group))
    return facts


BULLET_SIGN = re.compile(r"^(\s*)[-–•*](?=\s)", re.M)


def _masked(text: str) -> str:
    for rx in MASKS:
        text = rx.sub(lambda m: "#" * len(m.group(0)), text)
    # a dash that starts a list item is a bullet, not a minus sign ("- 3,5 tjänster för …")
    return BULLET_SIGN.sub(lambda m: m.group(1) + " ", text)


FROM_TO = re.compile(r"\s+(till|–|-)\s+")
# a year at most two words before an amount ("2022 2,8 %", "2021 var det 3,1 %")
YEAR_BEFORE = re.compile(r"\b((?:19|20)\d\d)(?:\s+[a-zåäö]+){0,2}\s*$")
YEAR_AFTER = re.compile(r"\s*\((?:år\s+)?((?:19|20)\d\d)\)")
LIST_ITEM = re.compile(r"\n(?=\s*(?:\d{1,2}\.|[-•*])\s)")


def sentences(block: Block) -> list[tuple[int, int, str]]:
    """Sentences of a paragraph with absolute offsets (PDF line breaks joined; a numbered or
    bulleted line, such as an att-sats, is a sentence of its own)."""
    text = block.text
    out, pos = [], 0
    for item in LIST_ITEM.split(text):
        is_item = bool(re.match(r"\s*(?:\d{1,2}\.|[-•*])\s", item))
        for part in ([item] if is_item else SENTENCE_END.split(item)):  # an att-sats stays whole
            idx = text.find(part, pos)
            out.append((block.start + idx, block.start + idx + len(part), part))
            pos = idx + len(part)
    return out


def text_facts(block: Block, source: str, section: str, entity: str | None) -> list[Fact]:
    facts = []
    for s_start, s_end, sent in sentences(block):
        masked = _masked(sent)
        flat = re.sub(r"\s+", " ", sent).strip()
        amounts = find_amounts(masked)
        for k, amount in enumerate(amounts):
            unit = amount.unit
            if unit is None:
                if COUNT_NOUNS.match(masked[amount.end:]):
                    unit = "st"
                elif (k + 1 < len(amounts) and FROM_TO.fullmatch(masked[amount.end:amounts[k + 1].start])
                      and not YEAR.fullmatch(amount.text.strip())):  # "under 2024 till 3,9 %": a year
                    # "öka från 1 905 till 2 293 medarbetare": the first number has the second's unit
                    nxt = amounts[k + 1]
                    unit = nxt.unit or ("st" if COUNT_NOUNS.match(masked[nxt.end:]) else None)
                if unit is None:
                    continue
            if unit != "%" and YEAR.fullmatch(amount.text.strip()) and unit == "st":
                continue
            clause = _clause(masked, amount.start, amount.end)
            in_clause = {int(y) for y in YEAR.findall(clause)}
            if amount.unit:  # "2 026 tkr" is no year
                in_clause.discard(int(amount.value))
            year = in_clause.pop() if len(in_clause) == 1 else None
            if len(in_clause) > 1 and (just := YEAR_BEFORE.search(masked[:amount.start])):
                year = int(just.group(1))  # "2021 var det 3,1 % … och 2022 2,8 %": each its own year
            after = YEAR_AFTER.match(masked, amount.end)  # "1,98 mkr (2022) och 2,6 mkr (2023)"
            if after:
                year = int(after.group(1))
            facts.append(Fact(
                source=source, section=section, entity=entity, label=_clause(sent, amount.start, amount.end),
                column=None,
                year=year, value=amount.value, unit=unit, start=s_start + amount.start,
                end=s_start + amount.end, quote=flat[:400], kind="text"))
    return facts


def _clause(sentence: str, start: int, end: int) -> str:
    """The words around an amount that say what it is: `Föreningsbidraget för 2026 uppgår till 1 126 tkr`."""
    left = sentence[max(0, start - 90):start]
    cut = max(left.rfind(". "), left.rfind("; "), left.rfind(", "), left.rfind("("))
    left = left[cut + 1:] if cut >= 0 else left
    left = re.sub(r"^[^()]*\)\s*", "", left)  # the tail of an earlier parenthesis: "2022) och "
    right = sentence[end:end + 50]
    stop = min([i for i in (right.find(","), right.find("."), right.find(";"), right.find("(")) if i >= 0] or [len(right)])
    return re.sub(r"\s+", " ", (left + sentence[start:end] + right[:stop])).strip()
