"""GS1 Digital Link URIs on our resolver: reading them from a request path, and writing them for QR codes.

Two primary keys:
- `01`, a GTIN (8, 12, 13 or 14 digits, check digit verified, always written as 14 digits), with the key
  qualifiers 22 (consumer product variant), 10 (batch/lot) and 21 (serial), each optional, in that order;
- `p`, the platform's own reference for a product without a GTIN (10 characters, Crockford base32), with 10 and 21.

Qualifier values are GS1 "X..20" values: 1 to 20 characters from CSET 82, percent-encoded in the path. Data
attributes (expiry date and the like) belong in the query string, which the resolver passes on untouched.

No database here: the views in storefront/resolver.py decide what a valid link points at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings
from django.core.exceptions import ValidationError

from core import gs1
from core.gs1 import INTERNAL_REF_ALPHABET, INTERNAL_REF_LENGTH

# Primary key -> its key qualifiers, in the order the Digital Link standard requires them in the path.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {"01": ("22", "10", "21"), "p": ("10", "21")}
QUALIFIER_NAMES = {"22": "consumer product variant (AI 22)", "10": "batch/lot (AI 10)", "21": "serial (AI 21)"}
QUALIFIER_MAX_LENGTH = 20
# A path ending in one of these asks for the QR code of the Digital Link before it, not for the link itself.
QR_SUFFIXES = {"qr.svg": "svg", "qr.png": "png"}

_PERCENT_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_SHOWN_MAX = 40  # how much of a rejected value an error message repeats


class InvalidDigitalLink(ValueError):
    """A path that is not a GS1 Digital Link this resolver accepts; the message says why, for people."""


@dataclass(frozen=True)
class DigitalLink:
    """A primary key with its key qualifiers, every value decoded (no percent-escapes) and canonical."""

    key: str
    value: str
    qualifiers: tuple[tuple[str, str], ...] = ()

    @property
    def gtin(self) -> str | None:
        return self.value if self.key == "01" else None

    @property
    def internal_ref(self) -> str | None:
        return self.value if self.key == "p" else None

    @property
    def lot(self) -> str | None:
        return dict(self.qualifiers).get("10")

    @property
    def serial(self) -> str | None:
        return dict(self.qualifiers).get("21")

    @property
    def path(self) -> str:
        """The canonical path: `/01/{gtin14}/10/{lot}/21/{serial}`, every value percent-encoded."""
        pairs = ((self.key, self.value), *self.qualifiers)
        return "".join(f"/{ai}/{encode(value)}" for ai, value in pairs)

    def uri(self, root: str) -> str:
        return root.rstrip("/") + self.path


def encode(value: str) -> str:
    # Everything but RFC 3986's unreserved characters is percent-encoded, as GS1's own encoders do; the "/" of a lot
    # such as "SH26/014" above all.
    return quote(value, safe="")


def parse(path: str, *, encoded: bool = True) -> tuple[DigitalLink, str | None]:
    """The Digital Link in a request path, and "svg" or "png" if the path asks for its QR code.

    `encoded` says whether the path is still percent-encoded as the client sent it (then a "/" inside a value arrives
    as %2F and the path splits exactly), or was decoded by the server (PATH_INFO under runserver and the test
    client): there a segment that is not a key qualifier of the key is read as the rest of the value before it
    (`/10/SH26/014` is the lot "SH26/014"), since the "/" it followed was a decoded %2F.

    Raises InvalidDigitalLink with an explanation for anything the standard does not allow.
    """
    segments = path.removeprefix("/").removesuffix("/").split("/")
    key, rest = segments[0], segments[1:]
    if key not in PRIMARY_KEYS:
        raise InvalidDigitalLink(f"{_shown(key)} is not a primary key this resolver knows; use /01/{{gtin}}.")
    if not rest or not rest[0]:
        raise InvalidDigitalLink(f"/{key}/ needs a {_key_name(key)} after it.")
    value = _key_value(key, _decoded(rest[0]) if encoded else rest[0])

    allowed = PRIMARY_KEYS[key]
    pairs: list[tuple[str, str]] = []
    image_format = None
    position = 1
    while position < len(rest):
        segment = rest[position]
        if position == len(rest) - 1 and segment in QR_SUFFIXES:
            image_format = QR_SUFFIXES[segment]
            break
        if segment not in allowed:
            if not encoded and pairs:
                ai, previous = pairs[-1]
                pairs[-1] = (ai, f"{previous}/{segment}")
                position += 1
                continue
            raise InvalidDigitalLink(_unknown_qualifier(key, segment))
        if any(ai == segment for ai, _ in pairs):
            raise InvalidDigitalLink(f"The {QUALIFIER_NAMES[segment]} appears twice; give it once.")
        if pairs and allowed.index(segment) < allowed.index(pairs[-1][0]):
            raise InvalidDigitalLink(
                f"Key qualifiers go in the order {', '.join(allowed)}: {segment} cannot come after {pairs[-1][0]}."
            )
        if position + 1 >= len(rest):
            raise InvalidDigitalLink(f"The {QUALIFIER_NAMES[segment]} has no value after /{segment}/.")
        raw = rest[position + 1]
        pairs.append((segment, _decoded(raw) if encoded else raw))
        position += 2

    qualifiers = tuple((ai, _qualifier_value(ai, text)) for ai, text in pairs)
    return DigitalLink(key, value, qualifiers), image_format


def _key_name(key: str) -> str:
    return "GTIN" if key == "01" else "product reference"


def _key_value(key: str, value: str) -> str:
    if key == "01":
        if not (value.isascii() and value.isdigit()):
            raise InvalidDigitalLink(f"A GTIN has digits only; {_shown(value)} does not.")
        try:
            return gs1.gtin_normalize(value)
        except ValidationError as error:
            raise InvalidDigitalLink(error.messages[0]) from None
    ref = value.upper()
    if len(ref) != INTERNAL_REF_LENGTH or not set(ref) <= set(INTERNAL_REF_ALPHABET):
        raise InvalidDigitalLink(
            f"A product reference has {INTERNAL_REF_LENGTH} characters from 0-9 and A-Z without I, L, O and U; "
            f"{_shown(value)} does not."
        )
    return ref


def _qualifier_value(ai: str, value: str) -> str:
    name = QUALIFIER_NAMES[ai]
    if not value:
        raise InvalidDigitalLink(f"The {name} is empty.")
    if len(value) > QUALIFIER_MAX_LENGTH:
        raise InvalidDigitalLink(f"The {name} has {len(value)} characters; at most {QUALIFIER_MAX_LENGTH} are allowed.")
    if not gs1.CSET82.fullmatch(value):  # fullmatch: the pattern's $ would let a final newline through
        raise InvalidDigitalLink(
            f"The {name} {_shown(value)} may use letters A-Z and a-z, digits and !\"%&'()*+,-./:;<=>?_ only "
            "(GS1 CSET 82); no spaces or accented letters."
        )
    return value


def _unknown_qualifier(key: str, segment: str) -> str:
    allowed = ", ".join(f"/{ai}/" for ai in PRIMARY_KEYS[key])
    return (
        f"{_shown(segment)} is not a key qualifier of a {_key_name(key)}: after /{key}/… the path may only have "
        f"{allowed} (in that order), each with a value. Data attributes such as an expiry date go in the query string."
    )


def _decoded(segment: str) -> str:
    if not _PERCENT_ENCODED.fullmatch(segment):
        raise InvalidDigitalLink(f"{_shown(segment)} has a % that does not start a %XX escape.")
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise InvalidDigitalLink(f"{_shown(segment)} percent-encodes bytes that are not UTF-8.") from None


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "…")


# The Digital Link URIs of the platform's own things, on the resolver root (what their QR codes encode). Duck-typed:
# a product has `gtin` and `internal_ref`, a batch has `product` and `lot`.


def product_uri(product: Any) -> str:
    """The Digital Link a product's QR code encodes: {RESOLVER_ROOT}/01/{gtin14}, or /p/{ref} without a GTIN."""
    return _product_key(product).uri(settings.RESOLVER_ROOT)


def batch_uri(batch: Any) -> str:
    """The Digital Link a batch's QR code encodes: {RESOLVER_ROOT}/01/{gtin14}/10/{lot}, or /p/{ref}/10/{lot}."""
    key = _product_key(batch.product)
    return DigitalLink(key.key, key.value, (("10", batch.lot),)).uri(settings.RESOLVER_ROOT)


def item_uri(batch: Any, serial: str) -> str:
    """The Digital Link of one serialised item of a batch: …/10/{lot}/21/{serial}."""
    key = _product_key(batch.product)
    return DigitalLink(key.key, key.value, (("10", batch.lot), ("21", serial))).uri(settings.RESOLVER_ROOT)


def _product_key(product: Any) -> DigitalLink:
    return DigitalLink("01", product.gtin) if product.gtin else DigitalLink("p", product.internal_ref)
