"""The audit log: written by the services that make trust-relevant changes, readable by whom it concerns, and never
rewritten (the database refuses)."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from core.models import AuditEntry
from products import services
from provenance import services as provenance
from tests.conftest import database_is_postgres
from tests.products.factories import public_product

pytestmark = pytest.mark.django_db


def test_a_changed_declaration_is_logged_with_who_what_and_why(owner):
    product = public_product(supplier=owner.supplier)
    risk = product.declarations.get(kind="risk")
    services.declaration_update(
        declaration=risk, actor=owner.user, reason="New allergen test.", statement="May contain traces of peanuts."
    )
    entry = AuditEntry.objects.get(action="declaration.changed")
    assert entry.actor == owner.user
    assert entry.actor_name == owner.user.email
    assert entry.supplier_id == owner.supplier.pk
    assert entry.changes == {"statement": ["Contains traces of nuts.", "May contain traces of peanuts."]}
    assert entry.reason == "New allergen test."
    assert entry.target_id == str(risk.pk)


def test_an_update_that_changes_nothing_writes_no_entry(owner):
    product = public_product(supplier=owner.supplier)
    risk = product.declarations.get(kind="risk")
    services.declaration_update(declaration=risk, actor=owner.user, statement=risk.statement)
    assert not AuditEntry.objects.filter(action="declaration.changed").exists()


def test_supplier_status_evidence_and_links_are_logged(operator, owner):
    product = public_product(supplier=owner.supplier)
    services.supplier_status_set(
        supplier=owner.supplier, status="restricted", reason="Late orders.", actor=operator.user
    )
    evidence = provenance.evidence_create(
        owner=owner.supplier, title="Audit", issuer="Certifier", url="https://c.example/a", actor=owner.user
    )
    provenance.evidence_links_add(evidence=evidence, declarations=list(product.declarations.all()), actor=owner.user)
    provenance.evidence_revoke(evidence=evidence, reason="Certifier withdrew it.", actor=operator.user)
    actions = list(AuditEntry.objects.order_by("at", "id").values_list("action", flat=True))
    assert actions == ["supplier.status_changed", "evidence.added", "evidence.linked", "evidence.revoked"]
    status = AuditEntry.objects.get(action="supplier.status_changed")
    assert status.changes["status"] == ["active", "restricted"]
    assert AuditEntry.objects.get(action="evidence.revoked").reason == "Certifier withdrew it."


def test_the_database_refuses_to_change_an_entry(owner):
    product = public_product(supplier=owner.supplier)
    services.product_unpublish(product=product, actor=owner.user)
    entry = AuditEntry.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    entry.refresh_from_db()
    assert entry.reason == ""


@pytest.mark.skipif(not database_is_postgres(), reason="SQLite keeps DELETE for the test runner's flush")
def test_the_database_refuses_to_delete_an_entry(owner):
    product = public_product(supplier=owner.supplier)
    services.product_unpublish(product=product, actor=owner.user)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


def test_a_supplier_reads_its_own_log_and_operators_read_all(owner, other_member, operator):
    services.product_unpublish(product=public_product(supplier=owner.supplier, name="Own bar"), actor=owner.user)
    services.product_unpublish(
        product=public_product(supplier=other_member.supplier, name="Other towel"), actor=other_member.user
    )
    url = reverse("admin:core_auditentry_changelist")
    own = owner.client.get(url)
    assert own.status_code == 200
    assert [e.target_repr for e in own.context["cl"].result_list] == ["Own bar"]
    everything = operator.client.get(url)
    assert {e.target_repr for e in everything.context["cl"].result_list} == {"Own bar", "Other towel"}
    other_entry = AuditEntry.objects.get(target_repr="Other towel")
    assert owner.client.get(reverse("admin:core_auditentry_change", args=[other_entry.pk])).status_code == 302
    assert (
        owner.client.post(reverse("admin:core_auditentry_delete", args=[other_entry.pk]), {"post": "yes"}).status_code
        == 403
    )
