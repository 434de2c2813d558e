"""Swedish numbers and amounts: parsing and formatting.

Council documents write `1 037 065` (space, NBSP or thin space as thousands separator),
`1 059,9` (decimal comma), `−4,0` (Unicode minus) and scale amounts with units such as
`tkr`, `mnkr`/`mkr` and `mdkr`. Everything here is pure so it can be property-tested.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from babel.numbers import format_decimal

SPACES = "\u00a0\u202f\u2009\u2007 "
MINUS = "-\u2212\u2013"

# Unit spellings → (canonical unit, scale to the canonical money unit kr or 1).
UNITS: dict[str, tuple[str, float]] = {
    "kr": ("kr", 1), "kronor": ("kr", 1), "sek": ("kr", 1), ":-": ("kr", 1),
    "tkr": ("tkr", 1e3), "tusen kronor": ("tkr", 1e3), "tsek": ("tkr", 1e3),
    "mnkr": ("mnkr", 1e6), "mkr": ("mnkr", 1e6), "mknr": ("mnkr", 1e6), "msek": ("mnkr", 1e6),
    "miljoner kronor": ("mnkr", 1e6), "miljoner": ("mnkr", 1e6), "miljon kronor": ("mnkr", 1e6),
    "mdkr": ("mdkr", 1e9), "miljarder kronor": ("mdkr", 1e9), "miljarder": ("mdkr", 1e9),
    "%": ("%", 1), "procent": ("%", 1),
    "€": ("€", 1), "euro": ("€", 1), "eur": ("€", 1),  # Swedish-speaking Finland
}
MONEY_UNITS = {"kr": 1.0, "tkr": 1e3, "mnkr": 1e6, "mdkr": 1e9}

# One number: optional sign, digits grouped by thousands separators or not, decimals.
_SP = "[" + SPACES + "]"
NUMBER_PATTERN = (
    r"(?<![\w,.])[" + MINUS + r"]?\s?(?:\d{1,3}(?:" + _SP + r"\d{3})+|\d+)(?:,\d+|\.\d+(?!\.\d))?(?![\d])"
)
NUMBER_RE = re.compile(NUMBER_PATTERN)
UNIT_ALTERNATIVES = "|".join(sorted((re.escape(u) for u in UNITS if u != ":-"), key=len, reverse=True))
AMOUNT_RE = re.compile(NUMBER_PATTERN + r"(?:\s?(" + UNIT_ALTERNATIVES + r")(?![\wåäö]))?", re.IGNORECASE)


@dataclass(frozen=True)
class Amount:
    """A number as printed, with its unit (canonical) and position in the text."""
    value: float
    unit: str | None
    start: int
    end: int
    text: str


def parse_number(text: str) -> float | None:
    """Parse one Swedish-formatted number (`1 037 065`, `1 059,9`, `−4,0`, `3.95`).

    Returns None when the text is not a single number.
    """
    s = text.strip()
    for ch in SPACES:
        s = s.replace(ch, " ")
    negative = False
    if s and s[0] in MINUS:
        negative = True
        s = s[1:].strip()
    if not s:
        return None
    if re.fullmatch(r"\d{1,3}(?: \d{3})+(?:,\d+)?|\d+(?:,\d+)?|\d+\.\d+", s) is None:
        return None
    value = float(s.replace(" ", "").replace(",", "."))
    return -value if negative else value


def normalise_unit(unit: str | None) -> str | None:
    if not unit:
        return None
    return UNITS.get(unit.strip().lower(), (None, 1))[0]


def find_amounts(text: str) -> list[Amount]:
    """All numbers in a text with the unit written right after them, if any."""
    out = []
    for m in AMOUNT_RE.finditer(text):
        raw = m.group(0)
        unit_text = m.group(1)
        num_text = raw[: len(raw) - len(unit_text)] if unit_text else raw
        value = parse_number(num_text.rstrip())
        if value is None:
            continue
        start = m.start()
        if raw[0] in MINUS and raw[1:2].isspace() and not text[text.rfind("\n", 0, start) + 1:start].strip():
            # "- 3,5 tjänster för …": a dash that opens a list item, not a minus sign
            value = abs(value)
            start += len(raw) - len(raw[1:].lstrip())
            raw = raw[start - m.start():]
        out.append(Amount(value, normalise_unit(unit_text), start, m.end(), raw.strip()))
    return out


def to_unit(value: float, unit: str, target: str) -> float:
    """Convert between money units (kr, tkr, mnkr, mdkr)."""
    if unit == target:
        return value
    return value * MONEY_UNITS[unit] / MONEY_UNITS[target]


def format_number(value: float, decimals: int | None = None) -> str:
    """Swedish formatting: `1 037 065`, `97,4`, `−4` (NBSP-free: plain spaces read better in JSON)."""
    if decimals is None:
        decimals = 0 if abs(value - round(value)) < 1e-9 else min(2, _decimals_needed(value))
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    text = format_decimal(round(value, decimals), format=pattern, locale="sv_SE")
    text = text.replace("\u00a0", " ").replace("\u2212", "-")
    return "−" + text[1:] if text.startswith("-") else text


def _decimals_needed(value: float) -> int:
    for d in (1, 2):
        if abs(value * 10**d - round(value * 10**d)) < 1e-6:
            return d
    return 2


def format_amount(value: float, unit: str | None, decimals: int | None = None) -> str:
    """`1 037 065 kr`, `97,4 mnkr`, `81,5 %`, `2 404` (counts carry no unit)."""
    text = format_number(value, decimals)
    if not unit or unit in ("st", "count"):
        return text
    return f"{text} {unit}"
