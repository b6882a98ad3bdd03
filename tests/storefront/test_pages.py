from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from products import services
from tests.products.factories import BatchFactory, DeclarationFactory, ProductFactory, SupplierFactory, public_product

pytestmark = pytest.mark.django_db


def test_home_lists_public_products_only(client):
    shown = public_product(name="Shea butter soap")
    ProductFactory(name="Secret draft")
    response = client.get(reverse("storefront:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Shea butter soap" in body
    assert "Secret draft" not in body
    assert shown.get_absolute_url() in body


def test_home_query_count_does_not_grow_with_products(client, django_assert_num_queries):
    for n in range(8):
        product = public_product(supplier=SupplierFactory())
        BatchFactory.create_batch(2, product=product)
        DeclarationFactory(product=product, kind="benefit", topic="climate", statement=f"Extra {n}")
    with django_assert_num_queries(1):
        response = client.get(reverse("storefront:home"))
    assert response.content.decode().count('class="card"') == 8
    assert "2 batches" in response.content.decode()


def test_home_explains_an_empty_catalog(client):
    response = client.get(reverse("storefront:home"))
    assert "No product is public yet" in response.content.decode()


def test_product_page_shows_risks_and_benefits_side_by_side(client, django_assert_num_queries):
    product = public_product(name="Dark chocolate", use="Eat slowly.", end_of_life="Compost the wrapper.")
    DeclarationFactory(
        product=product,
        kind="risk",
        topic="labour",
        statement="Child labour is reported in the region.",
        evidence_level="revoked",
    )
    BatchFactory.create_batch(3, product=product)
    with django_assert_num_queries(5):  # product with supplier, its declarations, its batches, their history, rating
        response = client.get(product.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    risks_at, benefits_at = body.index('class="column risks"'), body.index('class="column benefits"')
    assert risks_at < benefits_at
    assert body[risks_at:benefits_at].count('class="declaration') == 2
    assert "Paid above the living wage." in body[benefits_at:]
    assert "Evidence revoked" in body
    assert "Compost the wrapper." in body
    assert body.count('<tr><td><a href="/batches/') == 3  # one row per batch


def test_unpublished_product_is_hidden_from_strangers_and_shoppers(client, shopper):
    product = ProductFactory()
    assert client.get(product.get_absolute_url()).status_code == 404
    assert shopper.client.get(product.get_absolute_url()).status_code == 404


def test_unpublished_product_is_previewed_by_its_own_members_only(owner, other_member):
    product = ProductFactory(supplier=owner.supplier)
    response = owner.client.get(product.get_absolute_url())
    assert response.status_code == 200
    assert "Draft: this product is not public" in response.content.decode()
    assert other_member.client.get(product.get_absolute_url()).status_code == 404


def test_suspended_supplier_shows_a_banner_with_reason_and_date(client):
    product = public_product()
    services.supplier_status_set(supplier=product.supplier, status="suspended", reason="Orders left undelivered.")
    body = client.get(product.get_absolute_url()).content.decode()
    assert "is suspended" in body
    assert "Orders left undelivered." in body


def test_text_written_by_suppliers_is_escaped(client):
    product = public_product(description="<script>alert(1)</script>")
    body = client.get(product.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_product_page_refuses_post(client):
    product = public_product()
    assert client.post(product.get_absolute_url()).status_code == 405


@pytest.mark.parametrize("count", [1, 6])
def test_product_page_links_each_batch_to_its_page_and_qr_code_in_five_queries(
    client, settings, django_assert_num_queries, count
):
    settings.RESOLVER_ROOT = "https://id.example.org"
    product = public_product()
    batches = [BatchFactory(product=product, lot=f"LOT-{n}") for n in range(count)]

    # Product with supplier, declarations, batches, history, rating: whatever their number.
    with django_assert_num_queries(5):
        body = client.get(product.get_absolute_url()).content.decode()

    for batch in batches:
        page = reverse("storefront:batch", kwargs={"batch_id": batch.pk})
        uri = f"https://id.example.org/01/{product.gtin}/10/{batch.lot}"
        assert f'<a href="{page}">{batch.lot}</a>' in body
        assert f'href="{uri}/qr.svg"' in body
        assert f'href="{uri}/qr.png"' in body
        assert batch.lot in client.get(page).content.decode()
        svg = client.get(urlsplit(f"{uri}/qr.svg").path)
        png = client.get(urlsplit(f"{uri}/qr.png").path)
        assert (svg.status_code, svg["Content-Type"]) == (200, "image/svg+xml")
        assert (png.status_code, png["Content-Type"]) == (200, "image/png")


def test_product_page_links_the_qr_code_of_a_batch_without_gtin_by_its_reference(client, settings):
    settings.RESOLVER_ROOT = "https://id.example.org"
    product = public_product(gtin=None)
    batch = BatchFactory(product=product, lot="NOGTIN-1")

    body = client.get(product.get_absolute_url()).content.decode()

    assert f'href="https://id.example.org/p/{product.internal_ref}/10/NOGTIN-1/qr.svg"' in body
    assert f'href="{reverse("storefront:batch", kwargs={"batch_id": batch.pk})}"' in body
