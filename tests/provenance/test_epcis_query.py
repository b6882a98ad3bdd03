"""GET /epcis/events and /epcis/events/{eventID}: EPCIS 2.0 SimpleEventQuery over captured events, public."""

import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from jsonschema import Draft7Validator
from rest_framework.test import APIClient

from provenance import epcis
from provenance.models import Capture
from provenance.services import capture_document
from tests.products.factories import SupplierFactory
from tests.provenance.factories import epcis_document as document

pytestmark = pytest.mark.django_db

EXAMPLES = epcis.STANDARDS / "examples"  # GS1's examples, copied unchanged
EXTENSION = {"example": "http://ns.example.com/epcis/"}

# Identifiers of our own events, each with its twin in the other form (EPC URN / GS1 Digital Link).
A1 = "urn:epc:id:sgtin:9521234.054321.1"
A1_DL = "https://id.gs1.org/01/09521234543213/21/1"
A2 = "urn:epc:id:sgtin:9521234.054321.2"
A2_DL = "https://brand.example.com/01/09521234543213/21/2"  # any Digital Link domain names the same object
B1 = "urn:epc:id:sgtin:9521234.099999.1"
PALLET = "urn:epc:id:sscc:9521234.0000000001"
PALLET_DL = "https://id.gs1.org/00/095212340000000013"
L1 = "urn:epc:class:lgtin:9521234.054321.L1"
L1_DL = "https://id.gs1.org/01/09521234543213/10/L1"
L2 = "urn:epc:class:lgtin:9521234.054321.L2"
L3 = "urn:epc:class:lgtin:9521234.099999.L3"
GTIN_PATTERN = "urn:epc:idpat:sgtin:9521234.054321.*"
FARM = "urn:epc:id:sgln:9521234.00001.0"
FARM_DL = "https://id.gs1.org/414/9521234000013"
PORT = "https://id.gs1.org/414/9521234000020"
PORT_URN = "urn:epc:id:sgln:9521234.00002.0"
DOCK = "urn:epc:id:sgln:9521234.00002.7"
DOCK_DL = "https://id.gs1.org/414/9521234000020/254/7"
TRANSFORMATION = "urn:uuid:7b0a4c5e-1d36-4f1e-9d36-3c4e2b8a9f00"


def eid(n: int) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{n:012d}"


def event(n: int, type_: str = "ObjectEvent", day: int = 1, **fields) -> dict:
    base = {"type": type_, "eventID": eid(n), "eventTime": f"2026-01-0{day}T08:00:00+00:00"}
    return {**base, "eventTimeZoneOffset": "+00:00", **fields}


def capture(*events: dict, supplier=None, context: list | None = None) -> Capture:
    return capture_document(
        supplier=supplier or SupplierFactory(), submitted_by=None, document=document(*events, context=context)
    )


def query(params: str = "", **headers) -> tuple[int, dict, object]:
    response = APIClient().get(f"/epcis/events{'?' + params if params else ''}", **headers)
    return response.status_code, response.json(), response


def ids(body: dict) -> list[str]:
    return [e["eventID"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def assert_valid_epcis(body: dict) -> None:
    problems = [
        f"{list(error.absolute_path)}: {error.message}" for error in Draft7Validator(epcis.schema()).iter_errors(body)
    ]
    assert problems == []


def example_documents(pattern: str = "*.jsonld") -> list[dict]:
    paths = sorted(EXAMPLES.glob(pattern))
    assert paths, f"GS1's examples are missing from {EXAMPLES}"
    return [json.loads(path.read_text()) for path in paths]


# GS1's examples ------------------------------------------------------------------------------------------------


def test_every_example_event_comes_back_as_captured_in_a_valid_query_document():
    documents = example_documents()
    supplier = SupplierFactory()
    sent = {}
    for doc in documents:
        capture_document(supplier=supplier, submitted_by=None, document=doc)
        sent |= {e["eventID"]: e for e in doc["epcisBody"]["eventList"]}

    status, body, response = query("perPage=1000")

    assert status == 200
    assert response["Content-Type"].startswith("application/json")
    assert "Link" not in response
    assert body["type"] == "EPCISQueryDocument"
    assert body["epcisBody"]["queryResults"]["queryName"] == "SimpleEventQuery"
    returned = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert sorted(e["eventID"] for e in returned) == sorted(sent)
    for got in returned:
        original = sent[got["eventID"]]
        assert epcis.parse_time(got["recordTime"]) is not None
        if "recordTime" not in original:
            got = {key: value for key, value in got.items() if key != "recordTime"}
        assert got == original
    assert_valid_epcis(body)
    epcis.validate_document(body, kind="EPCISQueryDocument")


def test_query_document_context_lists_each_extension_prefix_once():
    supplier = SupplierFactory()
    for doc in example_documents():
        capture_document(supplier=supplier, submitted_by=None, document=doc)
    farm = {"farm": "https://farm.example.org/vocab/"}
    capture(event(1, action="ADD", epcList=[A1]), context=[epcis.CONTEXT_URL, farm])

    _, body, _ = query()

    assert body["@context"] == [epcis.CONTEXT_URL, EXTENSION, farm]


@pytest.mark.parametrize(
    "event_id",
    [
        "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0",
        "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
    ],
)
def test_one_event_by_its_percent_encoded_event_id(event_id):
    supplier = SupplierFactory()
    sent = {}
    for doc in example_documents():
        capture_document(supplier=supplier, submitted_by=None, document=doc)
        sent |= {e["eventID"]: (e, doc["@context"]) for e in doc["epcisBody"]["eventList"]}

    response = APIClient().get(f"/epcis/events/{quote(event_id, safe='')}")

    assert response.status_code == 200
    body = response.json()
    original, context = sent[event_id]
    assert body["@context"] == context
    assert {key: value for key, value in body.items() if key not in ("@context", "recordTime")} == original
    assert_valid_epcis(body)


@pytest.mark.parametrize("event_id", ["urn:uuid:11111111-2222-4333-8444-555555555555", "urn:uuid:\x00"])
def test_unknown_event_id_is_a_404_in_the_shared_error_shape(event_id):
    response = APIClient().get(f"/epcis/events/{quote(event_id, safe='')}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["status"] == 404


def test_error_declared_example_event_comes_back_with_its_error_declaration():
    (doc,) = example_documents("ErrorDeclarationAndCorrectiveEvent.jsonld")
    capture_document(supplier=SupplierFactory(), submitted_by=None, document=doc)
    declared = doc["epcisBody"]["eventList"][0]

    _, body, _ = query(f"EQ_eventID={quote(declared['eventID'], safe='')}")

    (got,) = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert got["errorDeclaration"] == declared["errorDeclaration"]
    assert got["errorDeclaration"]["example:vendorExtension"] == "Test1"


def test_error_declared_after_capture_is_added_to_the_event():
    supplier = SupplierFactory()
    original = event(1, action="OBSERVE", epcList=[A1])
    capture(original, supplier=supplier)
    declaration = {"declarationTime": "2026-02-01T00:00:00+00:00", "reason": "incorrect_data"}
    capture({**original, "errorDeclaration": declaration}, supplier=supplier)

    _, body, _ = query()
    detail = APIClient().get(f"/epcis/events/{quote(eid(1), safe='')}").json()

    (got,) = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert got["errorDeclaration"] == declaration
    assert detail["errorDeclaration"] == declaration
    assert {k: v for k, v in got.items() if k not in ("recordTime", "errorDeclaration")} == original
    assert_valid_epcis(body)


def test_query_answers_in_json_ld_when_asked():
    capture(event(1, action="ADD", epcList=[A1]))

    status, body, response = query(HTTP_ACCEPT="application/ld+json")

    assert status == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert ids(body) == [eid(1)]


def test_query_answers_in_json_ld_for_format_jsonld_and_its_errors_in_the_apis_json():
    capture(event(1, action="ADD", epcList=[A1]))

    status, _body, response = query("format=jsonld")
    bad_status, bad_body, bad = query("perPage=0", HTTP_ACCEPT="application/ld+json")
    missing = APIClient().get("/epcis/events/urn:uuid:none?format=jsonld")

    assert (status, response["Content-Type"]) == (200, "application/ld+json")
    assert (bad_status, bad["Content-Type"]) == (400, "application/json")
    assert list(bad_body["errors"]) == ["perPage"]
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/json")


# Each parameter filters as the standard says --------------------------------------------------------------------


@pytest.fixture
def trail():
    """Five events along one chain, captured in two documents (so their record times differ)."""
    supplier = SupplierFactory()
    first = capture(
        event(1, action="ADD", bizStep="commissioning", disposition="active", epcList=[A1],
              quantityList=[{"epcClass": L1, "quantity": 5, "uom": "KGM"}],
              readPoint={"id": FARM}, bizLocation={"id": FARM}),
        event(2, action="OBSERVE", day=2, bizStep="https://ref.gs1.org/cbv/BizStep-shipping",
              disposition="https://ref.gs1.org/cbv/Disp-in_transit", epcList=[A2_DL],
              readPoint={"id": PORT}, bizLocation={"id": DOCK}),
        supplier=supplier,
    )  # fmt: skip
    second = capture(
        event(3, "AggregationEvent", day=3, action="ADD", bizStep="packing", parentID=PALLET, childEPCs=[A1],
              childQuantityList=[{"epcClass": L2, "quantity": 2}], readPoint={"id": DOCK_DL}),
        event(4, "TransformationEvent", day=4, bizStep="commissioning", inputEPCList=[A1], outputEPCList=[B1],
              inputQuantityList=[{"epcClass": L1, "quantity": 5, "uom": "KGM"}],
              outputQuantityList=[{"epcClass": L3, "quantity": 4}], transformationID=TRANSFORMATION),
        event(5, "TransactionEvent", day=5, action="ADD", bizStep="shipping", epcList=[A2],
              bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9521234000015:PO1"}]),
        supplier=supplier,
    )  # fmt: skip
    return first, second


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("", [1, 2, 3, 4, 5]),
        ("eventType=ObjectEvent", [1, 2]),
        ("eventType=ObjectEvent,AggregationEvent", [1, 2, 3]),
        ("eventType=ObjectEvent&eventType=TransactionEvent", [1, 2, 5]),
        ("GE_eventTime=2026-01-02T08:00:00%2B00:00&LT_eventTime=2026-01-04T08:00:00Z", [2, 3]),
        ("GE_eventTime=2026-01-02T09:00:00%2B01:00", [2, 3, 4, 5]),  # the same instant in another offset
        ("LT_eventTime=2026-01-02T09:00:00+01:00", [1]),  # an unencoded "+" (read as a space) is understood
        ("GE_eventTime=2026-01-03T04:30:00%2B20:30", [2, 3, 4, 5]),  # offsets beyond PostgreSQL's ±15:59
        ("EQ_action=OBSERVE", [2]),
        ("EQ_action=ADD,DELETE", [1, 3, 5]),
        ("EQ_bizStep=shipping", [2, 5]),
        ("EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping", [2, 5]),
        ("EQ_bizStep=https://ref.gs1.org/cbv/BizStep-shipping", [2, 5]),
        ("EQ_bizStep=packing,commissioning", [1, 3, 4]),
        ("EQ_disposition=in_transit", [2]),
        ("EQ_disposition=urn:epcglobal:cbv:disp:active", [1]),
        (f"EQ_readPoint={FARM}", [1]),
        (f"EQ_readPoint={FARM_DL}", [1]),
        (f"EQ_readPoint={PORT_URN}", [2]),
        (f"EQ_readPoint={DOCK}", [3]),
        (f"EQ_bizLocation={DOCK}", [2]),
        (f"EQ_bizLocation={FARM_DL},{DOCK_DL}", [1, 2]),
        (f"EQ_transformationID={TRANSFORMATION}", [4]),
        (f"EQ_eventID={eid(3)}", [3]),
        (f"EQ_eventID={eid(1)},{eid(4)}", [1, 4]),
        (f"MATCH_epc={A1}", [1, 3]),
        (f"MATCH_epc={A1_DL}", [1, 3]),
        (f"MATCH_epc={A2}", [2, 5]),
        (f"MATCH_epc={A2_DL}", [2, 5]),
        (f"MATCH_epc={GTIN_PATTERN}", [1, 2, 3, 5]),
        (f"MATCH_parentID={PALLET}", [3]),
        (f"MATCH_parentID={PALLET_DL}", [3]),
        (f"MATCH_inputEPC={A1}", [4]),
        (f"MATCH_outputEPC={B1}", [4]),
        (f"MATCH_anyEPC={A1_DL}", [1, 3, 4]),
        (f"MATCH_anyEPC={PALLET},{B1}", [3, 4]),
        (f"MATCH_epcClass={L1}", [1]),
        (f"MATCH_epcClass={L2}", [3]),
        (f"MATCH_epcClass={GTIN_PATTERN}", [1, 3]),
        (f"MATCH_inputEPCClass={L1_DL}", [4]),
        (f"MATCH_outputEPCClass={L3}", [4]),
        (f"MATCH_anyEPCClass={L1}", [1, 4]),
        (f"MATCH_anyEPCClass={L2},{L3}", [3, 4]),
        (f"eventType=ObjectEvent&MATCH_anyEPC={A1}", [1]),
        ("EQ_bizStep=commissioning&EQ_action=ADD", [1]),
        ("orderBy=eventTime", [5, 4, 3, 2, 1]),
        ("orderBy=eventTime&orderDirection=ASC", [1, 2, 3, 4, 5]),
        ("orderDirection=DESC", [5, 4, 3, 2, 1]),
        ("orderBy=recordTime&orderDirection=ASC", [1, 2, 3, 4, 5]),
        ("orderBy=recordTime", [5, 4, 3, 2, 1]),
    ],
)
def test_parameter_filters_events(trail, params, expected):
    status, body, _ = query(params)

    assert status == 200, body
    assert ids(body) == [eid(n) for n in expected]


def test_record_time_bounds(trail):
    _, second = trail
    at = quote(second.created_at.isoformat(), safe="")

    assert ids(query(f"GE_recordTime={at}")[1]) == [eid(3), eid(4), eid(5)]
    assert ids(query(f"LT_recordTime={at}")[1]) == [eid(1), eid(2)]


def test_epc_urn_and_digital_link_find_the_same_example_events():
    supplier = SupplierFactory()
    for doc in example_documents():
        capture_document(supplier=supplier, submitted_by=None, document=doc)
    forms = [
        "urn:epc:id:sgtin:0614141.107346.2018",
        "https://id.gs1.org/01/10614141073464/21/2018",
        "https://example.com/01/10614141073464/21/2018",
    ]

    found = [ids(query(f"MATCH_anyEPC={quote(form, safe=':/')}")[1]) for form in forms]

    assert found[0] == found[1] == found[2]
    assert len(found[0]) == 3  # two ObjectEvents (9.6.1) and the AggregationEvent (9.6.3)


def test_record_time_order_follows_captures(trail):
    first, second = trail
    body = query("orderBy=recordTime&orderDirection=ASC")[1]
    record_times = [e["recordTime"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]

    assert record_times == [first.created_at.isoformat()] * 2 + [second.created_at.isoformat()] * 3


# Paging --------------------------------------------------------------------------------------------------------


def walk(params: str) -> tuple[list[str], int]:
    client, seen, pages = APIClient(), [], 0
    response = client.get(f"/epcis/events?{params}")
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert_valid_epcis(body)
        seen += ids(body)
        pages += 1
        if "Link" not in response:
            return seen, pages
        link = response["Link"]
        assert link.endswith('>; rel="next"')
        response = client.get(link[1 : link.index(">")])


def test_paging_walks_every_event_once_and_stops():
    supplier = SupplierFactory()
    for doc in example_documents():
        capture_document(supplier=supplier, submitted_by=None, document=doc)
    everything = ids(query("perPage=1000")[1])

    seen, pages = walk("perPage=2")

    assert len(everything) == 8
    assert seen == everything
    assert pages == 4


def test_paging_keeps_the_query_and_breaks_ties_by_id():
    supplier = SupplierFactory()
    same_time = [event(n, action="ADD", epcList=[A1]) for n in range(1, 8)]
    capture(*same_time, event(8, action="ADD", epcList=[B1]), supplier=supplier)

    seen, pages = walk(f"perPage=2&MATCH_epc={A1}&orderBy=eventTime")

    assert seen == [eid(n) for n in range(7, 0, -1)]
    assert pages == 4


def test_next_link_carries_the_query_and_a_token():
    capture(*(event(n, action="ADD", epcList=[A1]) for n in range(1, 4)))

    _, _, response = query(f"perPage=2&EQ_action=ADD&MATCH_epc={A1}")

    url = urlsplit(response["Link"][1 : response["Link"].index(">")])
    params = parse_qs(url.query)
    assert url.path == "/epcis/events"
    assert params["EQ_action"] == ["ADD"]
    assert params["MATCH_epc"] == [A1]
    assert params["perPage"] == ["2"]
    assert params["nextPageToken"]
    only_token = query(f"nextPageToken={quote(params['nextPageToken'][0], safe='')}")[1]
    assert ids(only_token) == [eid(3)]


def test_tampered_next_page_token_is_a_400():
    capture(*(event(n, action="ADD", epcList=[A1]) for n in range(1, 4)))
    link = query("perPage=1")[2]["Link"]
    token = parse_qs(urlsplit(link[1 : link.index(">")]).query)["nextPageToken"][0]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")

    status, body, _ = query(f"perPage=1&nextPageToken={quote(tampered, safe='')}")

    assert status == 400
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["nextPageToken"]


def test_next_page_token_of_another_query_is_a_400():
    capture(*(event(n, action="ADD", epcList=[A1]) for n in range(1, 4)))
    link = query("perPage=1&EQ_action=ADD")[2]["Link"]
    token = parse_qs(urlsplit(link[1 : link.index(">")]).query)["nextPageToken"][0]

    status, body, _ = query(f"perPage=1&EQ_action=OBSERVE&nextPageToken={quote(token, safe='')}")

    assert status == 400
    assert "nextPageToken" in body["errors"]


# Bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ("EQ_colour=red", "EQ_colour"),
        ("GE_eventTime=2026-01-01T08:00:00", "GE_eventTime"),  # no offset
        ("LT_recordTime=yesterday", "LT_recordTime"),
        ("LT_recordTime=0001-01-01T00:00:00%2B05:00", "LT_recordTime"),  # before year 1 in UTC
        ("EQ_transformationID=urn:uuid:a%00b", "EQ_transformationID"),
        ("GE_eventTime=2026-01-01T08:00:00Z&GE_eventTime=2026-01-02T08:00:00Z", "GE_eventTime"),
        ("orderDirection=UP", "orderDirection"),
        ("orderBy=bizStep", "orderBy"),
        ("eventType=ObjectEvents", "eventType"),
        ("EQ_action=add", "EQ_action"),
        ("EQ_bizStep=", "EQ_bizStep"),
        ("MATCH_epc=urn:epc:id:sgtin:9521234.054321.1,", "MATCH_epc"),
        ("MATCH_epc=https://id.gs1.org/01/09521234543214/21/1", "MATCH_epc"),  # wrong check digit
        ("MATCH_anyEPC=urn:epc:idpat:sgtin:9521234.*.*", "MATCH_anyEPC"),  # a pattern wider than a GTIN
        ("EQ_readPoint=urn:epc:id:sgln:95.1.0", "EQ_readPoint"),
        ("perPage=0", "perPage"),
        ("perPage=1001", "perPage"),
        ("perPage=ten", "perPage"),
    ],
)
def test_bad_parameter_is_a_400_naming_it(params, named):
    status, body, _ = query(params)

    assert status == 400
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [named]
    assert all(isinstance(message, str) and message for message in body["errors"][named])


def test_every_bad_parameter_is_listed_at_once():
    status, body, _ = query("colour=red&GE_eventTime=2026-01-01&orderDirection=UP&perPage=0")

    assert status == 400
    assert set(body["errors"]) == {"colour", "GE_eventTime", "orderDirection", "perPage"}


# Cost -----------------------------------------------------------------------------------------------------------


def declared_events(first: int, count: int) -> None:
    """Events from separate suppliers and captures, every other one later declared erroneous."""
    for n in range(first, first + count):
        supplier = SupplierFactory()
        original = event(n, action="ADD", epcList=[A1], quantityList=[{"epcClass": L1, "quantity": 1}])
        capture(original, supplier=supplier, context=[epcis.CONTEXT_URL, {f"ext{n}": f"https://x{n}.example/"}])
        if n % 2:
            declaration = {"declarationTime": "2026-02-01T00:00:00+00:00", "reason": "incorrect_data"}
            capture({**original, "errorDeclaration": declaration}, supplier=supplier)


def test_a_page_costs_the_same_queries_however_many_events_it_holds(django_assert_num_queries):
    client = APIClient()
    declared_events(1, 3)
    with django_assert_num_queries(2):
        small = client.get(f"/epcis/events?MATCH_anyEPC={A1}&eventType=ObjectEvent")
    declared_events(4, 9)
    with django_assert_num_queries(2):
        large = client.get("/epcis/events?MATCH_epcClass=" + L1)
    with django_assert_num_queries(2):
        client.get(f"/epcis/events/{quote(eid(5), safe='')}")

    assert small.status_code == large.status_code == 200
    assert len(ids(large.json())) == 12
    assert len(large.json()["@context"]) == 13
    assert (
        sum("errorDeclaration" in e for e in large.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 6
    )
