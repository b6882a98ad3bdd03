"""provenance.epcis validates with two validators of GS1's schema: jsonschema-rs (compiled) decides, jsonschema (pure
Python, the reference) reports. The compiled one may refuse what the reference accepts (the reference's verdict then
wins), never the other way round: that would let an invalid document in. These tests compare the two over GS1's
examples, documents that use every part of the schema, and thousands of mutations of both.

The main comparison draws 200 single mutations of each single-event document (about 5,000 documents);
EPCIS_DIFFERENTIAL_LIMIT=0 compares every one of them instead (about 84,000, some ten minutes).
"""

import copy
import json
import logging
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, FormatChecker

from provenance import epcis

SHARED_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "standards" / "epcis" / "examples"
CONTEXT = [epcis.CONTEXT_URL, {"example": "https://ns.example.com/epcis/"}]

# Events that between them use every part of GS1's schema the six examples leave out: sensor data, persistent
# dispositions, sources and destinations, certification info, association and transaction events, error
# declarations, extension fields and an extension event type.
SENSOR_ELEMENT = {
    "sensorMetadata": {
        "time": "2026-05-01T08:00:00.5Z",
        "startTime": "2026-05-01T07:00:00+02:00",
        "endTime": "2026-05-01T08:00:00+02:00",
        "deviceID": "urn:epc:id:giai:4000001.111",
        "deviceMetadata": "https://id.gs1.org/8004/4000001111",
        "rawData": "https://example.org/raw/1",
        "dataProcessingMethod": "https://example.org/method/1",
        "bizRules": "https://example.org/rules/1",
        "example:calibrated": "2026-01-01",
    },
    "sensorReport": [
        {
            "type": "Temperature",
            "exception": "ALARM_CONDITION",
            "deviceID": "urn:epc:id:giai:4000001.111",
            "time": "2026-05-01T08:00:00+02:00",
            "value": 26.5,
            "minValue": 12,
            "maxValue": 30.25,
            "meanValue": 22,
            "sDev": 0.5,
            "percRank": 50,
            "percValue": 21.5,
            "uom": "CEL",
            "component": "x",
            "coordinateReferenceSystem": "http://www.opengis.net/def/crs/EPSG/0/4979",
        },
        {"type": "gs1:MT-Humidity", "stringValue": "dry", "booleanValue": True, "hexBinaryValue": "0aFF"},
        {"type": "https://example.org/Radiation", "uriValue": "https://example.org/v", "microorganism": "urn:x:1"},
        {"type": "Count", "chemicalSubstance": "https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N"},
    ],
}
OBJECT_EVENT = {
    "type": "ObjectEvent",
    "eventID": "urn:uuid:6d5bd4c5-3bb4-4f5c-8a3a-000000000001",
    "eventTime": "2026-05-01T08:00:00+02:00",
    "recordTime": "2026-05-01T08:00:01.123456+02:00",
    "eventTimeZoneOffset": "+02:00",
    "certificationInfo": ["https://example.org/cert/1", "urn:example:cert:2"],
    "action": "ADD",
    "epcList": ["urn:epc:id:sgtin:9521000.010001.1", "https://id.gs1.org/01/09521000100015/21/2"],
    "quantityList": [
        {"epcClass": "urn:epc:class:lgtin:9521000.010001.L1", "quantity": 12.5, "uom": "KGM"},
        {"epcClass": "urn:epc:idpat:sgtin:9521000.010001.*", "quantity": 3},
    ],
    "bizStep": "commissioning",  # GS1's schema takes a CBV term bare, or a URI outside the CBV's namespaces
    "disposition": "https://ref.gs1.org/cbv/Disp-active",
    "persistentDisposition": {"set": ["completeness_verified"], "unset": ["completeness_inferred"]},
    "readPoint": {"id": "urn:epc:id:sgln:9521000.00001.0"},
    "bizLocation": {"id": "https://id.gs1.org/414/9521000000018", "example:floor": "2"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9521000000012:1"},
        {"bizTransaction": "https://example.org/invoice/7"},
    ],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:9521000.00001"}],
    "destinationList": [{"type": "location", "destination": "https://id.gs1.org/414/9521000000025"}],
    "sensorElementList": [SENSOR_ELEMENT],
    "ilmd": {"example:harvest": {"plot": 4, "organic": True}, "cbvmda:countryOfOrigin": "GH"},
    "example:note": ["extension", 1, None],
}
AGGREGATION_EVENT = {
    "type": "AggregationEvent",
    "eventTime": "2026-05-01T09:00:00-05:30",
    "eventTimeZoneOffset": "-05:30",
    "action": "ADD",
    "parentID": "urn:epc:id:sscc:9521000.0000000001",
    "childEPCs": ["urn:epc:id:sgtin:9521000.010001.3"],
    "childQuantityList": [{"epcClass": "https://id.gs1.org/01/09521000100015/10/L1", "quantity": 2, "uom": "EA"}],
    "bizStep": "packing",
    "disposition": "in_progress",
    "readPoint": {"id": "urn:epc:id:sgln:9521000.00001.0"},
}
TRANSACTION_EVENT = {
    "type": "TransactionEvent",
    "eventTime": "2026-05-01T10:00:00Z",
    "eventTimeZoneOffset": "+00:00",
    "action": "OBSERVE",
    "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:9521000000012:2"}],
    "parentID": "urn:epc:id:sscc:9521000.0000000001",
    "epcList": ["urn:epc:id:sgtin:9521000.010001.4"],
    "quantityList": [{"epcClass": "urn:epc:class:lgtin:9521000.010001.L2", "quantity": 1.0}],
}
TRANSFORMATION_EVENT = {
    "type": "TransformationEvent",
    "eventTime": "2026-05-01T11:00:00+14:00",
    "eventTimeZoneOffset": "+14:00",
    "inputEPCList": ["urn:epc:id:sgtin:9521000.010001.5"],
    "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521000.010001.L3", "quantity": 100, "uom": "KGM"}],
    "outputEPCList": ["urn:epc:id:sgtin:9521000.010002.1"],
    "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521000.010002.L4", "quantity": 90, "uom": "KGM"}],
    "transformationID": "urn:uuid:6d5bd4c5-3bb4-4f5c-8a3a-000000000099",
    "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
    "persistentDisposition": {"set": ["active"]},
    "ilmd": {"example:moisture": "7.5"},
}
ASSOCIATION_EVENT = {
    "type": "AssociationEvent",
    "eventTime": "2026-05-01T12:00:00.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "action": "DELETE",
    "parentID": "urn:epc:id:grai:9521000.00001.1",
    "childEPCs": ["urn:epc:id:giai:9521000.1"],
    "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521000.010001.L5"}],
    "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": -4}]}],
}
DECLARED_EVENT = {
    **AGGREGATION_EVENT,
    "eventID": "urn:uuid:6d5bd4c5-3bb4-4f5c-8a3a-000000000002",
    "errorDeclaration": {
        "declarationTime": "2026-05-02T09:00:00+02:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": ["urn:uuid:6d5bd4c5-3bb4-4f5c-8a3a-000000000003"],
        "example:by": "quality team",
    },
}
EXTENSION_EVENT = {
    "type": "https://example.org/epcis/InspectionEvent",
    "eventTime": "2026-05-01T13:00:00+02:00",
    "eventTimeZoneOffset": "+02:00",
    "example:result": "pass",
}
EVENTS = [
    OBJECT_EVENT,
    AGGREGATION_EVENT,
    TRANSACTION_EVENT,
    TRANSFORMATION_EVENT,
    ASSOCIATION_EVENT,
    DECLARED_EVENT,
    EXTENSION_EVENT,
]
HEADER = {
    "epcisMasterData": {
        "vocabularyList": [
            {
                "type": "urn:epcglobal:epcis:vtype:ReadPoint",
                "vocabularyElementList": [
                    {
                        "id": "urn:epc:id:sgln:9521000.00001.0",
                        "attributes": [
                            {"id": "urn:epcglobal:cbv:mda#name", "attribute": "Farm gate"},
                            {"id": "urn:epcglobal:cbv:mda#latitude", "attribute": 6.7},
                            {"id": "https://example.org/mda#address", "attribute": {"city": "Kumasi"}},
                        ],
                        "children": ["urn:epc:id:sgln:9521000.00001.1"],
                    }
                ],
            }
        ]
    },
    "example:batchNote": "header extension",
}


def full_document() -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": "https://example.org/documents/1",
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-01T14:00:00+02:00",
        "instanceIdentifier": "1",
        "sender": "urn:epc:id:pgln:9521000.00001",
        "receiver": "urn:epc:id:pgln:9521000.00002",
        "epcisHeader": HEADER,
        "epcisBody": {"eventList": EVENTS},
    }


def query_document() -> dict[str, Any]:
    return {
        "@context": epcis.CONTEXT_URL,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-01T14:00:00Z",
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "subscriptionID": "sub-1",
                "resultsBody": {"eventList": [OBJECT_EVENT, TRANSFORMATION_EVENT], "vocabularyList": []},
            }
        },
    }


def gs1_examples() -> list[dict[str, Any]]:
    """GS1's examples, from the copy in provenance/standards and from shared/ (the same files, read from both)."""
    folders = [epcis.STANDARDS / "examples", *([SHARED_EXAMPLES] if SHARED_EXAMPLES.exists() else [])]
    return [json.loads(path.read_text()) for folder in folders for path in sorted(folder.glob("*.jsonld"))]


def seeds() -> list[dict[str, Any]]:
    return [*gs1_examples(), full_document(), query_document()]


# Mutations: what a sender gets wrong, and what the two validators could read differently (formats, regular
# expressions, number types). ------------------------------------------------------------------------------------

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DATE_TIMES = [
    "2026-05-01T08:00:00+02:00",
    "2026-05-01t08:00:00z",
    "2026-05-01T08:00:00",
    "2026-05-01 08:00:00+02:00",
    "2026-05-01T08:00:00.123456789Z",
    "2026-05-01T08:00:00.Z",
    "2026-05-01T08:00+02:00",
    "2026-05-01T24:00:00Z",
    "2026-12-31T23:59:60Z",
    "2026-05-01T08:00:60+02:00",
    "2026-02-29T08:00:00Z",
    "2024-02-29T08:00:00Z",
    "2026-04-31T08:00:00Z",
    "2026-13-01T08:00:00Z",
    "0000-01-01T00:00:00Z",
    "2026-05-01T08:00:00+24:00",
    "2026-05-01T08:00:00+02:60",
    "2026-05-01T08:00:00+0200",
    "2026-05-01T08:00:00-00:00",
    "20260501T080000Z",
    "2026-05-01",
    "08:00:00Z",
    "２０２６-05-01T08:00:00Z",
    "2026-05-01T08:00:00Z\n",
    " 2026-05-01T08:00:00Z",
]
URIS = [
    "https://example.org/x",
    "urn:x",
    "urn:",
    "x:y",
    "example:field",
    "not a uri",
    "no-scheme",
    "/relative/path",
    "//host/path",
    "http://",
    "https://exa mple.org/",
    "https://example.org/ü",
    "https://[::1]/",
    "https://[::1/",
    "mailto:someone@example.org",
    "1http://example.org",
    "ht~tp://example.org",
    "urn:epcglobal:cbv:bizstep:shipping",
    "https://ns.gs1.org/cbv/x",
    "http://gs1.org/voc/x",
    "https://www.gs1.org/voc/x",
    "https://ref.gs1.org/cbv/BizStep-shipping",
    "gs1:MT-Humidity",
    "urn:epc:id:sgtin:9521000.010001.1\n",
    "",
    " ",
    "\u0000",
    "https://example.org/\ud7ff",
]
PATTERNED = [
    "ADD",
    "ADD\n",
    "add",
    " DELETE",
    "OBSERVE ",
    "+02:00",
    "+02:00\n",
    "+٠٢:٠٠",
    "+14:00",
    "+14:01",
    "-13:59",
    "KGM",
    "KGM\n",
    "kgm",
    "K",
    "KGMS",
    "٣٣",
    "2.0",
    "2.0\n",
    "2.",
    "٢.٠",
    "2..0",
    "0aFF",
    "0aFF\n",
    "0aFG",
    "",
]
ODD_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.0, 1.5, -0.0, 10**20, 2**64, -(2**63) - 1, 1e308, "", [], {}]
EXTRA_KEYS = ["extra", "example:extra", "https://gs1.org/voc/extra", "urn:epcglobal:cbv:x", "", "a b", "@id", "Ü:x"]


def _nodes(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    parent = copied
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return copied


def _deleted(document: Any, path: tuple) -> Any:
    copied = copy.deepcopy(document)
    parent = copied
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return copied


def _variants(value: Any) -> list[Any]:
    """Values to put where `value` was."""
    variants: list[Any] = list(ODD_VALUES)
    if isinstance(value, str):
        variants += DATE_TIMES + URIS + PATTERNED
        variants += [value + "\n", "\n" + value, value.upper(), value.lower(), value + " ", value[:-1], value + "x"]
        variants += [value.translate(ARABIC_INDIC), value.translate(FULLWIDTH), [value], {"id": value}]
    elif isinstance(value, bool):
        variants += [int(value), str(value).lower()]
    elif isinstance(value, int | float):
        variants += [-value, value + 0.5, float(value), str(value), [value]]
    elif isinstance(value, list):
        variants += [value + value, value[:1], value[::-1], [*value, None], [*value, "urn:x"], [value]]
    elif isinstance(value, dict):
        variants += [[value], {**value, **{key: "urn:x" for key in EXTRA_KEYS}}]
        variants += [{**value, key: value} for key in EXTRA_KEYS[:3]]
    return variants


DELETE = object()


def edits(document: Any) -> list[tuple[tuple, Any]]:
    """Every single mutation of a document, as (path, new value or DELETE): each value replaced by each of its
    variants, each key or item removed."""
    return [
        (path, change)
        for path, value in _nodes(document)
        for change in [*_variants(value), *([DELETE] if path else [])]
    ]


def edited(document: Any, edit: tuple[tuple, Any]) -> Any:
    path, change = edit
    return _deleted(document, path) if change is DELETE else _replaced(document, path, change)


def _single_event_documents(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A document per event of `document` (mutating one small document at a time keeps the reference quick)."""
    body = document.get("epcisBody", {})
    results = body.get("queryResults", {}).get("resultsBody") if "queryResults" in body else body
    events = results.get("eventList", [])
    yield {**document, "epcisBody": {}} if not events else _with_events(document, events[:1])
    for event in events[1:]:
        yield _with_events(document, [event])


def _with_events(document: dict[str, Any], events: list[Any]) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    body = copied["epcisBody"]
    (body["queryResults"]["resultsBody"] if "queryResults" in body else body)["eventList"] = events
    return copied


def corpus(limit_per_document: int | None = None, seed: int = 9) -> Iterator[dict[str, Any]]:
    """GS1's examples and the full documents, whole and one event at a time, and every single mutation of the latter
    (or, with a limit, that many of them for each, drawn with a fixed seed)."""
    rng = random.Random(seed)
    for document in seeds():
        yield document
        for small in _single_event_documents(document):
            yield small
            every = edits(small)
            chosen = every if limit_per_document is None else rng.sample(every, min(limit_per_document, len(every)))
            for edit in chosen:
                yield edited(small, edit)


# Verdicts ----------------------------------------------------------------------------------------------------------

REFERENCE = Draft7Validator(epcis.schema(), format_checker=FormatChecker())


def reference_problems(document: Any) -> list[epcis.Problem]:
    """What validate_document reported before jsonschema-rs: every schema error of the pure-Python validator."""
    problems: list[epcis.Problem] = []
    for error in sorted(REFERENCE.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in epcis._leaf_errors(error):
            problem = epcis.Problem(epcis.json_path(leaf.absolute_path), leaf.message)
            if problem not in problems:
                problems.append(problem)
    return problems


def test_the_seed_documents_are_valid_for_both_validators():
    for document in seeds():
        assert REFERENCE.is_valid(document), list(REFERENCE.iter_errors(document))[:3]
        assert epcis._fast_verdict(document) is True
    assert len(gs1_examples()) >= 6


def test_a_document_using_every_part_of_the_schema_is_read_whole():
    document = _with_events(full_document(), EVENTS[:-1])  # the extension event type is the schema's, not capture's

    assert epcis.validate_document(document) == EVENTS[:-1]
    epcis.validate_document(query_document(), kind="EPCISQueryDocument")  # raises InvalidDocument if it is not valid


def test_jsonschema_rs_never_accepts_what_jsonschema_refuses():
    compared, refused_by_both, refused_only_by_rs = 0, 0, []
    limit = int(os.environ.get("EPCIS_DIFFERENTIAL_LIMIT", "200")) or None
    for document in corpus(limit_per_document=limit):
        compared += 1
        reference = REFERENCE.is_valid(document)
        fast = epcis._fast_verdict(document)
        assert not (fast and not reference), (document, reference_problems(document)[:3])
        refused_by_both += fast is False and not reference
        if fast is False and reference:
            refused_only_by_rs.append(document)
    assert compared > 4000
    assert refused_by_both > compared / 4  # the mutations do break documents
    # Where only jsonschema-rs refuses (it reads regular expressions as ECMA 262 does: `$` is the end of the text, not
    # a line, and `\d` only 0-9), capture asks the reference and accepts: a slow path, never a wrong answer.
    for document in refused_only_by_rs:
        assert epcis._schema_problems(document) == []


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """One of the full documents' single-event documents with one to four mutations on top of each other."""
    document: Any = draw(st.sampled_from([*_single_event_documents(full_document())]))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path, value = draw(st.sampled_from(list(_nodes(document))))
        change = draw(st.sampled_from([*_variants(value), *([DELETE] if path else [])]))
        document = edited(document, (path, change))
    return document


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_several_mutations_at_once_never_let_an_invalid_document_in(document):
    reference = REFERENCE.is_valid(document)
    assert not (epcis._fast_verdict(document) and not reference)
    assert epcis._schema_problems(document) == reference_problems(document)


def test_problems_are_the_reference_validators_in_its_order_and_words():
    for document in corpus(limit_per_document=15, seed=2):
        assert epcis._schema_problems(document) == reference_problems(document)


def test_an_error_deep_in_an_event_is_reported_at_its_path():
    document = full_document()
    document["epcisBody"]["eventList"][0]["sensorElementList"][0]["sensorReport"][1]["hexBinaryValue"] = "0aFG"
    document["epcisBody"]["eventList"][3]["outputQuantityList"][0]["uom"] = "kilograms"

    with pytest.raises(epcis.InvalidDocument) as invalid:
        epcis.validate_document(document)

    assert [problem.as_dict() for problem in invalid.value.problems] == [
        {
            "path": "$.epcisBody.eventList[0].sensorElementList[0].sensorReport[1].hexBinaryValue",
            "message": "'0aFG' does not match '^[A-Fa-f0-9]+$'",
        },
        {
            "path": "$.epcisBody.eventList[3].outputQuantityList[0].uom",
            "message": "'kilograms' does not match '^[A-Z0-9]{2,3}$'",
        },
        {"path": "$.epcisBody.eventList[6].type", "message": epcis_unknown_type(EXTENSION_EVENT["type"])},
    ]


def epcis_unknown_type(kind: str) -> str:
    return f"Unknown event type {kind!r}: one of {', '.join(epcis.EVENT_TYPES)}."


def test_a_bad_timestamp_gets_the_reference_validators_message():
    document = full_document()
    document["epcisBody"]["eventList"] = [{**TRANSACTION_EVENT, "eventTime": "2026-05-01T24:00:00Z"}]

    with pytest.raises(epcis.InvalidDocument) as invalid:
        epcis.validate_document(document)

    assert invalid.value.problems == reference_problems(document) + [
        epcis.Problem(
            "$.epcisBody.eventList[0].eventTime",
            "A timestamp needs a time zone offset, e.g. 2026-05-01T08:00:00+02:00.",
        )
    ]
    assert invalid.value.problems[0] == epcis.Problem(
        "$.epcisBody.eventList[0].eventTime", "'2026-05-01T24:00:00Z' is not a 'date-time'"
    )


def test_a_document_jsonschema_rs_cannot_read_is_judged_by_the_reference():
    document = full_document()
    document["epcisBody"]["eventList"] = [{**TRANSACTION_EVENT, "eventID": "urn:uuid:lone-\ud800-surrogate"}]

    assert epcis._fast_verdict(document) is None
    assert epcis.validate_document(document) == document["epcisBody"]["eventList"]


def test_when_only_jsonschema_rs_refuses_the_reference_wins_and_it_is_logged(caplog):
    document = full_document()
    # Python's `$` also matches before a final newline; jsonschema-rs's (ECMA 262's) only at the end.
    document["epcisBody"]["eventList"] = [{**TRANSACTION_EVENT, "eventTimeZoneOffset": "+00:00\n"}]

    with caplog.at_level(logging.WARNING, logger="provenance.epcis"):
        assert epcis.validate_document(document) == document["epcisBody"]["eventList"]

    assert epcis._fast_verdict(document) is False
    assert "jsonschema-rs refused an EPCIS document that jsonschema accepts" in caplog.text
    assert "$.epcisBody.eventList[0].eventTimeZoneOffset" in caplog.text
