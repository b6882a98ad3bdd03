"""One canonical spelling for the GS1 identifiers in EPCIS 2.0 events: EPC URNs ↔ GS1 Digital Link URIs.

EPCIS 2.0 lets a document name the same object as an EPC URN (GS1 Tag Data Standard 2.x, `urn:epc:id:sgtin:…`) or as
a GS1 Digital Link URI on any domain (`https://example.com/01/…/21/…`). `canonical` maps both to one GS1 Digital Link
URI on https://id.gs1.org, so identifiers from different trading partners compare equal as plain strings; `urn`
writes a Digital Link back as its EPC URN.

No Django: it runs on every identifier of every captured event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from core.gs1 import keys
from core.gs1.digital_link import CANONICAL_ROOT, DigitalLink, InvalidDigitalLink, UnreadQualifier, read
from core.gs1.keys import InvalidValue

# Tag Data Standard GS3A3Component: CSET 82 characters that are safe in a URN as they are; the others (" % & / < > ?)
# are escaped as %XX.
_URN_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!'()*+,-.:;=_")
_URN_COMPONENT = re.compile("(?:[" + re.escape("".join(sorted(_URN_SAFE))) + "]|%[0-9A-Fa-f]{2})+")
_DIGITS = re.compile(r"[0-9]+")
# TDS: an SGLN whose extension component is "0" is a GLN without extension (no AI 254).
_SGLN_NO_EXTENSION = "0"


def canonical(identifier: str) -> str:
    """The canonical form of an EPCIS identifier: a GS1 Digital Link URI on https://id.gs1.org for every GS1 key
    that has one; any other URI (or one we cannot parse) returned unchanged (after stripping surrounding spaces).

    Raises ValueError for an identifier that claims a GS1 form this module knows but breaks its rules (digit counts,
    check digits, characters outside CSET 82, over-long serials).
    """
    text = identifier.strip()
    link = _parse(text)
    return link.uri(CANONICAL_ROOT) if link else text


def is_class(identifier: str) -> bool:
    """True for class-level identifiers (EPC class and pattern URNs, a GTIN or GTIN + lot without a serial, a GRAI
    without a serial); False for instance-level and unknown identifiers. Raises ValueError as `canonical` does."""
    text = identifier.strip()
    return _is_class(text, _parse(text))


def canonical_and_class(identifier: str) -> tuple[str, bool]:
    """`canonical(identifier)` and whether that names a class (`is_class`), from one reading of the identifier.

    Capture needs both for every identifier of every event; each reading checks digits, check digits and characters.
    """
    text = identifier.strip()
    link = _parse(text)
    if link is None:
        return text, _is_class(text, None)
    # The canonical Digital Link reads back as the same key and qualifiers, so it is a class exactly when link is.
    return link.uri(CANONICAL_ROOT), _is_class("", link)


def _is_class(text: str, link: DigitalLink | None) -> bool:
    if text[:14].lower() in ("urn:epc:class:", "urn:epc:idpat:"):
        return True
    if link is None:
        return False
    if link.key == "01":
        return all(ai != "21" for ai, _ in link.qualifiers)
    if link.key == "8003":
        return len(link.value) == 14
    return False


def urn(link: DigitalLink, *, company_prefix_length: int) -> str:
    """The EPC URN of a Digital Link (TDS 2.x): sgtin (01 + 21), lgtin (01 + 10), sgln (414), sscc (00), grai, giai.

    A Digital Link does not say where the GS1 company prefix ends, so the caller does (6 to 12 digits).
    Raises ValueError for a link that has no EPC URN.
    """
    if not 6 <= company_prefix_length <= 12:
        raise ValueError(f"A GS1 company prefix has 6 to 12 digits, not {company_prefix_length}.")
    n = company_prefix_length
    qualifiers = dict(link.qualifiers)
    if link.key == "01" and set(qualifiers) in ({"21"}, {"10"}):
        gtin = link.value
        scheme, ai = ("id:sgtin", "21") if "21" in qualifiers else ("class:lgtin", "10")
        return f"urn:epc:{scheme}:{gtin[1 : n + 1]}.{gtin[0]}{gtin[n + 1 : 13]}.{_urn_encode(qualifiers[ai])}"
    if link.key == "414" and set(qualifiers) <= {"254"}:
        extension = _urn_encode(qualifiers.get("254", _SGLN_NO_EXTENSION))
        return f"urn:epc:id:sgln:{link.value[:n]}.{link.value[n:12]}.{extension}"
    if link.key == "00" and not qualifiers:
        return f"urn:epc:id:sscc:{link.value[1 : n + 1]}.{link.value[0]}{link.value[n + 1 : 17]}"
    if link.key == "8003" and not qualifiers:
        grai, serial = link.value[1:14], link.value[14:]
        return f"urn:epc:id:grai:{grai[:n]}.{grai[n:12]}.{_urn_encode(serial)}"
    if link.key == "8004" and not qualifiers:
        return f"urn:epc:id:giai:{link.value[:n]}.{_urn_encode(link.value[n:])}"
    raise ValueError(f"{link.uri(CANONICAL_ROOT)} has no EPC URN.")


def parse(identifier: str) -> DigitalLink | None:
    """The GS1 key an EPC URN or a Digital Link URI names, or None for identifiers that are not GS1 keys we read."""
    return _parse(identifier.strip())


def _parse(text: str) -> DigitalLink | None:
    if text[:4].lower() == "urn:":
        return _parse_urn(text)
    return _parse_digital_link(text)


# EPC URNs (GS1 Tag Data Standard 2.x)


def _parse_urn(text: str) -> DigitalLink | None:
    parts = text.split(":", 4)
    if len(parts) != 5:
        return None
    parser = _URN_PARSERS.get(":".join(parts[:4]).lower())
    return parser(parts[4], text) if parser else None


def _sgtin(body: str, urn: str) -> DigitalLink:
    company_prefix, indicator_item, serial = _urn_fields(body, 3, urn)
    gtin = _epc_gtin(company_prefix, indicator_item, urn)
    return DigitalLink("01", gtin, (("21", _urn_text(serial, keys.QUALIFIER_MAX_LENGTH, "serial", urn)),))


def _lgtin(body: str, urn: str) -> DigitalLink:
    company_prefix, indicator_item, lot = _urn_fields(body, 3, urn)
    gtin = _epc_gtin(company_prefix, indicator_item, urn)
    return DigitalLink("01", gtin, (("10", _urn_text(lot, keys.QUALIFIER_MAX_LENGTH, "batch/lot", urn)),))


def _sgtin_pattern(body: str, urn: str) -> DigitalLink | None:
    # Only the GTIN-level pattern (CP.IndItem.*) has a Digital Link twin; wider patterns (CP.*.*, *.*.*) do not.
    fields = body.split(".")
    if len(fields) != 3 or fields[2] != "*" or "*" in fields[:2]:
        return None
    return DigitalLink("01", _epc_gtin(fields[0], fields[1], urn))


def _sscc(body: str, urn: str) -> DigitalLink:
    company_prefix, serial_reference = _urn_fields(body, 2, urn)
    _check_company_prefix(company_prefix, urn)
    _check_digits(serial_reference, 17 - len(company_prefix), "serial reference", urn)
    return DigitalLink("00", keys.with_check_digit(serial_reference[0] + company_prefix + serial_reference[1:]))


def _sgln(body: str, urn: str) -> DigitalLink:
    company_prefix, location_reference, extension = _urn_fields(body, 3, urn)
    _check_company_prefix(company_prefix, urn)
    _check_digits(location_reference, 12 - len(company_prefix), "location reference", urn, allow_empty=True)
    extension = _urn_text(extension, keys.QUALIFIER_MAX_LENGTH, "GLN extension", urn)
    qualifiers = () if extension == _SGLN_NO_EXTENSION else (("254", extension),)
    return DigitalLink("414", keys.with_check_digit(company_prefix + location_reference), qualifiers)


def _grai(body: str, urn: str) -> DigitalLink:
    company_prefix, asset_type, serial = _urn_fields(body, 3, urn)
    _check_company_prefix(company_prefix, urn)
    _check_digits(asset_type, 12 - len(company_prefix), "asset type", urn, allow_empty=True)
    serial = _urn_text(serial, keys.GRAI_SERIAL_MAX_LENGTH, "serial", urn)
    # AI 8003 is N14 + X..16: a fixed leading 0, the 13-digit GRAI with its check digit, then the serial.
    return DigitalLink("8003", "0" + keys.with_check_digit(company_prefix + asset_type) + serial)


def _giai(body: str, urn: str) -> DigitalLink:
    company_prefix, asset_reference = _urn_fields(body, 2, urn)
    _check_company_prefix(company_prefix, urn)
    max_length = keys.GIAI_MAX_LENGTH - len(company_prefix)
    return DigitalLink("8004", company_prefix + _urn_text(asset_reference, max_length, "asset reference", urn))


_URN_PARSERS: dict[str, Callable[[str, str], DigitalLink | None]] = {
    "urn:epc:id:sgtin": _sgtin,
    "urn:epc:class:lgtin": _lgtin,
    "urn:epc:idpat:sgtin": _sgtin_pattern,
    "urn:epc:id:sscc": _sscc,
    "urn:epc:id:sgln": _sgln,
    "urn:epc:id:grai": _grai,
    "urn:epc:id:giai": _giai,
}


def _urn_fields(body: str, count: int, urn: str) -> list[str]:
    # The last field may itself contain dots (a serial such as "A.1"), so split only count - 1 times.
    fields = body.split(".", count - 1)
    if len(fields) != count:
        raise ValueError(f"{urn!r}: expected {count} dot-separated fields after the scheme, found {len(fields)}")
    return fields


def _epc_gtin(company_prefix: str, indicator_item: str, label: str) -> str:
    _check_company_prefix(company_prefix, label)
    _check_digits(indicator_item, 13 - len(company_prefix), "indicator digit and item reference", label)
    return keys.with_check_digit(indicator_item[0] + company_prefix + indicator_item[1:])


def _check_company_prefix(company_prefix: str, label: str) -> None:
    if not (_DIGITS.fullmatch(company_prefix) and 6 <= len(company_prefix) <= 12):
        raise ValueError(f"{label!r}: the GS1 company prefix must be 6 to 12 digits, got {company_prefix!r}")


def _check_digits(value: str, length: int, what: str, label: str, *, allow_empty: bool = False) -> None:
    if len(value) != length or not (_DIGITS.fullmatch(value) or (allow_empty and not value)):
        raise ValueError(f"{label!r}: the {what} must be {length} digits with this company prefix, got {value!r}")


def _urn_text(component: str, max_length: int, what: str, urn: str) -> str:
    if not _URN_COMPONENT.fullmatch(component):
        raise ValueError(
            f"{urn!r}: the {what} {component!r} is not a valid EPC URN component "
            '(escape " % & / < > ? as %XX; other characters are not allowed)'
        )
    try:
        return keys.cset82_text(keys.percent_decode(component), max_length, what)
    except InvalidValue as error:
        raise ValueError(f"{urn!r}: {error}") from None


def _urn_encode(value: str) -> str:
    return "".join(char if char in _URN_SAFE else f"%{ord(char):02X}" for char in value)


# GS1 Digital Link URIs on any domain


def _parse_digital_link(text: str) -> DigitalLink | None:
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced "[" in the host: not a URI we know, so not ours to reject
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    segments = parts.path.removesuffix("/").split("/")[1:]
    if not segments or segments[0] not in keys.KEY_VALUE or segments[0] == keys.INTERNAL_KEY:
        return None
    if len(segments) % 2:
        raise ValueError(f"{text!r}: application identifier {segments[-1]} has no value")
    try:
        link = read(segments, any_order=True)
    except UnreadQualifier:
        # Valid Digital Link may carry qualifiers this module does not read (e.g. AI 235 after AI 01); leave such a
        # URI as it is rather than drop part of its identity.
        return None
    except InvalidDigitalLink as error:
        raise ValueError(f"{text!r}: {error}") from None
    if dict(link.qualifiers).get("254") == _SGLN_NO_EXTENSION:
        # Same GLN as the SGLN URN with extension "0", which the TDS maps to a GLN without AI 254.
        return DigitalLink(link.key, link.value)
    return link
