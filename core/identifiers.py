"""One canonical spelling for the GS1 identifiers in EPCIS 2.0 events.

EPCIS 2.0 lets a document name the same object as an EPC URN (GS1 Tag Data Standard 2.x, `urn:epc:id:sgtin:…`) or as
a GS1 Digital Link URI on any domain (`https://example.com/01/…/21/…`). `canonical` maps both to one GS1 Digital Link
URI on https://id.gs1.org, so identifiers from different trading partners compare equal as plain strings.

Pure Python on purpose: no Django, so it can run on every identifier of every captured event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from stdnum import ean

CANONICAL_STEM = "https://id.gs1.org"

# GS1 General Specifications, figure 7.11-1: the characters allowed in alphanumeric AI values (AI 10, 21, 254, …).
CSET_82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")

# Tag Data Standard GS3A3Component: CSET 82 characters that are safe in a URN as they are, every other one escaped as
# %XX (the TDS names " % & / < > ? as the ones that must be escaped).
_URN_COMPONENT = re.compile(r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})+")
_PERCENT_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_DIGITS = re.compile(r"[0-9]+")

# GS1 Digital Link primary keys this module understands, with the key qualifiers each accepts, in the order the
# Digital Link standard requires them in the path.
_KEY_QUALIFIERS: dict[str, tuple[str, ...]] = {
    "01": ("22", "10", "21"),
    "00": (),
    "414": ("254",),
    "8003": (),
    "8004": (),
}
_QUALIFIER_NAMES = {"22": "consumer product variant", "10": "batch/lot", "21": "serial", "254": "GLN extension"}
# Maximum lengths from the GS1 General Specifications (AI 22, 10, 21, 254 are X..20).
_QUALIFIER_MAX_LENGTH = {"22": 20, "10": 20, "21": 20, "254": 20}
_GRAI_SERIAL_MAX_LENGTH = 16
_GIAI_MAX_LENGTH = 30

# TDS: an SGLN whose extension component is "0" is a GLN without extension (no AI 254).
_SGLN_NO_EXTENSION = "0"


@dataclass(frozen=True)
class _Gs1Key:
    """A GS1 key with its key qualifiers in Digital Link order; every value decoded (no percent-escapes)."""

    ai: str
    value: str
    qualifiers: tuple[tuple[str, str], ...] = ()

    def digital_link(self) -> str:
        pairs = ((self.ai, self.value), *self.qualifiers)
        return CANONICAL_STEM + "".join(f"/{ai}/{_dl_encode(value)}" for ai, value in pairs)


def canonical(identifier: str) -> str:
    """The canonical form of an EPCIS identifier: a GS1 Digital Link URI on https://id.gs1.org for every GS1 key
    that has one; any other URI (or one we cannot parse) returned unchanged (after stripping surrounding spaces).

    Raises ValueError for an identifier that claims a GS1 form this module knows but breaks its rules (digit counts,
    check digits, characters outside CSET 82, over-long serials).
    """
    text = identifier.strip()
    key = _parse(text)
    return key.digital_link() if key else text


def is_class(identifier: str) -> bool:
    """True for class-level identifiers (EPC class and pattern URNs, a GTIN or GTIN + lot without a serial, a GRAI
    without a serial); False for instance-level and unknown identifiers. Raises ValueError as `canonical` does."""
    text = identifier.strip()
    key = _parse(text)
    if text[:14].lower() in ("urn:epc:class:", "urn:epc:idpat:"):
        return True
    if key is None:
        return False
    if key.ai == "01":
        return all(ai != "21" for ai, _ in key.qualifiers)
    if key.ai == "8003":
        return len(key.value) == 14
    return False


def batch_uri(gtin14: str, lot: str) -> str:
    """The canonical Digital Link URI of a batch: https://id.gs1.org/01/{gtin14}/10/{percent-encoded lot}.

    `lot` is the lot number itself, not percent-encoded; a GTIN-8/12/13 is padded to 14 digits.
    """
    label = f"GTIN {gtin14!r} with lot {lot!r}"
    gtin = _dl_gtin(gtin14, label)
    return _Gs1Key("01", gtin, (("10", _ai_text(lot, 20, "batch/lot", label)),)).digital_link()


def _parse(text: str) -> _Gs1Key | None:
    if text[:4].lower() == "urn:":
        return _parse_urn(text)
    return _parse_digital_link(text)


# EPC URNs (GS1 Tag Data Standard 2.x)


def _parse_urn(text: str) -> _Gs1Key | None:
    parts = text.split(":", 4)
    if len(parts) != 5:
        return None
    parser = _URN_PARSERS.get(":".join(parts[:4]).lower())
    return parser(parts[4], text) if parser else None


def _sgtin(body: str, urn: str) -> _Gs1Key:
    company_prefix, indicator_item, serial = _urn_fields(body, 3, urn)
    gtin = _epc_gtin(company_prefix, indicator_item, urn)
    return _Gs1Key("01", gtin, (("21", _urn_text(serial, 20, "serial", urn)),))


def _lgtin(body: str, urn: str) -> _Gs1Key:
    company_prefix, indicator_item, lot = _urn_fields(body, 3, urn)
    gtin = _epc_gtin(company_prefix, indicator_item, urn)
    return _Gs1Key("01", gtin, (("10", _urn_text(lot, 20, "batch/lot", urn)),))


def _sgtin_pattern(body: str, urn: str) -> _Gs1Key | None:
    # Only the GTIN-level pattern (CP.IndItem.*) has a Digital Link twin; wider patterns (CP.*.*, *.*.*) do not.
    fields = body.split(".")
    if len(fields) != 3 or fields[2] != "*" or "*" in fields[:2]:
        return None
    return _Gs1Key("01", _epc_gtin(fields[0], fields[1], urn))


def _sscc(body: str, urn: str) -> _Gs1Key:
    company_prefix, serial_reference = _urn_fields(body, 2, urn)
    _check_company_prefix(company_prefix, urn)
    _check_digits(serial_reference, 17 - len(company_prefix), "serial reference", urn)
    sscc_body = serial_reference[0] + company_prefix + serial_reference[1:]
    return _Gs1Key("00", sscc_body + ean.calc_check_digit(sscc_body))


def _sgln(body: str, urn: str) -> _Gs1Key:
    company_prefix, location_reference, extension = _urn_fields(body, 3, urn)
    _check_company_prefix(company_prefix, urn)
    _check_digits(location_reference, 12 - len(company_prefix), "location reference", urn, allow_empty=True)
    gln_body = company_prefix + location_reference
    extension = _urn_text(extension, 20, "GLN extension", urn)
    qualifiers = () if extension == _SGLN_NO_EXTENSION else (("254", extension),)
    return _Gs1Key("414", gln_body + ean.calc_check_digit(gln_body), qualifiers)


def _grai(body: str, urn: str) -> _Gs1Key:
    company_prefix, asset_type, serial = _urn_fields(body, 3, urn)
    _check_company_prefix(company_prefix, urn)
    _check_digits(asset_type, 12 - len(company_prefix), "asset type", urn, allow_empty=True)
    grai_body = company_prefix + asset_type
    serial = _urn_text(serial, _GRAI_SERIAL_MAX_LENGTH, "serial", urn)
    # AI 8003 is N14 + X..16: a fixed leading 0, the 13-digit GRAI with its check digit, then the serial.
    return _Gs1Key("8003", "0" + grai_body + ean.calc_check_digit(grai_body) + serial)


def _giai(body: str, urn: str) -> _Gs1Key:
    company_prefix, asset_reference = _urn_fields(body, 2, urn)
    _check_company_prefix(company_prefix, urn)
    asset_reference = _urn_text(asset_reference, _GIAI_MAX_LENGTH - len(company_prefix), "asset reference", urn)
    return _Gs1Key("8004", company_prefix + asset_reference)


_URN_PARSERS: dict[str, Callable[[str, str], _Gs1Key | None]] = {
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
    gtin_body = indicator_item[0] + company_prefix + indicator_item[1:]
    return gtin_body + ean.calc_check_digit(gtin_body)


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
    return _ai_text(_percent_decode(component, urn), max_length, what, urn)


# GS1 Digital Link URIs (GS1 Digital Link 1.x)


def _parse_digital_link(text: str) -> _Gs1Key | None:
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced "[" in the host: not a URI we know, so not ours to reject
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    segments = parts.path.removesuffix("/").split("/")[1:]
    if not segments or segments[0] not in _KEY_QUALIFIERS:
        return None
    if len(segments) % 2:
        raise ValueError(f"{text!r}: application identifier {segments[-1]} has no value")
    pairs = [(segments[i], _dl_decode(segments[i + 1], text)) for i in range(0, len(segments), 2)]
    ai, value = pairs[0]
    value = _DL_KEY_PARSERS[ai](value, text)
    qualifiers: dict[str, str] = {}
    for qualifier, qualifier_value in pairs[1:]:
        if qualifier not in _KEY_QUALIFIERS[ai]:
            # Valid Digital Link may carry qualifiers this module does not model (e.g. AI 235 after AI 01); leave
            # such a URI as it is rather than drop part of its identity.
            return None
        if qualifier in qualifiers:
            raise ValueError(f"{text!r}: application identifier {qualifier} appears twice")
        name = _QUALIFIER_NAMES[qualifier]
        qualifiers[qualifier] = _ai_text(qualifier_value, _QUALIFIER_MAX_LENGTH[qualifier], name, text)
    if qualifiers.get("254") == _SGLN_NO_EXTENSION:
        # Same GLN as the SGLN URN with extension "0", which the TDS maps to a GLN without AI 254.
        del qualifiers["254"]
    ordered = tuple((q, qualifiers[q]) for q in _KEY_QUALIFIERS[ai] if q in qualifiers)
    return _Gs1Key(ai, value, ordered)


def _dl_gtin(value: str, label: str) -> str:
    if not (_DIGITS.fullmatch(value) and len(value) in (8, 12, 13, 14)):
        raise ValueError(f"{label!r}: a GTIN is 8, 12, 13 or 14 digits, got {value!r}")
    _check_check_digit(value, "GTIN", label)
    return value.zfill(14)


def _dl_sscc(value: str, label: str) -> str:
    if not (_DIGITS.fullmatch(value) and len(value) == 18):
        raise ValueError(f"{label!r}: an SSCC is 18 digits, got {value!r}")
    _check_check_digit(value, "SSCC", label)
    return value


def _dl_gln(value: str, label: str) -> str:
    if not (_DIGITS.fullmatch(value) and len(value) == 13):
        raise ValueError(f"{label!r}: a GLN is 13 digits, got {value!r}")
    _check_check_digit(value, "GLN", label)
    return value


def _dl_grai(value: str, label: str) -> str:
    digits, serial = value[:14], value[14:]
    if not (_DIGITS.fullmatch(digits) and len(digits) == 14 and digits[0] == "0"):
        raise ValueError(f"{label!r}: AI 8003 starts with 0 and the 13-digit GRAI, got {value!r}")
    _check_check_digit(digits[1:], "GRAI", label)
    if serial:
        _ai_text(serial, _GRAI_SERIAL_MAX_LENGTH, "GRAI serial", label)
    return value


def _dl_giai(value: str, label: str) -> str:
    return _ai_text(value, _GIAI_MAX_LENGTH, "GIAI", label)


_DL_KEY_PARSERS: dict[str, Callable[[str, str], str]] = {
    "01": _dl_gtin,
    "00": _dl_sscc,
    "414": _dl_gln,
    "8003": _dl_grai,
    "8004": _dl_giai,
}


def _check_check_digit(number: str, what: str, label: str) -> None:
    expected = ean.calc_check_digit(number[:-1])
    if number[-1] != expected:
        raise ValueError(f"{label!r}: the {what} {number} has a wrong check digit (expected {expected})")


def _dl_decode(segment: str, uri: str) -> str:
    if not _PERCENT_ENCODED.fullmatch(segment):
        raise ValueError(f"{uri!r}: {segment!r} has a % that does not start a %XX escape")
    return _percent_decode(segment, uri)


def _dl_encode(value: str) -> str:
    # RFC 3986 unreserved characters stay as they are, everything else is percent-encoded, as GS1's own encoders do.
    return quote(value, safe="")


# Shared


def _percent_decode(text: str, label: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ValueError(f"{label!r}: {text!r} percent-encodes bytes that are not UTF-8") from None


def _ai_text(value: str, max_length: int, what: str, label: str) -> str:
    if not value:
        raise ValueError(f"{label!r}: the {what} is empty")
    if len(value) > max_length:
        raise ValueError(f"{label!r}: the {what} has {len(value)} characters, at most {max_length} are allowed")
    if not CSET_82.issuperset(value):
        bad = "".join(sorted(set(value) - CSET_82))
        raise ValueError(f"{label!r}: the {what} {value!r} has characters outside GS1's CSET 82: {bad!r}")
    return value
