"""Facilities and evidence through the integrator API: public reads of what pages show, writes by their supplier."""

import datetime
import uuid

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from stdnum import ean

from products.models import SupplierMember
from provenance import epcis
from provenance.models import Evidence, Facility, TraceEvent
from provenance.services import capture_document
from tests.accounts.factories import UserFactory
from tests.products.factories import DeclarationFactory, ProductFactory, SupplierMemberFactory, public_product
from tests.provenance.factories import epcis_document

pytestmark = pytest.mark.django_db


def api(persona) -> APIClient:
    client = APIClient()
    if persona.user is not None:
        token, _ = Token.objects.get_or_create(user=persona.user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def gln(n: int) -> str:
    body = f"961{n:09d}"
    return body + ean.calc_check_digit(body)


def facility(supplier, name="Farm", *, gln_="", **fields) -> Facility:
    # Rows for the tests to read are made directly; the writes under test go through the API.
    location = f"https://id.gs1.org/414/{gln_}" if gln_ else f"urn:uuid:{uuid.uuid4()}"
    defaults = {"kind": "farm", "country": "GH", "address": "Plot 4, Road to Kumasi", "location_uri": location}
    return Facility.objects.create(owner=supplier, name=name, gln=gln_, **(defaults | fields))


def evidence(supplier, title="Organic certificate", **fields) -> Evidence:
    defaults = {"issuer": "A certifier", "scheme": "EU Organic", "url": "https://evidence.example.org/c"}
    return Evidence.objects.create(owner=supplier, title=title, **(defaults | fields))


def recorded_events(supplier, count=1, *, at: Facility | None = None) -> list[TraceEvent]:
    events = [
        {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:{uuid.uuid4()}",
            "eventTime": f"2026-04-30T08:{n:02d}:00+02:00",
            "eventTimeZoneOffset": "+02:00",
            "action": "OBSERVE",
            "bizStep": "inspecting",
            "epcList": [f"urn:epc:id:sgtin:9520000.012345.{uuid.uuid4().int % 10**9}"],
            **({"bizLocation": {"id": at.location_uri}} if at else {}),
        }
        for n in range(count)
    ]
    capture = capture_document(supplier=supplier, submitted_by=None, document=epcis_document(*events))
    return list(capture.events.order_by("chain_index"))


def editor_of(supplier):
    user = UserFactory()
    SupplierMemberFactory(supplier=supplier, user=user, role=SupplierMember.Role.EDITOR)
    return type("Persona", (), {"user": user})


# Facilities: reads ---------------------------------------------------------------------------------------------


def test_anyone_lists_facilities_without_their_street_addresses(
    stranger, owner, other_supplier, django_assert_num_queries
):
    for n in range(4):
        facility(owner.supplier, f"Farm {n}")
        facility(other_supplier, f"Mill {n}", country="PT")
    with django_assert_num_queries(1):  # the page of facilities with their owners
        response = api(stranger).get("/api/v1/facilities/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 8
    assert {r["owner"] for r in results} == {owner.supplier.slug, other_supplier.slug}
    assert all(r["address"] is None for r in results)
    assert "Road to Kumasi" not in response.content.decode()
    member = api(owner)
    with django_assert_num_queries(3):  # the token's user, the member's access (worked out once), the page
        mine = member.get("/api/v1/facilities/").json()["results"]
    assert sorted(r["address"] is None for r in mine) == [False] * 4 + [True] * 4


def test_owners_members_and_operators_see_the_address_other_members_do_not(owner, other_member, operator):
    farm = facility(owner.supplier, latitude="6.688500", longitude="-1.624400")
    url = f"/api/v1/facilities/{farm.pk}/"
    for persona, address in [(owner, farm.address), (operator, farm.address), (other_member, None)]:
        body = api(persona).get(url).json()
        assert body["address"] == address
        assert (body["name"], body["country"], body["country_name"]) == ("Farm", "GH", "Ghana")
        assert (body["latitude"], body["longitude"]) == (6.6885, -1.6244)
        assert body["location_uri"] == farm.location_uri


def test_a_facility_is_found_by_the_location_an_event_names(stranger, owner, other_supplier):
    registered = facility(owner.supplier, "Washing station", gln_=gln(1))
    facility(owner.supplier, "Drying yard", gln_=gln(2))
    facility(other_supplier, "Mill", gln_=gln(3), country="PT")
    client = api(stranger)

    def found(**query) -> list[str]:
        response = client.get("/api/v1/facilities/", query)
        assert response.status_code == 200, response.content
        return [f["name"] for f in response.json()["results"]]

    assert found(location_uri=registered.location_uri) == ["Washing station"]
    # As captures name it: an SGLN URN, here with a dock door's extension.
    assert found(location_uri=f"urn:epc:id:sgln:{gln(1)[:7]}.{gln(1)[7:12]}.door-3") == ["Washing station"]
    assert found(location_uri="urn:uuid:00000000-0000-4000-8000-000000000000") == []
    assert found(gln=gln(2)) == ["Drying yard"]
    assert sorted(found(owner=owner.supplier.slug)) == ["Drying yard", "Washing station"]
    assert found(country="PT") == ["Mill"]


def test_an_unknown_country_filter_is_a_400_not_everything(stranger):
    response = api(stranger).get("/api/v1/facilities/", {"country": "XX"})
    assert response.status_code == 400
    assert "country" in response.json()["errors"]


# Facilities: writes --------------------------------------------------------------------------------------------


def test_editor_registers_a_facility_from_its_gln_and_changes_it(own_supplier):
    client = api(editor_of(own_supplier))
    created = client.post(
        "/api/v1/facilities/",
        {
            "owner": own_supplier.slug,
            "name": "Cooperative store",
            "kind": "warehouse",
            "country": "GH",
            "address": "Market Street 1",
            "latitude": 6.7,
            "longitude": -1.62,
            "gln": gln(7),
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["location_uri"] == f"https://id.gs1.org/414/{gln(7)}"
    assert body["address"] == "Market Street 1"
    changed = client.patch(f"/api/v1/facilities/{body['id']}/", {"name": "Cooperative warehouse", "address": ""})
    assert changed.status_code == 200, changed.json()
    stored = Facility.objects.get(pk=body["id"])
    assert (stored.name, stored.address, stored.kind, stored.owner_id) == (
        "Cooperative warehouse",
        "",
        "warehouse",
        own_supplier.pk,
    )
    assert str(stored.latitude) == "6.700000"


def test_invalid_facility_gets_field_errors_and_creates_nothing(owner):
    client = api(owner)
    one_coordinate = client.post(
        "/api/v1/facilities/", {"owner": owner.supplier.slug, "name": "Farm", "country": "GH", "latitude": 6.1}
    )
    assert one_coordinate.status_code == 400
    assert "both latitude and longitude" in str(one_coordinate.json()["errors"])
    bad_gln = client.post(
        "/api/v1/facilities/", {"owner": owner.supplier.slug, "name": "Farm", "country": "GH", "gln": "9610000000011"}
    )
    assert bad_gln.status_code == 400
    assert "gln" in bad_gln.json()["errors"]
    far_north = client.post(
        "/api/v1/facilities/",
        {"owner": owner.supplier.slug, "name": "Farm", "country": "GH", "latitude": 91, "longitude": 0},
    )
    assert far_north.status_code == 400
    assert "latitude" in far_north.json()["errors"]
    assert not Facility.objects.exists()


def test_facility_location_uri_is_fixed_once_created(owner):
    farm = facility(owner.supplier)
    response = api(owner).patch(f"/api/v1/facilities/{farm.pk}/", {"location_uri": "urn:uuid:moved"})
    assert response.status_code == 200
    assert Facility.objects.get(pk=farm.pk).location_uri == farm.location_uri


def test_facility_create_with_the_same_idempotency_key_registers_one(owner):
    client = api(owner)
    body = {"owner": owner.supplier.slug, "name": "Farm", "country": "GH"}
    first = client.post("/api/v1/facilities/", body, HTTP_IDEMPOTENCY_KEY="farm-1")
    again = client.post("/api/v1/facilities/", body, HTTP_IDEMPOTENCY_KEY="farm-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Facility.objects.count() == 1
    other = client.post("/api/v1/facilities/", {**body, "name": "Other"}, HTTP_IDEMPOTENCY_KEY="farm-1")
    assert other.status_code == 422
    assert Facility.objects.count() == 1


# Evidence: reads -----------------------------------------------------------------------------------------------


def test_public_sees_evidence_behind_public_declarations_and_events_only(stranger, owner):
    public = public_product(supplier=owner.supplier)
    draft = ProductFactory(supplier=owner.supplier)
    draft_claim = DeclarationFactory(product=draft, kind="benefit")
    behind_public = evidence(owner.supplier, "Behind a public declaration")
    behind_public.declarations.add(public.declarations.first(), draft_claim)
    behind_event = evidence(owner.supplier, "Behind an event")
    behind_event.events.add(*recorded_events(owner.supplier))
    evidence(owner.supplier, "Behind a draft only").declarations.add(draft_claim)
    evidence(owner.supplier, "Behind nothing yet")

    seen = {e["title"]: e for e in api(stranger).get("/api/v1/evidence/").json()["results"]}
    assert set(seen) == {"Behind a public declaration", "Behind an event"}
    # What it backs, as far as the viewer may see: not the draft's declaration.
    assert seen["Behind a public declaration"]["declarations"] == [public.declarations.first().pk]
    assert seen["Behind an event"]["events"] == [e.event_id for e in behind_event.events.all()]
    hidden = Evidence.objects.get(title="Behind nothing yet")
    assert api(stranger).get(f"/api/v1/evidence/{hidden.pk}/").status_code == 404

    mine = {e["title"]: e for e in api(owner).get("/api/v1/evidence/").json()["results"]}
    assert len(mine) == 4
    assert sorted(mine["Behind a public declaration"]["declarations"]) == sorted(
        [public.declarations.first().pk, draft_claim.pk]
    )


def test_member_of_another_supplier_sees_only_what_the_public_sees(owner, other_member):
    evidence(owner.supplier, "Unpublished audit")
    assert api(other_member).get("/api/v1/evidence/").json()["results"] == []


def test_evidence_list_queries_stay_flat(stranger, owner, other_supplier, django_assert_num_queries):
    for supplier in (owner.supplier, other_supplier):
        product = public_product(supplier=supplier)
        events = recorded_events(supplier, 3)
        for n in range(3):
            cited = evidence(supplier, f"Certificate {n}")
            cited.declarations.add(*product.declarations.all())
            cited.events.add(*events)
    with django_assert_num_queries(3):  # the page with owners; the declarations it backs; the events it backs
        response = api(stranger).get("/api/v1/evidence/")
    results = response.json()["results"]
    assert len(results) == 6
    assert {len(e["declarations"]) for e in results} == {2}
    assert {len(e["events"]) for e in results} == {3}
    member = api(owner)
    with django_assert_num_queries(5):  # the token's user and the member's access, then the same three
        assert len(member.get("/api/v1/evidence/").json()["results"]) == 6


def test_evidence_says_whether_it_is_valid_expired_revoked_or_not_yet_valid(owner):
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    evidence(owner.supplier, "Valid", valid_from=today - day, valid_until=today + day)
    evidence(owner.supplier, "Expired", valid_until=today - day)
    evidence(owner.supplier, "Revoked", revoked_at=timezone.now(), revoked_reason="The audit was faked.")
    evidence(owner.supplier, "Not yet valid", valid_from=today + day)
    status = {e["title"]: e["status"] for e in api(owner).get("/api/v1/evidence/").json()["results"]}
    assert status == {"Valid": "valid", "Expired": "expired", "Revoked": "revoked", "Not yet valid": "not_yet_valid"}


def test_evidence_is_filtered_by_the_event_or_declaration_it_backs(stranger, owner):
    product = public_product(supplier=owner.supplier)
    first, second = recorded_events(owner.supplier, 2)
    evidence(owner.supplier, "Harvest record").events.add(first)
    evidence(owner.supplier, "Lab test").events.add(second)
    evidence(owner.supplier, "Wage audit").declarations.add(product.declarations.get(kind="benefit"))
    client = api(stranger)

    def titles(**query) -> list[str]:
        return sorted(e["title"] for e in client.get("/api/v1/evidence/", query).json()["results"])

    assert titles(event=second.event_id) == ["Lab test"]
    assert titles(declaration=product.declarations.get(kind="benefit").pk) == ["Wage audit"]
    for not_an_id in ("1.5", "0", str(2**64)):  # the last would overflow SQLite's integers
        assert client.get("/api/v1/evidence/", {"declaration": not_an_id}).status_code == 400, not_an_id
    assert titles(owner=owner.supplier.slug) == ["Harvest record", "Lab test", "Wage audit"]


# Evidence: writes ----------------------------------------------------------------------------------------------


def test_editor_records_url_evidence_with_a_claimed_sha256(own_supplier):
    client = api(editor_of(own_supplier))
    digest = "ab" * 32
    response = client.post(
        "/api/v1/evidence/",
        {
            "owner": own_supplier.slug,
            "title": "Fairtrade certificate",
            "issuer": "FLOCERT",
            "scheme": "Fairtrade",
            "url": "https://flocert.example/certificates/123",
            "sha256": digest,
            "level": "third_party_verified",
            "valid_from": "2026-01-01",
            "valid_until": "2028-12-31",
        },
        HTTP_IDEMPOTENCY_KEY="cert-123",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["sha256"], body["sha256_computed"], body["document_url"]) == (digest, False, None)
    assert (body["declarations"], body["events"], body["owner"]) == ([], [], own_supplier.slug)
    stored = Evidence.objects.get(pk=body["id"])
    assert (stored.level, str(stored.valid_until), stored.url) == (
        "third_party_verified",
        "2028-12-31",
        "https://flocert.example/certificates/123",
    )


def test_invalid_evidence_gets_field_errors_and_records_nothing(owner):
    client = api(owner)
    base = {"owner": owner.supplier.slug, "title": "Audit", "issuer": "Lab", "url": "https://lab.example/a"}
    for bad, field in [
        ({"sha256": "not-a-digest"}, "sha256"),
        ({"valid_from": "2027-01-01", "valid_until": "2026-01-01"}, None),
        ({"url": ""}, "url"),
        ({"level": "revoked"}, "level"),
    ]:
        response = client.post("/api/v1/evidence/", base | bad)
        assert response.status_code == 400, (bad, response.json())
        if field:
            assert field in response.json()["errors"], bad
    assert not Evidence.objects.exists()


def test_editor_revokes_evidence_with_a_reason(owner):
    cited = evidence(owner.supplier)
    client = api(owner)
    refused = client.post(f"/api/v1/evidence/{cited.pk}/revoke/", {"reason": "  "})
    assert refused.status_code == 400
    assert Evidence.objects.get(pk=cited.pk).revoked_at is None
    response = client.post(f"/api/v1/evidence/{cited.pk}/revoke/", {"reason": "The certifier withdrew it."})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["revoked_reason"]) == ("revoked", "The certifier withdrew it.")
    assert body["revoked_at"] is not None
    assert Evidence.objects.get(pk=cited.pk).revoked_reason == "The certifier withdrew it."


def test_editor_cites_evidence_for_more_events_and_declarations(owner):
    product = public_product(supplier=owner.supplier)
    cited = evidence(owner.supplier)
    first, second = recorded_events(owner.supplier, 2)
    cited.events.add(first)
    risk = product.declarations.get(kind="risk")
    response = api(owner).post(
        f"/api/v1/evidence/{cited.pk}/links/", {"events": [second.event_id], "declarations": [risk.pk]}
    )
    assert response.status_code == 200, response.json()
    assert sorted(response.json()["events"]) == sorted([first.event_id, second.event_id])
    assert response.json()["declarations"] == [risk.pk]
    assert set(cited.events.all()) == {first, second}
    assert list(cited.declarations.all()) == [risk]


def test_evidence_cannot_back_another_suppliers_events_or_declarations(owner, other_supplier):
    cited = evidence(owner.supplier)
    theirs = recorded_events(other_supplier)[0]
    their_public = public_product(supplier=other_supplier).declarations.first()
    their_draft = DeclarationFactory(product=ProductFactory(supplier=other_supplier))
    client = api(owner)
    for body, field, message in [
        ({"events": [theirs.event_id]}, "events", "its owner's own events"),
        ({"declarations": [their_public.pk]}, "declarations", "its owner's own declarations"),
        ({"declarations": [their_draft.pk]}, "declarations", "or you may not see it"),  # no hint that it exists
        ({"events": ["urn:uuid:no-such-event"]}, "events", "No event has the eventID"),
        ({}, "non_field_errors", "at least one event or declaration"),
    ]:
        response = client.post(f"/api/v1/evidence/{cited.pk}/links/", body)
        assert response.status_code == 400, body
        assert message in str(response.json()["errors"][field]), body
    assert not cited.events.exists()
    assert not cited.declarations.exists()


# Who may write --------------------------------------------------------------------------------------------------

WRITES = [
    ("post", "/api/v1/facilities/", lambda w: {"owner": w["slug"], "name": "Intruder", "country": "GH"}),
    ("patch", "/api/v1/facilities/{facility}/", lambda w: {"name": "Intruder"}),
    (
        "post",
        "/api/v1/evidence/",
        lambda w: {"owner": w["slug"], "title": "Intruder", "issuer": "x", "url": "https://x.example/"},
    ),
    ("post", "/api/v1/evidence/{public_evidence}/revoke/", lambda w: {"reason": "Intruder"}),
    ("post", "/api/v1/evidence/{private_evidence}/revoke/", lambda w: {"reason": "Intruder"}),
    ("post", "/api/v1/evidence/{public_evidence}/links/", lambda w: {"events": [w["event"]]}),
    ("post", "/api/v1/evidence/{private_evidence}/links/", lambda w: {"declarations": [w["declaration"]]}),
]


def provenance_state():
    return (
        list(Facility.objects.order_by("pk").values_list("name", "address", "owner_id")),
        list(Evidence.objects.order_by("pk").values_list("title", "revoked_at", "revoked_reason")),
        sorted(Evidence.events.through.objects.values_list("evidence_id", "traceevent_id")),
        sorted(Evidence.declarations.through.objects.values_list("evidence_id", "declaration_id")),
    )


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
@pytest.mark.parametrize("persona", ["other_member", "shopper", "stranger"])
def test_every_write_endpoint_refuses_everyone_but_the_suppliers_editors(persona, method, path, body, request, owner):
    client = api(request.getfixturevalue(persona))
    events = recorded_events(owner.supplier, 2)
    public_evidence = evidence(owner.supplier, "Public")
    public_evidence.events.add(events[0])
    world = {
        "slug": owner.supplier.slug,
        "facility": facility(owner.supplier).pk,
        "public_evidence": public_evidence.pk,
        "private_evidence": evidence(owner.supplier, "Not cited yet").pk,
        "event": events[1].event_id,
        "declaration": public_product(supplier=owner.supplier).declarations.first().pk,
    }
    before = provenance_state()
    response = getattr(client, method)(path.format(**world), body(world))
    expected = {401} if persona == "stranger" else {403, 404}
    assert response.status_code in expected, response.content
    assert provenance_state() == before


def test_viewer_reads_own_evidence_but_cannot_write(own_supplier):
    viewer = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    client = api(type("Persona", (), {"user": viewer}))
    cited = evidence(own_supplier)
    farm = facility(own_supplier)
    assert client.get(f"/api/v1/evidence/{cited.pk}/").status_code == 200
    assert client.get(f"/api/v1/facilities/{farm.pk}/").json()["address"] == farm.address
    assert client.post(f"/api/v1/evidence/{cited.pk}/revoke/", {"reason": "x"}).status_code == 403
    assert client.patch(f"/api/v1/facilities/{farm.pk}/", {"name": "x"}).status_code == 403
    assert Evidence.objects.get(pk=cited.pk).revoked_at is None
    assert Facility.objects.get(pk=farm.pk).name == "Farm"


def test_operator_may_revoke_any_suppliers_evidence(operator, owner):
    cited = evidence(owner.supplier)
    response = api(operator).post(f"/api/v1/evidence/{cited.pk}/revoke/", {"reason": "Withdrawn by the network."})
    assert response.status_code == 200
    assert Evidence.objects.get(pk=cited.pk).status() == "revoked"


def test_evidence_names_its_events_by_the_event_ids_epcis_serves(stranger, owner):
    # The events an evidence backs are public anyway (/epcis/events): its eventIDs match what that endpoint serves.
    cited = evidence(owner.supplier)
    recorded = recorded_events(owner.supplier)[0]
    cited.events.add(recorded)
    listed = api(stranger).get(f"/api/v1/evidence/{cited.pk}/").json()["events"]
    served = api(stranger).get("/epcis/events", {"EQ_eventID": listed[0]})
    assert served.status_code == 200
    assert [e["eventID"] for e in served.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == listed
    assert epcis.CONTEXT_URL in served.json()["@context"]
