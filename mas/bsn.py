"""Burgerservicenummer: nine digits passing the elfproef (11-check).

People type a BSN as it is printed: with spaces or dots ("1234.56.782", "123 456 782"),
older numbers with eight digits. It is stored as nine digits.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-]")


def normalise_bsn(value: str) -> str:
    """Digits only; an eight-digit number gets its leading zero back."""
    digits = _SEPARATORS.sub("", value or "")
    return digits.zfill(9) if len(digits) == 8 and digits.isdigit() else digits


def bsn_problem(value: str) -> str | None:
    """What is wrong with a typed BSN, in Dutch, or None when it is a valid BSN."""
    digits = normalise_bsn(value)
    if not digits.isascii() or not digits.isdigit():
        return "Een BSN bestaat alleen uit cijfers (spaties en punten mogen)."
    if len(digits) != 9:
        return f"Een BSN heeft 9 cijfers nodig; dit zijn er {len(digits)}."
    if digits == "000000000" or sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1))) % 11:
        return "Dit BSN klopt niet: de elfproef faalt. Controleer de cijfers."
    return None


def is_valid_bsn(value: str) -> bool:
    return bsn_problem(value) is None
