"""The supplier dashboard: each supplier member sees and changes only their own supplier's rows."""

import pytest
from django.urls import reverse

from core import gs1
from products.models import Batch, Product, Supplier, SupplierMember
from tests.accounts.factories import PASSWORD, UserFactory
from tests.products.dashboard_forms import product_form
from tests.products.factories import BatchFactory, ProductFactory, SupplierMemberFactory, public_product

pytestmark = pytest.mark.django_db


def test_owner_sees_only_own_products_in_the_list(owner, other_supplier):
    mine = ProductFactory(supplier=owner.supplier, name="Mine")
    ProductFactory(supplier=other_supplier, name="Theirs")
    response = owner.client.get(reverse("admin:products_product_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    assert "Theirs" not in response.content.decode()


def test_member_of_other_supplier_cannot_open_a_product(owner, other_member):
    product = ProductFactory(supplier=owner.supplier)
    response = other_member.client.get(reverse("admin:products_product_change", args=[product.pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect, not the form
    assert response.url == reverse("admin:index")


def test_member_of_other_supplier_cannot_edit_a_product(owner, other_member):
    product = ProductFactory(supplier=owner.supplier, name="Original")
    other_member.client.post(
        reverse("admin:products_product_change", args=[product.pk]), product_form(product, name="Hijacked")
    )
    product.refresh_from_db()
    assert product.name == "Original"


def test_member_of_other_supplier_cannot_delete_a_batch(owner, other_member):
    batch = BatchFactory(product=ProductFactory(supplier=owner.supplier))
    other_member.client.post(reverse("admin:products_batch_delete", args=[batch.pk]), {"post": "yes"})
    assert Batch.objects.filter(pk=batch.pk).exists()


def test_supplier_choices_are_only_the_members_own(owner, other_supplier):
    response = owner.client.get(reverse("admin:products_product_add"))
    choices = list(response.context["adminform"].form.fields["supplier"].queryset)
    assert choices == [owner.supplier]


def test_member_cannot_create_a_product_for_another_supplier(owner, other_supplier):
    product = ProductFactory.build(supplier=other_supplier, gtin="")
    response = owner.client.post(
        reverse("admin:products_product_add"), product_form(product, supplier=other_supplier.pk)
    )
    assert response.status_code == 200
    assert "supplier" in response.context["adminform"].form.errors
    assert not Product.objects.exists()


def test_member_cannot_add_a_batch_to_another_suppliers_product(owner, other_supplier):
    theirs = ProductFactory(supplier=other_supplier)
    response = owner.client.post(
        reverse("admin:products_batch_add"),
        {"product": theirs.pk, "lot": "L1", "produced_on": "2026-05-01", "quantity": "5"},
    )
    assert response.status_code == 200
    assert "product" in response.context["adminform"].form.errors
    assert not Batch.objects.exists()


def test_owner_creates_a_product_through_the_dashboard(owner):
    gtin13 = gs1.gtin_with_check_digit("952000000777")[1:]
    response = owner.client.post(
        reverse("admin:products_product_add"),
        {
            **product_form(ProductFactory.build(supplier=owner.supplier, name="Cocoa nibs", slug="")),
            "supplier": owner.supplier.pk,
            "gtin": gtin13,
            "declarations-TOTAL_FORMS": "2",
            "declarations-0-kind": "risk",
            "declarations-0-topic": "health",
            "declarations-0-statement": "Hard pieces can crack a tooth.",
            "declarations-0-evidence_level": "self_declared",
            "declarations-1-kind": "benefit",
            "declarations-1-topic": "labour",
            "declarations-1-statement": "Growers are paid a premium.",
            "declarations-1-evidence_level": "documented",
            "declarations-1-evidence_url": "https://evidence.example.org/premium",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    product = Product.objects.get(name="Cocoa nibs")
    assert (product.supplier, product.gtin, product.slug) == (owner.supplier, "0" + gtin13, "cocoa-nibs")
    assert sorted(product.declarations.values_list("kind", flat=True)) == ["benefit", "risk"]
    assert not product.is_public  # publishing is a separate, gated step


def test_publish_action_refuses_a_product_without_a_benefit(owner):
    product = ProductFactory(supplier=owner.supplier)
    response = owner.client.post(
        reverse("admin:products_product_changelist"),
        {"action": "publish", "_selected_action": [product.pk]},
        follow=True,
    )
    assert "must declare at least one benefit" in response.content.decode()
    product.refresh_from_db()
    assert not product.is_public


def test_dashboard_refuses_to_delete_the_last_risk_of_a_public_product(owner):
    product = public_product(supplier=owner.supplier)
    risk, benefit = product.declarations.get(kind="risk"), product.declarations.get(kind="benefit")
    data = product_form(product, declarations=[risk, benefit])
    data["declarations-0-DELETE"] = "on"
    response = owner.client.post(reverse("admin:products_product_change", args=[product.pk]), data)
    assert response.status_code == 200
    assert "A public product must declare at least one risk." in response.content.decode()
    assert product.declarations.filter(kind="risk").exists()


def test_viewer_can_read_but_not_change(own_supplier):
    viewer = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    product = ProductFactory(supplier=own_supplier, name="Original")
    viewer_client = __import__("django.test", fromlist=["Client"]).Client()
    viewer_client.force_login(viewer)
    assert viewer_client.get(reverse("admin:products_product_change", args=[product.pk])).status_code == 200
    viewer_client.post(reverse("admin:products_product_change", args=[product.pk]), product_form(product, name="X"))
    product.refresh_from_db()
    assert product.name == "Original"
    assert viewer_client.get(reverse("admin:products_product_add")).status_code == 403


def test_owner_cannot_change_own_suppliers_status(owner):
    url = reverse("admin:products_supplier_change", args=[owner.supplier.pk])
    form = owner.client.get(url).context["adminform"].form
    assert "status" not in form.fields
    owner.client.post(
        url,
        {
            "legal_name": "Renamed Cocoa Co",
            "country": "GH",
            "status": "active",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )
    owner.supplier.refresh_from_db()
    assert owner.supplier.legal_name == "Renamed Cocoa Co"


def test_member_of_other_supplier_cannot_see_the_supplier(owner, other_member):
    response = other_member.client.get(reverse("admin:products_supplier_changelist"))
    assert list(response.context["cl"].result_list) == [other_member.supplier]


@pytest.mark.parametrize("persona", ["shopper", "stranger"])
def test_shoppers_and_strangers_are_kept_out_of_the_dashboard(persona, request, own_supplier):
    client = request.getfixturevalue(persona).client
    ProductFactory(supplier=own_supplier)
    for name in ["admin:index", "admin:products_product_changelist", "admin:products_product_add"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_operator_sees_every_supplier_and_can_suspend_with_a_reason(operator, own_supplier, other_supplier):
    response = operator.client.get(reverse("admin:products_supplier_changelist"))
    assert set(response.context["cl"].result_list) == {own_supplier, other_supplier}
    url = reverse("admin:products_supplier_change", args=[own_supplier.pk])
    base = {
        "legal_name": own_supplier.legal_name,
        "slug": own_supplier.slug,
        "country": "GH",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
    }
    response = operator.client.post(url, {**base, "status": "suspended", "status_reason": ""})
    assert response.status_code == 200  # refused: a suspension needs a reason
    own_supplier.refresh_from_db()
    assert own_supplier.status == "active"
    operator.client.post(url, {**base, "status": "suspended", "status_reason": "Ignored three safety complaints."})
    own_supplier.refresh_from_db()
    assert (own_supplier.status, own_supplier.status_reason) == ("suspended", "Ignored three safety complaints.")
    assert Supplier.objects.get(pk=other_supplier.pk).status == "active"


def test_supplier_member_logs_in_through_the_dashboard(owner, client):
    response = client.post(
        reverse("admin:login"),
        {"username": owner.user.email, "password": PASSWORD, "next": reverse("admin:index")},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "Products" in response.content.decode()


def test_shopper_is_refused_at_the_dashboard_log_in_with_a_reason(shopper, client):
    response = client.post(reverse("admin:login"), {"username": shopper.user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "no access to the dashboard" in response.content.decode()
    assert "_auth_user_id" not in client.session
