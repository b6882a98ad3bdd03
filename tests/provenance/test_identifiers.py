"""EPC URNs and GS1 Digital Link URIs of the same GS1 key share one canonical form; nothing else is touched."""

import json

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from core.gs1 import canonical, gtin_uri, is_class
from provenance import epcis

EXAMPLES = epcis.STANDARDS / "examples"  # GS1's examples, copied unchanged

DIGITS = "0123456789"
# GS1 General Specifications figure 7.11-1.
CSET_82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
# Tag Data Standard: the CSET 82 characters that must be %-escaped in an EPC URN component.
URN_MUST_ESCAPE = set('"%&/<>?')
# RFC 3986 pchar: sub-delims, ":" and "@" may appear raw in a path segment; a Digital Link may or may not escape them.
DL_MAY_STAY_RAW = set("!$&'()*+,;=:@")
UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def gs1_check_digit(body: str) -> str:
    """GS1 mod-10 check digit, written out here so the tests do not share code with the module under test."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return str(-total % 10)


def percent_encode(value: str, keep: set[str] = UNRESERVED) -> str:
    return "".join(char if char in keep else f"%{ord(char):02X}" for char in value)


# EPC URNs


def test_sgtin_urn_becomes_gtin_and_serial_digital_link():
    # GTIN body: indicator 0 + company prefix 4012345 + item reference 11122 = 0401234511122, check digit 4.
    assert canonical("urn:epc:id:sgtin:4012345.011122.25") == "https://id.gs1.org/01/04012345111224/21/25"


@pytest.mark.parametrize(
    ("urn", "digital_link"),
    [
        # The Tag Data Standard's own worked examples.
        ("urn:epc:id:sgtin:0614141.812345.6789", "https://id.gs1.org/01/80614141123458/21/6789"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
        ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
        ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
        # Company prefixes at both ends of the 6-12 digit range.
        ("urn:epc:id:sgtin:952012.3456788.1", "https://id.gs1.org/01/39520124567880/21/1"),
        ("urn:epc:id:sgtin:415056789012.0.987654", "https://id.gs1.org/01/04150567890128/21/987654"),
        ("urn:epc:id:sscc:061414112345.00001", "https://id.gs1.org/00/006141411234500019"),
        ("urn:epc:id:sgln:061414112345..7", "https://id.gs1.org/414/0614141123452/254/7"),
        ("urn:epc:id:grai:061414112345..A1", "https://id.gs1.org/8003/00614141123452A1"),
    ],
)
def test_epc_urns_become_digital_links_on_id_gs1_org(urn, digital_link):
    assert canonical(urn) == digital_link


def test_lgtin_class_becomes_gtin_and_lot_digital_link():
    assert canonical("urn:epc:class:lgtin:0614141.077777.987") == "https://id.gs1.org/01/00614141777778/10/987"


def test_gtin_level_sgtin_pattern_becomes_gtin_only_digital_link():
    assert canonical("urn:epc:idpat:sgtin:4012345.066666.*") == "https://id.gs1.org/01/04012345666663"


def test_sgln_extension_zero_means_no_gln_extension():
    assert canonical("urn:epc:id:sgln:4012345.00001.0") == "https://id.gs1.org/414/4012345000016"
    assert canonical("urn:epc:id:sgln:4012345.00001.00") == "https://id.gs1.org/414/4012345000016/254/00"


@pytest.mark.parametrize(
    ("urn", "digital_link"),
    [
        # TDS escapes " % & / < > ? in URNs; they stay escaped in the Digital Link.
        ("urn:epc:id:sgtin:0614141.812345.A%2FB", "https://id.gs1.org/01/80614141123458/21/A%2FB"),
        ("urn:epc:id:sgtin:0614141.812345.a%2fb", "https://id.gs1.org/01/80614141123458/21/a%2Fb"),
        (
            "urn:epc:id:sgtin:0614141.812345.%22%25%26%3C%3E%3F",
            "https://id.gs1.org/01/80614141123458/21/%22%25%26%3C%3E%3F",
        ),
        # Characters a URN may carry raw but GS1 Digital Link percent-encodes.
        (
            "urn:epc:id:sgtin:0614141.812345.x!y'(z)*+,:;=",
            "https://id.gs1.org/01/80614141123458/21/x%21y%27%28z%29%2A%2B%2C%3A%3B%3D",
        ),
        # Dots and unreserved characters stay as they are, and a dot in the last field is part of the serial.
        ("urn:epc:id:sgtin:0614141.812345.A.1_b-2", "https://id.gs1.org/01/80614141123458/21/A.1_b-2"),
        ("urn:epc:class:lgtin:0614141.812345.L%2F7.2", "https://id.gs1.org/01/80614141123458/10/L%2F7.2"),
        ("urn:epc:id:sgln:0614141.12345.dock%2F4", "https://id.gs1.org/414/0614141123452/254/dock%2F4"),
        ("urn:epc:id:giai:0614141.TOOL%2F17", "https://id.gs1.org/8004/0614141TOOL%2F17"),
    ],
)
def test_urn_escapes_are_decoded_then_percent_encoded_for_digital_link(urn, digital_link):
    assert canonical(urn) == digital_link


def test_urn_scheme_is_matched_without_regard_to_case():
    assert canonical("URN:EPC:ID:SGTIN:4012345.011122.25") == "https://id.gs1.org/01/04012345111224/21/25"


# GS1 Digital Link URIs


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/09520123456788/10/ABC",
        "https://example.com/01/09520123456788/10/ABC",
        "https://id.example.org/01/09520123456788/10/ABC",
        "http://example.com/01/09520123456788/10/ABC",
        "HTTPS://Example.COM/01/09520123456788/10/ABC",
        "https://example.com/01/09520123456788/10/ABC?17=290331&linkType=gs1:pip",
        "https://example.com/01/09520123456788/10/ABC#top",
        "https://example.com/01/09520123456788/10/ABC/",
        "  https://example.com/01/09520123456788/10/ABC\n",
    ],
)
def test_digital_links_on_any_domain_move_to_id_gs1_org_without_query_or_fragment(uri):
    assert canonical(uri) == "https://id.gs1.org/01/09520123456788/10/ABC"


@pytest.mark.parametrize(
    ("gtin", "gtin14"),
    [("9520123456788", "09520123456788"), ("036000291452", "00036000291452"), ("96385074", "00000096385074")],
)
def test_short_gtins_are_padded_to_14_digits(gtin, gtin14):
    assert canonical(f"https://example.com/01/{gtin}/21/7") == f"https://id.gs1.org/01/{gtin14}/21/7"
    assert canonical(f"https://example.com/01/{gtin}") == f"https://id.gs1.org/01/{gtin14}"


@pytest.mark.parametrize(
    "path",
    [
        "/01/09520123456788/22/V1/10/L2/21/S3",
        "/01/09520123456788/21/S3/10/L2/22/V1",
        "/01/09520123456788/10/L2/21/S3/22/V1",
        "/01/09520123456788/21/S3/22/V1/10/L2",
    ],
)
def test_gtin_qualifiers_in_any_order_come_out_as_22_10_21(path):
    assert canonical("https://example.com" + path) == "https://id.gs1.org/01/09520123456788/22/V1/10/L2/21/S3"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://example.com/01/09520123456788/21/a%2fb", "https://id.gs1.org/01/09520123456788/21/a%2Fb"),
        ("https://example.com/01/09520123456788/21/x!y(1)", "https://id.gs1.org/01/09520123456788/21/x%21y%281%29"),
        ("https://example.com/01/09520123456788/21/%41%2D%31", "https://id.gs1.org/01/09520123456788/21/A-1"),
        ("https://example.com/01/09520123456788/21/100%25", "https://id.gs1.org/01/09520123456788/21/100%25"),
    ],
)
def test_digital_link_values_are_decoded_and_re_encoded_consistently(uri, expected):
    assert canonical(uri) == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://example.com/00/106141412345678908", "https://id.gs1.org/00/106141412345678908"),
        ("https://example.com/414/0614141123452", "https://id.gs1.org/414/0614141123452"),
        ("https://example.com/414/0614141123452/254/400", "https://id.gs1.org/414/0614141123452/254/400"),
        ("https://example.com/414/0614141123452/254/0", "https://id.gs1.org/414/0614141123452"),
        ("https://example.com/8003/00614141123452400", "https://id.gs1.org/8003/00614141123452400"),
        ("https://example.com/8003/00614141123452", "https://id.gs1.org/8003/00614141123452"),
        ("https://example.com/8004/0614141TOOL%2f17", "https://id.gs1.org/8004/0614141TOOL%2F17"),
    ],
)
def test_sscc_gln_grai_and_giai_digital_links_are_canonicalised(uri, expected):
    assert canonical(uri) == expected


@pytest.mark.parametrize(
    ("urn", "uri"),
    [
        ("urn:epc:id:sgtin:0614141.812345.6789", "https://example.com/01/80614141123458/21/6789"),
        ("urn:epc:class:lgtin:0614141.812345.L%2F7", "https://example.com/01/80614141123458/10/L%2f7"),
        ("urn:epc:idpat:sgtin:0614141.012345.*", "https://example.com/01/614141123452"),
        ("urn:epc:id:sscc:0614141.1234567890", "http://example.com/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.12345.400", "https://example.com/414/0614141123452/254/400"),
        ("urn:epc:id:sgln:0614141.12345.0", "https://example.com/414/0614141123452"),
        ("urn:epc:id:grai:0614141.12345.400", "https://example.com/8003/00614141123452400"),
        ("urn:epc:id:giai:0614141.12345400", "https://example.com/8004/061414112345400"),
    ],
)
def test_urn_and_digital_link_of_the_same_key_compare_equal(urn, uri):
    assert canonical(urn) == canonical(uri)


# Everything else


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("urn:epc:id:gdti:0614141.12345.006847", "urn:epc:id:gdti:0614141.12345.006847"),
        ("urn:epc:id:gsrn:0614141.1234567890", "urn:epc:id:gsrn:0614141.1234567890"),
        ("urn:epc:idpat:sgtin:4012345.*.*", "urn:epc:idpat:sgtin:4012345.*.*"),
        ("urn:epc:idpat:sgtin:*.*.*", "urn:epc:idpat:sgtin:*.*.*"),
        ("urn:epcglobal:cbv:bizstep:shipping", "urn:epcglobal:cbv:bizstep:shipping"),
        ("urn:uuid:8a5e4f9c-2e8b-4f0e-9b9a-0a3c2d7f1e55", "urn:uuid:8a5e4f9c-2e8b-4f0e-9b9a-0a3c2d7f1e55"),
        ("https://example.org/whatever", "https://example.org/whatever"),
        ("https://example.org/", "https://example.org/"),
        ("https://example.org/products/01/09520123456788", "https://example.org/products/01/09520123456788"),
        ("https://example.com/01/09520123456788/235/TPX1", "https://example.com/01/09520123456788/235/TPX1"),
        ("https://example.com/00/106141412345678908/21/1", "https://example.com/00/106141412345678908/21/1"),
        ("ftp://example.com/01/09520123456788", "ftp://example.com/01/09520123456788"),
        ("ni:///sha-256;e65c3a997e77f34b?ver=CBV2.0", "ni:///sha-256;e65c3a997e77f34b?ver=CBV2.0"),
        ("  LOT-2024-07  ", "LOT-2024-07"),
        ("", ""),
    ],
)
def test_identifiers_without_a_gs1_digital_link_form_are_only_stripped(identifier, expected):
    assert canonical(identifier) == expected


@pytest.mark.parametrize(
    "identifier",
    [
        "urn:epc:id:sgtin:4012345.01112.25",  # 12 digits with the company prefix, not 13
        "urn:epc:id:sgtin:4012345.0111222.25",  # 14 digits
        "urn:epc:id:sgtin:40123A5.011122.25",  # a letter in the company prefix
        "urn:epc:id:sgtin:40123.01112233.25",  # company prefix shorter than 6 digits
        "urn:epc:id:sgtin:4012345678901.0.25",  # company prefix longer than 12 digits
        "urn:epc:id:sgtin:4012345.011122",  # no serial field
        "urn:epc:id:sgtin:4012345.011122.",  # empty serial
        "urn:epc:id:sgtin:4012345.011122." + "1" * 21,  # serial longer than AI 21's 20 characters
        "urn:epc:id:sgtin:4012345.011122.A/B",  # "/" must be escaped in a URN
        "urn:epc:id:sgtin:4012345.011122.A B",  # space is not in CSET 82
        "urn:epc:id:sgtin:4012345.011122.A%23B",  # "#" is not in CSET 82, escaped or not
        "urn:epc:id:sgtin:4012345.011122.A%2",  # a broken escape
        "urn:epc:id:sgtin:4012345.011122.%C3%A9",  # é is not in CSET 82
        "urn:epc:class:lgtin:4012345.01112.L1",
        "urn:epc:idpat:sgtin:4012345.01112.*",
        "urn:epc:id:sscc:0614141.123456789",  # 16 digits, not 17
        "urn:epc:id:sgln:0614141.1234.0",  # 11 digits, not 12
        "urn:epc:id:grai:0614141.12345." + "1" * 17,  # GRAI serial longer than 16 characters
        "urn:epc:id:giai:0614141." + "1" * 24,  # GIAI longer than 30 characters
    ],
)
def test_malformed_epc_urns_raise_value_error(identifier):
    with pytest.raises(ValueError, match="urn:epc:"):
        canonical(identifier)


@pytest.mark.parametrize(
    "identifier",
    [
        "https://example.com/01/09520123456789",  # wrong check digit
        "https://example.com/01/09520123456789/21/1",
        "https://id.gs1.org/01/9520123456789/10/L1",
        "https://example.com/01/0952012345678",  # 13 digits, but the check digit is wrong for it
        "https://example.com/01/95201234567",  # 11 digits
        "https://example.com/01/095201234567880",  # 15 digits
        "https://example.com/01/0952012345678A",
        "https://example.com/01/",
        "https://example.com/01/09520123456788/21",  # qualifier without a value
        "https://example.com/01/09520123456788/21/",
        "https://example.com/01/09520123456788/21/1/21/2",  # the same qualifier twice
        "https://example.com/01/09520123456788/10/" + "L" * 21,  # lot longer than AI 10's 20 characters
        "https://example.com/01/09520123456788/10/A%20B",  # space is not in CSET 82
        "https://example.com/01/09520123456788/10/A%ZZ",  # a broken escape
        "https://example.com/00/106141412345678909",
        "https://example.com/00/10614141234567890",
        "https://example.com/414/0614141123453",
        "https://example.com/8003/10614141123452400",  # AI 8003 starts with a 0
        "https://example.com/8003/00614141123453400",
    ],
)
def test_malformed_digital_links_raise_value_error(identifier):
    with pytest.raises(ValueError, match="example.com|id.gs1.org"):
        canonical(identifier)


def test_wrong_check_digit_error_names_the_expected_digit():
    with pytest.raises(ValueError, match="wrong check digit: it should end in 8"):
        canonical("https://example.com/01/09520123456789")


# is_class


@pytest.mark.parametrize(
    "identifier",
    [
        "urn:epc:class:lgtin:4012345.011111.4444",
        "urn:epc:idpat:sgtin:4012345.066666.*",
        "urn:epc:idpat:sgtin:4012345.*.*",
        "urn:epc:idpat:sscc:0614141.*",
        "https://id.gs1.org/01/04012345666663",
        "https://example.com/01/00614141777778/10/987",
        "https://example.com/01/00614141777778/22/V1/10/987",
        "https://example.com/01/00614141777778?linkType=gs1:pip",
        "https://example.com/8003/00614141123452",  # a GRAI without a serial is an asset type
    ],
)
def test_class_level_identifiers_are_classes(identifier):
    assert is_class(identifier)


@pytest.mark.parametrize(
    "identifier",
    [
        "urn:epc:id:sgtin:4012345.011122.25",
        "urn:epc:id:sscc:0614141.1234567890",
        "urn:epc:id:sgln:0614141.12345.400",
        "urn:epc:id:grai:0614141.12345.400",
        "urn:epc:id:giai:0614141.12345400",
        "https://example.com/01/00614141777778/21/1",
        "https://example.com/01/00614141777778/10/987/21/1",
        "https://example.com/00/106141412345678908",
        "https://example.com/414/0614141123452",
        "https://example.com/8003/00614141123452400",
        "urn:epc:id:gdti:0614141.12345.006847",
        "https://example.org/whatever",
        "LOT-2024-07",
    ],
)
def test_instances_and_unknown_identifiers_are_not_classes(identifier):
    assert not is_class(identifier)


def test_is_class_refuses_malformed_gs1_identifiers():
    with pytest.raises(ValueError, match="check digit"):
        is_class("https://example.com/01/09520123456789")


# gtin_uri


@pytest.mark.parametrize(
    ("gtin", "lot", "expected"),
    [
        ("09520123456788", "ABC", "https://id.gs1.org/01/09520123456788/10/ABC"),
        ("09520123456788", "CH24-0117", "https://id.gs1.org/01/09520123456788/10/CH24-0117"),
        ("09520123456788", "AB/12.3_4", "https://id.gs1.org/01/09520123456788/10/AB%2F12.3_4"),
        ("09520123456788", "50%&<1>?", "https://id.gs1.org/01/09520123456788/10/50%25%26%3C1%3E%3F"),
        ("9520123456788", "L1", "https://id.gs1.org/01/09520123456788/10/L1"),
    ],
)
def test_gtin_uri_percent_encodes_the_lot(gtin, lot, expected):
    assert gtin_uri(gtin, lot) == expected


def test_gtin_uri_equals_the_canonical_lgtin():
    assert gtin_uri("00614141777778", "987") == canonical("urn:epc:class:lgtin:0614141.077777.987")


@pytest.mark.parametrize(
    ("gtin", "lot"),
    [("09520123456789", "L1"), ("0952012345678A", "L1"), ("09520123456788", ""), ("09520123456788", "L" * 21)],
)
def test_gtin_uri_refuses_bad_gtins_and_lots(gtin, lot):
    with pytest.raises(ValueError, match="GTIN"):
        gtin_uri(gtin, lot)


# GS1's TransformationEvent example in its EPC URN and Digital Link spellings


def example_identifiers(name: str) -> dict[str, list[str]]:
    path = EXAMPLES / name
    (event,) = json.loads(path.read_text())["epcisBody"]["eventList"]
    return {
        "inputEPCList": event["inputEPCList"],
        "outputEPCList": event["outputEPCList"],
        "inputQuantityList": [element["epcClass"] for element in event["inputQuantityList"]],
        "outputQuantityList": [element["epcClass"] for element in event.get("outputQuantityList", [])],
        "readPoint": [event["readPoint"]["id"]],
    }


def test_gs1_transformation_example_has_the_same_canonical_identifiers_in_urn_and_digital_link_form():
    urn_form = example_identifiers("Example_9.6.4-TransformationEvent.jsonld")
    digital_link_form = example_identifiers("Example_9.6.4-TransformationEventWithDigitalLink.jsonld")
    pairs = []
    for field, urns in urn_form.items():
        assert len(digital_link_form[field]) == len(urns), field
        pairs += zip(urns, digital_link_form[field], strict=True)

    assert len(pairs) == 10
    assert [canonical(urn) for urn, _ in pairs] == [canonical(uri) for _, uri in pairs]
    # The pairs that are spelled differently in the two files are the ones that prove the point.
    differently_spelled = [(urn, uri) for urn, uri in pairs if urn != uri]
    assert differently_spelled == [
        ("urn:epc:class:lgtin:0614141.077777.987", "https://id.gs1.org/01/00614141777778/10/987"),
        ("urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663"),
    ]
    assert all(canonical(uri) == uri for _, uri in differently_spelled)
    assert [is_class(uri) for uri in urn_form["inputQuantityList"]] == [True, True, True]
    assert not any(is_class(urn) for urn in urn_form["inputEPCList"] + urn_form["outputEPCList"])


# Properties


@st.composite
def sgtins(draw: st.DrawFn) -> tuple[str, str, str]:
    """A company prefix of 6-12 digits, indicator + item reference making 13 digits with it, a CSET 82 serial."""
    company_prefix = draw(st.text(DIGITS, min_size=6, max_size=12))
    item_length = 13 - len(company_prefix)
    indicator_item = draw(st.text(DIGITS, min_size=item_length, max_size=item_length))
    serial = draw(st.text(CSET_82, min_size=1, max_size=20))
    return company_prefix, indicator_item, serial


@st.composite
def urn_components(draw: st.DrawFn, value: str) -> str:
    """A TDS URN component: the must-escape characters escaped, the others raw or (sometimes) escaped anyway."""
    return "".join(
        f"%{ord(char):02X}" if char in URN_MUST_ESCAPE or (char not in UNRESERVED and draw(st.booleans())) else char
        for char in value
    )


@st.composite
def digital_links(draw: st.DrawFn, gtin14: str, qualifiers: list[tuple[str, str]]) -> str:
    """The same key as a Digital Link someone else might publish: any host, short GTINs, raw sub-delims, a query."""
    host = draw(st.sampled_from(["https://id.gs1.org", "https://example.com", "http://id.example.org", "https://a.b"]))
    gtin = gtin14
    if gtin.startswith("0") and draw(st.booleans()):
        gtin = gtin[1:]
    keep = UNRESERVED | {char for char in DL_MAY_STAY_RAW if draw(st.booleans())}
    path = f"/01/{gtin}" + "".join(f"/{ai}/{percent_encode(value, keep)}" for ai, value in qualifiers)
    query = draw(st.sampled_from(["", "?17=290331", "?linkType=gs1:pip&x=1", "#frag"]))
    return host + path + query


def gtin_from_epc(company_prefix: str, indicator_item: str) -> str:
    body = indicator_item[0] + company_prefix + indicator_item[1:]
    return body + gs1_check_digit(body)


@given(sgtins(), st.data())
def test_any_sgtin_urn_and_its_digital_link_compare_equal(sgtin, data):
    company_prefix, indicator_item, serial = sgtin
    urn = f"urn:epc:id:sgtin:{company_prefix}.{indicator_item}.{data.draw(urn_components(serial))}"
    gtin14 = gtin_from_epc(company_prefix, indicator_item)
    uri = data.draw(digital_links(gtin14, [("21", serial)]))

    assert canonical(urn) == canonical(uri)
    assert canonical(urn) == f"https://id.gs1.org/01/{gtin14}/21/{percent_encode(serial)}"
    assert not is_class(urn)
    assert not is_class(uri)


@given(sgtins(), st.data())
def test_any_lgtin_urn_and_its_digital_link_compare_equal_to_gtin_uri(sgtin, data):
    company_prefix, indicator_item, lot = sgtin
    urn = f"urn:epc:class:lgtin:{company_prefix}.{indicator_item}.{data.draw(urn_components(lot))}"
    gtin14 = gtin_from_epc(company_prefix, indicator_item)
    uri = data.draw(digital_links(gtin14, [("10", lot)]))

    assert canonical(urn) == canonical(uri) == gtin_uri(gtin14, lot)
    assert is_class(urn)
    assert is_class(uri)


@st.composite
def identifiers(draw: st.DrawFn) -> str:
    company_prefix, indicator_item, value = draw(sgtins())
    component = draw(urn_components(value))
    gtin14 = gtin_from_epc(company_prefix, indicator_item)
    twelve = (company_prefix + indicator_item)[:12]
    grai_serial = draw(urn_components(value[:16]))
    giai_reference = draw(urn_components(value[: 30 - len(company_prefix)]))
    return draw(
        st.one_of(
            st.just(f"urn:epc:id:sgtin:{company_prefix}.{indicator_item}.{component}"),
            st.just(f"urn:epc:class:lgtin:{company_prefix}.{indicator_item}.{component}"),
            st.just(f"urn:epc:idpat:sgtin:{company_prefix}.{indicator_item}.*"),
            st.just(f"urn:epc:id:sscc:{company_prefix}.{(indicator_item + '0000')[: 17 - len(company_prefix)]}"),
            st.just(f"urn:epc:id:sgln:{company_prefix}.{twelve[len(company_prefix) :]}.{component}"),
            st.just(f"urn:epc:id:grai:{company_prefix}.{twelve[len(company_prefix) :]}.{grai_serial}"),
            st.just(f"urn:epc:id:giai:{company_prefix}.{giai_reference}"),
            digital_links(gtin14, [("21", value)]),
            digital_links(gtin14, [("22", value[:1]), ("10", value)]),
            digital_links(gtin14, []),
            st.text(),
            st.text(CSET_82).map(lambda text: "urn:epc:" + text),
            st.text(CSET_82).map(lambda text: "https://example.com/" + text),
        )
    )


@given(identifiers())
def test_canonical_is_idempotent(identifier):
    try:
        once = canonical(identifier)
    except ValueError:
        reject()  # a malformed GS1 identifier has no canonical form to be idempotent on
    assert canonical(once) == once
