"""The dashboard writes through the services only: their errors show on the right field, deletes go through them or
are refused, members are added by e-mail address, and two people editing one row keep each other's changes."""

import datetime

import pytest
from django.urls import reverse

from core.models import AuditEntry
from products import services
from products.models import Batch, Product, SupplierMember
from tests.accounts.factories import UserFactory
from tests.products.dashboard_forms import product_form
from tests.products.factories import BatchFactory, ProductFactory, SupplierMemberFactory, public_product

pytestmark = pytest.mark.django_db


def supplier_form(supplier, **overrides):
    members = list(supplier.members.order_by("pk"))
    data = {
        "legal_name": supplier.legal_name,
        "slug": supplier.slug,
        "country": supplier.country.code,
        "status": supplier.status,
        "status_reason": supplier.status_reason,
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": str(len(members)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    for i, member in enumerate(members):
        data |= {f"members-{i}-id": member.pk, f"members-{i}-supplier": supplier.pk, f"members-{i}-role": member.role}
    data.update(overrides)
    return data


# A service's refusal on the right field


def test_a_service_refusal_shows_on_the_field_it_is_about(operator, own_supplier):
    url = reverse("admin:products_supplier_change", args=[own_supplier.pk])
    response = operator.client.post(url, supplier_form(own_supplier, status="suspended", status_reason=""))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["status_reason"] == ["A restriction or suspension needs a written reason."]
    own_supplier.refresh_from_db()
    assert own_supplier.status == "active"
    assert not AuditEntry.objects.filter(action="supplier.status_changed").exists()


def test_a_refused_inline_row_rolls_back_the_whole_page(owner):
    product = public_product(supplier=owner.supplier, name="Original name")
    risk, benefit = product.declarations.get(kind="risk"), product.declarations.get(kind="benefit")
    data = product_form(product, declarations=[risk, benefit], name="New name")
    data["declarations-1-kind"] = "risk"  # the only benefit would become a risk: the gate refuses it
    response = owner.client.post(reverse("admin:products_product_change", args=[product.pk]), data)
    assert response.status_code == 200
    (declarations,) = response.context["inline_admin_formsets"]
    assert "A public product must declare at least one benefit." in declarations.formset.forms[1].non_field_errors()
    product.refresh_from_db()
    assert product.name == "Original name"  # the product's own change went back with the refused row
    assert product.declarations.get(pk=benefit.pk).kind == "benefit"


def test_replacing_the_only_risk_in_one_save_is_allowed(owner):
    product = public_product(supplier=owner.supplier)
    risk, benefit = product.declarations.get(kind="risk"), product.declarations.get(kind="benefit")
    data = product_form(product, declarations=[risk, benefit], extra=1)
    data |= {"declarations-0-DELETE": "on", "declarations-0-reason": "The nut line closed."}
    data |= {
        "declarations-2-product": product.pk,
        "declarations-2-kind": "risk",
        "declarations-2-topic": "safety",
        "declarations-2-statement": "Sharp edges on the tin.",
        "declarations-2-evidence_level": "self_declared",
    }
    response = owner.client.post(reverse("admin:products_product_change", args=[product.pk]), data)
    assert response.status_code == 302
    assert list(product.declarations.current().filter(kind="risk").values_list("statement", flat=True)) == [
        "Sharp edges on the tin."
    ]
    risk.refresh_from_db()
    assert risk.withdrawn_reason == "The nut line closed."
    assert AuditEntry.objects.get(action="declaration.withdrawn").actor == owner.user


# Deleting


def test_an_editor_cannot_delete_a_batch_that_was_on_a_public_page(owner):
    batch = BatchFactory(product=public_product(supplier=owner.supplier))
    url = reverse("admin:products_batch_delete", args=[batch.pk])
    assert owner.client.get(url).status_code == 403
    assert owner.client.post(url, {"post": "yes"}).status_code == 403
    owner.client.post(
        reverse("admin:products_batch_changelist"), {"action": "delete_selected", "_selected_action": [batch.pk]}
    )
    assert Batch.objects.filter(pk=batch.pk).exists()


def test_a_printed_batch_is_archived_and_its_page_says_so(owner, client):
    batch = BatchFactory(product=public_product(supplier=owner.supplier))
    response = owner.client.post(
        reverse("admin:products_batch_changelist"),
        {"action": "archive", "_selected_action": [batch.pk]},
        follow=True,
    )
    assert "is archived" in response.content.decode()
    batch.refresh_from_db()
    assert batch.archived_at is not None
    page = client.get(reverse("storefront:batch", args=[batch.pk]))
    assert page.status_code == 200
    assert "This batch is archived" in page.content.decode()
    assert AuditEntry.objects.filter(action="batch.archived", target_id=str(batch.pk)).exists()


def test_a_draft_batch_nobody_saw_can_be_deleted(owner):
    batch = BatchFactory(product=ProductFactory(supplier=owner.supplier))
    response = owner.client.post(reverse("admin:products_batch_delete", args=[batch.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Batch.objects.filter(pk=batch.pk).exists()


def test_a_batch_named_by_trace_events_is_never_deleted(owner):
    from provenance.services import capture_document
    from tests.provenance.factories import epcis_document

    batch = BatchFactory(product=ProductFactory(supplier=owner.supplier))  # never public
    uri = f"https://id.gs1.org/01/{batch.product.gtin}/10/{batch.lot}"
    event = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": "2026-05-01T10:00:00+00:00",
        "eventTimeZoneOffset": "+00:00",
        "quantityList": [{"epcClass": uri, "quantity": 5, "uom": "KGM"}],
    }
    capture_document(supplier=owner.supplier, submitted_by=None, document=epcis_document(event))
    assert (
        owner.client.post(reverse("admin:products_batch_delete", args=[batch.pk]), {"post": "yes"}).status_code == 403
    )
    with pytest.raises(services.ValidationError, match="archive it instead"):
        services.batch_delete(batch=batch)
    assert Batch.objects.filter(pk=batch.pk).exists()


def test_a_product_that_was_public_is_not_deleted(owner):
    product = public_product(supplier=owner.supplier)
    services.product_unpublish(product=product)
    response = owner.client.post(
        reverse("admin:products_product_delete", args=[product.pk]), {"post": "yes"}, follow=True
    )
    assert "take it off public view instead" in response.content.decode()
    assert Product.objects.filter(pk=product.pk).exists()


def test_a_draft_product_without_batches_can_be_deleted(owner):
    product = ProductFactory(supplier=owner.supplier)
    owner.client.post(reverse("admin:products_product_delete", args=[product.pk]), {"post": "yes"})
    assert not Product.objects.filter(pk=product.pk).exists()


# Members by e-mail address


def test_owner_adds_a_member_by_email_address(owner):
    colleague = UserFactory(email="kwame@own.example")
    url = reverse("admin:products_supplier_change", args=[owner.supplier.pk])
    response = owner.client.post(url, supplier_form(owner.supplier, email="KWAME@own.example", role="editor"))
    assert response.status_code == 302
    member = SupplierMember.objects.get(supplier=owner.supplier, user=colleague)
    assert member.role == "editor"
    entry = AuditEntry.objects.get(action="member.added")
    assert (entry.actor, entry.supplier_id) == (owner.user, owner.supplier.pk)


def test_adding_an_unknown_address_says_so_on_the_field(owner):
    url = reverse("admin:products_supplier_change", args=[owner.supplier.pk])
    response = owner.client.post(url, supplier_form(owner.supplier, email="nobody@example.org"))
    assert response.status_code == 200
    assert "No one has signed up with this address yet" in response.context["adminform"].form.errors["email"][0]
    assert owner.supplier.members.count() == 1


def test_owner_removes_a_member_but_never_the_last_owner(owner):
    editor = SupplierMemberFactory(supplier=owner.supplier, role="editor")
    url = reverse("admin:products_supplier_change", args=[owner.supplier.pk])
    data = supplier_form(owner.supplier)
    index = {m.pk: i for i, m in enumerate(owner.supplier.members.order_by("pk"))}
    response = owner.client.post(url, {**data, f"members-{index[editor.pk]}-DELETE": "on"})
    assert response.status_code == 302
    assert not SupplierMember.objects.filter(pk=editor.pk).exists()
    assert AuditEntry.objects.filter(action="member.removed").count() == 1

    own = SupplierMember.objects.get(supplier=owner.supplier, user=owner.user)
    response = owner.client.post(url, {**supplier_form(owner.supplier), "members-0-DELETE": "on"})
    assert response.status_code == 200
    assert "keeps at least one owner" in response.content.decode()
    assert SupplierMember.objects.filter(pk=own.pk).exists()


def test_owners_never_see_a_list_of_the_platforms_users(owner):
    UserFactory(email="someone.else@example.org")
    page = owner.client.get(reverse("admin:products_supplier_change", args=[owner.supplier.pk])).content.decode()
    assert "someone.else@example.org" not in page
    assert owner.client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    autocomplete = owner.client.get(
        reverse("admin:autocomplete"),
        {"app_label": "products", "model_name": "suppliermember", "field_name": "user", "term": "some"},
    )
    assert autocomplete.status_code in (403, 404)


def test_an_editor_cannot_add_members(own_supplier):
    editor = SupplierMemberFactory(supplier=own_supplier, role="editor").user
    UserFactory(email="friend@example.org")
    from django.test import Client

    client = Client()
    client.force_login(editor)
    url = reverse("admin:products_supplier_change", args=[own_supplier.pk])
    client.post(url, supplier_form(own_supplier, email="friend@example.org", role="owner"))
    assert not SupplierMember.objects.filter(user__email="friend@example.org").exists()


# Two editors at once


def test_two_editors_changing_different_fields_keep_both_changes():
    product = ProductFactory(name="Bar", description="Dark.")
    seen_by_a, seen_by_b = Product.objects.get(pk=product.pk), Product.objects.get(pk=product.pk)
    services.product_update(product=seen_by_a, name="Dark bar")
    services.product_update(product=seen_by_b, description="Dark, 70 % cocoa.")
    product.refresh_from_db()
    assert (product.name, product.description) == ("Dark bar", "Dark, 70 % cocoa.")


def test_two_editors_in_the_dashboard_keep_both_changes(owner, own_supplier):
    other_editor = SupplierMemberFactory(supplier=own_supplier, role="editor").user
    from django.test import Client

    second = Client()
    second.force_login(other_editor)
    product = ProductFactory(supplier=own_supplier, name="Bar", description="Dark.")
    url = reverse("admin:products_product_change", args=[product.pk])
    # Both open the form; each sends back what they were shown, with their own change.
    shown = product_form(product)
    hidden_initial = {f"initial-{name}": value for name, value in shown.items() if not name.startswith("declarations")}
    assert owner.client.post(url, {**shown, **hidden_initial, "name": "Dark bar"}).status_code == 302
    assert second.post(url, {**shown, **hidden_initial, "description": "Dark, 70 % cocoa."}).status_code == 302
    product.refresh_from_db()
    assert (product.name, product.description) == ("Dark bar", "Dark, 70 % cocoa.")


def test_an_update_writes_only_the_columns_that_changed(django_assert_num_queries):
    batch = BatchFactory(quantity=10)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.batch_update(batch=batch, quantity=12, lot=batch.lot, produced_on=datetime.date(2026, 3, 1))
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"quantity"' in updates[0]
    assert '"lot"' not in updates[0]
