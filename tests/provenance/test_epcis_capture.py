"""POST /epcis/capture: whole EPCIS documents, validated against GS1's schema, stored all or nothing."""

import copy
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from provenance import epcis
from provenance.hashchain import chain_verify
from provenance.models import Capture, ErrorDeclaration, EventLine, TraceEvent
from provenance.services import capture_document
from tests.conftest import database_is_postgres
from tests.provenance.factories import epcis_document as document
from tests.provenance.factories import tamper

pytestmark = pytest.mark.django_db

EXAMPLES = epcis.STANDARDS / "examples"  # GS1's examples, copied unchanged


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def object_event(n: int = 1, **fields) -> dict:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "eventTime": "2026-04-30T08:00:00+02:00",
        "eventTimeZoneOffset": "+02:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "epcList": [f"urn:epc:id:sgtin:9520000.012345.{n}"],
        **fields,
    }


def capture(client: APIClient, body, *, supplier: str | None = None, content_type: str = "application/ld+json"):
    url = "/epcis/capture" + (f"?supplier={supplier}" if supplier else "")
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type=content_type)


@pytest.fixture
def owner_client(owner) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner.user)
    return client


def counts() -> tuple[int, int, int, int]:
    return (
        TraceEvent.objects.count(),
        EventLine.objects.count(),
        ErrorDeclaration.objects.count(),
        Capture.objects.count(),
    )


@pytest.mark.parametrize(
    "name",
    [
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.2-ObjectEvent.jsonld",
        "Example_9.6.3-AggregationEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
        "Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
        "ErrorDeclarationAndCorrectiveEvent.jsonld",
    ],
)
def test_gs1_examples_are_captured_whole(owner_client, owner, name):
    sent = example(name)
    response = capture(owner_client, sent)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["success"] is True
    assert response["Location"] == body["url"]
    events = sent["epcisBody"]["eventList"]
    stored = TraceEvent.objects.filter(capture_id=body["captureID"]).order_by("chain_index")
    assert [e.document for e in stored] == events  # kept exactly as sent, extensions included
    assert body["eventCount"] == len(events)
    assert chain_verify(supplier_id=owner.supplier.pk).ok
    assert owner_client.get(f"/epcis/capture/{body['captureID']}").json()["eventCount"] == len(events)


def test_urn_and_digital_link_forms_meet_in_the_same_lines(owner):
    capture_document(
        supplier=owner.supplier, submitted_by=None, document=example("Example_9.6.4-TransformationEvent.jsonld")
    )
    capture_document(
        supplier=owner.supplier,
        submitted_by=None,
        document=example("Example_9.6.4-TransformationEventWithDigitalLink.jsonld"),
    )
    first, second = TraceEvent.objects.order_by("chain_index")
    lines = lambda event: sorted(event.lines.values_list("role", "identifier"))  # noqa: E731
    assert lines(first) == lines(second)


def test_a_repeated_event_id_is_not_stored_twice(owner_client):
    capture(owner_client, document(object_event(1)))
    response = capture(owner_client, document(object_event(1), object_event(2)))
    assert response.status_code == 202
    assert (response.json()["eventCount"], response.json()["duplicateCount"]) == (1, 1)
    assert TraceEvent.objects.count() == 2


def test_events_without_an_event_id_get_a_stable_generated_one(owner_client):
    event = object_event(1)
    del event["eventID"]
    capture(owner_client, document(event))
    again = capture(owner_client, document(event))
    stored = TraceEvent.objects.get()
    assert stored.event_id.startswith("ni:///sha-256;")
    assert stored.event_id_generated
    assert again.json()["duplicateCount"] == 1


def test_an_error_declaration_marks_the_earlier_event_without_deleting_it(owner_client):
    capture(owner_client, document(object_event(7)))
    declared = object_event(
        7, errorDeclaration={"declarationTime": "2026-05-02T09:00:00+02:00", "reason": "incorrect_data"}
    )
    response = capture(owner_client, document(declared))
    assert response.status_code == 202
    event = TraceEvent.objects.get()
    assert "errorDeclaration" not in event.document  # the original stays as it was
    assert event.error_declarations.get().reason == "incorrect_data"


def test_only_the_recording_supplier_may_declare_its_event_erroneous(owner_client, other_member):
    capture(owner_client, document(object_event(7)))
    other = APIClient()
    other.force_authenticate(other_member.user)
    declared = object_event(7, errorDeclaration={"declarationTime": "2026-05-02T09:00:00+02:00"})
    response = capture(other, document(declared))
    assert response.status_code == 400
    assert not ErrorDeclaration.objects.exists()


INVALID = {
    "not JSON": ('{"type": "EPCISDocument", ', "parse_error"),
    "a JSON array": ("[]", "invalid_document"),
    "no eventList": (json.dumps({**document(), "epcisBody": {}}), "invalid_document"),
    "unknown event type": (json.dumps(document(object_event(1, type="TeleportationEvent"))), "invalid_document"),
    "eventTime without offset": (
        json.dumps(document(object_event(1, eventTime="2026-04-30T08:00:00"))),
        "invalid_document",
    ),
    "bad action": (json.dumps(document(object_event(1, action="MAYBE"))), "invalid_document"),
    "malformed GS1 identifier": (
        json.dumps(document(object_event(1, epcList=["urn:epc:id:sgtin:95.x.1"]))),
        "invalid_document",
    ),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_invalid_documents_get_a_clear_400_and_store_nothing(owner_client, case):
    body, code = INVALID[case]
    before = counts()
    parsed = json.loads(body) if code == "invalid_document" and body.startswith("{") else None
    if parsed and "eventList" in parsed["epcisBody"]:  # a valid event first: it must not be stored either
        parsed["epcisBody"]["eventList"].insert(0, object_event(99))
        body = json.dumps(parsed)
    response = capture(owner_client, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert counts() == before


def test_invalid_events_are_reported_by_json_path(owner_client):
    response = capture(owner_client, document(object_event(1), object_event(2, eventTime="yesterday", action="MAYBE")))
    errors = response.json()["errors"]
    assert "$.epcisBody.eventList[1].eventTime" in errors
    assert "$.epcisBody.eventList[1].action" in errors
    assert not any(path.startswith("$.epcisBody.eventList[0]") for path in errors)


def test_a_body_over_the_limit_is_refused_before_it_is_read(owner_client, settings):
    settings.EPCIS_CAPTURE_MAX_BYTES = 1_000_000
    big = json.dumps(document(*[object_event(n) for n in range(5000)]))
    assert len(big) > 1_000_000
    response = capture(owner_client, big)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert TraceEvent.objects.count() == 0


def test_a_50_mb_body_gets_a_413(owner_client):
    response = capture(owner_client, b" " * 50_000_001)
    assert response.status_code == 413
    assert TraceEvent.objects.count() == 0


def test_capture_needs_json(owner_client):
    assert capture(owner_client, "<xml/>", content_type="application/xml").status_code == 415


@pytest.mark.parametrize("persona", ["shopper", "other_member"])
def test_only_members_capture_for_their_supplier(persona, request, owner):
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(persona).user)
    response = capture(client, document(object_event(1)), supplier=owner.supplier.slug)
    assert response.status_code == 403
    assert TraceEvent.objects.count() == 0


def test_strangers_cannot_capture():
    assert capture(APIClient(), document(object_event(1))).status_code == 401


def test_capture_status_is_hidden_from_other_suppliers(owner_client, other_member):
    capture_id = capture(owner_client, document(object_event(1))).json()["captureID"]
    other = APIClient()
    other.force_authenticate(other_member.user)
    assert other.get(f"/epcis/capture/{capture_id}").status_code == 404


def test_a_large_document_is_captured_with_bulk_inserts(owner):
    events = [object_event(n, epcList=[f"urn:epc:id:sgtin:9520000.012345.{n}"]) for n in range(3000)]
    with CaptureQueriesContext(connection) as queries:
        capture_document(supplier=owner.supplier, submitted_by=None, document=document(*events))
    # Rows go in batches (SQLite caps the parameters of one statement, so its batches are smaller).
    assert len(queries) < len(events) / 20
    assert TraceEvent.objects.count() == 3000
    assert EventLine.objects.count() == 3000
    assert chain_verify(supplier_id=owner.supplier.pk).ok


def test_chains_of_different_suppliers_are_separate(owner, other_supplier):
    capture_document(supplier=owner.supplier, submitted_by=None, document=document(object_event(1), object_event(2)))
    capture_document(supplier=other_supplier, submitted_by=None, document=document(object_event(3)))
    assert list(TraceEvent.objects.filter(supplier=other_supplier).values_list("chain_index", flat=True)) == [1]
    assert chain_verify(supplier_id=owner.supplier.pk).through == 2


def test_a_tampered_event_breaks_the_chain_at_that_event(owner):
    capture_document(
        supplier=owner.supplier, submitted_by=None, document=document(*[object_event(n) for n in range(1, 6)])
    )
    third = TraceEvent.objects.get(chain_index=3)
    forged = copy.deepcopy(third.document) | {"bizStep": "receiving"}
    tamper("UPDATE provenance_traceevent SET document = %s WHERE id = %s", [json.dumps(forged), third.pk])
    report = chain_verify(supplier_id=owner.supplier.pk)
    assert (report.ok, report.broken_at, report.broken_event_id) == (False, 3, third.event_id)
    with pytest.raises(CommandError, match="1 supplier chain"):
        call_command("verify_chains")


def test_verify_chains_command_reports_every_supplier(owner, capsys):
    capture_document(supplier=owner.supplier, submitted_by=None, document=document(object_event(1)))
    call_command("verify_chains")
    assert f"{owner.supplier.slug}: 1 events, chain verifies" in capsys.readouterr().out


def test_the_database_refuses_to_change_a_stored_event(owner):
    capture_document(supplier=owner.supplier, submitted_by=None, document=document(object_event(1)))
    with pytest.raises(IntegrityError), transaction.atomic():
        TraceEvent.objects.update(biz_step="receiving")
    assert TraceEvent.objects.get().biz_step == "shipping"


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="row DELETE triggers are checked on PostgreSQL")
def test_postgresql_refuses_to_delete_a_stored_event(owner):
    capture_document(supplier=owner.supplier, submitted_by=None, document=document(object_event(1)))
    with pytest.raises(IntegrityError), transaction.atomic():
        EventLine.objects.all().delete()
    assert EventLine.objects.count() == 1


def test_our_copy_of_gs1s_files_is_unchanged():
    shared = Path(__file__).resolve().parents[3] / "shared" / "standards" / "epcis"
    if not shared.exists():
        pytest.skip(f"the shared standards are not at {shared}")
    names = ["EPCIS-JSON-Schema.json", "epcis-context.jsonld", *(f"examples/{p.name}" for p in EXAMPLES.iterdir())]
    assert len(names) == 8
    for name in names:
        assert (epcis.STANDARDS / name).read_bytes() == (shared / name).read_bytes(), name


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="concurrent captures need PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_extend_one_unbroken_chain(owner):
    import threading

    barrier = threading.Barrier(4)
    failures = []

    def capture_batch(start: int) -> None:
        try:
            barrier.wait()
            events = [object_event(n) for n in range(start, start + 25)]
            capture_document(supplier=owner.supplier, submitted_by=None, document=document(*events))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=capture_batch, args=(start,)) for start in (1, 101, 201, 301)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    indexes = list(TraceEvent.objects.filter(supplier=owner.supplier).values_list("chain_index", flat=True))
    assert sorted(indexes) == list(range(1, 101))
    assert chain_verify(supplier_id=owner.supplier.pk).ok
