"""Burgerservicenummer: nine digits passing the elfproef (11-check)."""

from __future__ import annotations


def is_valid_bsn(value: str) -> bool:
    digits = value.strip()
    if len(digits) == 8:  # older numbers are written without the leading zero
        digits = "0" + digits
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 == 0


def normalise_bsn(value: str) -> str:
    digits = value.strip()
    return digits.zfill(9) if len(digits) == 8 else digits
