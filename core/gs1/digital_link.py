"""GS1 Digital Link URIs: reading them (the resolver's request paths and query strings, anyone's URIs) and writing
them (for QR codes on the resolver root, and in canonical form on https://id.gs1.org for EPCIS).

A link is a primary key with its key qualifiers in the path, in the order the standard gives (a GTIN's: 22, 10, 21),
every value percent-encoded, and data attributes (an expiry date, a net weight, …) in the query string as
`?{ai}={value}`. The platform's products without a GTIN use the internal key `p` with qualifiers 10 and 21.

No database here: the views in storefront/resolver.py decide what a valid link points at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.gs1 import ai as ais
from core.gs1 import keys
from core.gs1.keys import INTERNAL_KEY, INTERNAL_QUALIFIERS, KEY_QUALIFIERS, InvalidValue, shown

CANONICAL_ROOT = "https://id.gs1.org"
# The primary keys the resolver answers for, with their key qualifiers in path order.
RESOLVER_KEYS: dict[str, tuple[str, ...]] = {"01": KEY_QUALIFIERS["01"], INTERNAL_KEY: INTERNAL_QUALIFIERS}
# A path ending in one of these asks for the QR code of the Digital Link before it, not for the link itself.
QR_SUFFIXES = {"qr.svg": "svg", "qr.png": "png"}


class InvalidDigitalLink(ValueError):
    """A URI that is not a GS1 Digital Link this resolver accepts; the message says why, for people."""


class UnreadQualifier(InvalidDigitalLink):
    """A key qualifier the standard may allow but this module does not read (235 after 01, 7040, …)."""


class AmbiguousPath(InvalidDigitalLink):
    """A decoded path in which a "/" may have been a %2F inside a value: there is no telling which reading is meant."""


@dataclass(frozen=True)
class DigitalLink:
    """A primary key with its key qualifiers (in path order) and data attributes, every value decoded and canonical."""

    key: str
    value: str
    qualifiers: tuple[tuple[str, str], ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def gtin(self) -> str | None:
        return self.value if self.key == "01" else None

    @property
    def internal_ref(self) -> str | None:
        return self.value if self.key == INTERNAL_KEY else None

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
        return "".join(f"/{ai}/{keys.percent_encode(value)}" for ai, value in pairs)

    @property
    def query(self) -> str:
        return "&".join(f"{ai}={keys.percent_encode(value)}" for ai, value in self.attributes)

    def uri(self, root: str) -> str:
        """The link on `root` (the resolver root, or CANONICAL_ROOT), without its data attributes."""
        return root.rstrip("/") + self.path


# The Digital Link URIs of the platform's own things. A product has `gtin` and `internal_ref`, a batch has `product`
# and `lot` (duck-typed: no app is imported here). `root` is the resolver root (settings.RESOLVER_ROOT, what QR codes
# encode) unless given; CANONICAL_ROOT gives the id.gs1.org form that EPCIS events use, for products with a GTIN.


def product_link(product: Any, *qualifiers: tuple[str, str]) -> DigitalLink:
    """A product's Digital Link, /01/{gtin14} or /p/{ref} without a GTIN, with the key qualifiers given."""
    if product.gtin:
        return DigitalLink("01", product.gtin, qualifiers)
    return DigitalLink(INTERNAL_KEY, product.internal_ref, qualifiers)


def product_uri(product: Any, *, root: str | None = None) -> str:
    """The Digital Link URI of a product: {root}/01/{gtin14}, or /p/{ref} without a GTIN."""
    return _on_root(product_link(product), root)


def batch_uri(batch: Any, *, root: str | None = None) -> str:
    """The Digital Link URI of a batch: {root}/01/{gtin14}/10/{lot}, or /p/{ref}/10/{lot}."""
    return _on_root(product_link(batch.product, ("10", batch.lot)), root)


def item_uri(batch: Any, serial: str, *, root: str | None = None) -> str:
    """The Digital Link URI of one serialised item of a batch: …/10/{lot}/21/{serial}."""
    return _on_root(product_link(batch.product, ("10", batch.lot), ("21", serial)), root)


def gtin_uri(gtin: str, lot: str | None = None, serial: str | None = None, *, root: str = CANONICAL_ROOT) -> str:
    """The Digital Link URI of a GTIN, of one of its lots or of one item: the canonical id.gs1.org form by default.

    For identifiers that need no product of ours (the materials in a supplier's trace events). Values are given
    decoded; a GTIN-8/12/13 is padded to 14 digits. Raises ValueError for a bad GTIN, lot or serial.
    """
    label = f"GTIN {gtin!r}" + (f" with lot {lot!r}" if lot is not None else "")
    try:
        value = keys.gtin14(gtin)
        qualifiers = tuple(
            (ai, keys.qualifier_value(ai, text)) for ai, text in (("10", lot), ("21", serial)) if text is not None
        )
    except InvalidValue as error:
        raise ValueError(f"{label}: {error}") from None
    return DigitalLink("01", value, qualifiers).uri(root)


def _on_root(link: DigitalLink, root: str | None) -> str:
    if root is None:
        root = settings.RESOLVER_ROOT
    elif root == CANONICAL_ROOT and link.key == INTERNAL_KEY:
        raise ValueError("A product without a GTIN has no GS1 identifier, so no Digital Link on id.gs1.org.")
    return link.uri(root)


# Reading


def parse(path: str, *, decoded: bool = False, query: str = "") -> tuple[DigitalLink, str | None]:
    """The Digital Link in a request path (and its query string), and "svg" or "png" if it asks for its QR code.

    The path is the one the client sent, still percent-encoded, so a "/" inside a value arrives as %2F and the path
    splits exactly. `decoded=True` says the server decoded it first (Django's test client and servers that keep no
    raw path): then every "/" is read as a separator and a path whose reading fails after a key qualifier's value,
    where the "/" may have been a %2F, is refused as AmbiguousPath. Nothing is ever guessed.

    Raises InvalidDigitalLink with an explanation for anything the standard does not allow.
    """
    segments = path.removeprefix("/").split("/")
    key = segments[0]
    # segments[2] is the first key qualifier and [3] its value, which may hold a "/": in a decoded path, every "/"
    # after it may have been a %2F.
    ambiguous = decoded and len(segments) > 4 and segments[2] in RESOLVER_KEYS.get(key, ())
    if segments[-1] == "" and len(segments) > 1:
        if ambiguous:
            raise AmbiguousPath(_ambiguous(segments[2], "the path ends in a / after a value."))
        segments.pop()  # a trailing slash is tolerated
    if key not in RESOLVER_KEYS:
        raise InvalidDigitalLink(f"{shown(key)} is not a primary key this resolver knows; use /01/{{gtin}}.")
    if len(segments) < 2 or not segments[1]:
        raise InvalidDigitalLink(f"/{key}/ needs a {_key_name(key)} after it.")
    image_format = None
    if len(segments) > 2 and len(segments) % 2 == 1 and segments[-1] in QR_SUFFIXES:
        image_format = QR_SUFFIXES[segments.pop()]
    try:
        link = read(segments, qualifiers_of=RESOLVER_KEYS, decode=not decoded)
    except InvalidDigitalLink as error:
        if ambiguous and _reads(segments[:4]):  # the link up to the first qualifier's value is fine: the rest is not
            raise AmbiguousPath(_ambiguous(segments[2], str(error))) from None
        raise
    attributes = read_query(query, link)
    return DigitalLink(link.key, link.value, link.qualifiers, attributes), image_format


def read(
    segments: list[str],
    *,
    qualifiers_of: dict[str, tuple[str, ...]] = KEY_QUALIFIERS,
    decode: bool = True,
    any_order: bool = False,
) -> DigitalLink:
    """The Digital Link in a path's segments (`["01", "09521…", "10", "L%2F1"]`), its key and qualifiers checked.

    Strict, as the resolver answers: a qualifier that is not one of the key's is an error, and so is one out of order.
    With `any_order`, as canonical() reads other people's URIs, qualifiers are put in order instead; a key or
    qualifier of a kind this module does not read raises UnreadQualifier, so that such a URI can be left as it is.
    """
    key = segments[0]
    if key not in qualifiers_of or key not in keys.KEY_VALUE:
        raise UnreadQualifier(f"{shown(key)} is not a primary key this resolver knows; use /01/{{gtin}}.")
    value = _key_value(key, _decoded(segments[1]) if decode else segments[1])
    allowed = qualifiers_of[key]
    pairs: list[tuple[str, str]] = []
    for position in range(2, len(segments), 2):
        ai = segments[position]
        if ai not in allowed:
            raise UnreadQualifier(_unknown_qualifier(key, ai, allowed))
        if any(seen == ai for seen, _ in pairs):
            raise InvalidDigitalLink(f"The {_qualifier_name(ai)} appears twice; give it once.")
        if pairs and not any_order and allowed.index(ai) < allowed.index(pairs[-1][0]):
            raise InvalidDigitalLink(
                f"Key qualifiers go in the order {', '.join(allowed)}: {ai} cannot come after {pairs[-1][0]}."
            )
        if position + 1 >= len(segments):
            raise InvalidDigitalLink(f"The {_qualifier_name(ai)} has no value after /{ai}/.")
        raw = segments[position + 1]
        pairs.append((ai, _qualifier_value(ai, _decoded(raw) if decode else raw)))
    pairs.sort(key=lambda pair: allowed.index(pair[0]))
    return DigitalLink(key, value, tuple(pairs))


def read_query(query: str, link: DigitalLink) -> tuple[tuple[str, str], ...]:
    """The data attributes in a query string, each checked against GS1's AI dictionary.

    A parameter whose name is all digits is an application identifier and must be a known AI with a value in its
    format, given once, and neither a primary key nor a key qualifier of the link's key (those belong in the path).
    Other parameters (linkType, context, utm_*, …) are not the standard's business and are left alone.
    """
    attributes: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition("=")
        name = _decoded(raw_name)
        if not (name.isascii() and name.isdigit()):
            continue
        if name in KEY_QUALIFIERS:
            raise InvalidDigitalLink(
                f"?{name}= is a primary key: a Digital Link has one, in the path (/{link.key}/…), "
                "and none in the query string."
            )
        if name in RESOLVER_KEYS.get(link.key, KEY_QUALIFIERS.get(link.key, ())):
            raise InvalidDigitalLink(
                f"?{name}= gives the {_qualifier_name(name)} in the query string; a key qualifier goes in the path, "
                f"after /{link.key}/… (/{name}/{{value}}), and only there."
            )
        if any(seen == name for seen, _ in attributes):
            raise InvalidDigitalLink(f"?{name}= appears twice in the query string; give each data attribute once.")
        value = _decoded(raw_value)
        try:
            ais.validate(name, value)
        except InvalidValue as error:
            raise InvalidDigitalLink(f"?{name}={raw_value}: {error}") from None
        attributes.append((name, value))
    return tuple(attributes)


def _reads(segments: list[str]) -> bool:
    try:
        read(segments, qualifiers_of=RESOLVER_KEYS, decode=False)
    except InvalidDigitalLink:
        return False
    return True


def _qualifier_name(ai: str) -> str:
    """What a key qualifier or data attribute is called in messages: "batch/lot (AI 10)"."""
    if ai in keys.QUALIFIER_NAMES:
        return keys.QUALIFIER_NAMES[ai]
    try:
        return ais.lookup(ai).name
    except InvalidValue:
        return f"AI {ai}"


def _key_name(key: str) -> str:
    return "GTIN" if key == "01" else "product reference" if key == INTERNAL_KEY else f"AI {key} value"


def _key_value(key: str, value: str) -> str:
    try:
        return keys.KEY_VALUE[key](value)
    except InvalidValue as error:
        raise InvalidDigitalLink(str(error)) from None


def _qualifier_value(ai: str, value: str) -> str:
    try:
        return keys.qualifier_value(ai, value)
    except InvalidValue as error:
        raise InvalidDigitalLink(str(error)) from None


def _decoded(segment: str) -> str:
    try:
        return keys.percent_decode(segment)
    except InvalidValue as error:
        raise InvalidDigitalLink(str(error)) from None


def _unknown_qualifier(key: str, segment: str, allowed: tuple[str, ...]) -> str:
    after = ", ".join(f"/{ai}/" for ai in allowed) + " (in that order), each with a value" if allowed else "nothing"
    return (
        f"{shown(segment)} is not a key qualifier of a {_key_name(key)}: after /{key}/… the path may only have "
        f"{after}. Data attributes such as an expiry date go in the query string (?17=YYMMDD)."
    )


def _ambiguous(ai: str, reason: str) -> str:
    return (
        f"This server passed the path on already decoded, so a / after the {_qualifier_name(ai)} may have been a %2F "
        f"inside its value (a lot such as CH26/01): the readings cannot be told apart. Read with every / as a "
        f"separator: {reason} Ask through a server that keeps the raw path (gunicorn, manage.py runserver)."
    )
