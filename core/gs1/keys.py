"""GS1 keys and the characters of their values, written once for the whole platform.

The CSET 82 character set, the key qualifiers of each primary key in Digital Link order, GTIN padding and check
digits, the platform's own product reference, and the percent-encoding of values in a
URI. Pure Python: every function raises `InvalidValue` (a ValueError) with a message for people.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote

# GS1 General Specifications, figure 7.11-1: the 82 characters allowed in alphanumeric AI values (10, 21, 22, 254, …).
CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
CSET82_RULE = "letters A-Z and a-z, digits and !\"%&'()*+,-./:;<=>?_ only (GS1 CSET 82); no spaces or accented letters"

# GS1 Digital Link standard 1.x, table of primary keys: each with its key qualifiers, in the order the path must give
# them (a GTIN's are 22 → 10 → 21). Alternative qualifiers the platform never reads (235 after 01, 7040) are left out:
# a link that has them is not one of ours, and canonical() leaves it as it is.
KEY_QUALIFIERS: dict[str, tuple[str, ...]] = {
    "00": (),
    "01": ("22", "10", "21"),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "414": ("254",),
    "415": ("8020",),
    "417": (),
    "8003": (),
    "8004": (),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "8013": (),
    "8017": ("8019",),
    "8018": ("8019",),
}
INTERNAL_KEY = "p"
INTERNAL_QUALIFIERS = ("10", "21")
QUALIFIER_NAMES = {
    "22": "consumer product variant (AI 22)",
    "10": "batch/lot (AI 10)",
    "21": "serial (AI 21)",
    "254": "GLN extension (AI 254)",
}
# AI 22, 10, 21 and 254 are all X..20.
QUALIFIER_MAX_LENGTH = 20
LOT_MAX_LENGTH = QUALIFIER_MAX_LENGTH

# The platform's own key for products without a GTIN (/p/{ref}): 10 characters of Crockford base32 (no I, L, O, U).
INTERNAL_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INTERNAL_REF_LENGTH = 10

_DIGITS = re.compile(r"[0-9]+")
_PERCENT_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_SHOWN_MAX = 40  # how much of a rejected value a message repeats


class InvalidValue(ValueError):
    """A GS1 value that breaks its rules; `code` names the rule for form validators."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def shown(value: str) -> str:
    """A value as an error message repeats it: quoted, and cut short if long."""
    return repr(value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "…")


# Check digits and GTINs


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of a key's digits (all but the check digit)."""
    # Weights 3, 1, 3, … from the right, as python-stdnum's ean.calc_check_digit (tests compare the two); summed
    # here without a generator, a sixth of the time: capture computes one for every identifier of every event.
    digits = body[::-1]
    return str(-(3 * sum(map(int, digits[::2])) + sum(map(int, digits[1::2]))) % 10)


def with_check_digit(body: str) -> str:
    """A key's digits followed by their check digit."""
    return body + check_digit(body)


def gtin_with_check_digit(body: str) -> str:
    """Complete a GTIN body (all digits but the last) with its check digit, padded to 14 digits."""
    return with_check_digit(body).zfill(14)


def verify_check_digit(number: str, what: str) -> None:
    """Raise InvalidValue unless the last digit of `number` is its GS1 check digit."""
    expected = check_digit(number[:-1])
    if number[-1] != expected:
        raise InvalidValue(
            f"The {what} {number} has a wrong check digit: it should end in {expected}.",
            "check_digit",
        )


def gtin14(value: str) -> str:
    """A GTIN-8/12/13/14 as 14 digits, its check digit verified."""
    if not (value.isascii() and _DIGITS.fullmatch(value)):
        raise InvalidValue(f"A GTIN has digits only; {shown(value)} does not.", "gtin_format")
    if len(value) not in (8, 12, 13, 14):
        raise InvalidValue(f"A GTIN has 8, 12, 13 or 14 digits; this one has {len(value)}.", "gtin_length")
    verify_check_digit(value, "GTIN")
    return value.zfill(14)


def digits(value: str, length: int, what: str) -> str:
    """A key of exactly `length` digits with a valid check digit (SSCC 18, GLN 13)."""
    if not (value.isascii() and _DIGITS.fullmatch(value) and len(value) == length):
        raise InvalidValue(f"A {what} has exactly {length} digits; {shown(value)} does not.", f"{what.lower()}_format")
    verify_check_digit(value, what)
    return value


def internal_ref(value: str) -> str:
    """The platform's product reference, upper-cased: 10 characters of Crockford base32."""
    ref = value.upper()
    if len(ref) != INTERNAL_REF_LENGTH or not set(ref) <= set(INTERNAL_REF_ALPHABET):
        raise InvalidValue(
            f"A product reference has {INTERNAL_REF_LENGTH} characters from 0-9 and A-Z without I, L, O and U; "
            f"{shown(value)} does not."
        )
    return ref


# Alphanumeric values (CSET 82)


def cset82_text(value: str, max_length: int, what: str) -> str:
    """An alphanumeric AI value: 1 to `max_length` characters of CSET 82."""
    if not value:
        raise InvalidValue(f"The {what} is empty.", "empty")
    if len(value) > max_length:
        raise InvalidValue(f"The {what} has {len(value)} characters; at most {max_length} are allowed.", "length")
    if not CSET82.issuperset(value):
        bad = "".join(sorted(set(value) - CSET82))
        raise InvalidValue(f"The {what} {shown(value)} has {shown(bad)}: it may use {CSET82_RULE}.", "charset")
    return value


def qualifier_value(ai: str, value: str) -> str:
    """The value of key qualifier `ai` (22, 10, 21 or 254): 1 to 20 CSET 82 characters."""
    return cset82_text(value, QUALIFIER_MAX_LENGTH, QUALIFIER_NAMES[ai])


# Percent-encoding


def percent_encode(value: str) -> str:
    """A value as it goes into a Digital Link path or query: all but RFC 3986's unreserved characters escaped.

    GS1's own encoders do the same; above all the "/" of a lot such as "SH26/014" becomes %2F.
    """
    return quote(value, safe="")


def percent_decode(text: str) -> str:
    """A percent-encoded URI component decoded; every % must start a %XX escape of UTF-8 bytes."""
    if not _PERCENT_ENCODED.fullmatch(text):
        raise InvalidValue(f"{shown(text)} has a % that does not start a %XX escape.", "percent")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise InvalidValue(f"{shown(text)} percent-encodes bytes that are not UTF-8.", "percent") from None


# The value of each primary key the platform reads, checked and in canonical form


GRAI_SERIAL_MAX_LENGTH = 16
GIAI_MAX_LENGTH = 30


def grai(value: str) -> str:
    """AI 8003: a fixed 0, the 13-digit GRAI with its check digit, then an optional serial of up to 16 characters."""
    number, serial = value[:14], value[14:]
    if not (_DIGITS.fullmatch(number) and len(number) == 14 and number[0] == "0"):
        raise InvalidValue(f"AI 8003 starts with 0 and the 13-digit GRAI, got {shown(value)}.", "grai_format")
    verify_check_digit(number[1:], "GRAI")
    if serial:
        cset82_text(serial, GRAI_SERIAL_MAX_LENGTH, "GRAI serial")
    return value


def giai(value: str) -> str:
    """AI 8004: up to 30 CSET 82 characters, the company prefix first."""
    return cset82_text(value, GIAI_MAX_LENGTH, "GIAI")


KEY_VALUE: dict[str, Callable[[str], str]] = {
    "01": gtin14,
    "00": lambda value: digits(value, 18, "SSCC"),
    "414": lambda value: digits(value, 13, "GLN"),
    "8003": grai,
    "8004": giai,
    INTERNAL_KEY: internal_ref,
}
