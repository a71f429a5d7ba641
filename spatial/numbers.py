"""Strict reading of numbers and codes in uploaded files: ASCII digits only, as each format
defines them (Python's float() and int() also take Unicode digits, '_' and padding)."""

import re

# xsd:double / JSON / SOSI decimals: ASCII digits, one optional point, an optional exponent.
# float() would also read '٨.٤١', '８', '6_086', ' 1 ', 'infinity' and 'nan'; none is a number
# in any format Arealsjekk reads (XML Schema Part 2 §3.2.5, RFC 8259 §6, SOSI del 1).
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)
_INTEGERS = re.compile(r"[+-]?[0-9]+(?: [+-]?[0-9]+)*", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
# A code (plantype, arealformål, hensynssone ...) given as text: ASCII digits, nothing else.
CODE_DIGITS = re.compile(r"[0-9]{1,6}", re.ASCII)


def is_double(text: str) -> bool:
    """Tell whether text is an ASCII decimal number with an optional exponent."""
    return _DOUBLE.fullmatch(text) is not None


def parse_double(text: str) -> float:
    """Read an ASCII decimal number with an optional exponent; ValueError for anything else."""
    if not _DOUBLE.fullmatch(text):
        raise ValueError(f"'{text[:40]}' is not a number")
    return float(text)


def parse_decimal(text: str) -> float:
    """Read an ASCII decimal number without exponent (SOSI ...ENHET, ...ORIGO-NØ)."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"'{text[:40]}' is not a decimal number")
    return float(text)


def first_non_integer(tokens: list[str]) -> str | None:
    """The first token that is not an ASCII integer with an optional sign, or None.

    The tokens are checked in one regular-expression pass (coordinates come by the million).
    """
    if not tokens or _INTEGERS.fullmatch(" ".join(tokens)):
        return None
    return next((t for t in tokens if not _INTEGER.fullmatch(t)), tokens[0])
