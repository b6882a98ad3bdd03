"""The provenance dashboard: facilities, evidence and trace events, each supplier's own only; events append-only."""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import gs1
from products.models import SupplierMember
from provenance import services
from provenance.epcis import epcis_document
from provenance.hashchain import chain_verify
from provenance.models import Capture, EventLine, Evidence, Facility, TraceEvent
from provenance.simple_events import CONTEXT, Amount, lot_identifier, simple_event
from tests.accounts.factories import UserFactory
from tests.products.factories import BatchFactory, DeclarationFactory, ProductFactory, SupplierMemberFactory

pytestmark = pytest.mark.django_db

NAIROBI = datetime.timezone(datetime.timedelta(hours=3))
EVENT_ADD = reverse("admin:provenance_traceevent_add")


def facility(supplier, name="Farm", gln="", **data):
    data = {"name": name, "kind": "farm", "country": "GH", **data}
    return services.facility_create(owner=supplier, **{**data, "gln": gln})


def recorded_event(supplier, at, n=1) -> TraceEvent:
    """One receipt recorded for `supplier` at facility `at`, through capture_document."""
    event = simple_event(
        kind="receive",
        location=at.location_uri,
        when=datetime.datetime(2026, 4, 1, 8, n, tzinfo=NAIROBI),
        items=[Amount(f"urn:uuid:00000000-0000-4000-8000-{n:012d}", Decimal(10), "KGM")],
    )
    capture = services.capture_document(
        supplier=supplier, submitted_by=None, document=epcis_document([event], context=[CONTEXT])
    )
    return capture.events.get()


def evidence(supplier, title="Organic certificate"):
    return services.evidence_create(
        owner=supplier, **{"title": title, "issuer": "A certifier", "url": "https://evidence.example.org/c"}
    )


def event_form(at, **fields):
    data = {"kind": "transform", "facility": at.pk, "when_0": "2026-05-01", "when_1": "09:30", "offset": "+03:00"}
    return {**data, **fields}


def stored() -> tuple[int, int, int]:
    return TraceEvent.objects.count(), EventLine.objects.count(), Capture.objects.count()


# Who sees what ----------------------------------------------------------------------------------------------------


def test_member_sees_only_own_facilities_evidence_and_events_in_the_lists(owner, other_member):
    mine, theirs = facility(owner.supplier, "Bekwai farms"), facility(other_member.supplier, "Their farm")
    my_event = recorded_event(owner.supplier, mine, 1)
    recorded_event(other_member.supplier, theirs, 2)
    my_evidence = evidence(owner.supplier, "Mine")
    evidence(other_member.supplier, "Theirs")

    for name, expected in [("facility", mine), ("traceevent", my_event), ("evidence", my_evidence)]:
        response = owner.client.get(reverse(f"admin:provenance_{name}_changelist"))
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [expected]
    assert "Their farm" not in owner.client.get(reverse("admin:provenance_facility_changelist")).content.decode()


@pytest.mark.parametrize("name", ["facility", "traceevent", "evidence"])
def test_member_of_other_supplier_cannot_open_the_change_page(owner, other_member, name):
    at = facility(owner.supplier)
    obj = {"facility": at, "traceevent": recorded_event(owner.supplier, at), "evidence": evidence(owner.supplier)}[name]
    response = other_member.client.get(reverse(f"admin:provenance_{name}_change", args=[obj.pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect, not the page
    assert response.url == reverse("admin:index")


def test_member_of_other_supplier_cannot_edit_a_facility(owner, other_member):
    at = facility(owner.supplier, "Original")
    other_member.client.post(
        reverse("admin:provenance_facility_change", args=[at.pk]), {"name": "Hijacked", "country": "GH"}
    )
    at.refresh_from_db()
    assert at.name == "Original"


def test_owner_choices_are_only_the_members_own_suppliers(owner, other_supplier):
    for name in ("facility", "evidence"):
        response = owner.client.get(reverse(f"admin:provenance_{name}_add"))
        assert list(response.context["adminform"].form.fields["owner"].queryset) == [owner.supplier]


def test_evidence_pickers_offer_only_the_members_own_events_and_declarations(owner, other_member):
    mine, theirs = facility(owner.supplier), facility(other_member.supplier)
    my_event, _ = recorded_event(owner.supplier, mine, 1), recorded_event(other_member.supplier, theirs, 2)
    my_declaration = DeclarationFactory(product=ProductFactory(supplier=owner.supplier))
    DeclarationFactory(product=ProductFactory(supplier=other_member.supplier))

    fields = owner.client.get(reverse("admin:provenance_evidence_add")).context["adminform"].form.fields
    assert list(fields["events"].queryset) == [my_event]
    assert list(fields["declarations"].queryset) == [my_declaration]
    assert "Farm" in fields["events"].label_from_instance(fields["events"].queryset[0])


def test_event_form_choices_are_only_the_members_own_facilities_and_batches(owner, other_member):
    mine, _ = facility(owner.supplier, "Mine"), facility(other_member.supplier, "Theirs")
    my_batch = BatchFactory(product=ProductFactory(supplier=owner.supplier))
    BatchFactory(product=ProductFactory(supplier=other_member.supplier))
    form = owner.client.get(EVENT_ADD).context["adminform"].form
    assert list(form.fields["facility"].queryset) == [mine]
    assert list(form.fields["other_facility"].queryset) == [mine]
    assert list(form.fields["output_batch"].queryset) == [my_batch]
    assert list(form.fields["item_1_batch"].queryset) == [my_batch]


def test_member_cannot_attach_another_suppliers_event_to_evidence(owner, other_member):
    theirs = recorded_event(other_member.supplier, facility(other_member.supplier))
    response = owner.client.post(
        reverse("admin:provenance_evidence_add"),
        {"owner": owner.supplier.pk, "title": "Certificate", "issuer": "Certifier", "level": "documented",
         "url": "https://evidence.example.org/x", "events": [theirs.pk]},
    )  # fmt: skip
    assert response.status_code == 200
    assert "events" in response.context["adminform"].form.errors
    assert not Evidence.objects.exists()


def test_viewer_reads_facilities_but_cannot_add_or_change_them(own_supplier, client):
    viewer = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    client.force_login(viewer)
    at = facility(own_supplier, "Original")
    assert client.get(reverse("admin:provenance_facility_change", args=[at.pk])).status_code == 200
    assert client.get(reverse("admin:provenance_facility_add")).status_code == 403
    assert client.get(EVENT_ADD).status_code == 403
    client.post(reverse("admin:provenance_facility_change", args=[at.pk]), {"name": "Changed", "country": "GH"})
    at.refresh_from_db()
    assert at.name == "Original"


def test_staff_without_model_permissions_sees_no_trace_events(own_supplier, client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:provenance_traceevent_changelist")).status_code == 403


def test_operator_sees_every_suppliers_events(operator, own_supplier, other_supplier):
    recorded_event(own_supplier, facility(own_supplier), 1)
    recorded_event(other_supplier, facility(other_supplier, "Other"), 2)
    response = operator.client.get(reverse("admin:provenance_traceevent_changelist"))
    assert len(response.context["cl"].result_list) == 2


# Facilities and evidence --------------------------------------------------------------------------------------------


def test_owner_registers_a_facility_whose_location_comes_from_its_gln(owner):
    gln = gs1.gtin_with_check_digit("952100000011")[1:]
    response = owner.client.post(
        reverse("admin:provenance_facility_add"),
        {"owner": owner.supplier.pk, "name": "Bekwai fermentary", "kind": "fermentary", "country": "GH",
         "latitude": "6.46", "longitude": "-1.585", "gln": gln},
    )  # fmt: skip
    assert response.status_code == 302
    created = Facility.objects.get()
    assert (created.owner, created.location_uri) == (owner.supplier, f"https://id.gs1.org/414/{gln}")


def test_uploaded_evidence_gets_its_sha256_computed(owner):
    content = b"%PDF-1.4 certificate"
    response = owner.client.post(
        reverse("admin:provenance_evidence_add"),
        {"owner": owner.supplier.pk, "title": "Lab report", "issuer": "A lab", "level": "third_party_verified",
         "document": SimpleUploadedFile("report.pdf", content), "sha256": "0" * 64},
    )  # fmt: skip
    assert response.status_code == 302
    assert Evidence.objects.get().sha256 == hashlib.sha256(content).hexdigest()


def test_evidence_without_link_or_document_is_refused(owner):
    response = owner.client.post(
        reverse("admin:provenance_evidence_add"),
        {"owner": owner.supplier.pk, "title": "Nothing", "issuer": "Nobody", "level": "documented"},
    )
    assert response.status_code == 200
    assert not Evidence.objects.exists()


def test_revoke_action_needs_a_reason_and_then_revokes(owner):
    item = evidence(owner.supplier)
    changelist = reverse("admin:provenance_evidence_changelist")
    owner.client.post(changelist, {"action": "revoke", "_selected_action": [item.pk], "reason": " "})
    item.refresh_from_db()
    assert item.revoked_at is None

    owner.client.post(changelist, {"action": "revoke", "_selected_action": [item.pk], "reason": "Withdrawn by CB."})
    item.refresh_from_db()
    assert (item.status(), item.revoked_reason) == ("revoked", "Withdrawn by CB.")


def test_member_of_other_supplier_cannot_revoke_evidence(owner, other_member):
    item = evidence(owner.supplier)
    other_member.client.post(
        reverse("admin:provenance_evidence_changelist"),
        {"action": "revoke", "_selected_action": [item.pk], "reason": "Sabotage"},
    )
    item.refresh_from_db()
    assert item.revoked_at is None


def test_evidence_and_facilities_cannot_be_deleted(owner):
    item, at = evidence(owner.supplier), facility(owner.supplier)
    owner.client.post(reverse("admin:provenance_evidence_delete", args=[item.pk]), {"post": "yes"})
    owner.client.post(reverse("admin:provenance_facility_delete", args=[at.pk]), {"post": "yes"})
    assert Evidence.objects.filter(pk=item.pk).exists()
    assert Facility.objects.filter(pk=at.pk).exists()


# Trace events: read-only, added through the simple-event form -------------------------------------------------------


def test_events_can_be_viewed_but_not_changed_or_deleted(owner):
    event = recorded_event(owner.supplier, facility(owner.supplier, "Bekwai farms"))
    page = owner.client.get(reverse("admin:provenance_traceevent_change", args=[event.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Bekwai farms" in content
    assert "&quot;bizStep&quot;: &quot;receiving&quot;" in content  # the pretty-printed document
    assert event.hash in content

    change = owner.client.post(reverse("admin:provenance_traceevent_change", args=[event.pk]), {"biz_step": "x"})
    delete = owner.client.post(reverse("admin:provenance_traceevent_delete", args=[event.pk]), {"post": "yes"})
    assert (change.status_code, delete.status_code) == (403, 403)
    listing = owner.client.get(reverse("admin:provenance_traceevent_changelist"))
    assert "delete_selected" not in listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    event.refresh_from_db()
    assert event.biz_step == "receiving"


def test_simple_event_form_records_a_transformation_as_an_epcis_event(owner):
    at = facility(owner.supplier, "Bar factory")
    product = ProductFactory(supplier=owner.supplier)
    nibs, bars = BatchFactory(product=product, lot="NIBS/7"), BatchFactory(product=product, lot="CH26-0501")
    response = owner.client.post(
        EVENT_ADD,
        event_form(
            at,
            item_1_batch=nibs.pk, item_1_quantity="120", item_1_uom="KGM",
            item_2_lot="SUGAR-2026-04", item_2_quantity="57.6", item_2_uom="KGM",
            output_batch=bars.pk, output_quantity="2200", output_uom="EA",
        ),
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors

    event = TraceEvent.objects.get()
    sugar = lot_identifier("SUGAR-2026-04", supplier_id=owner.supplier.pk)
    assert event.document == {
        "type": "TransformationEvent",
        "eventTime": "2026-05-01T09:30:00+03:00",
        "eventTimeZoneOffset": "+03:00",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": at.location_uri},
        "bizLocation": {"id": at.location_uri},
        "inputQuantityList": [
            {"epcClass": gs1.gtin_uri(product.gtin, "NIBS/7"), "quantity": 120, "uom": "KGM"},
            {"epcClass": sugar, "quantity": 57.6, "uom": "KGM"},
        ],
        "outputQuantityList": [{"epcClass": gs1.gtin_uri(product.gtin, "CH26-0501"), "quantity": 2200, "uom": "EA"}],
    }
    assert (event.supplier, event.type, event.event_time) == (
        owner.supplier,
        "TransformationEvent",
        datetime.datetime(2026, 5, 1, 6, 30, tzinfo=datetime.UTC),
    )
    assert event.capture.submitted_by == owner.user
    lines = {(line.role, line.identifier, line.quantity, line.uom) for line in event.lines.all()}
    assert lines == {
        ("input", f"https://id.gs1.org/01/{product.gtin}/10/NIBS%2F7", Decimal(120), "KGM"),
        ("input", sugar, Decimal("57.6"), "KGM"),
        ("output", f"https://id.gs1.org/01/{product.gtin}/10/CH26-0501", Decimal(2200), "EA"),
    }
    assert chain_verify(supplier_id=owner.supplier.pk).ok


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        (
            "harvest",
            {"output_lot": "WB-0501", "output_quantity": "300", "output_uom": "KGM"},
            {"action": "ADD", "bizStep": "commissioning", "disposition": "active",
             "ilmd": {"socialbiz:lotCode": "WB-0501"}},
        ),
        (
            "ship",
            {"item_1_lot": "WB-0501", "item_1_quantity": "300", "item_1_uom": "KGM", "other_facility": "OTHER"},
            {"action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
             "sourceList": [{"type": "location", "source": "HERE"}],
             "destinationList": [{"type": "location", "destination": "THERE"}]},
        ),
        (
            "receive",
            {"item_1_lot": "WB-0501", "other_facility": "OTHER"},
            {"action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
             "sourceList": [{"type": "location", "source": "THERE"}],
             "destinationList": [{"type": "location", "destination": "HERE"}]},
        ),
        (
            "inspect",
            {"item_1_lot": "WB-0501", "result": "non_conformant", "note": "Moisture 9.8 %: dry it again."},
            {"action": "OBSERVE", "bizStep": "inspecting", "disposition": "non_conformant",
             "socialbiz:inspectionNote": "Moisture 9.8 %: dry it again."},
        ),
    ],
)  # fmt: skip
def test_simple_event_form_records_each_kind(owner, kind, fields, expected):
    here, there = facility(owner.supplier, "Farm"), facility(owner.supplier, "Fermentary")
    fields = {name: there.pk if value == "OTHER" else value for name, value in fields.items()}
    response = owner.client.post(EVENT_ADD, event_form(here, kind=kind, **fields))
    assert response.status_code == 302, response.context["adminform"].form.errors

    document = TraceEvent.objects.get().document
    places = {"HERE": here.location_uri, "THERE": there.location_uri}
    for key, value in expected.items():
        if key in ("sourceList", "destinationList"):
            value = [{k: places.get(v, v) for k, v in entry.items()} for entry in value]
        assert document[key] == value
    assert document["readPoint"] == {"id": here.location_uri}
    assert ("bizLocation" in document) == (kind != "ship")  # shipped goods are nowhere in particular
    lot = lot_identifier("WB-0501", supplier_id=owner.supplier.pk)
    assert [element["epcClass"] for element in document["quantityList"]] == [lot]
    assert Capture.objects.get().context[1] == {"socialbiz": "https://socialbiz.example/ns/epcis/"}
    assert chain_verify(supplier_id=owner.supplier.pk).ok


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"facility": ""}, "facility", "required"),
        ({"kind": "transform", "item_1_lot": "X", "item_1_quantity": "1", "item_1_uom": "KGM"}, "output_batch",
         "what came out"),
        ({"kind": "transform", "item_1_lot": "X", "output_lot": "Y", "output_quantity": "1", "output_uom": "KGM"},
         "item_1_quantity", "quantity of each input"),
        ({"kind": "harvest", "output_lot": "X", "output_quantity": "5"}, "output_uom", "unit"),
        ({"kind": "inspect", "item_1_lot": "X"}, "result", "passed"),
        ({"kind": "ship", "item_1_lot": "X", "result": "conformant"}, "result", "Only an inspection"),
        ({"kind": "harvest", "output_lot": "https://id.gs1.org/01/09520000000012/10/A", "output_quantity": "1",
          "output_uom": "KGM"}, "output_lot", "check digit"),
        ({"kind": "harvest", "output_lot": "X", "output_quantity": "1", "output_uom": "KGM", "when_0": "2999-01-01"},
         "when", "future"),
        ({"offset": "+3"}, "offset", "+HH:MM"),
    ],
)  # fmt: skip
def test_bad_event_form_stores_nothing(owner, fields, field, message):
    at = facility(owner.supplier)
    response = owner.client.post(EVENT_ADD, event_form(at, **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert stored() == (0, 0, 0)


def test_event_form_refuses_an_output_batch_of_another_supplier(owner, other_supplier):
    at = facility(owner.supplier)
    theirs = BatchFactory(product=ProductFactory(supplier=other_supplier))
    response = owner.client.post(
        EVENT_ADD, event_form(at, kind="harvest", output_batch=theirs.pk, output_quantity="10", output_uom="EA")
    )
    assert response.status_code == 200
    assert "output_batch" in response.context["adminform"].form.errors
    assert stored() == (0, 0, 0)


def test_event_form_refuses_a_batch_of_a_product_without_gtin(owner):
    at = facility(owner.supplier)
    mug = BatchFactory(product=ProductFactory(supplier=owner.supplier, gtin=None, name="Enamel mug"))
    response = owner.client.post(
        EVENT_ADD, event_form(at, kind="harvest", output_batch=mug.pk, output_quantity="10", output_uom="EA")
    )
    assert response.status_code == 200
    assert "no GTIN" in " ".join(response.context["adminform"].form.errors["output_batch"])
    assert stored() == (0, 0, 0)


def test_operator_cannot_mix_one_suppliers_facility_with_anothers_batch(operator, own_supplier, other_supplier):
    at = facility(own_supplier)
    theirs = BatchFactory(product=ProductFactory(supplier=other_supplier))
    response = operator.client.post(
        EVENT_ADD, event_form(at, kind="harvest", output_batch=theirs.pk, output_quantity="10", output_uom="EA")
    )
    assert "another supplier" in " ".join(response.context["adminform"].form.errors["output_batch"])
    assert stored() == (0, 0, 0)


def test_event_form_of_a_suspended_supplier_stores_nothing(owner):
    at = facility(owner.supplier)
    owner.supplier.status = "suspended"
    owner.supplier.save()
    response = owner.client.post(
        EVENT_ADD, event_form(at, kind="harvest", output_lot="A", output_quantity="1", output_uom="KGM")
    )
    assert response.status_code == 200
    assert "suspended" in str(response.context["adminform"].form.non_field_errors())
    assert stored() == (0, 0, 0)


def test_the_same_event_submitted_twice_is_recorded_once(owner):
    at = facility(owner.supplier)
    data = event_form(at, kind="harvest", output_lot="A", output_quantity="1", output_uom="KGM")
    assert owner.client.post(EVENT_ADD, data).status_code == 302
    again = owner.client.post(EVENT_ADD, data)
    assert "already recorded" in str(again.context["adminform"].form.non_field_errors())
    assert stored() == (1, 1, 1)


def test_event_list_query_count_does_not_grow_with_the_events(owner):
    at = facility(owner.supplier)
    url = reverse("admin:provenance_traceevent_changelist")
    recorded_event(owner.supplier, at, 1)
    with CaptureQueriesContext(connection) as few:
        assert owner.client.get(url).status_code == 200
    for n in range(2, 9):
        recorded_event(owner.supplier, at, n)
    with CaptureQueriesContext(connection) as many:
        assert len(owner.client.get(url).context["cl"].result_list) == 8
    assert len(many) == len(few)


def test_a_facility_needs_both_coordinates_or_neither(owner):
    from django.core.exceptions import ValidationError

    from provenance.services import facility_create

    with pytest.raises(ValidationError, match="both latitude and longitude"):
        facility_create(owner=owner.supplier, **{"name": "Half-located farm", "country": "GH", "latitude": 6.5})
    assert not owner.supplier.facilities.exists()


# The rules live in the service ------------------------------------------------------------------------------------

WHEN = datetime.datetime(2026, 5, 1, 9, 30, tzinfo=NAIROBI)


@pytest.mark.parametrize(
    ("event", "key", "message"),
    [
        ({"kind": "harvest", "items": (services.Item(lot="A", quantity=Decimal(1), uom="KGM"),)}, "items", "no inputs"),
        (
            {
                "kind": "transform",
                "items": (services.Item(lot="A"),),
                "outputs": (services.Item(lot="B", quantity=Decimal(1), uom="KGM"),),
            },
            "items[0].quantity",
            "needs the quantity of each input",
        ),
        (
            {"kind": "ship", "items": (services.Item(lot="A"),), "when": datetime.datetime(2099, 1, 1, tzinfo=NAIROBI)},
            "when",
            "in the future",
        ),
        ({"kind": "inspect", "items": (services.Item(lot="A"),)}, "result", "Say whether it passed"),
    ],
)
def test_the_simple_event_service_keeps_the_rules(own_supplier, event, key, message):
    at = facility(own_supplier)
    with pytest.raises(services.ValidationError) as refused:
        services.simple_event_build(services.SimpleEvent(**{"facility": at, "when": WHEN, **event}))
    assert message in " ".join(refused.value.message_dict[key])


def test_the_simple_event_service_refuses_another_suppliers_batch(own_supplier, other_supplier):
    at = facility(own_supplier)
    theirs = BatchFactory(product=ProductFactory(supplier=other_supplier))
    event = services.SimpleEvent(kind="receive", facility=at, when=WHEN, items=(services.Item(batch=theirs),))
    with pytest.raises(services.ValidationError) as refused:
        services.simple_events_record(events=[event], submitted_by=None)
    assert "another supplier" in refused.value.message_dict["items[0].batch"][0]
    assert stored() == (0, 0, 0)


def test_an_operator_linking_evidence_to_another_suppliers_event_sees_why_on_the_field(
    operator, own_supplier, other_supplier
):
    proof = evidence(own_supplier)
    theirs = recorded_event(other_supplier, facility(other_supplier, gln=gs1.gtin_with_check_digit("952000000001")[1:]))
    response = operator.client.post(
        reverse("admin:provenance_evidence_change", args=[proof.pk]), {"events": [theirs.pk], "declarations": []}
    )
    assert response.status_code == 200
    assert "only its owner's own events" in " ".join(response.context["adminform"].form.errors["events"])
    assert not proof.events.exists()
