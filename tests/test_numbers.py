from hypothesis import given
from hypothesis import strategies as st

from ingest.numbers import find_amounts, format_amount, format_number, parse_number


def test_swedish_forms():
    assert parse_number("1 037 065") == 1037065
    assert parse_number("1\u00a0059,9") == 1059.9
    assert parse_number("1\u202f123,3") == 1123.3
    assert parse_number("\u22124,0") == -4.0
    assert parse_number("3.95") == 3.95
    assert parse_number("12 34") is None
    assert parse_number("abc") is None


def test_amounts_with_units():
    amounts = find_amounts("Föreningsbidraget uppgår till 1 126 tkr, utbildning 3,98 mnkr och 81,5 % av 7 mkr.")
    assert [(a.value, a.unit) for a in amounts] == [(1126, "tkr"), (3.98, "mnkr"), (81.5, "%"), (7, "mnkr")]


def test_formatting():
    assert format_amount(1037065, "kr") == "1 037 065 kr"
    assert format_amount(97.4, "mnkr") == "97,4 mnkr"
    assert format_amount(81.5, "%") == "81,5 %"
    assert format_amount(2404, "st") == "2 404"
    assert format_number(-4) == "−4"


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_integers_round_trip(n):
    text = format_number(n).replace("−", "-")
    assert parse_number(text) == n


@given(st.decimals(min_value=-10**9, max_value=10**9, places=1, allow_nan=False, allow_infinity=False))
def test_one_decimal_round_trip(d):
    value = float(d)
    text = format_number(value, 1)
    assert abs(parse_number(text) - value) < 1e-6


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from([" ", "\u00a0", "\u202f", "\u2009"]))
def test_any_thousands_separator(n, sep):
    grouped = f"{n:,}".replace(",", sep)
    assert parse_number(grouped) == n


@given(st.integers(min_value=1, max_value=9_999_999), st.sampled_from(["tjänster för X", "tkr till Y"]))
def test_list_dash_at_line_start_is_not_a_minus(n, rest):
    from ingest.numbers import find_amounts, format_number

    text = f"Förslaget:\n- {format_number(n)} {rest}\nSaldo - {format_number(n)} tkr"
    amounts = find_amounts(text)
    assert amounts[0].value == n and text[amounts[0].start:].startswith(format_number(n))
    assert amounts[-1].value == -n  # inside a line, "- 6 279" is a negative number
