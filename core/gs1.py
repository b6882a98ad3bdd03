"""GS1 identifiers: GTINs, GLNs and the AI 10 (batch/lot) character set.

Check digits are computed and verified by python-stdnum; this module only adds the GS1 rules that
the platform relies on (GTINs stored as 14 digits, the CSET 82 character set of lot numbers).
"""

import re

from django.core.exceptions import ValidationError
from stdnum import ean
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

# GS1 General Specifications, figure 7.11-1: the 82 characters allowed in AI (10) and AI (21) values.
CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")
LOT_MAX_LENGTH = 20
# The platform's own key for products without a GTIN (/p/{ref}): 10 characters of Crockford base32 (no I, L, O, U).
INTERNAL_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INTERNAL_REF_LENGTH = 10


def gtin_normalize(value: str) -> str:
    """Return a GTIN-8/12/13/14 as 14 digits with a verified check digit, or raise ValidationError."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not digits.isdigit():
        raise ValidationError("A GTIN has digits only.", code="gtin_format")
    if len(digits) not in (8, 12, 13, 14):
        raise ValidationError(
            "A GTIN has 8, 12, 13 or 14 digits; this one has %(n)d.", code="gtin_length", params={"n": len(digits)}
        )
    try:
        ean.validate(digits)
    except InvalidChecksum:
        expected = ean.calc_check_digit(digits[:-1])
        raise ValidationError(
            "The GTIN's check digit is wrong: %(gtin)s should end in %(digit)s.",
            code="gtin_check_digit",
            params={"gtin": digits, "digit": expected},
        ) from None
    except (InvalidFormat, InvalidLength, StdnumError):
        raise ValidationError("This is not a valid GTIN.", code="gtin_invalid") from None
    return digits.zfill(14)


def gtin_with_check_digit(body: str) -> str:
    """Complete a GTIN body (all digits but the last) with its check digit, padded to 14 digits."""
    return (body + ean.calc_check_digit(body)).zfill(14)


def gln_validate(value: str) -> None:
    """A GLN is 13 digits with a GS1 check digit."""
    if not (value.isdigit() and len(value) == 13):
        raise ValidationError("A GLN has exactly 13 digits.", code="gln_format")
    if not ean.is_valid(value):
        raise ValidationError("The GLN's check digit is wrong.", code="gln_check_digit")


def lot_validate(value: str) -> None:
    """A batch/lot number (GS1 AI 10): 1–20 characters from GS1's CSET 82."""
    if len(value) > LOT_MAX_LENGTH:
        raise ValidationError(
            "A lot number has at most %(max)d characters (GS1 AI 10); this one has %(n)d.",
            code="lot_length",
            params={"max": LOT_MAX_LENGTH, "n": len(value)},
        )
    if not CSET82.fullmatch(value):
        raise ValidationError(
            "A lot number may use letters A–Z and a–z, digits and !\"%&'()*+,-./:;<=>?_ only (GS1 CSET 82); "
            "no spaces or accented letters.",
            code="lot_charset",
        )
