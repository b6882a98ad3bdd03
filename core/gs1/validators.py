"""The GS1 rules as Django validators, for model fields and forms: the same rules as core.gs1.keys, raising
ValidationError with a code. Migrations name them as core.gs1.gln_validate and core.gs1.lot_validate."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from core.gs1 import keys

_CODES = {"gtin_format": "gtin_format", "gtin_length": "gtin_length", "check_digit": "gtin_check_digit"}


def gtin_normalize(value: str) -> str:
    """Return a GTIN-8/12/13/14 as 14 digits with a verified check digit, or raise ValidationError."""
    text = re.sub(r"[\s-]", "", value or "")
    try:
        return keys.gtin14(text)
    except keys.InvalidValue as error:
        raise ValidationError(str(error), code=_CODES.get(error.code, "gtin_invalid")) from None


def gln_validate(value: str) -> None:
    """A GLN is 13 digits with a GS1 check digit."""
    try:
        keys.digits(value, 13, "GLN")
    except keys.InvalidValue as error:
        raise ValidationError(
            str(error), code="gln_check_digit" if error.code == "check_digit" else "gln_format"
        ) from None


def lot_validate(value: str) -> None:
    """A batch/lot number (GS1 AI 10): 1–20 characters from GS1's CSET 82."""
    try:
        keys.cset82_text(value, keys.LOT_MAX_LENGTH, "lot number")
    except keys.InvalidValue as error:
        raise ValidationError(str(error), code=f"lot_{error.code}") from None
