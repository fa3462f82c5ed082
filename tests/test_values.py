"""mas.values: one strict reading of ids, numbers, dates, text and e-mail addresses."""

from datetime import date

import pytest

from mas.values import (
    MAX_ID,
    BadValue,
    check_email,
    check_text,
    date_bounds,
    optional_int,
    parse_amount,
    parse_date,
    parse_id,
    parse_int,
)


@pytest.mark.parametrize("text", ["²", "١٢", "１２", "12a", "1 2", "+1", "-1", "1.0", "", " ", "99999999999999999999",
                                  str(MAX_ID + 1), "nan", "0x10"])
def test_parse_int_refuses_anything_but_ascii_digits_in_range(text):
    with pytest.raises(BadValue):
        parse_int(text)


def test_parse_int_reads_plain_numbers_and_says_why_not():
    assert parse_int("0") == 0 and parse_int(" 42 ") == 42 and parse_int(str(MAX_ID)) == MAX_ID
    assert parse_id("7") == 7
    with pytest.raises(BadValue, match="negatief"):
        parse_int("-3")
    with pytest.raises(BadValue):
        parse_id("0")
    with pytest.raises(BadValue):
        parse_int(True)
    assert optional_int("²", 1) == 1 and optional_int(None, 5) == 5 and optional_int("3", 1) == 3


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e309", "١", "²", "-1", "1,2,3", "", "1e3"])
def test_parse_amount_refuses_what_is_no_finite_amount(text):
    with pytest.raises(BadValue):
        parse_amount(text, high=160)


def test_parse_amount_reads_a_comma():
    assert parse_amount("12,5", high=160) == 12.5
    with pytest.raises(BadValue, match="hoogstens"):
        parse_amount("161", high=160)
    with pytest.raises(BadValue):
        parse_amount(float("nan"), high=160)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "2026-02-30", "２０２６-01-01", "2026-1-1", "20260101",
                                  "1969-12-31"])
def test_parse_date_within_bounds(text):
    earliest, latest = date_bounds(date(2026, 3, 3), earliest_year=1970, years_ahead=5)
    assert latest == date(2031, 3, 3)
    with pytest.raises(BadValue):
        parse_date(text, earliest=earliest, latest=latest)


def test_bounds_on_a_leap_day():
    assert date_bounds(date(2028, 2, 29), earliest_year=1900, years_ahead=1)[1] == date(2029, 2, 28)


def test_text_and_email():
    with pytest.raises(BadValue, match="NUL"):
        check_text("a\x00b", max_length=10)
    with pytest.raises(BadValue, match="Te lang"):
        check_text("x" * 11, max_length=10)
    with pytest.raises(BadValue):
        check_text("\ud800", max_length=10)
    assert check_email(" Jan@Example.ORG ") == "Jan@example.org"
    for bad in ("jan", "jan@", "@example.org", "jan@@example.org", "jan example@x.nl", "jan@example..org"):
        with pytest.raises(BadValue):
            check_email(bad)
