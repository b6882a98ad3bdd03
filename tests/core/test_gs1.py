"""The GS1 layer's round trips: whatever core.gs1 writes it reads back as the same thing, for any valid value.

Digital Link format → parse for any GTIN, variant, lot and serial (CSET 82, "/" and "%" included) and data attributes;
EPC URN → Digital Link → EPC URN for every EPC scheme with a Digital Link twin; and the decoded-path rules.
"""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import gs1
from core.gs1 import epc

DIGITS = "0123456789"
# GS1 General Specifications figure 7.11-1, written out so the tests do not share the module's constant.
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
URN_MUST_ESCAPE = set('"%&/<>?')  # Tag Data Standard: the CSET 82 characters escaped in an EPC URN component


def check_digit(body: str) -> str:
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return str(-total % 10)


def urn_escape(value: str) -> str:
    return "".join(f"%{ord(char):02X}" if char in URN_MUST_ESCAPE else char for char in value)


values = st.text(alphabet=CSET82, min_size=1, max_size=20)
# Values a lot of the real world has: slashes, percent signs, and what looks like an escape or a path.
tricky_values = st.sampled_from(["CH26-0212/", "SH26/014", "50%", "%2F", "a%25b", "/", "//", "10/A", "qr.svg", "?x=1"])


@st.composite
def gtins(draw: st.DrawFn) -> tuple[str, str]:
    """A GTIN as someone may write it (8, 12, 13 or 14 digits, check digit right) and its 14-digit form."""
    length = draw(st.sampled_from([8, 12, 13, 14]))
    body = draw(st.text(DIGITS, min_size=length - 1, max_size=length - 1))
    written = body + check_digit(body)
    return written, written.zfill(14)


@given(
    gtin=gtins(),
    variant=st.none() | values,
    lot=st.none() | values | tricky_values,
    serial=st.none() | values | tricky_values,
    suffix=st.sampled_from(["", "/qr.svg", "/qr.png"]),
)
def test_any_link_the_module_writes_it_parses_back(gtin, variant, lot, serial, suffix):
    written, gtin14 = gtin
    qualifiers = tuple((ai, value) for ai, value in (("22", variant), ("10", lot), ("21", serial)) if value is not None)
    link = gs1.DigitalLink("01", gtin14, qualifiers)
    image_format = {"": None, "/qr.svg": "svg", "/qr.png": "png"}[suffix]

    assert gs1.parse(link.path + suffix) == (link, image_format)
    assert gs1.parse(link.path.replace(gtin14, written, 1)) == (link, None)  # short GTINs read as their 14 digits
    # The same link on any root, read as canonical() reads other people's URIs, is the same key on id.gs1.org.
    assert gs1.canonical(link.uri("https://brand.example")) == link.uri(gs1.CANONICAL_ROOT)


@given(gtin=gtins(), lot=values | tricky_values, serial=st.none() | values | tricky_values)
def test_gtin_uri_is_the_canonical_link_that_parse_reads(gtin, lot, serial):
    written, gtin14 = gtin
    uri = gs1.gtin_uri(written, lot, serial)
    assert uri.startswith(f"https://id.gs1.org/01/{gtin14}/10/")
    link, _ = gs1.parse(uri.removeprefix(gs1.CANONICAL_ROOT))
    assert (link.gtin, link.lot, link.serial) == (gtin14, lot, serial)
    assert gs1.canonical(uri) == uri


dates = st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2099, 12, 31))


@given(
    lot=values | tricky_values,
    expiry=dates,
    internal=values,
    weight=st.text(DIGITS, min_size=6, max_size=6),
    other=st.sampled_from(["", "linkType=gs1:pip&", "utm_source=label&"]),
)
def test_data_attributes_in_the_query_string_are_read_back(lot, expiry, internal, weight, other):
    attributes = (("17", expiry.strftime("%y%m%d")), ("99", internal), ("3103", weight))
    link = gs1.DigitalLink("01", "09506000134352", (("10", lot),), attributes)
    assert gs1.parse(link.path, query=other + link.query) == (link, None)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("10=ABC", "key qualifier goes in the path"),
        ("21=S1", "key qualifier goes in the path"),
        ("01=09506000134352", "primary key"),
        ("414=9506000134352", "primary key"),
        ("99=", "is empty"),
        ("9999=1", "not a GS1 application identifier"),
        ("17=261331", "real date"),
        ("17=2612", "exactly 6 digits"),
        ("3103=12.5", "exactly 6 digits"),
        ("17=261231&17=270101", "appears twice"),
        ("99=a%ZZ", "%XX"),
        ("99=caf%C3%A9", "CSET 82"),
    ],
)
def test_bad_data_attributes_are_refused_with_the_reason(query, reason):
    with pytest.raises(gs1.InvalidDigitalLink, match=reason):
        gs1.parse("/01/09506000134352/10/L1", query=query)


def test_non_numeric_query_parameters_are_not_data_attributes():
    link, _ = gs1.parse("/01/09506000134352", query="linkType=gs1:pip&serial=1&context=x&utm_medium=qr&17=261231")
    assert link.attributes == (("17", "261231"),)


# A path the server decoded: every "/" is a separator, and a "/" that may have been a %2F is never guessed at


@pytest.mark.parametrize(
    "decoded_path",
    [
        "/01/09506000134352/10/CH26-0212/",  # the lot "CH26-0212/", or "CH26-0212" and a trailing slash?
        "/01/09506000134352/10/CH26-0212/foo",  # the lot "CH26-0212/foo", or a segment "foo"?
        "/01/09506000134352/10/SH26/014",
        "/01/09506000134352/22/V/1/10/L",
    ],
)
def test_decoded_path_that_a_slash_in_a_value_could_explain_is_ambiguous(decoded_path):
    with pytest.raises(gs1.AmbiguousPath, match="cannot be told apart"):
        gs1.parse(decoded_path, decoded=True)


@pytest.mark.parametrize(
    ("decoded_path", "reason"),
    [
        ("/01/09506000134353/10/A/21/B", "check digit"),  # wrong before any lot: no reading could mend it
        ("/01/09506000134352/foo/bar/baz", "not a key qualifier"),
        ("/01/09506000134352/10//21/S", "empty"),
    ],
)
def test_decoded_path_that_no_reading_could_mend_gets_the_plain_reason(decoded_path, reason):
    with pytest.raises(gs1.InvalidDigitalLink, match=reason) as excinfo:
        gs1.parse(decoded_path, decoded=True)
    assert not isinstance(excinfo.value, gs1.AmbiguousPath)


def test_decoded_path_is_not_decoded_twice():
    link, _ = gs1.parse("/01/09506000134352/10/50%", decoded=True)  # sent as 50%25
    assert link.lot == "50%"
    assert gs1.parse("/01/09506000134352/", decoded=True)[0] == gs1.parse("/01/09506000134352")[0]


# EPC URN → Digital Link → EPC URN


company_prefixes = st.text(DIGITS, min_size=6, max_size=12)


@st.composite
def epc_urns(draw: st.DrawFn) -> tuple[str, int]:
    """An EPC URN in canonical spelling (only " % & / < > ? escaped) and the length of its company prefix."""
    cp = draw(company_prefixes)
    n = len(cp)
    value = draw(values | tricky_values)
    scheme = draw(st.sampled_from(["sgtin", "lgtin", "sgln", "sscc", "grai", "giai"]))
    if scheme in ("sgtin", "lgtin"):
        indicator_item = draw(st.text(DIGITS, min_size=13 - n, max_size=13 - n))
        kind = "id" if scheme == "sgtin" else "class"
        return f"urn:epc:{kind}:{scheme}:{cp}.{indicator_item}.{urn_escape(value)}", n
    if scheme == "sgln":
        location = draw(st.text(DIGITS, min_size=12 - n, max_size=12 - n))
        extension = draw(st.just("0") | values)
        return f"urn:epc:id:sgln:{cp}.{location}.{urn_escape(extension)}", n
    if scheme == "sscc":
        serial_reference = draw(st.text(DIGITS, min_size=17 - n, max_size=17 - n))
        return f"urn:epc:id:sscc:{cp}.{serial_reference}", n
    if scheme == "grai":
        asset_type = draw(st.text(DIGITS, min_size=12 - n, max_size=12 - n))
        return f"urn:epc:id:grai:{cp}.{asset_type}.{urn_escape(value[:16])}", n
    reference = draw(st.text(alphabet=CSET82, min_size=1, max_size=30 - n))
    return f"urn:epc:id:giai:{cp}.{urn_escape(reference)}", n


@given(epc_urns())
def test_any_epc_urn_comes_back_from_its_digital_link(urn_and_prefix):
    urn, company_prefix_length = urn_and_prefix
    digital_link = gs1.canonical(urn)
    assert digital_link.startswith("https://id.gs1.org/")
    link = epc.parse(digital_link)
    assert link is not None
    assert gs1.urn(link, company_prefix_length=company_prefix_length) == urn


def test_digital_link_with_no_epc_twin_is_refused():
    link = gs1.DigitalLink("01", "09506000134352", (("22", "V"), ("10", "L")))
    with pytest.raises(ValueError, match="no EPC URN"):
        gs1.urn(link, company_prefix_length=7)


# The URI of a product, batch or item: one family, on any root


class _Product:
    def __init__(self, gtin: str | None, internal_ref: str = "0123456789") -> None:
        self.gtin, self.internal_ref = gtin, internal_ref


class _Batch:
    def __init__(self, product: _Product, lot: str) -> None:
        self.product, self.lot = product, lot


def test_uris_of_our_things_are_on_the_resolver_root_unless_told(settings):
    settings.RESOLVER_ROOT = "https://scan.example"
    batch = _Batch(_Product("09506000134352"), "SH26/014")
    assert gs1.batch_uri(batch) == "https://scan.example/01/09506000134352/10/SH26%2F014"
    assert gs1.batch_uri(batch, root=gs1.CANONICAL_ROOT) == gs1.gtin_uri("09506000134352", "SH26/014")
    assert gs1.item_uri(batch, "7") == "https://scan.example/01/09506000134352/10/SH26%2F014/21/7"
    assert gs1.product_uri(batch.product, root=gs1.CANONICAL_ROOT) == "https://id.gs1.org/01/09506000134352"


def test_products_without_gtin_have_no_canonical_uri(settings):
    settings.RESOLVER_ROOT = "https://scan.example"
    batch = _Batch(_Product(None), "L1")
    assert gs1.batch_uri(batch) == "https://scan.example/p/0123456789/10/L1"
    with pytest.raises(ValueError, match="no GS1 identifier"):
        gs1.batch_uri(batch, root=gs1.CANONICAL_ROOT)


class_patterns = st.builds(
    lambda cp, item: f"urn:epc:idpat:sgtin:{cp}.{item}.*", st.just("9521000"), st.text(DIGITS, min_size=6, max_size=6)
)
other_identifiers = st.sampled_from(
    [
        "urn:epc:idpat:sgtin:9521000.*.*",
        "urn:epc:class:unknown:1.2.3",
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        "https://example.org/things/1",
        "https://brand.example/01/09506000134352/235/ABC",
        "  urn:epc:id:sgln:9521000.00001.0  ",
        "https://id.gs1.org/8003/095060001343520123",
        "https://id.gs1.org/8003/09506000134352",
    ]
)


@given(epc_urns().map(lambda pair: pair[0]) | class_patterns | other_identifiers)
def test_canonical_and_class_is_canonical_and_is_class_of_it_in_one_reading(identifier):
    canonical = gs1.canonical(identifier)
    assert gs1.canonical_and_class(identifier) == (canonical, gs1.is_class(canonical))


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        ("urn:epc:id:sgtin:95.x.1", "company prefix must be 6 to 12 digits"),
        ("urn:epc:class:lgtin:9521000.010001.a<b", "not a valid EPC URN component"),
        ("https://id.gs1.org/01/09506000134353/21/1", "check digit"),
    ],
)
def test_canonical_and_class_refuses_what_canonical_refuses(identifier, reason):
    with pytest.raises(ValueError, match=reason) as canonical_error:
        gs1.canonical(identifier)
    with pytest.raises(ValueError, match=reason) as error:
        gs1.canonical_and_class(identifier)
    assert str(error.value) == str(canonical_error.value)


@given(st.text(DIGITS, max_size=17))
def test_check_digits_are_python_stdnums(body):
    from stdnum import ean

    assert gs1.keys.check_digit(body) == ean.calc_check_digit(body) == check_digit(body)
