"""Schemathesis fuzzes every operation of the schema, anonymously and as a supplier owner.

Any 5xx, or any response that does not match the schema (status, content type, headers, body), fails the test.
The number of examples per operation is bounded (FUZZ_EXAMPLES, default 25) so the suite stays within minutes.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import positive_data_acceptance
from stdnum import ean

from provenance.models import Evidence, Facility
from provenance.services import capture_document
from tests.products.factories import BatchFactory, public_product
from tests.provenance.factories import epcis_document

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def trace(supplier, n: int) -> None:
    """A facility of the supplier, an event there, and evidence backing the event and a public declaration."""
    product = public_product(supplier=supplier)
    BatchFactory(product=product)
    farm = Facility.objects.create(
        owner=supplier,
        name=f"Farm {n}",
        kind="farm",
        country="GH",
        address="Plot 4",
        latitude="6.688500",
        longitude="-1.624400",
        gln=f"961{n:09d}" + ean.calc_check_digit(f"961{n:09d}"),
        location_uri=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
    )
    event = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:00000000-0000-4000-9000-{n:012d}",
        "eventTime": "2026-04-30T08:00:00+02:00",
        "eventTimeZoneOffset": "+02:00",
        "action": "OBSERVE",
        "epcList": [f"urn:epc:id:sgtin:9520000.012345.{n}"],
        "bizLocation": {"id": farm.location_uri},
    }
    captured = capture_document(supplier=supplier, submitted_by=None, document=epcis_document(event)).events.get()
    cited = Evidence.objects.create(owner=supplier, title="Certificate", issuer="A certifier", url="https://e.example/")
    cited.events.add(captured)
    cited.declarations.add(*product.declarations.all())


@pytest.fixture
def world(db, owner, other_supplier, monkeypatch):
    """Something to find: public and unpublished products of two suppliers, with batches, facilities, trace events
    and evidence; no throttling."""
    # Requests go straight into the WSGI handler, whose request signals would close the test's database
    # connection (and its transaction) after each response; Django's own test client unhooks them the same way.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"})
    for n, supplier in enumerate((owner.supplier, other_supplier), start=1):
        trace(supplier, n)
    token, _ = Token.objects.get_or_create(user=owner.user)
    yield {"Authorization": f"Token {token.key}"}
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.parametrize("who", ["anonymous", "owner"])
def test_api_conforms_to_its_schema(case, world, who):
    # Not positive_data_acceptance: a schema cannot say that a GTIN's check digit must be right or that an id must
    # exist, so some schema-valid requests are rightly refused with 400.
    case.call_and_validate(headers=world if who == "owner" else {}, excluded_checks=[positive_data_acceptance])
